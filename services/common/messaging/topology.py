"""Exchanges and queues, declared up front.

An event published before its consumer first starts is kept only if the
consumer's durable queue already exists and is bound, so every deploy declares
the whole topology (``python -m services.common.migrate`` does it) before any
service runs; each handler declares its own part again at start, idempotently.

Names follow nameko: exchange ``<source>.events`` (topic), handler queue
``evt-<source>-<event_type>--<service>.<method>``. Beside each handler queue:
- ``<queue>.dead``: messages that failed every attempt, for an operator to
  inspect and replay (``python -m services.common.messaging.dead_letters``);
- shared retry queues ``tongban.retry.<ms>ms`` whose messages expire after the
  delay and are dead-lettered back, through the default exchange, to the queue
  named by their routing key.
"""

from kombu import Exchange, Queue

RETRY_PREFIX = "tongban.retry"


def event_exchange(source: str) -> Exchange:
    return Exchange(f"{source}.events", type="topic", durable=True, auto_delete=False)


def handler_queue_name(source: str, event_type: str, service: str, method: str) -> str:
    return f"evt-{source}-{event_type}--{service}.{method}"


def handler_queue(source: str, event_type: str, service: str, method: str) -> Queue:
    return Queue(
        handler_queue_name(source, event_type, service, method),
        exchange=event_exchange(source),
        routing_key=event_type,
        durable=True,
        auto_delete=False,
    )


def dead_letter_queue_name(queue_name: str) -> str:
    return f"{queue_name}.dead"


def dead_letter_queue(queue_name: str) -> Queue:
    return Queue(
        dead_letter_queue_name(queue_name),
        exchange=Exchange(""),
        routing_key=dead_letter_queue_name(queue_name),
        durable=True,
        auto_delete=False,
    )


def retry_exchange_name(delay_ms: int) -> str:
    return f"{RETRY_PREFIX}.{delay_ms}ms"


def retry_queue(delay_ms: int) -> Queue:
    name = retry_exchange_name(delay_ms)
    return Queue(
        name,
        exchange=Exchange(name, type="fanout", durable=True, auto_delete=False),
        durable=True,
        auto_delete=False,
        queue_arguments={
            "x-message-ttl": int(delay_ms),
            "x-dead-letter-exchange": "",
        },
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


def service_topology(service_cls, retry_delays_ms) -> list:
    """Every exchange and queue a service's handlers need, and its own exchange."""
    entities: list = [event_exchange(event_source(service_cls))]
    for delay in retry_delays_ms:
        entities.append(retry_queue(delay))
    for method_name, handler in handler_entrypoints(service_cls):
        queue = handler_queue(
            handler.source_service, handler.event_type, service_cls.name, method_name
        )
        entities.extend([queue, dead_letter_queue(queue.name)])
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
