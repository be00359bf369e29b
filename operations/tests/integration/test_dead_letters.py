"""The dead-letter tool on the real broker: a poison event is shown without being
taken, then replayed once its handler is fixed.

The sender, receiver and queues are services/common's messaging test bed (the
``cluster`` fixture, through this folder's conftest.py).
"""

from kombu import Connection

from operations import dead_letters
from services.common.messaging.envelope import make_envelope
from services.common.tests.integration.test_messaging import (
    CURED,
    message_count,
    on_both_queue_types,
    publish_raw,
    texts,
    wait_for,
)


@on_both_queue_types
def test_dead_letters_can_be_inspected_and_replayed_after_a_fix(cluster, container_factory):
    receiver = container_factory(cluster.Receiver, cluster.config_for("receiver"))
    receiver.start()
    poison = make_envelope(cluster.Sender.name, "note_taken", {"text": "poison"})
    publish_raw(cluster.amqp_uri, poison)
    queue, dead = cluster.queue, cluster.dead

    def dead_count():
        return message_count(cluster.amqp_uri, dead)

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
