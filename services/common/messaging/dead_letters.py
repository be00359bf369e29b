"""Inspect and replay dead-lettered events.

    python -m services.common.messaging.dead_letters list
    python -m services.common.messaging.dead_letters show QUEUE [--limit N]
    python -m services.common.messaging.dead_letters replay QUEUE [--limit N]

QUEUE is the handler queue (``evt-...``); its dead letters are in ``QUEUE.dead``.
Replay moves each message back to QUEUE with a fresh attempt count.
"""

import argparse
import json
import sys

from amqp.exceptions import ChannelError
from kombu import Connection

from services.common.config import amqp_uri
from services.common.messaging import topology
from services.common.messaging.consumer import ATTEMPT_HEADER


def dead_letter_queues() -> list[str]:
    """The dead-letter queue of every event handler of every service."""
    from services.common.migrate import SERVICES, service_class

    names = []
    for service in SERVICES:
        for entity in topology.service_topology(service_class(service), []):
            name = getattr(entity, "name", "")
            if name.endswith(".dead"):
                names.append(name)
    return names


def dead_letter_counts(uri: str) -> dict[str, int | None]:
    """How many messages wait in each dead-letter queue (None: not declared yet)."""
    counts: dict[str, int | None] = {}
    with Connection(uri) as connection:
        for name in dead_letter_queues():
            channel = connection.channel()
            try:
                _, count, _ = channel.queue_declare(name, durable=True, passive=True)
                counts[name] = count
            except ChannelError:  # a passive declare of a missing queue closes the channel
                counts[name] = None
            finally:
                if channel.is_open:
                    channel.close()
    return counts


def take(uri: str, queue_name: str, limit: int, replay: bool) -> list[dict]:
    seen = []
    held = []
    with Connection(uri) as connection:
        channel = connection.default_channel
        dead = topology.dead_letter_queue_name(queue_name)
        for _ in range(limit):
            message = channel.basic_get(dead, no_ack=False)
            if message is None:
                break
            headers = dict(message.headers or {})
            seen.append({"headers": headers, "body": json.loads(message.body)})
            if replay:
                headers[ATTEMPT_HEADER] = 1
                producer = connection.Producer()
                producer.publish(
                    message.body,
                    exchange="",
                    routing_key=queue_name,
                    headers=headers,
                    content_type=message.content_type,
                    content_encoding=message.content_encoding,
                    delivery_mode=2,
                )
                channel.basic_ack(message.delivery_tag)
            else:
                held.append(message.delivery_tag)
        for tag in held:
            channel.basic_reject(tag, requeue=True)
    return seen


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list")
    for name in ("show", "replay"):
        command = sub.add_parser(name)
        command.add_argument("queue")
        command.add_argument("--limit", type=int, default=100)
    args = parser.parse_args(argv)
    uri = amqp_uri()
    if args.command == "list":
        for name, count in sorted(dead_letter_counts(uri).items()):
            print(f"{'-' if count is None else count:>8}  {name}")
        return 0
    messages = take(uri, args.queue, args.limit, replay=args.command == "replay")
    for message in messages:
        print(json.dumps(message, ensure_ascii=False, default=str))
    verb = "replayed" if args.command == "replay" else "shown"
    print(f"{len(messages)} {verb}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
