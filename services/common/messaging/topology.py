"""Exchanges and queues, declared up front.

An event published before its consumer first starts is kept only if the
consumer's durable queue already exists and is bound, so every deploy declares
the whole topology (``python -m operations.migrate`` does it) before any
service runs; each handler declares its own part again at start, idempotently.

Names follow nameko: exchange ``<source>.events`` (topic), handler queue
``evt-<source>-<event_type>--<service>.<method>``. Beside each handler queue:
- ``<queue>.dead``: messages that failed every attempt, for an operator to
  inspect and replay (``python -m operations.dead_letters``);
- shared retry queues ``tongban.retry.<ms>ms`` whose messages expire after the
  delay and are dead-lettered back, through the default exchange, to the queue
  named by their routing key.

Every one of these queues is of the type ``EVENT_QUEUE_TYPE`` names: ``classic``
(the default, a laptop) or ``quorum`` (replicated, for production). The broker
refuses to re-declare a queue with another type, so each declarer (the deploy
step, every handler at start) passes the configured type, and an existing queue
changes type only by being deleted and declared again.

A handler that is taken out of a service leaves its queue behind, bound and
filling for ever. The service names it in ``retired_handlers`` instead
(:class:`Retired`), and the deploy step retires its queue (:func:`retire`):
unbound first, so nothing new arrives; what it still holds moved to the
handler that took its work over (the same event, handled once per effect) or,
when another event of the same transaction carries that work, dropped; then
deleted. A queue a replica of the old version declares again while the deploy
rolls is retired by the next deploy: an entry stays for a few releases.
"""

import logging
from dataclasses import dataclass

import amqp.exceptions
from kombu import Exchange, Queue

log = logging.getLogger(__name__)

RETRY_PREFIX = "tongban.retry"
CLASSIC = "classic"
QUORUM = "quorum"
QUEUE_TYPES = (CLASSIC, QUORUM)


def configured_queue_type(config: dict) -> str:
    """``EVENT_QUEUE_TYPE`` from a loaded config; empty or missing is classic.

    A bad value raises ValueError naming the setting, before any queue is declared.
    """
    value = config.get("EVENT_QUEUE_TYPE")
    if value is None or value == "":
        return CLASSIC
    queue_type = str(value).strip().lower()
    if queue_type not in QUEUE_TYPES:
        raise ValueError(f"EVENT_QUEUE_TYPE must be one of {', '.join(QUEUE_TYPES)}, got {value!r}")
    return queue_type


def type_arguments(queue_type: str) -> dict:
    # Classic queues carry no type argument, as they were declared before the
    # setting existed, so queues already on a broker still match.
    if queue_type == CLASSIC:
        return {}
    if queue_type == QUORUM:
        return {"x-queue-type": QUORUM}
    raise ValueError(f"unknown queue type {queue_type!r}; expected one of {QUEUE_TYPES}")


def event_exchange(source: str) -> Exchange:
    return Exchange(f"{source}.events", type="topic", durable=True, auto_delete=False)


def handler_queue_name(source: str, event_type: str, service: str, method: str) -> str:
    return f"evt-{source}-{event_type}--{service}.{method}"


def handler_queue(
    source: str, event_type: str, service: str, method: str, queue_type: str = CLASSIC
) -> Queue:
    return Queue(
        handler_queue_name(source, event_type, service, method),
        exchange=event_exchange(source),
        routing_key=event_type,
        durable=True,
        auto_delete=False,
        queue_arguments=type_arguments(queue_type) or None,
    )


def dead_letter_queue_name(queue_name: str) -> str:
    return f"{queue_name}.dead"


def dead_letter_queue(queue_name: str, queue_type: str = CLASSIC) -> Queue:
    # No x-delivery-limit on quorum: each look by an operator (a get, then a
    # requeue) counts as a delivery, and a limit would drop the dead letter.
    return Queue(
        dead_letter_queue_name(queue_name),
        exchange=Exchange(""),
        routing_key=dead_letter_queue_name(queue_name),
        durable=True,
        auto_delete=False,
        queue_arguments=type_arguments(queue_type) or None,
    )


def retry_exchange_name(delay_ms: int) -> str:
    return f"{RETRY_PREFIX}.{delay_ms}ms"


