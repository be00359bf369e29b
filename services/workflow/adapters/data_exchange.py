"""HTTP client for the government data exchange platform (政务数据共享交换平台):
other departments' record systems, asked by resident ID number.

- civil affairs: a person's marriage record (single, married, divorced, widowed;
  the spouse's ID number when married);
- housing: how many homes a person owns in a city.

Queries are POSTs with the ID number in the JSON body (never in a URL, where
proxies and access logs would keep it). They change nothing, so retrying one
is safe: connection errors and 5xx answers are retried a few times, a read
timeout is not (waiting the read timeout again and again would hold the worker;
the caller decides what an unavailable register means). "No record" is an
answer (``None``), distinct from every error; errors are the shared types of
``services.common.errors``. No ID number appears in an error message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

import requests

from services.common.errors import Invalid, Unavailable
from services.common.http import error_details, retrying_session
from services.common.logs import redact
from services.common.masking import mask_id_number

MARITAL_STATUSES = ("single", "married", "divorced", "widowed")
MARRIED = "married"
FOUND = "found"
NO_RECORD = "no_record"


class DataExchangeError(Exception):
    """Base of the errors DataExchangeClient raises; each is also a shared error type."""


class DataExchangeUnavailable(DataExchangeError, Unavailable):
    """The platform did not answer usefully: timeout, connection error, 5xx after
    retries, a refused key (401/403) or an answer that does not read. Worth
    asking again later; never a reason to assume an answer."""

    code = "data_exchange_unavailable"


class DataExchangeRejected(DataExchangeError, Invalid):
    """The platform refused the query itself (400, 404, 422: a malformed ID number
    or city code); asking again cannot help."""

    code = "data_exchange_rejected"

    def __init__(self, status_code: int, message: str, fields: dict | None = None):
        super().__init__(message, fields)
        self.status_code = status_code

    def __str__(self) -> str:
        return f"the data exchange refused the query ({self.status_code}): {super().__str__()}"


@dataclass(frozen=True)
class MarriageRecord:
    """Civil affairs' record of a person: ``marital_status`` single, married,
    divorced or widowed; ``spouse_id_number`` when married, else None."""

    marital_status: str
    spouse_id_number: str | None = None

    def __repr__(self) -> str:
        spouse = mask_id_number(self.spouse_id_number) if self.spouse_id_number else None
        return f"MarriageRecord(marital_status={self.marital_status!r}, spouse={spouse!r})"


class DataExchangeClient:
    """``DataExchangeClient("http://127.0.0.1:8300", api_key)``; one per service
    container, it keeps a pooled session. ``timeout`` is requests' (connect,
    read) pair."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        timeout: float | tuple[float, float] = (2.0, 5.0),
        retries: int = 2,
        backoff_factor: float = 0.2,
    ):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        # Queries only: a POST here changes nothing, so repeating it is safe.
        self.session = retrying_session(
            api_key, methods=("POST",), retries=retries, backoff_factor=backoff_factor
        )

    def marriage_record(self, id_number: str) -> MarriageRecord | None:
        """Civil affairs' marriage record of the person, or None when it has none."""
        record = self._query("/api/civil-affairs/marital-status", {"id_number": id_number})
        if record is None:
            return None
        status = record.get("marital_status")
        spouse = record.get("spouse_id_number")
        if status not in MARITAL_STATUSES:
            raise DataExchangeUnavailable("civil affairs answered an unknown marital status")
        if status == MARRIED and not (isinstance(spouse, str) and spouse.strip()):
            raise DataExchangeUnavailable("civil affairs answered a marriage without the spouse")
        return MarriageRecord(status, spouse.strip().upper() if status == MARRIED else None)

    def homes_owned(self, id_number: str, city_code: str) -> int | None:
        """How many homes the person owns in the city (division code ``320100``),
        by the housing register; None when the register has no record of them."""
        record = self._query(
            "/api/housing/homes-owned", {"id_number": id_number, "city_code": city_code}
        )
        if record is None:
            return None
        homes = record.get("homes_owned")
        if not isinstance(homes, int) or isinstance(homes, bool) or homes < 0:
            raise DataExchangeUnavailable("housing answered an unreadable count of homes")
        return homes

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _query(self, path: str, body: dict[str, str]) -> dict[str, Any] | None:
        """The record the platform found, or None for its "no record" answer."""
        answer = self._post(path, body)
        result = answer.get("result") if isinstance(answer, dict) else None
        if result == NO_RECORD:
            return None
        if result == FOUND and isinstance(answer.get("record"), dict):
            return answer["record"]
        raise DataExchangeUnavailable(f"the data exchange answered {path} unreadably")

    def _post(self, path: str, body: dict[str, str]) -> Any:
        try:
            response = self.session.post(self.base_url + path, json=body, timeout=self.timeout)
        except requests.RequestException as error:
            # requests' messages name the URL, which carries no ID number.
            raise DataExchangeUnavailable(
                f"data exchange POST {path} failed: {redact(str(error))}"
            ) from error
        status = response.status_code
        if status >= 500:
            raise DataExchangeUnavailable(f"data exchange POST {path} answered {status}")
        if status in (401, 403):
            raise DataExchangeUnavailable(
                f"data exchange POST {path} refused our key ({status}): check DATA_EXCHANGE_API_KEY"
            )
        if status >= 400:
            # A platform may echo what it refused: ID numbers are masked.
            message, fields = error_details(response, clean=redact)
            raise DataExchangeRejected(status, message, fields)
        try:
            return response.json()
        except ValueError as error:
            raise DataExchangeUnavailable(f"data exchange POST {path} answered non-JSON") from error
