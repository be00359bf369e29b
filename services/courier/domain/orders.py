"""Placing EMS orders: an order waits in courier's database until EMS takes it.

Plain Python. The rules:

- An order is kept (pending) in the transaction that handles the event asking
  for it, and placed with EMS afterwards by a timer, never inside the event
  handler: an EMS outage delays a shipment, it does not fail the event.
- Every attempt at one order carries the same idempotency key
  (:func:`idempotency_key`): EMS answers a repeat with the waybill it issued the
  first time, so an attempt whose answer was lost (a timeout) does no harm.
- An attempt is counted when it starts (:meth:`PendingOrder.start_attempt`);
  while it runs the order is not due again for :data:`ATTEMPT_LEASE`, so two
  courier processes never call EMS for it at once, and one that died mid-call
  is taken over after the lease.
- An attempt EMS did not answer is retried after a delay that doubles from
  ``retry_seconds`` (at most ``max_retry_seconds``), for ``retry_window`` from the
  time the order was queued (EMS_ORDER_RETRY_HOURS, 48 hours by default); then
  the order is given up and its shipment fails (``ems_unavailable``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

RETRY_SECONDS = 5.0
MAX_RETRY_SECONDS = 15 * 60.0
RETRY_WINDOW = timedelta(hours=48)
# Longer than one attempt can take: the client's connect and read timeouts and
# its own quick retries add up to well under a minute.
ATTEMPT_LEASE = timedelta(minutes=5)
MAX_ERROR_LENGTH = 200


def idempotency_key(application_id: str, direction: str, attempt: int = 1) -> str:
    """EMS's idempotency key of an order: ``<application>:<direction>`` for the
    first shipment (the key orders always had), ``...:<attempt>`` after."""
    if attempt == 1:
        return f"{application_id}:{direction}"
    return f"{application_id}:{direction}:{attempt}"


def retry_delay(
    attempts: int,
    retry_seconds: float = RETRY_SECONDS,
    max_retry_seconds: float = MAX_RETRY_SECONDS,
) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt: ``retry_seconds``
    doubling with each attempt, at most ``max_retry_seconds``."""
    if attempts < 1:
        raise ValueError("attempts counts from 1")
    doublings = min(attempts - 1, 32)  # capped before the power grows large
    return timedelta(seconds=min(retry_seconds * 2**doublings, max_retry_seconds))


@dataclass
class PendingOrder:
    """The placing of one shipment's EMS order. ``next_attempt_at`` None: due at
    once. ``attempts`` counts the attempts started; it is also the order's
    version, so a process saves what it did only if nobody started another
    attempt since."""

    shipment_id: str
    idempotency_key: str
    queued_at: datetime
    give_up_at: datetime
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    # The correlation id of the event that asked for the order.
    correlation_id: str | None = None

    @classmethod
    def queue(
        cls,
        shipment_id: str,
        key: str,
        now: datetime,
        retry_window: timedelta = RETRY_WINDOW,
        correlation_id: str | None = None,
    ) -> PendingOrder:
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        return cls(
            shipment_id=shipment_id,
            idempotency_key=key,
            queued_at=now,
            give_up_at=now + retry_window,
            correlation_id=correlation_id,
        )

    def is_due(self, now: datetime) -> bool:
        return self.next_attempt_at is None or self.next_attempt_at <= now

    def expired(self, now: datetime) -> bool:
        """The retry window is over: no further attempt is made."""
        return now >= self.give_up_at

    def start_attempt(self, now: datetime) -> None:
        """Count an attempt starting at ``now``; not due again while it runs."""
        self.attempts += 1
        self.next_attempt_at = now + ATTEMPT_LEASE

    def attempt_failed(
        self,
        error: str,
        now: datetime,
        *,
        retry_seconds: float = RETRY_SECONDS,
        max_retry_seconds: float = MAX_RETRY_SECONDS,
    ) -> None:
        """EMS did not answer: due again after the backoff, and no later than
        the end of the window, when it is given up."""
        self.last_error = error[:MAX_ERROR_LENGTH]
        later = now + retry_delay(max(self.attempts, 1), retry_seconds, max_retry_seconds)
        self.next_attempt_at = min(later, max(self.give_up_at, now))
