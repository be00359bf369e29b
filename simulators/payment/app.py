"""The simulator's HTTP side: the platform's API, the cashier the citizen pays
at, and the server that wires them to the order book and the notice sender.

API (JSON; every path under ``/api`` and ``/admin`` needs ``X-Api-Key``):

- ``POST /api/orders`` ``{reference, amount_fen, description, expires_at}`` with
  ``Idempotency-Key`` -> 201 the order (``order_id``, ``state`` pending,
  ``pay_url``, ...); the same key and request again -> 200 the same order
  (``Idempotent-Replayed: true``); the same key with another request -> 409
- ``GET /api/orders/<order_id>``; ``GET /api/orders?reference=<reference>`` ->
  ``{"orders": [...]}``
- ``POST /api/orders/<order_id>/cancel`` -> 200 the order, cancelled (again: the
  same); 409 when it is paid or refunded
- ``POST /api/orders/<order_id>/refund`` ``{amount_fen, reason}`` with
  ``Idempotency-Key`` -> 201 ``{refund_id, order_id, amount_fen, state,
  refunded_at}`` (200 when replayed); 409 when the order is not paid or less
  is left
- ``POST /admin/outage`` ``{down: bool}``: while down the ``/api`` paths answer
  503 (the cashier and ``GET`` still answer)

Cashier (no key: the citizen's browser):

- ``GET /cashier/<order_id>`` -> the order; ``POST /cashier/<order_id>/pay`` ->
  the order, paid; the platform then notifies the callback URL (signed,
  ``notices.py``). 409 for an order cancelled, expired or refunded.

Errors are ``{"error": {"code", "message", "fields"}}``.
"""

from __future__ import annotations

import logging
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from ..server import BackgroundServer, JsonApi, has_api_key, json_body, json_response
from .notices import NoticeSender
from .orders import (
    MAX_KEY,
    IdempotencyConflict,
    OrderBook,
    OrderNotFound,
    PlatformDown,
    WrongState,
    _amount_problem,
    check_order,
)

log = logging.getLogger(__name__)

# Development defaults only; deployments set both in the environment.
DEFAULT_API_KEY = "dev-payment-api-key"
DEFAULT_WEBHOOK_SECRET = "dev-payment-webhook-secret"  # noqa: S105
DEFAULT_PORT = 8500
# Reached without the platform's key.
PUBLIC = frozenset({"health", "cashier", "cashier_pay"})


