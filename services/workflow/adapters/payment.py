"""HTTP client of the payment platform (网上支付平台): orders for a case's fees,
their cancellation and refunds. Locally the simulator (``python -m
simulators.payment``).

- ``POST /api/orders`` with an ``Idempotency-Key``: the order of a case's
  payment (the key names the case and its step, so a repeated request gets the
  same order); the answer carries the cashier's ``pay_url``;
- ``GET /api/orders/<order_id>``, ``GET /api/orders?reference=<application id>``;
- ``POST /api/orders/<order_id>/cancel``: an order not paid can no longer be;
  a paid one answers 409, and :meth:`PaymentClient.cancel_order` answers the
  order as it stands (paid) instead;
- ``POST /api/orders/<order_id>/refund`` with an ``Idempotency-Key``.

Every POST carries an idempotency key, so connection errors and 5xx answers are
retried at once (a few times); a read timeout is not (see
``services.common.http``): the payment sweep asks again later with the same key.
Amounts are whole fen.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.common.errors import Unavailable
from services.common.http import PartyClient, PartyClientProvider, PartyRejected

DEFAULT_BASE_URL = "http://127.0.0.1:8500"


class PaymentUnavailable(Unavailable):
    """The platform did not answer usefully; worth asking again later."""

    code = "payment_unavailable"


class PaymentRejected(PartyRejected):
    """The platform refused the request itself; asking again cannot help."""

    code = "payment_rejected"
    refusal = "the payment platform refused the request"


class PaymentClient(PartyClient):
    """``PaymentClient("http://127.0.0.1:8500", api_key)``; one per container."""

    party = "payment"
    unavailable = PaymentUnavailable
    rejected = PaymentRejected
    # Queries, and POSTs that carry an idempotency key (cancel is one by nature).
    retried_methods = ("GET", "POST")

    def __init__(
        self,
        base_url: str,
        api_key: str,
        timeout: float | tuple[float, float] = (3.05, 10.0),
        retries: int = 2,
        backoff_factor: float = 0.2,
    ):
        super().__init__(base_url, api_key, timeout, retries, backoff_factor)

    def create_order(
        self,
        idempotency_key: str,
        *,
        reference: str,
        amount_fen: int,
        description: str,
        expires_at: datetime,
    ) -> dict[str, Any]:
        """The order (``order_id``, ``state``, ``amount_fen``, ``pay_url``, ...)."""
        order = self.request(
            "POST",
            "/api/orders",
            json={
                "reference": reference,
                "amount_fen": int(amount_fen),
                "description": description[:128],
                "expires_at": expires_at.isoformat(),
            },
            headers={"Idempotency-Key": idempotency_key},
        )
        return _order(order)

    def get_order(self, order_id: str) -> dict[str, Any]:
        return _order(self.request("GET", f"/api/orders/{order_id}"))

    def orders_of(self, reference: str) -> list[dict[str, Any]]:
        """Every order made for ``reference`` (an application id)."""
        answer = self.request("GET", "/api/orders", params={"reference": reference})
        orders = answer.get("orders") if isinstance(answer, dict) else None
        if not isinstance(orders, list):
            raise PaymentUnavailable("payment GET /api/orders answered unreadably")
        return [_order(order) for order in orders]

    def cancel_order(self, order_id: str) -> dict[str, Any]:
        """The order once cancelled; as it stands when it was paid meanwhile."""
        try:
            return _order(self.request("POST", f"/api/orders/{order_id}/cancel", json={}))
        except PaymentRejected as refused:
            if refused.status_code != 409:
                raise
            return self.get_order(order_id)

    def refund(
        self, order_id: str, amount_fen: int, idempotency_key: str, reason: str
    ) -> dict[str, Any]:
        """The refund (``refund_id``, ``amount_fen``, ``state``)."""
        refund = self.request(
            "POST",
            f"/api/orders/{order_id}/refund",
            json={"amount_fen": int(amount_fen), "reason": reason[:200]},
            headers={"Idempotency-Key": idempotency_key},
        )
        if not isinstance(refund, dict) or not isinstance(refund.get("refund_id"), str):
            raise PaymentUnavailable("payment refund answered unreadably")
        return refund


def _order(order: Any) -> dict[str, Any]:
    if (
        not isinstance(order, dict)
        or not isinstance(order.get("order_id"), str)
        or not isinstance(order.get("amount_fen"), int)
        or not isinstance(order.get("state"), str)
    ):
        raise PaymentUnavailable("the payment platform answered an unreadable order")
    return order


class PaymentPlatform(PartyClientProvider):
    """Gives workers the container's :class:`PaymentClient`.

    Config: PAYMENT_URL, PAYMENT_API_KEY; optional
    PAYMENT_CONNECT_TIMEOUT_SECONDS (3.05), PAYMENT_READ_TIMEOUT_SECONDS (10),
    PAYMENT_RETRIES (2) and PAYMENT_BACKOFF_SECONDS (0.2).
    """

    client_class = PaymentClient
    prefix = "PAYMENT"
    url_setting = "PAYMENT_URL"
    default_base_url = DEFAULT_BASE_URL
    default_timeout = (3.05, 10.0)
    default_retries = 2
    default_backoff = 0.2
