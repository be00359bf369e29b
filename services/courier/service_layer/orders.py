"""Placing the pending EMS orders (``domain.orders``), run by the courier's timer
every EMS_ORDER_PLACE_SECONDS.

A pass takes the due orders one at a time: it claims one and starts an attempt
in a short transaction (the row locked with SKIP LOCKED, so several courier
processes take different orders, and the attempt counted, so a process that
finds it later knows another attempt began), calls EMS with no transaction
open (EMS may take seconds), then saves the outcome in a transaction of its
own: placed (the shipment gets its tracking number and shipment_created is
emitted), retried later with backoff, or given up when the retry window is
over (the shipment fails, shipment_failed with reason ``ems_unavailable``) or
EMS refused the order (``ems_rejected``). Should two processes ever call EMS for
one order (an attempt outliving its lease), the idempotency key gives both
the same waybill and only the first outcome is saved.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from services.common.errors import Invalid, Unavailable
from services.courier import metrics
from services.courier.domain.model import EMS_REJECTED, EMS_UNAVAILABLE
from services.courier.domain.orders import (
    MAX_RETRY_SECONDS,
    RETRY_SECONDS,
    RETRY_WINDOW,
    PendingOrder,
)
from services.courier.service_layer.unit_of_work import CourierUnitOfWork

log = logging.getLogger(__name__)

DEFAULT_PLACE_SECONDS = 2.0
# Orders one pass places; the rest wait for the next pass.
BATCH_SIZE = 50

PLACED = "placed"
RETRIED = "retried"
GAVE_UP = "gave_up"
REJECTED = "rejected"
OUTCOMES = (PLACED, RETRIED, GAVE_UP, REJECTED)


class EmsOrders(Protocol):
    """What placing needs of the EMS client (``adapters.ems.EmsClient``):
    Unavailable when EMS cannot be reached, Invalid when it refuses the order."""

    def create_order(
        self, idempotency_key: str, sender: dict, recipient: dict, reference: str, kind: str
    ) -> dict[str, str]: ...


@dataclass(frozen=True)
class PlacingSettings:
    """How orders are placed; :meth:`from_config` reads the service's config."""

    interval_seconds: float = DEFAULT_PLACE_SECONDS
    retry_window: timedelta = RETRY_WINDOW
    retry_seconds: float = RETRY_SECONDS
    max_retry_seconds: float = MAX_RETRY_SECONDS
    batch_size: int = BATCH_SIZE

    @classmethod
    def from_config(cls, config: Mapping) -> PlacingSettings:
        """EMS_ORDER_PLACE_SECONDS (seconds between passes, default 2),
        EMS_ORDER_RETRY_HOURS (how long an order EMS does not answer is tried,
        default 48), EMS_ORDER_RETRY_SECONDS (the first retry's delay, doubling
        after, default 5) and EMS_ORDER_MAX_RETRY_SECONDS (the longest delay,
        default 900); missing or empty: the default. ValueError naming the
        setting otherwise."""
        return cls(
            interval_seconds=_number(config, "EMS_ORDER_PLACE_SECONDS", DEFAULT_PLACE_SECONDS),
            retry_window=timedelta(
                hours=_number(
                    config, "EMS_ORDER_RETRY_HOURS", RETRY_WINDOW.total_seconds() / 3600, 24 * 30
                )
            ),
            retry_seconds=_number(config, "EMS_ORDER_RETRY_SECONDS", RETRY_SECONDS),
            max_retry_seconds=_number(config, "EMS_ORDER_MAX_RETRY_SECONDS", MAX_RETRY_SECONDS),
        )


def _number(config: Mapping, name: str, default: float, most: float = 86_400) -> float:
    value = config.get(name)
    if value is None or value == "":
        return float(default)
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not 0 < number <= most:
        raise ValueError(f"{name} must be a number above 0, at most {most:g}; got {value!r}")
    return number


def place_pending_orders(
    uow: CourierUnitOfWork,
    ems: EmsOrders,
    *,
    settings: PlacingSettings,
    clock: Callable[[], datetime],
) -> dict[str, int]:
    """Place the orders that are due, at most ``settings.batch_size``; how many
    were placed, retried later, given up and rejected. The pass stops at the
    first order EMS did not answer: the others wait for the next pass rather
    than each waiting out the same outage."""
    outcomes = dict.fromkeys(OUTCOMES, 0)
    for _ in range(settings.batch_size):
        claimed = _claim(uow, clock(), outcomes)
        if claimed is None:
            break
        order, shipment = claimed
        outcome = _attempt(uow, ems, order, shipment, settings, clock)
        if outcome is not None:
            outcomes[outcome] += 1
        if outcome == RETRIED:
            break
    return outcomes


