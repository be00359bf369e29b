"""The outbox, relay, idempotent handlers and dead-lettering, on the real broker.

Two small services stand in for real ones: ``sender`` records a note and emits
``note_taken`` through the outbox; ``receiver`` counts each note once.
"""

import json
import uuid

import eventlet
import pytest
import sqlalchemy as sa
from kombu import Connection
from nameko.rpc import rpc
from nameko.standalone.rpc import ServiceRpcProxy
from nameko.testing.services import entrypoint_waiter

from services.common.db import UnitOfWork, make_engine
from services.common.dependencies import Database
from services.common.messaging import topology
from services.common.messaging.consumer import event_handler
from services.common.messaging.envelope import make_envelope
from services.common.messaging.publisher import ConfirmingPublisher
from services.common.messaging.relay import outgoing
from services.common.messaging.tables import add_messaging_tables

# Set by a test to play the operator who fixed the bug behind a dead letter.
CURED: set = set()


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
                if text == "poison" and not CURED:
                    raise ValueError("cannot handle poison")
                self.uow.session.execute(notes.insert().values(text=text))
                self.uow.commit()

    return metadata, notes, Sender, Receiver


@pytest.fixture
def cluster(amqp_uri, database_factory, container_factory):
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
            "EVENT_RETRY_DELAYS_MS": "50,100",
        }

    class Cluster:
        pass

    c = Cluster()
    c.suffix, c.notes, c.amqp_uri = suffix, notes, amqp_uri
    c.Sender, c.Receiver, c.metadata = Sender, Receiver, metadata
    c.urls = urls
    c.config_for = config_for
    c.receiver_engine = make_engine(urls["receiver"])
    c.sender_engine = make_engine(urls["sender"])
    # Declared up front, as a deploy does before any service runs.
    with Connection(amqp_uri) as connection:
        topology.declare(connection, topology.service_topology(Receiver, [50, 100]))
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


def test_event_published_before_the_consumer_starts_is_kept(cluster, container_factory):
    sender = container_factory(cluster.Sender, cluster.config_for("sender"))
    sender.start()
    with ServiceRpcProxy(sender.service_name, cluster.config_for("sender")) as proxy:
        proxy.take_note("early")
    wait_for(lambda: _backlog(cluster.sender_engine, cluster.metadata) == 0)

    receiver = container_factory(cluster.Receiver, cluster.config_for("receiver"))
    receiver.start()
    wait_for(lambda: texts(cluster.receiver_engine, cluster.notes) == ["early"])


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

    def crash(connection, seqs):
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


def test_poison_event_is_dead_lettered_and_does_not_block_the_queue(cluster, container_factory):
    receiver = container_factory(cluster.Receiver, cluster.config_for("receiver"))
    receiver.start()
    poison = make_envelope(cluster.Sender.name, "note_taken", {"text": "poison"})
    publish_raw(cluster.amqp_uri, poison)
    good = make_envelope(cluster.Sender.name, "note_taken", {"text": "fine"})
    publish_raw(cluster.amqp_uri, good)
    wait_for(lambda: texts(cluster.receiver_engine, cluster.notes) == ["fine"])

    queue = topology.handler_queue_name(
        cluster.Sender.name, "note_taken", cluster.Receiver.name, "on_note_taken"
    )
    dead = topology.dead_letter_queue_name(queue)

    def dead_count():
        with Connection(cluster.amqp_uri) as connection:
            return connection.default_channel.queue_declare(dead, passive=True)[1]

    wait_for(lambda: dead_count() == 1)
    with Connection(cluster.amqp_uri) as connection:
        channel = connection.default_channel
        message = channel.basic_get(dead, no_ack=True)
        assert json.loads(message.body)["id"] == poison["id"]
        assert message.headers["x-tongban-attempt"] == 3
        assert "cannot handle poison" in message.headers["x-tongban-error"]
        channel.queue_delete(dead)


def test_dead_letters_can_be_inspected_and_replayed_after_a_fix(cluster, container_factory):
    from services.common.messaging import dead_letters

    receiver = container_factory(cluster.Receiver, cluster.config_for("receiver"))
    receiver.start()
    poison = make_envelope(cluster.Sender.name, "note_taken", {"text": "poison"})
    publish_raw(cluster.amqp_uri, poison)
    queue = topology.handler_queue_name(
        cluster.Sender.name, "note_taken", cluster.Receiver.name, "on_note_taken"
    )
    dead = topology.dead_letter_queue_name(queue)

    def dead_count():
        with Connection(cluster.amqp_uri) as connection:
            return connection.default_channel.queue_declare(dead, passive=True)[1]

    wait_for(lambda: dead_count() == 1)
    shown = dead_letters.take(cluster.amqp_uri, queue, limit=10, replay=False)
    assert [message["body"]["id"] for message in shown] == [poison["id"]]
    assert dead_count() == 1  # looking does not remove

    CURED.add(True)
    try:
        replayed = dead_letters.take(cluster.amqp_uri, queue, limit=10, replay=True)
        assert len(replayed) == 1
        wait_for(lambda: texts(cluster.receiver_engine, cluster.notes) == ["poison"])
        assert dead_count() == 0
    finally:
        CURED.clear()
        with Connection(cluster.amqp_uri) as connection:
            connection.default_channel.queue_delete(dead)
