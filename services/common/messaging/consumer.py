"""Event handlers that retry with backoff and then dead-letter, never drop.

nameko's own ``event_handler`` acks a message whose handler raised, so the event
is lost. This one, on failure, republishes the message to a retry queue whose
delay grows with the attempt; after ``EVENT_MAX_ATTEMPTS`` it moves the message to
the handler's dead-letter queue. The original is acked only after the copy is
confirmed by the broker; if that fails too, it is requeued.

An event that fails with ``Invalid`` goes straight to the dead-letter queue: it
would fail the same way on every retry. One that fails with ``Unavailable`` (the
database or another service is away) waits the longest delay and is tried
again without counting the attempt: an outage, however long, dead-letters
nothing. Each dead-lettered event is counted in
``tongban_events_dead_lettered_total{queue}``.

At setup the handler declares its queues again with the type ``EVENT_QUEUE_TYPE``
names (see ``topology``); a queue declared up front with another type makes the
broker refuse, and the service does not start.

Handlers receive the whole envelope; use ``uow.first_delivery(envelope, ...)``,
or ``uow.once(envelope, consumer, work)``, to make the effect happen once.
"""

import logging
import traceback

from kombu import Connection
from nameko.amqp.publish import get_producer
from nameko.events import SERVICE_POOL
from nameko.events import EventHandler as NamekoEventHandler
from prometheus_client import Counter

from services.common.errors import Invalid, Unavailable
from services.common.messaging import topology
from services.common.messaging.envelope import isoformat_utc, utcnow

log = logging.getLogger(__name__)

ATTEMPT_HEADER = "x-tongban-attempt"
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_RETRY_DELAYS_MS = (1000, 5000, 30000)

DEAD_LETTERED = Counter(
    "tongban_events_dead_lettered",
    "Events moved to a dead-letter queue after failing every attempt (or at once when invalid).",
    ["queue"],
)


class EventHandler(NamekoEventHandler):
    def __init__(self, source_service: str, event_type: str, **kwargs):
        super().__init__(
            source_service,
            event_type,
            handler_type=SERVICE_POOL,
            reliable_delivery=True,
            requeue_on_error=False,
            **kwargs,
        )

    @property
    def max_attempts(self) -> int:
        return int(self.container.config.get("EVENT_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS))

    @property
    def retry_delays_ms(self) -> list[int]:
        value = self.container.config.get("EVENT_RETRY_DELAYS_MS")
        return topology.parse_delays(value) if value else list(DEFAULT_RETRY_DELAYS_MS)

    @property
    def amqp_uri(self) -> str:
        return self.container.config["AMQP_URI"]

    def setup(self):
        # Read here rather than in a property (nameko reads those when it builds
        # the container): a bad setting stops the start before any broker call.
        queue_type = topology.configured_queue_type(self.container.config)
        super().setup()
        # Same queue as nameko's, but never auto-deleted, plus its companions. The
        # queue consumer declares self.queue again at every (re)connection.
        self.queue = topology.handler_queue(
            self.source_service,
            self.event_type,
            self.container.service_name,
            self.method_name,
            queue_type,
        )
        with Connection(self.amqp_uri) as connection:
            topology.declare(
                connection,
                [self.queue, topology.dead_letter_queue(self.queue.name, queue_type)]
                + [topology.retry_queue(d, queue_type) for d in self.retry_delays_ms],
            )

    def handle_message_processed(self, message, result=None, exc_info=None):
        if exc_info is None:
            self.queue_consumer.ack_message(message)
            return
        attempt = int((message.headers or {}).get(ATTEMPT_HEADER, 1))
        # An event its handler finds invalid will be just as invalid next time.
        permanent = isinstance(exc_info[1], Invalid)
        try:
            if isinstance(exc_info[1], Unavailable):
                self._wait_for_dependency(message, attempt, exc_info)
            elif attempt < self.max_attempts and not permanent:
                self._retry_later(message, attempt, exc_info)
            else:
                self._dead_letter(message, attempt, exc_info)
        except Exception:
            log.exception(
                "could not move a failed event; requeueing it",
                extra={"queue": self.queue.name},
            )
            self.queue_consumer.requeue_message(message)
            return
        self.queue_consumer.ack_message(message)

    def _copy(self, message, exchange: str, routing_key: str, headers: dict) -> None:
        with get_producer(self.amqp_uri) as producer:
            producer.publish(
                message.body,
                exchange=exchange,
                routing_key=routing_key,
                headers=headers,
                content_type=message.content_type,
                content_encoding=message.content_encoding,
                delivery_mode=2,
                retry=True,
            )

    def _retry_later(self, message, attempt: int, exc_info) -> None:
        delays = self.retry_delays_ms
        delay = delays[min(attempt - 1, len(delays) - 1)]
        headers = dict(message.headers or {})
        headers[ATTEMPT_HEADER] = attempt + 1
        log.warning(
            "event handler failed; retrying",
            extra={
                "queue": self.queue.name,
                "attempt": attempt,
                "delay_ms": delay,
                "error": repr(exc_info[1]),
            },
        )
        self._copy(message, topology.retry_exchange_name(delay), self.queue.name, headers)

    def _wait_for_dependency(self, message, attempt: int, exc_info) -> None:
        """The database or another service is away: nothing is wrong with the
        event, so the try does not count; it waits the longest delay and comes
        back, for as long as the outage lasts."""
        delay = max(self.retry_delays_ms)
        log.warning(
            "event handler waits for a dependency",
            extra={
                "queue": self.queue.name,
                "attempt": attempt,
                "delay_ms": delay,
                "error": repr(exc_info[1]),
            },
        )
        self._copy(
            message,
            topology.retry_exchange_name(delay),
            self.queue.name,
            dict(message.headers or {}),
        )

    def _dead_letter(self, message, attempt: int, exc_info) -> None:
        headers = dict(message.headers or {})
        headers.update(
            {
                ATTEMPT_HEADER: attempt,
                "x-tongban-queue": self.queue.name,
                "x-tongban-error": "".join(
                    traceback.format_exception_only(exc_info[0], exc_info[1])
                ).strip()[:1000],
                "x-tongban-dead-lettered-at": isoformat_utc(utcnow()),
            }
        )
        log.error(
            "event handler failed every attempt; dead-lettered",
            extra={"queue": self.queue.name, "attempts": attempt},
        )
        dead = topology.dead_letter_queue_name(self.queue.name)
        self._copy(message, "", dead, headers)
        DEAD_LETTERED.labels(self.queue.name).inc()


event_handler = EventHandler.decorator
