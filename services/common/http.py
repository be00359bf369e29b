"""HTTP to outside parties (EMS, the data exchange platform, the SMS gateway):
the one way our clients build their ``requests`` session and read an error answer.

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

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

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
