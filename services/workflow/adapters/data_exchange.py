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
from typing import Any

from services.common.errors import Unavailable
from services.common.http import PartyClient, PartyRejected
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


class DataExchangeRejected(DataExchangeError, PartyRejected):
    """The platform refused the query itself (400, 404, 422: a malformed ID number
    or city code); asking again cannot help."""

    code = "data_exchange_rejected"
    refusal = "the data exchange refused the query"


@dataclass(frozen=True)
class MarriageRecord:
    """Civil affairs' record of a person: ``marital_status`` single, married,
    divorced or widowed; ``spouse_id_number`` when married, else None."""

    marital_status: str
    spouse_id_number: str | None = None

    def __repr__(self) -> str:
        spouse = mask_id_number(self.spouse_id_number) if self.spouse_id_number else None
        return f"MarriageRecord(marital_status={self.marital_status!r}, spouse={spouse!r})"


class DataExchangeClient(PartyClient):
    """``DataExchangeClient("http://127.0.0.1:8300", api_key)``; one per service
    container, it keeps a pooled session. ``timeout`` is requests' (connect,
    read) pair."""

    party = "data exchange"
    unavailable = DataExchangeUnavailable
    rejected = DataExchangeRejected
    # Queries only: a POST here changes nothing, so repeating it is safe.
    retried_methods = ("POST",)
    # requests' messages name the URL, which carries no ID number; a platform
    # may echo what it refused: ID numbers are masked.
    clean = staticmethod(redact)

    def __init__(
        self,
        base_url: str,
        api_key: str,
        timeout: float | tuple[float, float] = (2.0, 5.0),
        retries: int = 2,
        backoff_factor: float = 0.2,
    ):
        super().__init__(base_url, api_key, timeout, retries, backoff_factor)

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

    def _query(self, path: str, body: dict[str, str]) -> dict[str, Any] | None:
        """The record the platform found, or None for its "no record" answer."""
        answer = self.request("POST", path, json=body)
        result = answer.get("result") if isinstance(answer, dict) else None
        if result == NO_RECORD:
            return None
        if result == FOUND and isinstance(answer.get("record"), dict):
            return answer["record"]
        raise DataExchangeUnavailable(f"the data exchange answered {path} unreadably")

    def try_later(self, where: str, status: int) -> str | None:
        if status in (401, 403):
            return f"{where} refused our key ({status}): check DATA_EXCHANGE_API_KEY"
        return None
