"""The outbox, relay, idempotent handlers and dead-lettering, on the real broker.

Two small services stand in for real ones: ``sender`` records a note and emits
``note_taken`` through the outbox; ``receiver`` counts each note once. Tests
marked ``on_both_queue_types`` run with classic and with quorum event queues
(EVENT_QUEUE_TYPE), the quorum ones in a virtual host of their own.
"""

import json
import uuid

import eventlet
import pytest
import sqlalchemy as sa
from amqp.exceptions import PreconditionFailed
from kombu import Connection
from nameko.rpc import rpc
from nameko.standalone.rpc import ServiceRpcProxy
from nameko.testing.services import entrypoint_waiter
from prometheus_client import REGISTRY

from services.common.db import UnitOfWork, make_engine
from services.common.dependencies import Database
from services.common.errors import Unavailable
from services.common.messaging import topology
from services.common.messaging.consumer import event_handler
from services.common.messaging.envelope import make_envelope
from services.common.messaging.publisher import ConfirmingPublisher
from services.common.messaging.relay import outgoing
from services.common.messaging.tables import add_messaging_tables

# Set by the dead-letter tool's test (operations/tests/integration) to play the
# operator who fixed the bug behind a dead letter.
CURED: set = set()
# While it holds a text, the receiver's database is "away" for that note.
OUTAGE: set = set()
OUTAGE_TRIES: list = []

RETRY_DELAYS_MS = [50, 100]
on_both_queue_types = pytest.mark.parametrize("cluster", ["classic", "quorum"], indirect=True)
on_quorum_queues = pytest.mark.parametrize("cluster", ["quorum"], indirect=True)


def build_services(suffix):
    metadata = sa.MetaData()
    add_messaging_tables(metadata)
    notes = sa.Table(
        "notes",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("text", sa.String(100)),
    )

    class NotesUnitOfWork(UnitOfWork):
        pass

    NotesUnitOfWork.metadata = metadata

    NoteTaken = _note_event()
    sender_name = f"sender{suffix}"

    class Sender:
        name = sender_name
        uow = Database(NotesUnitOfWork)

        @rpc
        def take_note(self, text):
            with self.uow:
                self.uow.session.execute(notes.insert().values(text=text))
                self.uow.emit(NoteTaken(text=text))
                self.uow.commit()

    class Receiver:
        name = f"receiver{suffix}"
        uow = Database(NotesUnitOfWork)

        @event_handler(sender_name, "note_taken")
        def on_note_taken(self, envelope):
            with self.uow:
                if not self.uow.first_delivery(envelope, "receiver.on_note_taken"):
                    return
                text = envelope["payload"]["text"]
                if text in OUTAGE:
                    OUTAGE_TRIES.append(text)
                    raise Unavailable("the database is unreachable; try again shortly")
                if text == "poison" and not CURED:
                    raise ValueError("cannot handle poison")
                self.uow.session.execute(notes.insert().values(text=text))
                self.uow.commit()

    return metadata, notes, Sender, Receiver