def retry_queue(delay_ms: int, queue_type: str = CLASSIC) -> Queue:
    name = retry_exchange_name(delay_ms)
    arguments = {
        **type_arguments(queue_type),
        "x-message-ttl": int(delay_ms),
        "x-dead-letter-exchange": "",
    }
    if queue_type == QUORUM:
        # At-least-once: the broker keeps an expired message until its handler
        # queue has confirmed the copy, where at-most-once (a classic queue's only
        # kind) drops it if that fails. RabbitMQ honours it only with
        # reject-publish overflow (it falls back to at-most-once otherwise); with
        # no length limit set, nothing is ever rejected.
        arguments["x-dead-letter-strategy"] = "at-least-once"
        arguments["x-overflow"] = "reject-publish"
    return Queue(
        name,
        exchange=Exchange(name, type="fanout", durable=True, auto_delete=False),
        durable=True,
        auto_delete=False,
        queue_arguments=arguments,
    )


def handler_entrypoints(service_cls):
    """Yield (method name, handler) for each tongban event handler of a service."""
    from services.common.messaging.consumer import EventHandler

    for name in dir(service_cls):
        method = getattr(service_cls, name, None)
        for entrypoint in getattr(method, "nameko_entrypoints", ()):
            if isinstance(entrypoint, EventHandler):
                yield name, entrypoint


def event_source(service_cls) -> str:
    """The source name a service emits its events under: its ``Database``
    dependency's ``source`` when it names one, else the service name."""
    for klass in service_cls.__mro__:
        for value in vars(klass).values():
            source = getattr(value, "source", None) if hasattr(value, "uow_class") else None
            if isinstance(source, str) and source:
                return source
    return service_cls.name


def service_topology(service_cls, retry_delays_ms, queue_type: str = CLASSIC) -> list:
    """Every exchange and queue a service's handlers need, and its own exchange."""
    entities: list = [event_exchange(event_source(service_cls))]
    for delay in retry_delays_ms:
        entities.append(retry_queue(delay, queue_type))
    for method_name, handler in handler_entrypoints(service_cls):
        queue = handler_queue(
            handler.source_service, handler.event_type, service_cls.name, method_name, queue_type
        )
        entities.extend([queue, dead_letter_queue(queue.name, queue_type)])
    return entities


def declare(connection, entities) -> None:
    channel = connection.default_channel
    for entity in entities:
        bound = entity(channel)
        bound.declare()


def parse_delays(value) -> list[int]:
    if isinstance(value, (list, tuple)):
        return [int(v) for v in value]
    return [int(part) for part in str(value).split(",") if part.strip()]


@dataclass(frozen=True)
class Retired:
    """A handler taken out of a service: ``method`` handled ``source``'s
    ``event_type``. ``successor``, a handler of the same service and event that
    does its work now, takes over what its queue still holds; without one, the
    work is carried by another event of the same transaction, and what the
    queue holds is dropped."""

    source: str
    event_type: str
    method: str
    successor: str | None = None


def retired_handlers(service_cls) -> tuple[Retired, ...]:
    return tuple(getattr(service_cls, "retired_handlers", ()))


def retire(connection, service: str, retired: Retired) -> int | None:
    """Retire the queue of ``service``'s handler ``retired`` (see the module);
    the number of messages moved or dropped, None when there was no queue.

    The queue's dead letters stay where they are when it held any (an operator
    looks at them by the queue's name): only an empty dead-letter queue goes."""
    name = handler_queue_name(retired.source, retired.event_type, service, retired.method)
    if not queue_exists(connection, name):
        return None
    channel = connection.channel()
    try:
        channel.queue_unbind(name, event_exchange(retired.source).name, retired.event_type)
        successor = None
        if retired.successor:
            successor = handler_queue_name(
                retired.source, retired.event_type, service, retired.successor
            )
        moved = 0
        while (message := channel.basic_get(name, no_ack=False)) is not None:
            if successor is not None:
                # Confirmed before the original goes: moved, never lost.
                channel.basic_publish_confirm(message, exchange="", routing_key=successor)
            channel.basic_ack(message.delivery_tag)
            moved += 1
        channel.queue_delete(name)
    finally:
        channel.close()
    dead = dead_letter_queue_name(name)
    if queue_exists(connection, dead):
        dead_channel = connection.channel()
        try:
            dead_channel.queue_delete(dead, if_empty=True)
        except amqp.exceptions.PreconditionFailed:
            log.warning("a retired handler's dead letters are kept", extra={"queue": dead})
        finally:
            if dead_channel.is_open:
                dead_channel.close()
    log.info(
        "retired a handler's queue",
        extra={"queue": name, "messages": moved, "to": successor or "dropped"},
    )
    return moved


def queue_exists(connection, name: str) -> bool:
    """Whether the broker has a queue of that name (a passive declare, on a
    channel of its own: a missing queue closes the channel that asked)."""
    channel = connection.channel()
    try:
        channel.queue_declare(name, passive=True)
    except amqp.exceptions.NotFound:
        return False
    if channel.is_open:
        channel.close()
    return True
