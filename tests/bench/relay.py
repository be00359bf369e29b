"""Outbox relay throughput: batches with one wait for confirms, against a
publisher that waits for each confirm in turn."""

import time
import uuid

import sqlalchemy as sa
from kombu import Connection
from nameko.amqp.publish import get_producer

from services.common.db import make_engine
from services.common.messaging.envelope import make_envelope, utcnow
from services.common.messaging.publisher import ConfirmingPublisher
from services.common.messaging.relay import OutboxRelay
from services.common.messaging.tables import add_messaging_tables


def measure(uri: str, path, messages: int = 3000):
    source = f"bench{uuid.uuid4().hex[:6]}"
    queue = f"bench-{source}"
    metadata = sa.MetaData()
    outbox, _ = add_messaging_tables(metadata)
    engine = make_engine(f"sqlite:///{path}")
    metadata.create_all(engine)
    envelopes = [make_envelope(source, "bench_event", {"n": n}) for n in range(messages)]
    with Connection(uri) as connection:
        channel = connection.default_channel
        channel.exchange_declare(f"{source}.events", "topic", durable=True, auto_delete=False)
        channel.queue_declare(queue, durable=False, auto_delete=False)
        channel.queue_bind(queue, f"{source}.events", routing_key="#")
    try:
        with engine.begin() as connection:
            connection.execute(
                outbox.insert(),
                [
                    {
                        "event_id": e["id"],
                        "event_type": e["type"],
                        "envelope": e,
                        "created_at": utcnow(),
                    }
                    for e in envelopes
                ],
            )
        publisher = ConfirmingPublisher(uri)
        relay = OutboxRelay(engine, outbox, publisher, batch_size=200)
        started = time.perf_counter()
        assert relay.relay_all() == messages
        batch_rate = messages / (time.perf_counter() - started)
        publisher.close()

        started = time.perf_counter()
        with get_producer(uri) as producer:
            for envelope in envelopes:
                producer.publish(
                    envelope,
                    exchange=f"{source}.events",
                    routing_key="bench_event",
                    serializer="json",
                    delivery_mode=2,
                )
        single_rate = messages / (time.perf_counter() - started)
    finally:
        with Connection(uri) as connection:
            channel = connection.default_channel
            channel.queue_delete(queue)
            channel.exchange_delete(f"{source}.events")
        engine.dispose()
    return [
        ("outbox relay, confirms per batch of 200", batch_rate),
        ("publisher, confirm per message", single_rate),
    ]