def _claim(uow: CourierUnitOfWork, now: datetime, outcomes: dict[str, int]):
    """Start an attempt on the order due longest (order and shipment), in a
    transaction of its own; an order whose window is over is given up here
    instead. None when nothing is due."""
    while True:
        with uow:
            order = uow.orders.claim_due(now)
            if order is None:
                return None
            shipment = uow.shipments.get_by_id(order.shipment_id, for_update=True)
            _correlate(uow, order)
            if order.expired(now):
                shipment.give_up(
                    EMS_UNAVAILABLE,
                    now,
                    f"EMS could not be reached: {order.last_error or 'no answer'}",
                )
                if not _finish(uow, order, shipment, order.attempts):
                    return None
                uow.commit()
                outcomes[GAVE_UP] += 1
                metrics.EMS_ORDER_ATTEMPTS.labels(GAVE_UP).inc()
                metrics.SHIPMENTS_FAILED.labels(shipment.direction).inc()
                log.warning(
                    "gave up an EMS order after its retry window",
                    extra={"shipment_id": shipment.shipment_id, "attempts": order.attempts},
                )
                continue
            seen = order.attempts
            order.start_attempt(now)
            uow.orders.save(order, attempts_seen=seen)
            uow.commit()
            return order, shipment


def _attempt(uow, ems, order: PendingOrder, shipment, settings: PlacingSettings, clock):
    context = {"shipment_id": shipment.shipment_id, "attempt": order.attempts}
    try:
        booked = ems.create_order(
            idempotency_key=order.idempotency_key,
            sender=shipment.sender.as_dict(),
            recipient=shipment.recipient.as_dict(),
            reference=shipment.application_id,
            kind=shipment.direction,
        )
    except Unavailable as error:
        outcome = RETRIED
        order.attempt_failed(
            str(error),
            clock(),
            retry_seconds=settings.retry_seconds,
            max_retry_seconds=settings.max_retry_seconds,
        )
        log.info(
            "EMS did not take an order; trying again at %s: %s",
            order.next_attempt_at.isoformat(),
            error,
            extra=context,
        )
    except Invalid as error:
        outcome, refusal = REJECTED, str(error)
        log.warning("EMS refused an order: %s", error, extra=context)
    else:
        outcome = PLACED
    with uow:
        _correlate(uow, order)
        # The order's row first, then the shipment's, as a claim takes them.
        if not uow.orders.lock(order, attempts_seen=order.attempts):
            log.warning("EMS order outcome not saved: another attempt began", extra=context)
            return None
        stored = uow.shipments.get_by_id(shipment.shipment_id, for_update=True)
        if stored is None or not stored.pending:
            return None
        if outcome == RETRIED:
            saved = uow.orders.save(order, attempts_seen=order.attempts)
        else:
            if outcome == PLACED:
                stored.place(booked["tracking_no"])
            else:
                stored.give_up(EMS_REJECTED, clock(), refusal[:200])
            saved = _finish(uow, order, stored, order.attempts)
        if not saved:
            # Only when this attempt outlived its lease and another took over.
            log.warning("EMS order outcome not saved: another attempt began", extra=context)
            return None
        uow.commit()
    metrics.EMS_ORDER_ATTEMPTS.labels(outcome).inc()
    if outcome == PLACED:
        metrics.SHIPMENTS_CREATED.labels(stored.direction).inc()
    elif outcome == REJECTED:
        metrics.SHIPMENTS_FAILED.labels(stored.direction).inc()
    return outcome


def _correlate(uow, order: PendingOrder) -> None:
    """The events of this order carry the correlation id of the event that
    asked for it, so one request is traced from submission to the waybill."""
    if order.correlation_id:
        uow.correlation_id = order.correlation_id


def _finish(uow, order: PendingOrder, shipment, attempts_seen: int) -> bool:
    """The order is done (placed or given up): its row goes, the shipment is
    saved with its event."""
    if not uow.orders.remove(order, attempts_seen=attempts_seen):
        return False
    uow.shipments.save(shipment)
    uow.collect(shipment)
    return True