@pytest.fixture
def cluster(request, database_factory, container_factory):
    """Sender and receiver on fresh databases, the receiver's topology declared;
    event queues of the type the test's parameter names (classic unless told)."""
    queue_type = getattr(request, "param", "classic")
    amqp_uri = request.getfixturevalue("quorum_amqp_uri" if queue_type == "quorum" else "amqp_uri")
    suffix = uuid.uuid4().hex[:8]
    metadata, notes, Sender, Receiver = build_services(suffix)
    urls = {}
    for role in ("sender", "receiver"):
        urls[role] = database_factory(role)
        engine = make_engine(urls[role])
        metadata.create_all(engine)
        engine.dispose()

    def config_for(role):
        return {
            "AMQP_URI": amqp_uri,
            "DATABASE_URL": urls[role],
            "OUTBOX_POLL_SECONDS": 0.05,
            "EVENT_MAX_ATTEMPTS": 3,
            "EVENT_RETRY_DELAYS_MS": ",".join(str(d) for d in RETRY_DELAYS_MS),
            "EVENT_QUEUE_TYPE": queue_type,
        }

    class Cluster:
        pass

    c = Cluster()
    c.suffix, c.notes, c.amqp_uri, c.queue_type = suffix, notes, amqp_uri, queue_type
    c.queue = topology.handler_queue_name(Sender.name, "note_taken", Receiver.name, "on_note_taken")
    c.dead = topology.dead_letter_queue_name(c.queue)
    c.Sender, c.Receiver, c.metadata = Sender, Receiver, metadata
    c.urls = urls
    c.config_for = config_for
    c.receiver_engine = make_engine(urls["receiver"])
    c.sender_engine = make_engine(urls["sender"])
    # Declared up front, as a deploy does before any service runs.
    with Connection(amqp_uri) as connection:
        topology.declare(
            connection, topology.service_topology(Receiver, RETRY_DELAYS_MS, queue_type)
        )
    yield c
    c.receiver_engine.dispose()
    c.sender_engine.dispose()
    with Connection(amqp_uri) as connection:
        channel = connection.default_channel
        for entity in topology.service_topology(Receiver, []):
            if hasattr(entity, "queue_arguments") and entity.name.startswith("evt-"):
                channel.queue_delete(entity.name)


def texts(engine, notes):
    with engine.connect() as connection:
        return sorted(r.text for r in connection.execute(sa.select(notes.c.text)))


def wait_for(predicate, timeout=10.0):
    with eventlet.Timeout(timeout):
        while not predicate():
            eventlet.sleep(0.05)


def message_count(amqp_uri, queue):
    with Connection(amqp_uri) as connection:
        return connection.default_channel.queue_declare(queue, passive=True)[1]


def dead_lettered(queue) -> float:
    value = REGISTRY.get_sample_value("tongban_events_dead_lettered_total", {"queue": queue})
    return value or 0.0


@on_both_queue_types
def test_event_published_before_the_consumer_starts_is_kept(cluster, container_factory):
    sender = container_factory(cluster.Sender, cluster.config_for("sender"))
    sender.start()
    with ServiceRpcProxy(sender.service_name, cluster.config_for("sender")) as proxy:
        proxy.take_note("early")
    wait_for(lambda: _backlog(cluster.sender_engine, cluster.metadata) == 0)

    receiver = container_factory(cluster.Receiver, cluster.config_for("receiver"))
    receiver.start()
    wait_for(lambda: texts(cluster.receiver_engine, cluster.notes) == ["early"])


def test_a_commit_while_the_relay_publishes_is_relayed_without_waiting_for_the_poll(
    cluster, container_factory, monkeypatch
):
    """The poll is a minute: only the wake of each commit can relay promptly,
    including the wake of a commit made while the relay is publishing."""
    config = {**cluster.config_for("sender"), "OUTBOX_POLL_SECONDS": 60}
    sender = container_factory(cluster.Sender, config)
    receiver = container_factory(cluster.Receiver, cluster.config_for("receiver"))
    receiver.start()
    sender.start()
    database = next(d for d in sender.dependencies if isinstance(d, Database))
    uow = database.get_dependency(type("Ctx", (), {"data": {}, "call_id": "test"})())
    original = ConfirmingPublisher.publish_batch
    rounds = []

    def publish_then_commit_another(self, messages):
        rounds.append(len(messages))
        if len(rounds) == 1:
            with uow:  # committed while the first round is publishing
                uow.emit(_note_event()(text="second"))
                uow.commit()
        return original(self, messages)

    monkeypatch.setattr(ConfirmingPublisher, "publish_batch", publish_then_commit_another)
    with ServiceRpcProxy(sender.service_name, config) as proxy:
        proxy.take_note("first")
    wait_for(lambda: texts(cluster.receiver_engine, cluster.notes) == ["first", "second"])
    assert rounds[:2] == [1, 1]


def _backlog(engine, metadata):
    outbox = metadata.tables["outbox"]
    with engine.connect() as connection:
        return connection.execute(
            sa.select(sa.func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))
        ).scalar_one()


