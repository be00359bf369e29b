"""HTTP client for the EMS order API.

Orders are created with POST, which HTTP clients normally never retry; every order
carries an ``Idempotency-Key`` header and EMS returns the existing order for a key
it has seen, so retrying a POST here cannot create a second waybill.
"""

from __future__ import annotations

from typing import Any, Self
from urllib.parse import quote

import requests

from services.common.errors import Invalid, Unavailable
from services.common.http import error_details, retrying_session


class EmsError(Exception):
    """Base of the errors EmsClient raises; each is also a shared error type."""


class EmsUnavailable(EmsError, Unavailable):
    """EMS did not answer usefully: timeout, connection error or 5xx after retries.
    Worth retrying later (with the same idempotency key)."""

    code = "ems_unavailable"


class EmsRejected(EmsError, Invalid):
    """EMS refused the request (4xx); ``message`` is EMS's own error text. Retrying
    the same order cannot help, so it is Invalid."""

    code = "ems_rejected"

    def __init__(self, status_code: int, message: str, fields: dict | None = None):
        super().__init__(message, fields)
        self.status_code = status_code

    def __str__(self) -> str:
        return f"EMS rejected the request ({self.status_code}): {super().__str__()}"


class EmsClient:
    """``EmsClient("http://127.0.0.1:8200", api_key)``; one per service container,
    it keeps a pooled session. ``timeout`` is requests' (connect, read) pair."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        timeout: float | tuple[float, float] = (3.05, 10),
        retries: int = 3,
        backoff_factor: float = 0.5,
    ):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        # Connection errors and 5xx are retried at once (retrying a POST is safe:
        # it carries an idempotency key); a read timeout is not (EMS may still be
        # working on the order): the caller retries later with the same key.
        self.session = retrying_session(
            api_key, methods=("GET", "POST"), retries=retries, backoff_factor=backoff_factor
        )

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
        body = self._request(
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
        return self._request("GET", f"/api/orders/{quote(tracking_no, safe='')}")

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        url = self.base_url + path
        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as error:
            raise EmsUnavailable(f"EMS {method} {path} failed: {error}") from error
        if response.status_code >= 500:
            raise EmsUnavailable(f"EMS {method} {path} answered {response.status_code}")
        if response.status_code >= 400:
            message, fields = error_details(response)
            raise EmsRejected(response.status_code, message, fields)
        try:
            return response.json()
        except ValueError as error:
            raise EmsUnavailable(f"EMS {method} {path} answered non-JSON") from error