class PaymentApi(JsonApi):
    """The WSGI app; see the module's docstring."""

    url_map = Map(
        [
            Rule("/healthz", endpoint="health", methods=["GET"]),
            Rule("/api/orders", endpoint="create_order", methods=["POST"]),
            Rule("/api/orders", endpoint="list_orders", methods=["GET"]),
            Rule("/api/orders/<order_id>", endpoint="get_order", methods=["GET"]),
            Rule("/api/orders/<order_id>/cancel", endpoint="cancel_order", methods=["POST"]),
            Rule("/api/orders/<order_id>/refund", endpoint="refund_order", methods=["POST"]),
            Rule("/admin/outage", endpoint="set_outage", methods=["POST"]),
            Rule("/cashier/<order_id>", endpoint="cashier", methods=["GET"]),
            Rule("/cashier/<order_id>/pay", endpoint="cashier_pay", methods=["POST"]),
        ]
    )

    def __init__(self, book: OrderBook, api_key: str):
        super().__init__(api_key)
        self.book = book

    def dispatch(self, request: Request) -> Response:
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, arguments = adapter.match()
        except HTTPException as error:
            return self.error_response(error.code or 500, error.description or error.name)
        if endpoint not in PUBLIC and not has_api_key(request, self._api_key):
            return self.error_response(401, "missing or invalid X-Api-Key")
        return self.handle(request, endpoint, arguments)

    def handle(self, request: Request, endpoint: str, arguments: dict[str, Any]) -> Response:
        try:
            return super().handle(request, endpoint, arguments)
        except PlatformDown:
            return self.error_response(503, "the payment platform is down")
        except OrderNotFound as missing:
            return self.error_response(404, f"no order {missing.args[0]}")
        except WrongState as wrong:
            return self.error_response(409, str(wrong), {"state": wrong.state})
        except IdempotencyConflict:
            return self.error_response(
                409, "Idempotency-Key was already used for a different request"
            )

    # -- the platform's API ------------------------------------------------------------

    def create_order(self, request: Request) -> Response:
        key = _key(request)
        if key is None:
            return _key_problem(self)
        order, problems = check_order(json_body(request))
        if problems:
            return self.error_response(400, "invalid order", problems)
        shown, created = self.book.create_order(key, order)
        if created:
            log.info("order %s for %s fen", shown["order_id"], shown["amount_fen"])
            return json_response(shown, 201)
        return json_response(shown, 200, {"Idempotent-Replayed": "true"})

    def list_orders(self, request: Request) -> Response:
        reference = request.args.get("reference", "")
        if not reference:
            return self.error_response(400, "invalid query", {"reference": "required"})
        return json_response({"orders": self.book.of_reference(reference)})

    def get_order(self, request: Request, order_id: str) -> Response:
        return json_response(self.book.get(order_id))

    def cancel_order(self, request: Request, order_id: str) -> Response:
        return json_response(self.book.cancel(order_id))

    def refund_order(self, request: Request, order_id: str) -> Response:
        key = _key(request)
        if key is None:
            return _key_problem(self)
        body = json_body(request)
        if not isinstance(body, dict):
            return self.error_response(400, "invalid refund", {"body": "must be a JSON object"})
        problems = {}
        if (problem := _amount_problem(body.get("amount_fen"), 1)) is not None:
            problems["amount_fen"] = problem
        reason = body.get("reason", "")
        if not isinstance(reason, str) or len(reason) > 200:
            problems["reason"] = "at most 200 characters"
        if problems:
            return self.error_response(400, "invalid refund", problems)
        refund, created = self.book.refund(order_id, key, body["amount_fen"], reason)
        if created:
            log.info("refund %s of order %s", refund["refund_id"], order_id)
            return json_response(refund, 201)
        return json_response(refund, 200, {"Idempotent-Replayed": "true"})

    def set_outage(self, request: Request) -> Response:
        body = json_body(request)
        down = body.get("down") if isinstance(body, dict) else None
        if not isinstance(down, bool):
            return self.error_response(400, "invalid outage", {"down": "must be true or false"})
        self.book.down = down
        log.warning("payment platform %s", "down" if down else "up")
        return json_response({"down": down})

    # -- the cashier -------------------------------------------------------------------

    def cashier(self, request: Request, order_id: str) -> Response:
        return json_response(self.book.get(order_id))

    def cashier_pay(self, request: Request, order_id: str) -> Response:
        order = self.book.pay(order_id)
        log.info("order %s paid", order_id)
        return json_response(order)


def _key(request: Request) -> str | None:
    key = request.headers.get("Idempotency-Key", "").strip()
    return key if key and len(key) <= MAX_KEY else None


def _key_problem(api: PaymentApi) -> Response:
    return api.error_response(
        400, "invalid request", {"Idempotency-Key": f"required header, 1..{MAX_KEY} characters"}
    )


class SimulatorServer(BackgroundServer):
    """The whole simulator on ``host:port`` (0 picks a free port). Pay URLs name
    ``public_url`` (default: its own address)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        api_key: str,
        webhook_url: str | None,
        webhook_secret: bytes,
        public_url: str | None = None,
        notice_attempts: int = 8,
        notice_backoff: float = 0.5,
    ):
        self.notices = (
            NoticeSender(
                webhook_url, webhook_secret, attempts=notice_attempts, backoff=notice_backoff
            )
            if webhook_url
            else None
        )
        self.book = OrderBook(notify=self.notices)
        super().__init__(host, port, PaymentApi(self.book, api_key), name="payment-simulator")
        self.book.cashier_url = (public_url or self.url).rstrip("/")

    def close(self) -> None:
        if self.notices is not None:
            self.notices.close()
