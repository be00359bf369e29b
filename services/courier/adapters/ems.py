"""HTTP client for the EMS order API.

Orders are created with POST, which HTTP clients normally never retry; every order
carries an ``Idempotency-Key`` header and EMS returns the existing order for a key
it has seen, so retrying a POST here cannot create a second waybill.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from services.common.errors import Unavailable
from services.common.http import PartyClient, PartyRejected


class EmsError(Exception):
    """Base of the errors EmsClient raises; each is also a shared error type."""


class EmsUnavailable(EmsError, Unavailable):
    """EMS did not answer usefully: timeout, connection error or 5xx after retries.
    Worth retrying later (with the same idempotency key)."""

    code = "ems_unavailable"


class EmsRejected(EmsError, PartyRejected):
    """EMS refused the request (4xx); ``message`` is EMS's own error text. Retrying
    the same order cannot help, so it is Invalid."""

    code = "ems_rejected"
    refusal = "EMS rejected the request"


class EmsClient(PartyClient):
    """``EmsClient("http://127.0.0.1:8200", api_key)``; one per service container,
    it keeps a pooled session. ``timeout`` is requests' (connect, read) pair."""

    party = "EMS"
    unavailable = EmsUnavailable
    rejected = EmsRejected
    # Connection errors and 5xx are retried at once (retrying a POST is safe:
    # it carries an idempotency key); a read timeout is not (EMS may still be
    # working on the order): the caller retries later with the same key.
    retried_methods = ("GET", "POST")

    def __init__(
        self,
        base_url: str,
        api_key: str,
        timeout: float | tuple[float, float] = (3.05, 10),
        retries: int = 3,
        backoff_factor: float = 0.5,
    ):
        super().__init__(base_url, api_key, timeout, retries, backoff_factor)

    def try_later(self, where: str, status: int) -> str | None:
        # Our key refused, or EMS asking us to slow down: a setting or a load
        # that is fixed on our side or passes; the order itself is fine.
        if status in (401, 403, 408, 429):
            return f"{where} answered {status}"
        return None

    def create_order(
        self,
        idempotency_key: str,
        sender: dict[str, str],
        recipient: dict[str, str],
        reference: str,
        kind: str,
    ) -> dict[str, str]:
        """Book a waybill; returns ``{"tracking_no", "status"}``. The same
        ``idempotency_key`` always yields the same waybill."""
        body = self.request(
            "POST",
            "/api/orders",
            json={
                "sender": sender,
                "recipient": recipient,
                "reference": reference,
                "kind": kind,
            },
            headers={"Idempotency-Key": idempotency_key},
        )
        try:
            return {"tracking_no": body["tracking_no"], "status": body["status"]}
        except (KeyError, TypeError) as error:
            raise EmsUnavailable(f"EMS answered an order without {error}") from error

    def track(self, tracking_no: str) -> dict[str, Any]:
        """The order with its ``history`` of scans, as EMS reports it."""
        return self.request("GET", f"/api/orders/{quote(tracking_no, safe='')}")
