"""The gateway's HTTP entrypoint: one place for what every route does.

``@route("POST", "/api/v1/...", request=Schema, response=Schema, auth=...)`` on a
method of the gateway service. For each request the entrypoint, before any
worker runs:

1. takes the correlation id from ``X-Request-Id`` (or makes one) and echoes it;
2. applies the route's rate limits (sign-in or public read) and its body
   signature check, if any;
3. authenticates the bearer token locally and applies the route's access guard;
4. parses the body (JSON, or a form: ``form=``, after its double-submit check
   when ``csrf``) and loads it (and the query string) with the route's schemas,
   unknown fields rejected;

then calls the method with a :class:`Call` and the path values, answers what it
returns (the owning service's answer, already in the response schema's shape:
the schema documents it; or a response of its own: a page, a redirect), and
turns any exception into the error of ``gateway.errors``: the JSON Error body,
or the route's :class:`ErrorStyle` (pages for browsers, OAuth error bodies).
Every response is counted and timed per route template and written as one
access line at info: a 4xx is an answer, not an error; only an exception the
error table does not know is logged as an error.

The request and query schemas are the owning service's contract schemas (or
the gateway's own, ``gateway.schemas``, where OAuth 2.0 fixes the wire). The
body is forwarded as the client sent it once it loads (the service loads it
again with the same schema, defaults and trimming included); the query is
forwarded loaded (plain text, numbers and flags).
"""

import json
import logging
import re
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial

from eventlet.event import Event
from marshmallow import Schema, ValidationError
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from prometheus_client import Counter, Histogram
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import MethodNotAllowed as WerkzeugMethodNotAllowed
from werkzeug.exceptions import NotFound as WerkzeugNotFound
from werkzeug.routing import Map, PathConverter
from werkzeug.wrappers import Request, Response

from gateway.auth import Access, KeyRing
from gateway.errors import (
    BadJson,
    ErrorAnswer,
    MethodNotAllowed,
    PayloadTooLarge,
    RouteNotFound,
    error_answer,
    error_response,
    json_response,
)
from gateway.forms import FORM, check_double_submit, parse_form
from gateway.ratelimit import RateLimiter
from services.common.entrypoints import SignatureOnce
from services.common.errors import Invalid
from services.common.schemas import PATH_ID_MAX, field_errors

log = logging.getLogger(__name__)

_PATH_VALUE = re.compile(r"<(?:[a-z]+:)?([A-Za-z_][A-Za-z0-9_]*)>")

REQUEST_ID_HEADER = "X-Request-Id"
MAX_BODY_BYTES = 1024 * 1024
_GOOD_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