def test_relay_crash_before_marking_sent_repeats_the_event_with_one_effect(
    cluster, container_factory
):
    receiver = container_factory(cluster.Receiver, cluster.config_for("receiver"))
    receiver.start()
    # The sender's relay is driven by hand so the crash point is exact.
    engine = cluster.sender_engine
    outbox = cluster.metadata.tables["outbox"]
    uow_factory = sa.orm.sessionmaker(bind=engine)
    uow = type("U", (UnitOfWork,), {"metadata": cluster.metadata})(
        uow_factory, source=cluster.Sender.name
    )
    NoteTaken = _note_event()
    with uow:
        uow.emit(NoteTaken(text="once"))
        uow.commit()

    from services.common.messaging.relay import OutboxRelay

    relay = OutboxRelay(engine, outbox, ConfirmingPublisher(cluster.amqp_uri))

    def crash(session, seqs):
        raise RuntimeError("relay died before marking the rows sent")

    relay.mark_sent = crash
    with pytest.raises(RuntimeError):
        relay.relay_once()
    assert _backlog(engine, cluster.metadata) == 1  # still unsent: will go again

    relay = OutboxRelay(engine, outbox, ConfirmingPublisher(cluster.amqp_uri))
    with entrypoint_waiter(receiver, "on_note_taken"):
        assert relay.relay_once() == 1
    assert _backlog(engine, cluster.metadata) == 0
    eventlet.sleep(0.3)  # both deliveries have been handled by now
    assert texts(cluster.receiver_engine, cluster.notes) == ["once"]
    handled = cluster.metadata.tables["handled_events"]
    with cluster.receiver_engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(handled)).scalar_one() == 1


def _note_event():
    import dataclasses

    @dataclasses.dataclass(frozen=True)
    class NoteTaken:
        text: str
        type = "note_taken"

    return NoteTaken


def publish_raw(amqp_uri, envelope):
    publisher = ConfirmingPublisher(amqp_uri)
    try:
        return publisher.publish_batch([outgoing(envelope)])
    finally:
        publisher.close()


def test_duplicate_delivery_has_one_effect(cluster, container_factory):
    receiver = container_factory(cluster.Receiver, cluster.config_for("receiver"))
    receiver.start()
    envelope = make_envelope(cluster.Sender.name, "note_taken", {"text": "dup"})
    for _ in range(3):
        with entrypoint_waiter(receiver, "on_note_taken"):
            assert publish_raw(cluster.amqp_uri, envelope) == []
    assert texts(cluster.receiver_engine, cluster.notes) == ["dup"]


@on_both_queue_types
def test_poison_event_is_dead_lettered_and_does_not_block_the_queue(cluster, container_factory):
    receiver = container_factory(cluster.Receiver, cluster.config_for("receiver"))
    receiver.start()
    dead_lettered_before = dead_lettered(cluster.queue)
    poison = make_envelope(cluster.Sender.name, "note_taken", {"text": "poison"})
    publish_raw(cluster.amqp_uri, poison)
    good = make_envelope(cluster.Sender.name, "note_taken", {"text": "fine"})
    publish_raw(cluster.amqp_uri, good)
    wait_for(lambda: texts(cluster.receiver_engine, cluster.notes) == ["fine"])

    wait_for(lambda: message_count(cluster.amqp_uri, cluster.dead) == 1)
    with Connection(cluster.amqp_uri) as connection:
        channel = connection.default_channel
        message = channel.basic_get(cluster.dead, no_ack=True)
        assert json.loads(message.body)["id"] == poison["id"]
        assert message.headers["x-tongban-attempt"] == 3
        assert "cannot handle poison" in message.headers["x-tongban-error"]
        # The broker's own record: it expired out of each retry queue in turn.
        assert {(death["queue"], death["reason"]) for death in message.headers["x-death"]} == {
            (topology.retry_exchange_name(delay), "expired") for delay in RETRY_DELAYS_MS
        }
        channel.queue_delete(cluster.dead)
    wait_for(lambda: dead_lettered(cluster.queue) == dead_lettered_before + 1)
    eventlet.sleep(0.2)
    assert dead_lettered(cluster.queue) == dead_lettered_before + 1


