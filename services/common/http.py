"""HTTP to outside parties (EMS, the data exchange platform, the SMS gateway):
the one way our clients build their ``requests`` session, send a request and
read its answer (:class:`PartyClient`), name a refusal (:class:`PartyRejected`)
and are given to workers from config (:class:`PartyClientProvider`).

Every such client keeps one pooled session per service container. What it
retries by itself is decided once, here:

- connection errors and the transient 5xx answers (500, 502, 503, 504) are
  retried ``retries`` times with exponential backoff, for the methods the caller
  names as safe to repeat (a query; a POST that carries an idempotency key);
- a read timeout is never retried: the other side may still be working on the
  request, and waiting the read timeout again and again would hold the worker
  for minutes. The caller decides what to do later (with the same key);
- a ``Retry-After`` is not honoured: minutes of it would stall the worker;
  backoff is on our terms;
- the last answer is handed back as it is (no exception from the retry
  machinery), so the client turns it into a shared error type.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar, Self

import requests
from nameko.extensions import DependencyProvider
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from services.common.errors import Invalid, Unavailable

RETRY_STATUSES = (500, 502, 503, 504)
# An outside party's error text is quoted in our errors and logs, never whole.
MAX_MESSAGE_LENGTH = 200


def retrying_session(
    api_key: str, *, methods: Iterable[str], retries: int, backoff_factor: float
) -> requests.Session:
    """A session sending ``X-Api-Key: api_key`` and ``Accept: application/json``
    on every request, over http and https, retrying as the module says for the
    HTTP ``methods`` given (``("POST",)``: only POSTs are retried)."""
    retry = Retry(
        total=retries,
        connect=retries,
        read=0,
        status=retries,
        other=0,
        redirect=0,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset(method.upper() for method in methods),
        backoff_factor=backoff_factor,
        respect_retry_after_header=False,
        raise_on_status=False,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers.update({"X-Api-Key": api_key, "Accept": "application/json"})
    return session


def error_details(
    response: requests.Response, clean: Callable[[str], str] = str
) -> tuple[str, dict[str, str]]:
    """The message and the fields (name -> problem) of an error answer.

    Reads ``{"error": {"message", "code", "fields"}}``, ``{"error": message,
    "fields"}`` and ``{"message"}``; any other answer is its own text. ``clean``
    is applied to the message and to each field's name and problem before the
    message is cut to 200 characters (``services.common.logs.redact`` masks
    ID numbers an outside party may echo).
    """
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip() or response.reason or ""
        return clean(text)[:MAX_MESSAGE_LENGTH], {}
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        message = error.get("message") or error.get("code") or ""
        fields = error.get("fields")
    elif isinstance(body, dict):
        message = error or body.get("message") or body
        fields = body.get("fields")
    else:
        message, fields = body, None
    if not isinstance(fields, dict):
        fields = {}
    return (
        clean(str(message))[:MAX_MESSAGE_LENGTH],
        {clean(str(name)): clean(str(problem)) for name, problem in fields.items()},
    )


class PartyRejected(Invalid):
    """An outside party refused the request itself (a 4xx that is not "try
    later"); ``fields`` names what it refused. Asking again cannot help. A
    client's own rejection subclasses this and sets ``refusal``, the start of
    its text (``"EMS rejected the request"``)."""

    refusal = "the outside party refused the request"

    def __init__(self, status_code: int, message: str, fields: dict | None = None):
        super().__init__(message, fields)
        self.status_code = status_code

    def __str__(self) -> str:
        return f"{self.refusal} ({self.status_code}): {super().__str__()}"


class PartyClient:
    """A client of one outside party; one per service container, it keeps a
    pooled session (:func:`retrying_session`). ``timeout`` is requests'
    (connect, read) pair.

    A subclass names the party (``party``, which starts every error message:
    ``"EMS GET /api/orders/x answered 503"``), its error types
    (``unavailable``, ``rejected``), the methods safe to retry
    (``retried_methods``) and may set ``clean`` (masks personal data an error
    text may carry) and extend :meth:`try_later` (answers below 500 that mean
    "not now")."""

    party: ClassVar[str]
    unavailable: ClassVar[type[Unavailable]]
    rejected: ClassVar[type[PartyRejected]]
    retried_methods: ClassVar[tuple[str, ...]] = ("POST",)

    @staticmethod
    def clean(text: str) -> str:
        return text

    def __init__(
        self,
        base_url: str,
        api_key: str,
        timeout: float | tuple[float, float],
        retries: int,
        backoff_factor: float,
    ):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = retrying_session(
            api_key,
            methods=self.retried_methods,
            retries=retries,
            backoff_factor=backoff_factor,
        )

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def try_later(self, where: str, status: int) -> str | None:
        """The message of an :attr:`unavailable` error for an answer ``status``
        below 500 that means "not now", or None; ``where`` is ``"<party>
        <method> <path>"``. None for every status here."""
        return None

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON of the party's answer to ``method path`` (``kwargs`` go to
        requests). No answer, a 5xx, a :meth:`try_later` status or an answer
        that is not JSON raise :attr:`unavailable`; any other 4xx raises
        :attr:`rejected` with the party's message and fields, cleaned."""
        where = f"{self.party} {method} {path}"
        try:
            response = self.session.request(
                method, self.base_url + path, timeout=self.timeout, **kwargs
            )
        except requests.RequestException as error:
            raise self.unavailable(f"{where} failed: {self.clean(str(error))}") from error
        status = response.status_code
        if status >= 500:
            raise self.unavailable(f"{where} answered {status}")
        if (later := self.try_later(where, status)) is not None:
            raise self.unavailable(later)
        if status >= 400:
            message, fields = error_details(response, clean=self.clean)
            raise self.rejected(status, message, fields)
        try:
            return response.json()
        except ValueError as error:
            raise self.unavailable(f"{where} answered non-JSON") from error


