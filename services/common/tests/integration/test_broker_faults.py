"""A service and its callers outlive a broken broker connection.

A reply that cannot be published must not stop the service (nameko's own RPC
entrypoint kills the container then); a request whose caller gave up is not
run; a service with no queue is unavailable at once; a caller's pool of RPC
clients answers Unavailable while the broker is away and works again
afterwards; a database that cannot be reached is Unavailable, not an internal
error.
"""

import subprocess
import time
import uuid
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from kombu import Connection, Exchange, Producer, Queue
from nameko.testing.services import entrypoint_waiter

from services.common.entrypoints import AnswerChannels, AnswerResponder, rpc
from services.common.errors import Unavailable
from services.common.rpc import RpcClientPool, Timeout, _Requests


def make_service():
    calls = []

    class Echo:
        name = f"echo{uuid.uuid4().hex[:8]}"

        @rpc()
        def ping(self):
            calls.append(time.time())

        @rpc()
        def read_database(self):
            engine = sa.create_engine("postgresql+psycopg2://nobody@127.0.0.1:1/none")
            try:
                with engine.connect() as connection:
                    connection.execute(sa.text("SELECT 1"))
            finally:
                engine.dispose()

    return Echo, calls


@pytest.fixture
def echo(amqp_uri, container_factory):
    Echo, calls = make_service()
    container = container_factory(Echo, {"AMQP_URI": amqp_uri})
    container.start()
    pool = RpcClientPool({"AMQP_URI": amqp_uri}, timeout=2.0, size=2)
    yield Echo, container, pool, calls
    pool.close()


def test_a_reply_the_broker_does_not_take_leaves_the_service_running(echo, monkeypatch):
    Echo, container, pool, calls = echo
    original = AnswerResponder.send_response
    failures = []

    def broken_once(self, result, exc_info):
        if not failures:
            failures.append(True)
            raise ConnectionRefusedError(111, "Connection refused")
        return original(self, result, exc_info)

    monkeypatch.setattr(AnswerResponder, "send_response", broken_once)
    with pytest.raises(Timeout):
        pool.call(Echo.name, "ping")
    assert failures and len(calls) == 1
    # The container lives on and answers the next call.
    pool.call(Echo.name, "ping")
    assert len(calls) == 2
    assert container.started and not container._died.ready()


def test_a_service_without_a_queue_is_unavailable_at_once_and_the_pool_goes_on(echo, amqp_uri):
    Echo, container, _, calls = echo
    pool = RpcClientPool({"AMQP_URI": amqp_uri}, timeout=60.0, size=1)
    try:
        started = time.monotonic()
        with pytest.raises(Unavailable, match="nobody-here is not running") as raised:
            pool.call("nobody-here", "ping")
        # The broker's return answered, not the deadline.
        assert not isinstance(raised.value, Timeout)
        assert time.monotonic() - started < 30
        # The same client (size 1) calls on.
        assert pool.call(Echo.name, "ping") is None
        assert len(calls) == 1
    finally:
        pool.close()


def test_a_request_whose_caller_stopped_waiting_is_not_run(echo, amqp_uri):
    Echo, container, pool, calls = echo
    pool.call(Echo.name, "ping")
    with (
        entrypoint_waiter(container, "ping", timeout=5) as waiting,
        Connection(amqp_uri) as connection,
    ):
        producer = Producer(connection.default_channel)
        for deadline in (time.time() - 60, time.time() + 60):
            producer.publish(
                {"args": [], "kwargs": {}},
                serializer="json",
                exchange=Exchange("nameko-rpc", type="topic", durable=True),
                routing_key=f"{Echo.name}.ping",
                reply_to="nobody-listens",
                correlation_id=uuid.uuid4().hex,
                headers={"nameko.deadline": f"{deadline:.3f}"},
            )
    waiting.get()
    time.sleep(1)  # time for the late one, were it run
    # The late one was dropped; the one in time ran.
    assert len(calls) == 2


def _close_connections(amqp_uri: str) -> None:
    vhost = amqp_uri.rsplit("/", 1)[1]
    subprocess.run(
        ["rabbitmqctl", "close_all_connections", "-p", vhost, "drill"],
        check=True,
        capture_output=True,
    )