def test_an_outage_longer_than_every_attempt_dead_letters_nothing(cluster, container_factory):
    receiver = container_factory(cluster.Receiver, cluster.config_for("receiver"))
    receiver.start()
    dead_lettered_before = dead_lettered(cluster.queue)
    OUTAGE.add("during the outage")
    OUTAGE_TRIES.clear()
    try:
        note = make_envelope(cluster.Sender.name, "note_taken", {"text": "during the outage"})
        publish_raw(cluster.amqp_uri, note)
        # Tried more often than EVENT_MAX_ATTEMPTS (3) while the outage lasts.
        wait_for(lambda: len(OUTAGE_TRIES) > 4)
    finally:
        OUTAGE.clear()
    wait_for(lambda: texts(cluster.receiver_engine, cluster.notes) == ["during the outage"])
    assert message_count(cluster.amqp_uri, cluster.dead) == 0
    assert dead_lettered(cluster.queue) == dead_lettered_before


@on_quorum_queues
def test_a_started_consumer_keeps_every_queue_quorum_and_retries_at_least_once(
    cluster, container_factory, broker_queues
):
    receiver = container_factory(cluster.Receiver, cluster.config_for("receiver"))
    receiver.start()  # re-declares the queues the fixture declared up front

    listed = broker_queues(cluster.amqp_uri)
    for name in [cluster.queue, cluster.dead]:
        assert listed[name] == {"type": "quorum", "arguments": {"x-queue-type": "quorum"}}
    for delay in RETRY_DELAYS_MS:
        assert listed[topology.retry_exchange_name(delay)] == {
            "type": "quorum",
            "arguments": {
                "x-queue-type": "quorum",
                "x-message-ttl": delay,
                "x-dead-letter-exchange": "",
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
            },
        }


@on_quorum_queues
def test_a_consumer_configured_for_classic_queues_does_not_start_on_quorum_ones(
    cluster, container_factory
):
    config = {**cluster.config_for("receiver"), "EVENT_QUEUE_TYPE": "classic"}
    receiver = container_factory(cluster.Receiver, config)

    with pytest.raises(PreconditionFailed, match="inequivalent arg 'x-queue-type'"):
        receiver.start()


def test_a_consumer_with_a_bad_queue_type_does_not_start(cluster, container_factory):
    config = {**cluster.config_for("receiver"), "EVENT_QUEUE_TYPE": "qorum"}
    receiver = container_factory(cluster.Receiver, config)

    with pytest.raises(ValueError, match="EVENT_QUEUE_TYPE must be one of classic, quorum"):
        receiver.start()


def test_the_relay_deletes_what_is_past_the_retention_windows(cluster, container_factory):
    """Windows of no time at all: once sent and handled, the outbox row and the
    handled record are deleted by the services' own relays."""
    windows = {"OUTBOX_KEEP_DAYS": 0, "HANDLED_EVENTS_KEEP_DAYS": 0, "PRUNE_SECONDS": 0.1}
    sender = container_factory(cluster.Sender, {**cluster.config_for("sender"), **windows})
    receiver = container_factory(cluster.Receiver, {**cluster.config_for("receiver"), **windows})
    receiver.start()
    sender.start()
    with ServiceRpcProxy(sender.service_name, cluster.config_for("sender")) as proxy:
        proxy.take_note("kept for no time")
    wait_for(lambda: texts(cluster.receiver_engine, cluster.notes) == ["kept for no time"])

    def count(engine, name):
        table = cluster.metadata.tables[name]
        with engine.connect() as connection:
            return connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()

    wait_for(lambda: count(cluster.sender_engine, "outbox") == 0)
    wait_for(lambda: count(cluster.receiver_engine, "handled_events") == 0)