REQUESTS = Counter(
    "tongban_gateway_requests",
    "HTTP requests answered by the gateway, by route template and status.",
    ["method", "route", "status"],
)
REQUEST_SECONDS = Histogram(
    "tongban_gateway_request_seconds",
    "Time to answer an HTTP request, by route template.",
    ["method", "route"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def correlation_id_of(request) -> str:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    return incoming if _GOOD_REQUEST_ID.match(incoming) else uuid.uuid4().hex


def observe(
    method: str, route: str, response: Response, started: float, correlation_id: str
) -> None:
    """Count and time the answer, and write its access line."""
    seconds = time.perf_counter() - started
    status = response.status_code
    REQUESTS.labels(method, route, str(status)).inc()
    REQUEST_SECONDS.labels(method, route).observe(seconds)
    log.log(
        logging.WARNING if status >= 500 else logging.INFO,
        "%s %s %s",
        method,
        route,
        status,
        extra={
            "method": method,
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
            "correlation_id": correlation_id,
        },
    )


IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
_GOOD_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,128}")


def idempotency_key(call) -> str:
    """The request's Idempotency-Key (1..128 visible ASCII characters), or a new
    one: a command sent twice (the client's retry with the same key, or the
    broker delivering the call again after a connection broke) has one effect."""
    given = call.request.headers.get(IDEMPOTENCY_KEY_HEADER)
    if given is None:
        return uuid.uuid4().hex
    if not _GOOD_IDEMPOTENCY_KEY.fullmatch(given):
        raise Invalid(
            "bad Idempotency-Key header",
            {IDEMPOTENCY_KEY_HEADER: "1 to 128 visible ASCII characters"},
        )
    return given


REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class Answer:
    """A documented answer of a route other than its success and its errors:
    its content type (None: no body), its body's schema (a marshmallow schema,
    or a JSON schema) and its headers (name: description)."""

    description: str
    content_type: str | None = "application/json"
    schema: object = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ErrorStyle:
    """How a route writes its errors when not as the JSON Error body: as pages
    for a browser, or as OAuth 2.0 error bodies for a client. ``statuses`` maps
    the error table's status to the one written (an OAuth client expects 400
    for every bad request, 422 included); ``schema`` documents the body."""

    content_type: str
    schema: object
    render: Callable[[ErrorAnswer, Request], Response]
    statuses: Mapping[int, int] = field(default_factory=dict)

    def status(self, status: int) -> int:
        return self.statuses.get(status, status)

    def response(self, answer: ErrorAnswer, request: Request) -> Response:
        answer.status = self.status(answer.status)
        return self.render(answer, request)


@dataclass
class Call:
    """What a route method gets: the validated input and who is asking."""

    request: Request
    correlation_id: str
    body: dict = field(default_factory=dict)
    query: dict = field(default_factory=dict)
    actor: dict | None = None
    claims: dict | None = None
    # The client's address (``gateway.ratelimit.client_of``: TRUSTED_PROXIES).
    client_address: str | None = None


class GatewayWsgiApp(WsgiApp):
    """nameko's WSGI app, with JSON bodies for unknown routes and wrong methods."""

    def __call__(self, environ, start_response):
        request = Request(environ, shallow=True)
        adapter = self.url_map.bind_to_environ(environ)
        started = time.perf_counter()
        try:
            provider, values = adapter.match()
            request.path_values = values
            response = provider.handle_request(request)
        except WerkzeugNotFound:
            response = self._unmatched(request, RouteNotFound("no such route"), started)
        except WerkzeugMethodNotAllowed as exc:
            allowed = exc.valid_methods or ()
            error = MethodNotAllowed(f"{request.method} is not allowed here", allowed=allowed)
            response = self._unmatched(request, error, started)
        except HTTPException as exc:  # redirects for trailing slashes and the like
            response = exc
        return response(environ, start_response)

    @staticmethod
    def _unmatched(request, error, started) -> Response:
        correlation_id = correlation_id_of(request)
        response = error_response(error, correlation_id)
        response.headers[REQUEST_ID_HEADER] = correlation_id
        observe(request.method, "unmatched", response, started, correlation_id)
        return response


# The gateway's own paths: never a page of the portal (``<page:...>``), so that
# an unknown one keeps its JSON 404 (or 405) as before the portal was served.
PAGE_EXCLUDED = (
    "api",
    "oidc",
    ".well-known",
    "healthz",
    "readyz",
    "metrics",
    "openapi.json",
    "docs",
)


class PageConverter(PathConverter):
    """A path of the portal's pages: any path (slashes included) whose first
    segment is not one of ``PAGE_EXCLUDED``."""

    regex = (
        "(?!(?:"
        + "|".join(re.escape(name) for name in PAGE_EXCLUDED)
        + ")(?:/|$))"
        + PathConverter.regex
    )


class GatewayWebServer(WebServer):
    def get_wsgi_app(self):
        return GatewayWsgiApp(self)

    def make_url_map(self):
        url_map = Map(converters={"page": PageConverter})
        for provider in self._providers:
            rule = provider.get_url_rule()
            rule.endpoint = provider
            url_map.add(rule)
        return url_map


class Route(SignatureOnce, HttpRequestHandler):
    server = GatewayWebServer()
    rate_limiter = RateLimiter()

    def __init__(
        self,
        method: str,
        url: str,
        request: Schema | type[Schema] | None = None,
        form: Schema | type[Schema] | None = None,
        csrf: bool = False,
        query: Schema | type[Schema] | None = None,
        path: type[Schema] | None = None,
        response: Schema | type[Schema] | None = None,
        status: int = 200,
        auth: Access | None = None,
        rate_limited: bool = False,
        public_read: bool = False,
        idempotency_key: bool = False,
        verify_body=None,
        cached: bool = False,
        summary: str = "",
        description: str = "",
        tags: tuple[str, ...] = (),
        errors: tuple[int, ...] = (),
        answers: dict | None = None,
        content_type: str = "application/json",
        error_style: ErrorStyle | None = None,
        security: list[dict] | None = None,
        **kwargs,
    ):
        # Every exception of a route becomes its error answer here, so none is a
        # worker failure to nameko; the error table logs the ones it does not know.
        kwargs.setdefault("expected_exceptions", Exception)
        super().__init__(method, url, **kwargs)
        if request is not None and form is not None:
            raise ValueError("a route takes a JSON body or a form, not both")
        if csrf and form is None:
            raise ValueError("the double-submit check is for form routes")
        self.request_schema = _instance(form if form is not None else request)
        self.request_type = FORM if form is not None else "application/json"
        self.csrf = csrf
        self.query_schema = _instance(query)
        # The path values, checked with the fields of the same name of the RPC
        # request they end up in (``path``: that request's schema).
        names = tuple(_PATH_VALUE.findall(url))
        self.path_schema = path(only=names) if path is not None and names else None
        self.response_schema = _instance(response)
        self.status = status
        self.auth = auth
        self.rate_limited = rate_limited
        self.public_read = public_read
        # Takes an Idempotency-Key header (``idempotency_key(call)``).
        self.idempotency_key = idempotency_key
        self.verify_body = verify_body
        self.cached = cached
        # A cached route answers the same shared objects again and again.
        self.bodies = EncodedBodies()
        self.summary = summary
        self.description = description
        self.tags = tags
        self.errors = errors
        # Statuses other than the success one whose body is not the Error schema:
        # a schema (a JSON body) or an Answer.
        self.answers = {
            status: replace(answer, schema=_instance(answer.schema))
            if isinstance(answer, Answer)
            else _instance(answer)
            for status, answer in (answers or {}).items()
        }
        self.content_type = content_type
        self.error_style = error_style
        # The OpenAPI security requirement when not the bearer token of ``auth``
        # (the token endpoint's optional client credentials).
        self.security = security

    def setup(self):
        super().setup()
        self.keyring = next(
            (d for d in self.container.dependencies if isinstance(d, KeyRing)), None
        )

    def handle_request(self, request):
        started = time.perf_counter()
        correlation_id = correlation_id_of(request)
        request.shallow = False
        try:
            call = self.prepare(request, correlation_id)
            args, kwargs = (call,), dict(request.path_values)
            self.check_signature(args, kwargs)
            event = Event()
            self.container.spawn_worker(
                self,
                args,
                kwargs,
                context_data={"correlation_id": correlation_id},
                handle_result=partial(self.handle_result, event),
            )
            response = self.response_from_result(event.wait())
        except Exception as exc:  # noqa: BLE001  (every error becomes an answer)
            response = self.error_response(exc, request, correlation_id)
        response.headers[REQUEST_ID_HEADER] = correlation_id
        observe(request.method, self.url, response, started, correlation_id)
        return response

    def prepare(self, request, correlation_id: str) -> Call:
        client = self.rate_limiter.client_of(request)
        if self.rate_limited:
            self.rate_limiter.check(client)
        if self.public_read:
            self.rate_limiter.check_public(client)
        if request.content_length and request.content_length > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"the body is larger than {MAX_BODY_BYTES} bytes")
        call = Call(request=request, correlation_id=correlation_id, client_address=client)
        check_path_values(request.path_values)
        if self.path_schema is not None:
            load(self.path_schema, request.path_values)
        if self.verify_body is not None:
            self.verify_body(request, self.container.config)
        if self.auth is not None:
            if self.keyring is None:
                raise RuntimeError("a route needs a token but the service has no KeyRing")
            call.claims, call.actor = self.keyring.authenticate(request)
            self.auth.check(call.actor)
        if self.request_schema is not None:
            if self.request_type == FORM:
                body = parse_form(request)
                if self.csrf:
                    check_double_submit(request, body)
            else:
                body = parse_json_object(request)
            refuse_nul_characters(body)
            load(self.request_schema, body)
            call.body = body
        if self.query_schema is not None:
            query = query_args(request)
            refuse_nul_characters(query)
            call.query = load(self.query_schema, query)
        return call

    def error_response(self, exc: Exception, request, correlation_id: str) -> Response:
        if self.error_style is None:
            return error_response(exc, correlation_id)
        return self.error_style.response(error_answer(exc, correlation_id), request)

    def response_from_result(self, result):
        if isinstance(result, Response):
            return result
        if self.status == 204:
            return Response(status=204)
        if self.cached:
            return Response(
                self.bodies.encode(result), status=self.status, mimetype="application/json"
            )
        return json_response(self.status, result)


