"""The simulator's HTTP side: a werkzeug WSGI app over the message store, and
its server (``simulators.server.BackgroundServer``).

API (JSON bodies). Every path but ``/healthz`` needs the header ``X-Api-Key``.

- ``GET /healthz`` -> 200 ``{"status": "ok"}``
- ``POST /api/messages`` ``{phone, text}`` with the header ``Idempotency-Key``
  (1..255 characters) -> 201 ``{"message_id", "status": "sent"}``; the same key
  with the same message again -> 200, the same answer, and the header
  ``Idempotent-Replayed: true``; the same key with another message -> 409.
  ``phone`` is a mainland mobile number (11 digits, ``1[3-9]…``), ``text``
  1..500 characters.
- ``GET /api/messages?phone=<phone>[&limit=<1..100>]`` -> 200 ``{"phone",
  "messages": [{message_id, text, status, sent_at}, ...]}``: the phone's inbox,
  newest first (for the demo and the tests)
- ``POST /admin/outage`` ``{down: bool}`` -> 200 ``{"down": bool}``: while down,
  sending answers 503 (the inbox still answers)

Errors are ``{"error": {"code", "message", "fields"}}``: 400 ``invalid`` (fields
name each problem, never echoing a phone or a text), 401 ``unauthorized``, 404
``not_found``, 405 ``method_not_allowed``, 409 ``conflict``, 503 ``unavailable``.
"""

from __future__ import annotations

import logging

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from ..server import BackgroundServer, JsonApi, json_body, json_response
from .messages import (
    MAX_INBOX,
    MAX_KEY_LENGTH,
    GatewayDown,
    IdempotencyConflict,
    Messages,
    check_message,
    phone_problem,
)

log = logging.getLogger(__name__)

# Development defaults only; deployments set SMS_API_KEY.
DEFAULT_API_KEY = "dev-sms-api-key"
DEFAULT_PORT = 8400


class SmsApi(JsonApi):
    """The WSGI app; see the module's docstring for the API."""

    url_map = Map(
        [
            Rule("/healthz", endpoint="health", methods=["GET"]),
            Rule("/api/messages", endpoint="send", methods=["POST"]),
            Rule("/api/messages", endpoint="inbox", methods=["GET"]),
            Rule("/admin/outage", endpoint="set_outage", methods=["POST"]),
        ]
    )

    def __init__(self, messages: Messages, api_key: str):
        super().__init__(api_key)
        self.messages = messages

    def send(self, request: Request) -> Response:
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            return self.error_response(
                400,
                "invalid message",
                {"Idempotency-Key": f"required header, 1..{MAX_KEY_LENGTH} characters"},
            )
        message, problems = check_message(json_body(request))
        if problems:
            return self.error_response(400, "invalid message", problems)
        try:
            sent, created = self.messages.send(key, message["phone"], message["text"])
        except GatewayDown as down:
            return self.error_response(503, str(down))
        except IdempotencyConflict:
            return self.error_response(409, "Idempotency-Key was already used for another message")
        if created:
            log.info("message %s sent", sent.message_id)
            return json_response(sent.receipt(), 201)
        return json_response(sent.receipt(), 200, {"Idempotent-Replayed": "true"})

    def inbox(self, request: Request) -> Response:
        phone = request.args.get("phone")
        problems = {}
        if problem := phone_problem(phone):
            problems["phone"] = problem
        limit_text = request.args.get("limit", str(MAX_INBOX))
        if (
            not limit_text.isascii()
            or not limit_text.isdigit()
            or not 1 <= int(limit_text) <= MAX_INBOX
        ):
            problems["limit"] = f"must be a whole number 1..{MAX_INBOX}"
        if problems:
            return self.error_response(400, "invalid query", problems)
        messages = self.messages.inbox(phone, int(limit_text))
        return json_response(
            {"phone": phone, "messages": [message.in_inbox() for message in messages]}
        )

    def set_outage(self, request: Request) -> Response:
        body = json_body(request)
        if (
            not isinstance(body, dict)
            or set(body) != {"down"}
            or not isinstance(body["down"], bool)
        ):
            return self.error_response(
                400, "invalid outage", {"body": "must be {down: true or false}"}
            )
        down = self.messages.set_down(body["down"])
        log.info("gateway %s", "down" if down else "up")
        return json_response({"down": down})


class SimulatorServer(BackgroundServer):
    """The simulator on ``host:port`` (0 picks a free port); ``start()`` serves
    in a background thread, ``stop()`` ends it."""

    def __init__(self, host: str, port: int, *, api_key: str, messages: Messages | None = None):
        self.messages = messages if messages is not None else Messages()
        super().__init__(host, port, SmsApi(self.messages, api_key), name="sms-simulator")
