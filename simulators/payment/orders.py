"""The simulated order book: orders for amounts in fen, paid at the cashier,
cancelled, expired or refunded.

An order is ``pending`` until it is paid (``paid``), cancelled (``cancelled``) or
its ``expires_at`` passes unpaid (``expired``: it can no longer be paid). A
paid order may be refunded in full or in part, each refund under its own
idempotency key, never beyond what was paid (``refunded_fen``); refunded in
full it is ``refunded``. Time is injected, so tests need not sleep.
"""

from __future__ import annotations

import copy
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

PENDING = "pending"
PAID = "paid"
CANCELLED = "cancelled"
EXPIRED = "expired"
REFUNDED = "refunded"
MAX_AMOUNT_FEN = 10**12  # ten billion yuan: far above any fee
MAX_REFERENCE = 64
MAX_DESCRIPTION = 128
MAX_KEY = 255


class IdempotencyConflict(Exception):
    """An Idempotency-Key came back with a different request than the first time."""


class OrderNotFound(Exception):
    pass


class WrongState(Exception):
    """The order's state forbids it: ``state`` is what it is."""

    def __init__(self, state: str, message: str):
        super().__init__(message)
        self.state = state


class PlatformDown(Exception):
    """The platform is down (the admin outage switch)."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_utc(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _amount_problem(value: Any, minimum: int) -> str | None:
    if not isinstance(value, int) or isinstance(value, bool):
        return "must be a whole number of fen"
    if not minimum <= value <= MAX_AMOUNT_FEN:
        return f"must be {minimum}..{MAX_AMOUNT_FEN} fen"
    return None


def check_order(body: Any) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The order request cleaned, or the problems by field."""
    if not isinstance(body, dict):
        return None, {"body": "must be a JSON object"}
    problems: dict[str, str] = {}
    reference = body.get("reference")
    if not isinstance(reference, str) or not reference.strip() or len(reference) > MAX_REFERENCE:
        problems["reference"] = f"required, 1..{MAX_REFERENCE} characters"
    if (problem := _amount_problem(body.get("amount_fen"), 1)) is not None:
        problems["amount_fen"] = problem
    description = body.get("description", "")
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
        problems["description"] = f"at most {MAX_DESCRIPTION} characters"
    expires_at = None
    try:
        expires_at = datetime.fromisoformat(str(body.get("expires_at")).replace("Z", "+00:00"))
        if expires_at.tzinfo is None:
            problems["expires_at"] = "must carry its offset"
    except ValueError:
        problems["expires_at"] = "required, an ISO 8601 instant"
    if problems:
        return None, problems
    return {
        "reference": reference.strip(),
        "amount_fen": body["amount_fen"],
        "description": description,
        "expires_at": expires_at,
    }, {}


@dataclass
class Order:
    order_id: str
    reference: str
    amount_fen: int
    description: str
    created_at: datetime
    expires_at: datetime
    state: str = PENDING
    paid_at: datetime | None = None
    refunds: list[dict[str, Any]] = field(default_factory=list)

    @property
    def refunded_fen(self) -> int:
        return sum(refund["amount_fen"] for refund in self.refunds)

    def as_dict(self, cashier_url: str) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "reference": self.reference,
            "amount_fen": self.amount_fen,
            "description": self.description,
            "state": self.state,
            "created_at": iso_utc(self.created_at),
            "expires_at": iso_utc(self.expires_at),
            "paid_at": iso_utc(self.paid_at) if self.paid_at else None,
            "refunded_fen": self.refunded_fen,
            "refunds": copy.deepcopy(self.refunds),
            "pay_url": f"{cashier_url}/cashier/{self.order_id}",
        }


