"""A handler taken out of a service: its queue is retired on the real broker."""

import json
import uuid

import pytest
from kombu import Connection, Producer

from services.common.messaging import topology
from services.common.messaging.topology import Retired

SOURCE = "retiring"
SERVICE = "keeper"


def declare(connection, method: str, event_type: str = "thing_done"):
    queue = topology.handler_queue(SOURCE, event_type, SERVICE, method)
    topology.declare(
        connection,
        [topology.event_exchange(SOURCE), queue, topology.dead_letter_queue(queue.name)],
    )
    return queue.name


def publish(connection, event_type: str, body: dict) -> None:
    producer = Producer(connection.default_channel)
    producer.publish(
        json.dumps(body),
        exchange=topology.event_exchange(SOURCE),
        routing_key=event_type,
        content_type="application/json",
        delivery_mode=2,
    )


def count(connection, name: str) -> int:
    return connection.default_channel.queue_declare(name, passive=True).message_count


def exists(connection, name: str) -> bool:
    return topology.queue_exists(connection, name)


def drain(connection, name: str) -> list[dict]:
    channel = connection.channel()
    bodies = []
    while (message := channel.basic_get(name, no_ack=True)) is not None:
        bodies.append(json.loads(message.body))
    channel.close()
    return bodies


@pytest.fixture
def connection(amqp_uri):
    # Confirmed publishes: each is in its queues when publish returns.
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        yield connection


@pytest.fixture
def names():
    suffix = uuid.uuid4().hex[:6]
    return f"old_{suffix}", f"new_{suffix}"


def test_what_the_queue_holds_moves_to_the_successor_and_nothing_new_arrives(connection, names):
    old_method, new_method = names
    old = declare(connection, old_method)
    new = declare(connection, new_method)
    for n in range(3):
        publish(connection, "thing_done", {"n": n})
    assert count(connection, old) == 3

    moved = topology.retire(
        connection, SERVICE, Retired(SOURCE, "thing_done", old_method, new_method)
    )

    assert moved == 3
    assert not exists(connection, old)
    assert not exists(connection, topology.dead_letter_queue_name(old))
    # The successor has its own copy of each event and the retired queue's three.
    assert sorted(body["n"] for body in drain(connection, new)) == [0, 0, 1, 1, 2, 2]
    publish(connection, "thing_done", {"n": 3})
    assert [body["n"] for body in drain(connection, new)] == [3]
    # Again: nothing left to retire.
    assert topology.retire(connection, SERVICE, Retired(SOURCE, "thing_done", old_method)) is None


def test_without_a_successor_what_it_holds_is_dropped(connection, names):
    old_method, _ = names
    old = declare(connection, old_method, event_type="other_thing_done")
    publish(connection, "other_thing_done", {"n": 1})

    moved = topology.retire(connection, SERVICE, Retired(SOURCE, "other_thing_done", old_method))

    assert moved == 1
    assert not exists(connection, old)


def test_dead_letters_of_a_retired_handler_are_kept(connection, names):
    old_method, _ = names
    old = declare(connection, old_method)
    dead = topology.dead_letter_queue_name(old)
    connection.default_channel.basic_publish(
        connection.default_channel.prepare_message(b'{"n": 9}'), exchange="", routing_key=dead
    )

    topology.retire(connection, SERVICE, Retired(SOURCE, "thing_done", old_method))

    assert not exists(connection, old)
    assert count(connection, dead) == 1
