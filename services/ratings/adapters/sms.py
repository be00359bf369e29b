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

from services.common.errors import Unavailable
from services.common.http import PartyClient, PartyRejected
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


class SmsRejected(SmsError, PartyRejected):
    """The gateway refused the message itself (400, 404, 409, 422: the number,
    the text, a key reused for another message); ``fields`` names what it refused."""

    code = "sms_rejected"
    refusal = "the SMS gateway refused the message"


class SmsClient(PartyClient):
    """``SmsClient("http://127.0.0.1:8400", api_key)``; one per service container,
    it keeps a pooled session. ``timeout`` is requests' (connect, read) pair."""

    party = "SMS gateway"
    unavailable = SmsUnavailable
    rejected = SmsRejected
    clean = staticmethod(mask_phones)

    def __init__(
        self,
        base_url: str,
        api_key: str,
        timeout: float | tuple[float, float] = (3.05, 10),
        retries: int = 2,
        backoff_factor: float = 0.5,
    ):
        super().__init__(base_url, api_key, timeout, retries, backoff_factor)

    def send(self, idempotency_key: str, phone: str, text: str) -> dict[str, str]:
        """Text ``text`` to ``phone``; returns the gateway's ``{"message_id",
        "status"}``. The same ``idempotency_key`` is always the same message."""
        path = "/api/messages"
        body = self.request(
            "POST",
            path,
            json={"phone": phone, "text": text},
            headers={"Idempotency-Key": idempotency_key},
        )
        message_id = body.get("message_id") if isinstance(body, dict) else None
        if not isinstance(message_id, str) or not message_id.strip():
            raise SmsUnavailable(f"SMS gateway POST {path} answered without a message_id")
        return {"message_id": message_id, "status": str(body.get("status") or "")}

    def try_later(self, where: str, status: int) -> str | None:
        if status not in _TRY_LATER:
            return None
        hint = ": check SMS_API_KEY" if status in (401, 403) else ""
        return f"{where} answered {status}{hint}"
