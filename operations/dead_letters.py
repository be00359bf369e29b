"""Inspect and replay dead-lettered events.

    python -m operations.dead_letters list
    python -m operations.dead_letters show QUEUE [--limit N]
    python -m operations.dead_letters replay QUEUE [--limit N]

QUEUE is the handler queue (``evt-...``); its dead letters are in ``QUEUE.dead``.
``list`` prints how many messages wait in each service's dead-letter queue
(departments' workflow instances included, from WORKFLOW_DEPARTMENTS; ``-``: not
declared yet); ``show`` prints each message as JSON (its headers say the
attempts, the error, the handler queue and when it was dead-lettered) and leaves
it there; ``replay`` moves each message back to QUEUE with a fresh attempt count.
Settings (AMQP_URI, EVENT_QUEUE_TYPE) come from the service config.
"""

import argparse
import json
import sys

from amqp.exceptions import ChannelError
from kombu import Connection

from operations.roster import SERVICES, service_class
from services.common.config import amqp_uri, load_config
from services.common.instances import parse_departments
from services.common.messaging import topology
from services.common.messaging.consumer import ATTEMPT_HEADER


def dead_letter_queues(config: dict | None = None) -> list[str]:
    """The dead-letter queue of every event handler of every service, and of the
    departments' own workflow instances named in WORKFLOW_DEPARTMENTS."""
    config = config or {}
    queue_type = topology.configured_queue_type(config)
    classes = [service_class(service) for service in SERVICES]
    for code in parse_departments(config.get("WORKFLOW_DEPARTMENTS")):
        classes.append(service_class("workflow", {**config, "DEPARTMENT_CODE": code}))
    names = []
    for service_cls in classes:
        for entity in topology.service_topology(service_cls, [], queue_type):
            name = getattr(entity, "name", "")
            if name.endswith(".dead"):
                names.append(name)
    return names


def dead_letter_counts(uri: str, config: dict | None = None) -> dict[str, int | None]:
    """How many messages wait in each dead-letter queue (None: not declared yet)."""
    counts: dict[str, int | None] = {}
    with Connection(uri) as connection:
        for name in dead_letter_queues(config):
            channel = connection.channel()
            try:
                # Passive: only asks; it neither creates a queue nor checks its type.
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
    # Publisher confirms: a replayed message leaves the dead-letter queue only
    # once the broker has taken its copy.
    with Connection(uri, transport_options={"confirm_publish": True}) as connection:
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
    config = load_config()
    try:
        topology.configured_queue_type(config)
    except ValueError as exc:
        parser.error(str(exc))
    uri = amqp_uri(config)
    if args.command == "list":
        for name, count in sorted(dead_letter_counts(uri, config).items()):
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