route = Route.decorator


class EncodedBodies:
    """JSON bodies of answers, encoded once per answer object.

    A public read answers objects shared from a cache (``ReadCache``, the
    search index's answers), which nobody changes once shared: the same object
    is the same body, kept for the ``max_entries`` last answered. The entry
    holds the object, so its ``id`` is not reused while it is kept."""

    def __init__(self, max_entries: int = 256):
        self.max_entries = max_entries
        self._bodies: OrderedDict[int, tuple[object, bytes]] = OrderedDict()

    def encode(self, value) -> bytes:
        key = id(value)
        found = self._bodies.get(key)
        if found is not None and found[0] is value:
            self._bodies.move_to_end(key)
            return found[1]
        body = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self._bodies[key] = (value, body)
        while len(self._bodies) > self.max_entries:
            self._bodies.popitem(last=False)
        return body


def _instance(schema):
    return schema() if isinstance(schema, type) else schema


def parse_json_object(request) -> dict:
    """The body as a JSON object; an empty body is ``{}``."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadJson(f"the body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise BadJson("the body must be a JSON object")
    return body


def nul_fields(value, name: str = "") -> dict[str, str]:
    """Fields whose text holds a NUL character, which no field of ours may carry
    (and PostgreSQL cannot store)."""
    if isinstance(value, str):
        return {name or "_schema": "must not contain NUL characters"} if "\x00" in value else {}
    found: dict[str, str] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            found.update(nul_fields(item, f"{name}.{key}" if name else str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.update(nul_fields(item, f"{name}.{index}" if name else str(index)))
    return found


def refuse_nul_characters(values) -> None:
    found = nul_fields(values)
    if found:
        raise Invalid("invalid input", found)


MAX_PATH_VALUE = PATH_ID_MAX


def check_path_values(values: dict) -> None:
    """Ids in the path are 1..128 characters without NUL (the OpenAPI says so)."""
    refuse_nul_characters(values)
    too_long = {
        name: f"must be at most {MAX_PATH_VALUE} characters"
        for name, value in values.items()
        if len(value) > MAX_PATH_VALUE
    }
    if too_long:
        raise Invalid("invalid path", too_long)


def query_args(request) -> dict:
    """Query parameters; a parameter given twice is refused rather than guessed."""
    values = {}
    for name in request.args:
        given = request.args.getlist(name)
        if len(given) > 1:
            raise Invalid("invalid query", {name: "give this parameter once"})
        values[name] = given[0]
    return values


def load(schema: Schema, data: dict) -> dict:
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise Invalid("invalid input", field_errors(exc.messages)) from None
