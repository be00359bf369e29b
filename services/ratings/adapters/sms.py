"""HTTP client for the SMS gateway that texts citizens.

``POST /api/messages {phone, text}`` with ``Idempotency-Key`` and ``X-Api-Key``
answers 201 ``{message_id, status}`` (200 for a key it has seen, with the same
message). Every message carries an idempotency key, so retrying a POST here
never texts anyone twice: connection errors and 5xx answers are retried a few
times at once (``services.common.http``), a read timeout is not (the relay
tries again later with the same key).

Errors are the shared types of ``services.common.errors``: :class:`SmsUnavailable`
(worth trying again later) or :class:`SmsRejected` (the gateway refused this
message; sending it again cannot help). No phone number appears in full in an
error.
"""

from __future__ import annotations

from typing import Self

import requests

from services.common.errors import Invalid, Unavailable
from services.common.http import error_details, retrying_session
from services.ratings.domain.sms import mask_phones

# Answers that say "not now" rather than "not this message".
_TRY_LATER = (401, 403, 408, 429)


class SmsError(Exception):
    """Base of the errors SmsClient raises; each is also a shared error type."""


class SmsUnavailable(SmsError, Unavailable):
    """The gateway did not take the message: timeout, connection error, 5xx
    after retries, a refused key (401/403), throttling (429) or an answer that
    does not read. Worth trying again later with the same idempotency key."""

    code = "sms_unavailable"


class SmsRejected(SmsError, Invalid):
    """The gateway refused the message itself (400, 404, 409, 422: the number,
    the text, a key reused for another message); ``fields`` names what it refused."""

    code = "sms_rejected"

    def __init__(self, status_code: int, message: str, fields: dict | None = None):
        super().__init__(message, fields)
        self.status_code = status_code

    def __str__(self) -> str:
        return f"the SMS gateway refused the message ({self.status_code}): {super().__str__()}"


class SmsClient:
    """``SmsClient("http://127.0.0.1:8400", api_key)``; one per service container,
    it keeps a pooled session. ``timeout`` is requests' (connect, read) pair."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        timeout: float | tuple[float, float] = (3.05, 10),
        retries: int = 2,
        backoff_factor: float = 0.5,
    ):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = retrying_session(
            api_key, methods=("POST",), retries=retries, backoff_factor=backoff_factor
        )

    def send(self, idempotency_key: str, phone: str, text: str) -> dict[str, str]:
        """Text ``text`` to ``phone``; returns the gateway's ``{"message_id",
        "status"}``. The same ``idempotency_key`` is always the same message."""
        path = "/api/messages"
        try:
            response = self.session.post(
                self.base_url + path,
                json={"phone": phone, "text": text},
                headers={"Idempotency-Key": idempotency_key},
                timeout=self.timeout,
            )
        except requests.RequestException as error:
            raise SmsUnavailable(
                f"SMS gateway POST {path} failed: {mask_phones(str(error))}"
            ) from error
        status = response.status_code
        if status >= 500:
            raise SmsUnavailable(f"SMS gateway POST {path} answered {status}")
        if status in _TRY_LATER:
            hint = ": check SMS_API_KEY" if status in (401, 403) else ""
            raise SmsUnavailable(f"SMS gateway POST {path} answered {status}{hint}")
        if status >= 400:
            message, fields = error_details(response, clean=mask_phones)
            raise SmsRejected(status, message, fields)
        try:
            body = response.json()
        except ValueError as error:
            raise SmsUnavailable(f"SMS gateway POST {path} answered non-JSON") from error
        message_id = body.get("message_id") if isinstance(body, dict) else None
        if not isinstance(message_id, str) or not message_id.strip():
            raise SmsUnavailable(f"SMS gateway POST {path} answered without a message_id")
        return {"message_id": message_id, "status": str(body.get("status") or "")}

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
