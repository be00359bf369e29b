"""The one table that turns exceptions into HTTP statuses and JSON error bodies.

Every error of the API has the body
``{"error": {"code": "...", "message": "...", "fields": {...}}}``. The routes that
answer browsers (pages) and OAuth clients write the same :class:`ErrorAnswer` in
their own style (``gateway.http.ErrorStyle``). A type missing from
:data:`STATUS_BY_TYPE` is a bug: it becomes a 500 with a generic message, and the
exception is logged (never sent to the client).
"""

import json
import logging
from dataclasses import dataclass, field

from nameko.exceptions import MethodNotFound as RemoteMethodNotFound
from nameko.exceptions import RemoteError
from werkzeug.wrappers import Response

from services.common.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    ServiceError,
    Unauthorized,
    Unavailable,
)
from services.common.rpc import Timeout

log = logging.getLogger(__name__)


class BadJson(ServiceError):
    """The body is not a JSON object."""

    code = "bad_json"


class BadForm(ServiceError):
    """The body of a form route is not application/x-www-form-urlencoded."""

    code = "bad_form"


class FormExpired(ServiceError):
    """A page's form came back without the double-submit value its cookie holds
    (``gateway.forms``): a forged post, or a page opened before the cookie changed."""

    code = "form_expired"


class InsufficientScope(Forbidden):
    """The bearer token is genuine but was not granted the scope the route needs."""

    code = "insufficient_scope"

    def __init__(self, message: str = "", fields: dict | None = None, scope: str = ""):
        super().__init__(message, fields)
        self.scope = scope


class RouteNotFound(NotFound):
    code = "not_found"


class MethodNotAllowed(ServiceError):
    code = "method_not_allowed"

    def __init__(self, message: str = "", fields: dict | None = None, allowed=()):
        super().__init__(message, fields)
        self.allowed = sorted(allowed)


class PayloadTooLarge(ServiceError):
    code = "payload_too_large"


class RateLimited(ServiceError):
    code = "rate_limited"

    def __init__(self, message: str = "", fields: dict | None = None, retry_after: int = 1):
        super().__init__(message, fields)
        self.retry_after = retry_after


# Looked up along the exception's MRO, so a subclass (Timeout < Unavailable)
# takes its own row when it has one and its parent's otherwise.
STATUS_BY_TYPE: dict[type, int] = {
    BadJson: 400,
    BadForm: 400,
    FormExpired: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    MethodNotAllowed: 405,
    Conflict: 409,
    PayloadTooLarge: 413,
    Invalid: 422,
    RateLimited: 429,
    Unavailable: 503,
    Timeout: 504,
}

# A shared error that crossed RPC without being turned back into its type (a
# service of another version, with the type at another module path) still
# arrives with its class name.
_TYPE_BY_NAME = {error_type.__name__: error_type for error_type in STATUS_BY_TYPE}

INTERNAL_MESSAGE = "internal error; the request id identifies it in the logs"


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _from_remote_error(exc: RemoteError) -> ServiceError | None:
    error_type = _TYPE_BY_NAME.get(exc.exc_type or "")
    return None if error_type is None else error_type(str(exc.value or ""))


def status_for(exc: BaseException) -> int | None:
    for klass in type(exc).__mro__:
        if klass in STATUS_BY_TYPE:
            return STATUS_BY_TYPE[klass]
    return None


@dataclass
class ErrorAnswer:
    """What the error table makes of an exception, before it is written in a
    route's style (the JSON Error body unless the route names another)."""

    status: int
    code: str
    message: str
    fields: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)
    correlation_id: str | None = None

    @property
    def body(self) -> dict:
        return error_body(self.code, self.message, self.fields)


def error_answer(exc: BaseException, correlation_id: str | None = None) -> ErrorAnswer:
    """The status, code, message and headers for ``exc``; 500 (and a log line)
    when its type is not in the table."""
    if isinstance(exc, RemoteError):
        exc = _from_remote_error(exc) or exc
    elif isinstance(exc, RemoteMethodNotFound):
        # The service runs an older version than the gateway (a rolling deploy).
        exc = Unavailable(f"the service does not offer {exc} yet")
    status = status_for(exc)
    if status is None:
        log.error(
            "unhandled error",
            exc_info=(type(exc), exc, exc.__traceback__),
            extra={"correlation_id": correlation_id},
        )
        return ErrorAnswer(500, "internal", INTERNAL_MESSAGE, correlation_id=correlation_id)
    headers = {}
    fields = exc.fields
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, MethodNotAllowed):
        headers["Allow"] = ", ".join(exc.allowed)
    if isinstance(exc, InsufficientScope):
        headers["WWW-Authenticate"] = (
            f'Bearer realm="tongban", error="insufficient_scope", scope="{exc.scope}"'
        )
    if isinstance(exc, Unauthorized):
        headers["WWW-Authenticate"] = 'Bearer realm="tongban"'
        # A locked sign-in (identity's lockout): the wait goes in the header,
        # and the body stays the one of a wrong password.
        fields = dict(fields or {})
        retry_after = fields.pop("retry_after", None)
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
    return ErrorAnswer(
        status, exc.code, exc.message, _plain_fields(fields), headers, correlation_id
    )


def error_response(exc: BaseException, correlation_id: str | None = None) -> Response:
    """The JSON response for ``exc``; 500 (and a log line) when it is not in the table."""
    answer = error_answer(exc, correlation_id)
    return json_response(answer.status, answer.body, answer.headers)


def _plain_fields(fields: dict) -> dict:
    """Field errors as ``{"a.b": "reason"}``: one readable reason per field."""
    flat: dict[str, str] = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, (list, tuple)):
            if value and all(isinstance(v, str) for v in value):
                flat[prefix] = " ".join(value)
            else:
                for index, inner in enumerate(value):
                    walk(f"{prefix}.{index}" if prefix else str(index), inner)
        else:
            flat[prefix] = str(value)

    walk("", fields or {})
    return flat


def json_response(status: int, body, headers: dict | None = None) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status=status,
        headers=headers,
        mimetype="application/json",
    )
