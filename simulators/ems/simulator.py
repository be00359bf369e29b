"""The simulated EMS order book: issues S10 waybills and moves each one through
its states by itself, reporting every state through ``notify``.

Time and step scheduling are injected, so tests can drive a waybill from order to
delivery without sleeping.
"""

from __future__ import annotations

import copy
import json
import logging
import random
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, Protocol

from .tracking_numbers import SERIALS, make_tracking_number

log = logging.getLogger(__name__)

ORDER_KINDS = ("materials", "result")
ADDRESS_FIELDS = ("name", "phone", "province", "city", "district", "street", "postcode")
CREATED = "created"
# (status, where the scan happens, what EMS says), in the order a waybill moves.
STEPS: tuple[tuple[str, Callable[[dict, dict], str], Callable[[dict, dict], str]], ...] = (
    (
        "accepted",
        lambda s, r: f"{s['city']}{s['district']}",
        lambda s, r: "EMS已受理寄件订单，等待揽投员上门揽收",
    ),
    (
        "picked_up",
        lambda s, r: f"{s['city']}{s['district']}",
        lambda s, r: "揽投员已揽收",
    ),
    (
        "in_transit",
        lambda s, r: f"{s['city']}邮件处理中心",
        lambda s, r: f"离开{s['city']}邮件处理中心，发往{r['city']}",
    ),
    (
        "out_for_delivery",
        lambda s, r: f"{r['city']}{r['district']}",
        lambda s, r: "揽投员正在派送",
    ),
    (
        "delivered",
        lambda s, r: f"{r['city']}{r['district']}",
        lambda s, r: "已签收，收件人本人签收",
    ),
)
FINAL_STATUS = STEPS[-1][0]
FAILED = "failed"
FINAL_STATUSES = (FINAL_STATUS, FAILED)
# Why EMS gives up on a waybill, with what its scan says.
FAILURE_REASONS = {
    "undeliverable": "地址无法投递",
    "refused": "收件人拒收",
    "lost": "邮件丢失",
    "returned": "邮件已退回寄件人",
}
# A waybill the fail rate dooms fails instead of this step.
FAILS_AT = "out_for_delivery"

_POSTCODE = re.compile(r"\d{6}")
_PHONE = re.compile(r"[0-9+\- ]{7,20}")


class Scheduler(Protocol):
    def call_later(self, delay: float, callback: Callable[[], None]) -> None: ...

    def shutdown(self) -> None: ...


class ThreadScheduler:
    """Runs each callback on its own timer thread, so a waybill whose webhook is
    being retried does not hold up the others."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._timers: set[threading.Timer] = set()
        self._closed = False

    def call_later(self, delay: float, callback: Callable[[], None]) -> None:
        def run() -> None:
            with self._lock:
                self._timers.discard(timer)
                if self._closed:
                    return
            try:
                callback()
            except Exception:
                log.exception("scheduled step failed")

        timer = threading.Timer(delay, run)
        timer.daemon = True
        with self._lock:
            if self._closed:
                return
            self._timers.add(timer)
        timer.start()

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
            timers, self._timers = self._timers, set()
        for timer in timers:
            timer.cancel()


class IdempotencyConflict(Exception):
    """An Idempotency-Key came back with a different order than the first time."""


class AlreadyFinal(Exception):
    """The waybill was delivered or failed already."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_utc(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def validate_order(body: Any) -> dict[str, str]:
    """Problems with an order request, keyed by field path; empty when it is fine."""
    if not isinstance(body, dict):
        return {"body": "must be a JSON object"}
    problems: dict[str, str] = {}
    for party in ("sender", "recipient"):
        address = body.get(party)
        if not isinstance(address, dict):
            problems[party] = "required object"
            continue
        for name in ADDRESS_FIELDS:
            value = address.get(name)
            if not isinstance(value, str) or not value.strip():
                problems[f"{party}.{name}"] = "required"
        postcode = address.get("postcode")
        if isinstance(postcode, str) and postcode and not _POSTCODE.fullmatch(postcode):
            problems[f"{party}.postcode"] = "must be 6 digits"
        phone = address.get("phone")
        if isinstance(phone, str) and phone and not _PHONE.fullmatch(phone):
            problems[f"{party}.phone"] = "not a phone number"
    reference = body.get("reference")
    if not isinstance(reference, str) or not reference.strip() or len(reference) > 64:
        problems["reference"] = "required, at most 64 characters"
    if body.get("kind") not in ORDER_KINDS:
        problems["kind"] = f"must be one of {', '.join(ORDER_KINDS)}"
    return problems


@dataclass
class Order:
    tracking_no: str
    reference: str
    kind: str
    sender: dict[str, str]
    recipient: dict[str, str]
    created_at: str
    status: str = CREATED
    history: list[dict[str, str]] = field(default_factory=list)
    # Set when the fail rate dooms the waybill: it fails for this reason.
    doomed: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "tracking_no": self.tracking_no,
            "status": self.status,
            "reference": self.reference,
            "kind": self.kind,
            "sender": dict(self.sender),
            "recipient": dict(self.recipient),
            "created_at": self.created_at,
            "history": copy.deepcopy(self.history),
        }