def test_a_client_whose_connection_the_broker_closed_while_idle_calls_on(echo, amqp_uri):
    Echo, container, pool, calls = echo
    pool.call(Echo.name, "ping")
    _close_connections(amqp_uri)
    time.sleep(0.5)  # the close reaches the idle client's socket
    # The idle client is found closed and replaced; the request waits in the
    # service's queue while the service reconnects, and is answered.
    assert pool.call(Echo.name, "ping") is None
    assert len(calls) == 2


def test_a_request_that_cannot_be_published_goes_out_once_more(echo, monkeypatch):
    Echo, container, pool, calls = echo
    pool.call(Echo.name, "ping")
    original = _Requests.send
    failures = []

    def broken_once(self, service, method, kwargs):
        if not failures:
            failures.append(True)
            raise ConnectionResetError(104, "Connection reset by peer")
        return original(self, service, method, kwargs)

    monkeypatch.setattr(_Requests, "send", broken_once)
    assert pool.call(Echo.name, "ping") is None
    assert failures and len(calls) == 2


def test_the_pool_answers_unavailable_while_the_broker_refuses_then_works(echo, amqp_uri):
    Echo, container, pool, calls = echo
    pool.call(Echo.name, "ping")
    vhost = amqp_uri.rsplit("/", 1)[1]
    # Connections of the virtual host refused (its permissions withdrawn), the
    # open ones closed: a call answers Unavailable, never hangs or breaks.
    subprocess.run(
        ["rabbitmqctl", "clear_permissions", "-p", vhost, "guest"],
        check=True,
        capture_output=True,
    )
    try:
        _close_connections(amqp_uri)
        time.sleep(0.5)
        with pytest.raises(Unavailable):
            pool.call(Echo.name, "ping")
    finally:
        subprocess.run(
            ["rabbitmqctl", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
            check=True,
            capture_output=True,
        )
    answers = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            pool.call(Echo.name, "ping")
        except Unavailable as exc:  # Timeout included
            answers.append(type(exc).__name__)
            time.sleep(0.2)
            continue
        answers.append("pong")
        break
    assert answers[-1] == "pong", answers


def test_a_database_that_cannot_be_reached_is_unavailable(echo):
    Echo, container, pool, calls = echo
    with pytest.raises(Unavailable, match="database is unreachable"):
        pool.call(Echo.name, "read_database")


@pytest.fixture
def answers(amqp_uri):
    with Connection(amqp_uri) as connection:
        queue = Queue(
            f"answers-{uuid.uuid4().hex[:8]}",
            exchange=Exchange("nameko-rpc", type="topic", durable=True),
            routing_key="answers-test",
        )
        queue(connection.default_channel).declare()
        channels = AnswerChannels()
        channels.container = SimpleNamespace(config={"AMQP_URI": amqp_uri})
        channels.setup()

        def send_and_read(correlation_id: str):
            channels.publish(
                b"{}",
                content_type="application/json",
                content_encoding="utf-8",
                exchange="nameko-rpc",
                routing_key="answers-test",
                correlation_id=correlation_id,
            )
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                with Connection(amqp_uri) as reader:
                    message = queue(reader.default_channel).get(no_ack=True)
                if message is not None:
                    return message.properties["correlation_id"]
                time.sleep(0.05)
            return None

        yield channels, send_and_read
        channels.stop()


def test_answers_go_out_on_a_kept_connection_replaced_once_the_broker_closed_it(
    answers, amqp_uri, monkeypatch
):
    channels, send_and_read = answers
    opened = []
    original_open = AnswerChannels._open
    monkeypatch.setattr(
        AnswerChannels, "_open", lambda self: opened.append(1) or original_open(self)
    )
    assert [send_and_read(f"c-{n}") for n in range(3)] == ["c-0", "c-1", "c-2"]
    assert len(opened) == 1  # one connection for every answer
    _close_connections(amqp_uri)
    time.sleep(0.5)
    # The closed connection fails the publish; the answer goes out on a new one.
    assert send_and_read("after") == "after"
    assert len(opened) == 2