def setting(config: dict, name: str, default, cast):
    """``config[name]`` as ``cast``; ``default`` when missing or empty (0 is a value)."""
    value = config.get(name)
    return default if value is None or value == "" else cast(value)


class PartyClientProvider(DependencyProvider):
    """Gives workers the container's client of an outside party, built at setup
    from config and closed at stop.

    A subclass names the client class (``client_class``), the config prefix
    (``prefix``: reads ``<prefix>_API_KEY``, ``<prefix>_CONNECT_TIMEOUT_SECONDS``,
    ``<prefix>_READ_TIMEOUT_SECONDS``, ``<prefix>_RETRIES`` and
    ``<prefix>_BACKOFF_SECONDS``), the setting with the base URL (``url_setting``)
    and the defaults of each (a missing or empty setting takes its default)."""

    client_class: ClassVar[type[PartyClient]]
    prefix: ClassVar[str]
    url_setting: ClassVar[str]
    default_base_url: ClassVar[str]
    default_timeout: ClassVar[tuple[float, float]]
    default_retries: ClassVar[int]
    default_backoff: ClassVar[float]

    def __init__(self):
        self.client: PartyClient | None = None

    def setup(self):
        config = self.container.config
        prefix = self.prefix
        connect, read = self.default_timeout
        self.client = self.client_class(
            str(config.get(self.url_setting) or self.default_base_url),
            str(config.get(f"{prefix}_API_KEY") or ""),
            timeout=(
                setting(config, f"{prefix}_CONNECT_TIMEOUT_SECONDS", connect, float),
                setting(config, f"{prefix}_READ_TIMEOUT_SECONDS", read, float),
            ),
            retries=setting(config, f"{prefix}_RETRIES", self.default_retries, int),
            backoff_factor=setting(
                config, f"{prefix}_BACKOFF_SECONDS", self.default_backoff, float
            ),
        )

    def stop(self):
        if self.client is not None:
            self.client.close()

    def kill(self):
        self.stop()

    def get_dependency(self, worker_ctx):
        return self.client