class OrderBook:
    """Orders by id. ``notify(payload)`` is called (outside the lock) with the
    notice of each order paid: ``{event, order_id, reference, state,
    amount_fen, occurred_at}``."""

    def __init__(
        self,
        *,
        cashier_url: str = "",
        notify: Callable[[dict[str, Any]], object] | None = None,
        clock: Callable[[], datetime] = utc_now,
    ):
        self.cashier_url = cashier_url.rstrip("/")
        self._notify = notify
        self._clock = clock
        self._lock = threading.Lock()
        self._orders: dict[str, Order] = {}
        self._by_key: dict[str, tuple[str, str]] = {}
        self._refund_keys: dict[str, tuple[str, dict[str, Any]]] = {}
        self.down = False

    # -- the platform's API ---------------------------------------------------

    def create_order(self, key: str, request: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """The order for ``key`` and whether it was made just now; ``request``
        as :func:`check_order` cleaned it."""
        self._require_up()
        fingerprint = json.dumps(request, sort_keys=True, default=str)
        with self._lock:
            known = self._by_key.get(key)
            if known is not None:
                if known[0] != fingerprint:
                    raise IdempotencyConflict(key)
                return self._shown(self._orders[known[1]]), False
            order = Order(
                order_id="PO" + secrets.token_hex(10).upper(),
                reference=request["reference"],
                amount_fen=request["amount_fen"],
                description=request["description"],
                created_at=self._clock(),
                expires_at=request["expires_at"],
            )
            self._orders[order.order_id] = order
            self._by_key[key] = (fingerprint, order.order_id)
            return self._shown(order), True

    def get(self, order_id: str) -> dict[str, Any]:
        with self._lock:
            return self._shown(self._order(order_id))

    def of_reference(self, reference: str) -> list[dict[str, Any]]:
        with self._lock:
            return [
                self._shown(order)
                for order in sorted(self._orders.values(), key=lambda o: o.created_at)
                if order.reference == reference
            ]

    def cancel(self, order_id: str) -> dict[str, Any]:
        """A pending (or expired) order cancelled; cancelling again answers the
        same. WrongState for a paid or refunded one."""
        self._require_up()
        with self._lock:
            order = self._order(order_id)
            self._expire(order)
            if order.state in (PAID, REFUNDED):
                raise WrongState(order.state, f"order {order_id} is {order.state}")
            order.state = CANCELLED
            return self._shown(order)

    def refund(self, order_id: str, key: str, amount_fen: int, reason: str) -> tuple[dict, bool]:
        """A refund of ``amount_fen`` (at most what is left) of a paid order;
        the same ``key`` again answers the same refund."""
        self._require_up()
        with self._lock:
            known = self._refund_keys.get(key)
            if known is not None:
                if known[0] != order_id or known[1]["amount_fen"] != amount_fen:
                    raise IdempotencyConflict(key)
                return copy.deepcopy(known[1]), False
            order = self._order(order_id)
            if order.state not in (PAID,):
                raise WrongState(order.state, f"order {order_id} is {order.state}, not paid")
            left = order.amount_fen - order.refunded_fen
            if amount_fen > left:
                raise WrongState(order.state, f"only {left} fen of order {order_id} are left")
            refund = {
                "refund_id": "RF" + secrets.token_hex(10).upper(),
                "order_id": order_id,
                "amount_fen": amount_fen,
                "reason": reason,
                "state": "succeeded",
                "refunded_at": iso_utc(self._clock()),
            }
            order.refunds.append(refund)
            if order.refunded_fen == order.amount_fen:
                order.state = REFUNDED
            self._refund_keys[key] = (order_id, refund)
            return copy.deepcopy(refund), True

    # -- the cashier (the citizen's side) ------------------------------------------

    def pay(self, order_id: str) -> dict[str, Any]:
        """The citizen pays: a pending order becomes paid and its notice is
        sent. Paying a paid order again answers it as it is (no second notice)."""
        with self._lock:
            order = self._order(order_id)
            self._expire(order)
            if order.state == PAID:
                return self._shown(order)
            if order.state != PENDING:
                raise WrongState(order.state, f"order {order_id} is {order.state}")
            order.state = PAID
            order.paid_at = self._clock()
            shown = self._shown(order)
            notice = {
                "event": "order.paid",
                "order_id": order.order_id,
                "reference": order.reference,
                "state": PAID,
                "amount_fen": order.amount_fen,
                "occurred_at": iso_utc(order.paid_at),
            }
        if self._notify is not None:
            self._notify(notice)
        return shown

    # -- helpers ---------------------------------------------------------------------

    def _order(self, order_id: str) -> Order:
        order = self._orders.get(order_id)
        if order is None:
            raise OrderNotFound(order_id)
        return order

    def _expire(self, order: Order) -> None:
        if order.state == PENDING and self._clock() > order.expires_at:
            order.state = EXPIRED

    def _shown(self, order: Order) -> dict[str, Any]:
        self._expire(order)
        return order.as_dict(self.cashier_url)

    def _require_up(self) -> None:
        if self.down:
            raise PlatformDown()