class EmsSimulator:
    """Orders by tracking number. ``notify`` receives each scan as the webhook
    payload ``{tracking_no, status, occurred_at, location, description,
    reference}`` (a failed scan also ``reason``) and may block (it retries); the
    next step is scheduled after it returns, so a receiver sees one waybill's
    states in order.

    ``fail_rate`` (0..1) is the share of waybills that fail on the way, each
    for a random reason, instead of going out for delivery; :meth:`fail`
    fails one waybill now."""

    def __init__(
        self,
        *,
        scheduler: Scheduler,
        step_seconds: float,
        notify: Callable[[dict[str, str]], object] | None = None,
        clock: Callable[[], datetime] = utc_now,
        start_serial: int | None = None,
        prefix: str = "EA",
        fail_rate: float = 0.0,
        rng: random.Random | None = None,
    ):
        if not 0 <= fail_rate <= 1:
            raise ValueError(f"fail_rate must be within 0..1, got {fail_rate}")
        self._fail_rate = fail_rate
        self._rng = rng or random.Random()
        self._scheduler = scheduler
        self._step_seconds = step_seconds
        self._notify = notify
        self._clock = clock
        self._prefix = prefix
        # A random start keeps numbers from one run apart from the last run's.
        self._next_serial = (
            random.SystemRandom().randrange(10**7, 9 * 10**7)
            if start_serial is None
            else start_serial
        )
        self._lock = threading.Lock()
        self._orders: dict[str, Order] = {}
        self._by_key: dict[str, tuple[str, str]] = {}

    def create_order(self, idempotency_key: str, request: dict[str, Any]) -> tuple[dict, bool]:
        """The order for ``idempotency_key`` and whether it was created just now.
        ``request`` must have passed ``validate_order``."""
        fingerprint = json.dumps(request, sort_keys=True, ensure_ascii=False)
        with self._lock:
            known = self._by_key.get(idempotency_key)
            if known is not None:
                known_fingerprint, tracking_no = known
                if known_fingerprint != fingerprint:
                    raise IdempotencyConflict(idempotency_key)
                return self._orders[tracking_no].as_dict(), False
            tracking_no = make_tracking_number(self._next_serial % SERIALS, self._prefix)
            self._next_serial += 1
            order = Order(
                tracking_no=tracking_no,
                reference=request["reference"],
                kind=request["kind"],
                sender={name: request["sender"][name] for name in ADDRESS_FIELDS},
                recipient={name: request["recipient"][name] for name in ADDRESS_FIELDS},
                created_at=iso_utc(self._clock()),
            )
            if self._fail_rate and self._rng.random() < self._fail_rate:
                order.doomed = self._rng.choice(sorted(FAILURE_REASONS))
            self._orders[tracking_no] = order
            self._by_key[idempotency_key] = (fingerprint, tracking_no)
            snapshot = order.as_dict()
        log.info("order %s created for %s", tracking_no, order.reference)
        self._schedule_next(tracking_no)
        return snapshot, True

    def orders_for(self, reference: str) -> list[dict[str, Any]]:
        """Every order booked for ``reference``, oldest first."""
        with self._lock:
            return [
                order.as_dict() for order in self._orders.values() if order.reference == reference
            ]

    def get_order(self, tracking_no: str) -> dict[str, Any] | None:
        with self._lock:
            order = self._orders.get(tracking_no)
            return None if order is None else order.as_dict()

    def advance(self, tracking_no: str) -> dict[str, str] | None:
        """Move a waybill one state on and report it; None when it is already
        delivered, failed or unknown. A doomed waybill fails instead of going
        out for delivery."""
        with self._lock:
            order = self._orders.get(tracking_no)
            if order is None or order.status in FINAL_STATUSES:
                return None
            status, location, description = STEPS[len(order.history)]
            if order.doomed is not None and status == FAILS_AT:
                payload = self._fail(order, order.doomed)
            else:
                scan = {
                    "status": status,
                    "occurred_at": iso_utc(self._clock()),
                    "location": location(order.sender, order.recipient),
                    "description": description(order.sender, order.recipient),
                }
                order.history.append(scan)
                order.status = status
                payload = {"tracking_no": tracking_no, **scan, "reference": order.reference}
        log.info("order %s is %s", tracking_no, payload["status"])
        if self._notify is not None:
            self._notify(payload)
        if payload["status"] not in FINAL_STATUSES:
            self._schedule_next(tracking_no)
        return payload

    def fail(self, tracking_no: str, reason: str) -> dict[str, str] | None:
        """Fail a waybill now for ``reason`` (one of FAILURE_REASONS) and report
        it (soon, from the scheduler's thread); the scan, or None for an
        unknown waybill. AlreadyFinal when it was delivered or failed."""
        if reason not in FAILURE_REASONS:
            raise ValueError(f"reason must be one of {', '.join(sorted(FAILURE_REASONS))}")
        with self._lock:
            order = self._orders.get(tracking_no)
            if order is None:
                return None
            if order.status in FINAL_STATUSES:
                raise AlreadyFinal(tracking_no)
            payload = self._fail(order, reason)
        log.info("order %s failed: %s", tracking_no, reason)
        if self._notify is not None:
            self._scheduler.call_later(0, partial(self._notify, payload))
        return payload

    def _fail(self, order: Order, reason: str) -> dict[str, str]:
        """The failed scan of ``order`` (the lock held)."""
        # Where the waybill was last seen: the sender's district before pickup.
        sender, recipient = order.sender, order.recipient
        where = recipient if order.status in ("in_transit", "out_for_delivery") else sender
        scan = {
            "status": FAILED,
            "occurred_at": iso_utc(self._clock()),
            "location": f"{where['city']}{where['district']}",
            "description": FAILURE_REASONS[reason],
            "reason": reason,
        }
        order.history.append(scan)
        order.status = FAILED
        return {"tracking_no": order.tracking_no, **scan, "reference": order.reference}

    def close(self) -> None:
        self._scheduler.shutdown()

    def _schedule_next(self, tracking_no: str) -> None:
        self._scheduler.call_later(self._step_seconds, partial(self.advance, tracking_no))
