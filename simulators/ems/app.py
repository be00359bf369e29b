"""The simulator's HTTP side: the werkzeug WSGI app for the EMS order API and its
server (``simulators.server.BackgroundServer``), which wires it to the order
book, the scheduler and the webhook sender.

Errors are EMS's own shape, ``{"error": message, "fields": {...}}``."""

from __future__ import annotations

import logging
from typing import Any

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from ..server import BackgroundServer, JsonApi, json_response
from .simulator import (
    FAILURE_REASONS,
    AlreadyFinal,
    EmsSimulator,
    IdempotencyConflict,
    ThreadScheduler,
    validate_order,
)
from .webhooks import WebhookSender

log = logging.getLogger(__name__)


def error_response(status: int, message: str, fields: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {"error": message}
    if fields:
        body["fields"] = fields
    return json_response(body, status)


class EmsApi(JsonApi):
    """WSGI app: ``POST /api/orders``, ``GET /api/orders/<tracking_no>``, the
    simulator's own ``POST /sim/shipments/<tracking_no>/fail`` with ``{reason}``
    (undeliverable, refused, lost, returned: the waybill fails now and the
    failed scan is reported like the others; 404 unknown, 409 already delivered
    or failed) and ``GET /sim/orders?reference=<reference>`` (``{"orders": [...]}``,
    oldest first: what a test finds a waybill by) (all need ``X-Api-Key``) and
    ``GET /healthz``."""

    url_map = Map(
        [
            Rule("/healthz", endpoint="health", methods=["GET"]),
            Rule("/api/orders", endpoint="create_order", methods=["POST"]),
            Rule("/api/orders/<tracking_no>", endpoint="get_order", methods=["GET"]),
            Rule("/sim/shipments/<tracking_no>/fail", endpoint="fail_shipment", methods=["POST"]),
            Rule("/sim/orders", endpoint="find_orders", methods=["GET"]),
        ]
    )
    error_response = staticmethod(error_response)

    def __init__(self, simulator: EmsSimulator, api_key: str):
        super().__init__(api_key)
        self.simulator = simulator

    def create_order(self, request: Request) -> Response:
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key or len(key) > 255:
            return error_response(
                400,
                "invalid order",
                {"Idempotency-Key": "required header, 1..255 characters"},
            )
        body = request.get_json(silent=True)
        problems = validate_order(body)
        if problems:
            return error_response(400, "invalid order", problems)
        try:
            order, created = self.simulator.create_order(key, body)
        except IdempotencyConflict:
            return error_response(409, "Idempotency-Key was already used for a different order")
        if created:
            return json_response(order, 201)
        return json_response(order, 200, {"Idempotent-Replayed": "true"})

    def get_order(self, request: Request, tracking_no: str) -> Response:
        order = self.simulator.get_order(tracking_no)
        if order is None:
            return error_response(404, f"no order {tracking_no}")
        return json_response(order)

    def fail_shipment(self, request: Request, tracking_no: str) -> Response:
        body = request.get_json(silent=True)
        reason = body.get("reason") if isinstance(body, dict) else None
        if reason not in FAILURE_REASONS:
            return error_response(
                400, "invalid failure", {"reason": f"one of {', '.join(sorted(FAILURE_REASONS))}"}
            )
        try:
            scan = self.simulator.fail(tracking_no, reason)
        except AlreadyFinal:
            return error_response(409, f"order {tracking_no} was delivered or failed already")
        if scan is None:
            return error_response(404, f"no order {tracking_no}")
        return json_response(scan)

    def find_orders(self, request: Request) -> Response:
        reference = request.args.get("reference", "")
        if not reference:
            return error_response(400, "invalid query", {"reference": "required"})
        return json_response({"orders": self.simulator.orders_for(reference)})


class SimulatorServer(BackgroundServer):
    """The whole simulator on ``host:port`` (0 picks a free port); ``start()``
    serves in a background thread, ``stop()`` ends it and every pending step."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        api_key: str,
        webhook_url: str | None,
        webhook_secret: bytes,
        step_seconds: float,
        webhook_attempts: int = 5,
        webhook_backoff: float = 0.5,
        fail_rate: float = 0.0,
    ):
        self.webhooks = (
            WebhookSender(
                webhook_url,
                webhook_secret,
                attempts=webhook_attempts,
                backoff=webhook_backoff,
            )
            if webhook_url
            else None
        )
        self.simulator = EmsSimulator(
            scheduler=ThreadScheduler(),
            step_seconds=step_seconds,
            notify=self.webhooks,
            fail_rate=fail_rate,
        )
        super().__init__(host, port, EmsApi(self.simulator, api_key), name="ems-simulator")

    def close(self) -> None:
        self.simulator.close()
        if self.webhooks is not None:
            self.webhooks.close()
