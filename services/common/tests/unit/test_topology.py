"""Queue arguments per EVENT_QUEUE_TYPE, and the setting itself."""

import pytest
from kombu import Queue

from services.common.config import load_config
from services.common.messaging import topology
from services.common.messaging.consumer import event_handler

QUORUM_RETRY_ARGUMENTS = {
    "x-queue-type": "quorum",
    "x-message-ttl": 1000,
    "x-dead-letter-exchange": "",
    "x-dead-letter-strategy": "at-least-once",
    "x-overflow": "reject-publish",
}


class Listener:
    name = "listener"

    @event_handler("source", "thing_happened")
    def on_thing_happened(self, envelope):
        pass


def queues(entities) -> dict[str, Queue]:
    return {entity.name: entity for entity in entities if isinstance(entity, Queue)}


def test_classic_queues_are_declared_as_before_the_setting():
    declared = queues(topology.service_topology(Listener, [1000]))

    handler = declared["evt-source-thing_happened--listener.on_thing_happened"]
    dead = declared["evt-source-thing_happened--listener.on_thing_happened.dead"]
    retry = declared["tongban.retry.1000ms"]
    assert handler.queue_arguments is None
    assert dead.queue_arguments is None
    assert retry.queue_arguments == {"x-message-ttl": 1000, "x-dead-letter-exchange": ""}
    for queue in (handler, dead, retry):
        assert (queue.durable, queue.auto_delete, queue.exclusive) == (True, False, False)


def test_quorum_queues_say_so_and_retry_queues_dead_letter_at_least_once():
    declared = queues(topology.service_topology(Listener, [1000], "quorum"))

    assert set(declared) == {
        "evt-source-thing_happened--listener.on_thing_happened",
        "evt-source-thing_happened--listener.on_thing_happened.dead",
        "tongban.retry.1000ms",
    }
    handler = declared["evt-source-thing_happened--listener.on_thing_happened"]
    assert handler.queue_arguments == {"x-queue-type": "quorum"}
    assert (handler.exchange.name, handler.routing_key) == ("source.events", "thing_happened")
    dead = declared["evt-source-thing_happened--listener.on_thing_happened.dead"]
    assert dead.queue_arguments == {"x-queue-type": "quorum"}
    assert declared["tongban.retry.1000ms"].queue_arguments == QUORUM_RETRY_ARGUMENTS
    for queue in declared.values():
        assert (queue.durable, queue.auto_delete, queue.exclusive) == (True, False, False)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, "classic"), ("", "classic"), ("classic", "classic"), ("quorum", "quorum")],
)
def test_configured_queue_type(value, expected):
    config = {} if value is None else {"EVENT_QUEUE_TYPE": value}
    assert topology.configured_queue_type(config) == expected


@pytest.mark.parametrize("value", ["qorum", "stream", 1])
def test_a_bad_queue_type_names_the_setting(value):
    with pytest.raises(ValueError, match="EVENT_QUEUE_TYPE must be one of classic, quorum"):
        topology.configured_queue_type({"EVENT_QUEUE_TYPE": value})


def test_the_config_file_reads_the_setting_from_the_environment(monkeypatch):
    monkeypatch.delenv("EVENT_QUEUE_TYPE", raising=False)
    assert topology.configured_queue_type(load_config()) == "classic"
    monkeypatch.setenv("EVENT_QUEUE_TYPE", "quorum")
    assert topology.configured_queue_type(load_config()) == "quorum"
