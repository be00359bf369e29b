"""The OpenAPI 3 document, generated from the routes and schemas the gateway runs.

Nothing is written by hand: walking the service class finds every ``@route``,
and each route's request, query and response schemas are the owning service's
contract schemas, the ones that load its input and dump its answer, so the
document cannot drift from the code. A schema is named after its class; when two
services' contracts use one name, the later one is prefixed with its service.
"""

import html
import inspect
import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from gateway import schemas
from gateway.forms import FORM
from gateway.http import (
    IDEMPOTENCY_KEY_HEADER,
    MAX_PATH_VALUE,
    REDIRECTS,
    REQUEST_ID_HEADER,
    Answer,
    Route,
)

TITLE = "tongban gateway"
VERSION = "1"
_CONVERTER = re.compile(r"<(?:[a-z]+:)?([A-Za-z_][A-Za-z0-9_]*)>")
_ANY_ID = {"type": "string", "minLength": 1, "maxLength": MAX_PATH_VALUE}

# Security schemes besides the bearer token, for a route's ``security``.
SECURITY_SCHEMES = {
    "clientSecretBasic": {
        "type": "http",
        "scheme": "basic",
        "description": "OAuth 2.0 client_secret_basic: the client id and secret",
    },
}

ERROR_DESCRIPTIONS = {
    400: "Malformed JSON (code bad_json)",
    401: "Missing, bad or expired bearer token (or EMS signature)",
    403: "The caller may not do this",
    404: "Unknown id",
    405: "Method not allowed",
    409: "The current state forbids the action, or it exists already",
    413: "Body too large",
    422: "Invalid input; fields names each bad field",
    429: "Too many requests; see Retry-After",
    500: "Internal error",
    503: "A service is unavailable",
    504: "A service did not answer in time",
}


def schema_name(schema) -> str | None:
    """A schema's component name: its class name (without a ``Schema`` suffix);
    None, so that it is written inline, for an instance narrowed by
    ``only``/``exclude``."""
    if not isinstance(schema, type) and (schema.only or schema.exclude):
        return None
    cls = schema if isinstance(schema, type) else type(schema)
    name = cls.__name__
    if name.endswith("Schema") and name != "Schema":
        name = name[: -len("Schema")]
    return name


class _Names:
    """Component names, unique per class: a second class of one name (another
    service's ``Window``, say) is prefixed with its service, ``CourierWindow``."""

    def __init__(self):
        self.owners: dict[str, type] = {}

    def __call__(self, schema) -> str | None:
        name = schema_name(schema)
        if name is None:
            return None
        cls = schema if isinstance(schema, type) else type(schema)
        owner = self.owners.setdefault(name, cls)
        if owner is cls:
            return name
        parts = cls.__module__.split(".")
        service = parts[1] if parts[0] == "services" and len(parts) > 1 else parts[0]
        qualified = service.title() + name
        self.owners.setdefault(qualified, cls)
        return qualified


def routes_of(service_cls) -> list[tuple[str, Route]]:
    """(method name, route) of every route of ``service_cls``, in path order."""
    found = []
    for name, member in inspect.getmembers(service_cls, inspect.isfunction):
        for entrypoint in getattr(member, "nameko_entrypoints", ()):
            if isinstance(entrypoint, Route):
                found.append((name, entrypoint))
    return sorted(found, key=lambda pair: (pair[1].url, pair[1].method))


def openapi_path(url: str) -> str:
    return _CONVERTER.sub(r"{\1}", url)


def path_parameters(url: str) -> list[str]:
    return _CONVERTER.findall(url)


def cache_note(ttl: float) -> str:
    return (
        f"Served from the gateway's cache: at most {ttl:g} seconds stale "
        "(CATALOG_CACHE_SECONDS); dropped sooner when catalog or ratings announce a change."
    )


def _error_statuses(route: Route) -> list[int]:
    statuses = set(route.errors) | {500}
    if path_parameters(route.url):
        statuses.add(404)
    if route.path_schema is not None:
        statuses.add(422)
    if route.request_schema is not None:
        statuses |= {400, 413, 422}
    if route.query_schema is not None:
        statuses.add(422)
    if route.auth is not None:
        statuses |= {401, 403}
    if route.verify_body is not None:
        statuses.add(401)
    if route.rate_limited or route.public_read:
        statuses.add(429)
    if not route.url.startswith(("/healthz", "/metrics", "/openapi", "/docs")):
        statuses |= {503, 504}
    return sorted(statuses)


def _error_statuses_of(route: Route) -> list[int]:
    """The error statuses the route answers, in its error style's terms."""
    statuses = _error_statuses(route)
    if route.error_style is not None:
        return sorted({route.error_style.status(status) for status in statuses})
    return statuses


def _error_description(route: Route, status: int) -> str:
    if status == 400 and (route.request_type == FORM or route.error_style is not None):
        return (
            "Bad request: not a form (code bad_form), an invalid field or query"
            " parameter, or a page's form without its tongban_csrf value (form_expired)"
        )
    return ERROR_DESCRIPTIONS.get(status, "Error")


def _answer(answer: Answer) -> dict:
    documented: dict = {"description": answer.description}
    if answer.content_type is not None:
        schema = answer.schema if answer.schema is not None else {"type": "string"}
        documented["content"] = {answer.content_type: {"schema": schema}}
    if answer.headers:
        documented["headers"] = {
            name: {"description": description, "schema": {"type": "string"}}
            for name, description in answer.headers.items()
        }
    return documented


def _success(route: Route) -> dict:
    if route.status == 204:
        return {"description": "Done"}
    if route.status in REDIRECTS:
        return _answer(
            Answer("Redirect", content_type=None, headers={"Location": "where to go next"})
        )
    if route.content_type != "application/json":
        return {
            "description": "OK",
            "content": {route.content_type: {"schema": {"type": "string"}}},
        }
    schema = route.response_schema if route.response_schema is not None else {"type": "object"}
    return {"description": "OK", "content": {"application/json": {"schema": schema}}}


def _path_value_schema(route: Route, param: str, converter) -> dict:
    """The JSON schema of a path value: its field in the RPC request (route's
    ``path``), or any id of 1..128 characters."""
    if route.path_schema is None or param not in route.path_schema.fields:
        return dict(_ANY_ID)
    return converter.field2property(route.path_schema.fields[param])


def _operation(name: str, route: Route, ttl: float, converter) -> dict:
    description = route.description
    if route.cached:
        description = f"{description}\n\n{cache_note(ttl)}".strip()
    if route.auth is not None:
        description = f"{description}\n\nWho may call: {route.auth.describe()}.".strip()
    parameters = [
        {
            "in": "path",
            "name": param,
            "required": True,
            "schema": _path_value_schema(route, param, converter),
        }
        for param in path_parameters(route.url)
    ]
    if route.query_schema is not None:
        parameters.append({"in": "query", "schema": type(route.query_schema)})
    parameters.append(
        {
            "in": "header",
            "name": REQUEST_ID_HEADER,
            "required": False,
            "schema": {"type": "string"},
            "description": "correlation id; made up when absent, echoed in the response",
        }
    )
    if route.idempotency_key:
        parameters.append(
            {
                "in": "header",
                "name": IDEMPOTENCY_KEY_HEADER,
                "required": False,
                "schema": {"type": "string", "minLength": 1, "maxLength": 128},
                "description": (
                    "the same key again (1..128 visible ASCII characters) answers with what"
                    " the first request made instead of doing it twice"
                ),
            }
        )
    responses = {str(route.status): _success(route)}
    style = route.error_style
    content_type, error_schema = (
        ("application/json", "Error") if style is None else (style.content_type, style.schema)
    )
    for status in _error_statuses_of(route):
        responses[str(status)] = {
            "description": _error_description(route, status),
            "content": {content_type: {"schema": error_schema}},
        }
    for status, answer in route.answers.items():
        if isinstance(answer, Answer):
            responses[str(status)] = _answer(answer)
            continue
        responses[str(status)] = {
            "description": ERROR_DESCRIPTIONS.get(status, "Error"),
            "content": {"application/json": {"schema": answer}},
        }
    operation = {
        "operationId": name,
        "summary": route.summary or name.replace("_", " "),
        "tags": list(route.tags),
        "parameters": parameters,
        "responses": responses,
    }
    if description:
        operation["description"] = description
    if route.request_schema is not None:
        operation["requestBody"] = {
            # No body counts as {}: required only when a field of it is.
            "required": any(field.required for field in route.request_schema.fields.values()),
            "content": {route.request_type: {"schema": type(route.request_schema)}},
        }
    if route.security is not None:
        operation["security"] = route.security
    elif route.auth is not None:
        operation["security"] = [{"bearer": []}]
    return operation


def build_document(service_cls, ttl: float = 30.0) -> dict:
    plugin = MarshmallowPlugin(schema_name_resolver=_Names())
    spec = APISpec(
        title=TITLE,
        version=VERSION,
        openapi_version="3.1.0",
        plugins=[plugin],
        info={
            "description": (
                "HTTP API of the tongban government service network. Errors have the body "
                '{"error": {"code", "message", "fields"}}. Lists are paged by page and '
                "page_size (1..100)."
            )
        },
    )
    spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    )
    spec.components.schema("Error", schema=schemas.Error)
    routes = routes_of(service_cls)
    used = {name for _, route in routes for need in route.security or () for name in need}
    for name in sorted(used & set(SECURITY_SCHEMES)):
        spec.components.security_scheme(name, SECURITY_SCHEMES[name])
    by_path: dict[str, dict] = {}
    for name, route in routes:
        operations = by_path.setdefault(openapi_path(route.url), {})
        for method in route.method.split(","):
            operations[method.strip().lower()] = _operation(name, route, ttl, plugin.converter)
    for path, operations in by_path.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


_documents: dict[tuple, dict] = {}


def document_for(service_cls, config: dict) -> dict:
    ttl = float(config.get("CATALOG_CACHE_SECONDS", 30))
    key = (service_cls, ttl)
    if key not in _documents:
        _documents[key] = build_document(service_cls, ttl)
    return _documents[key]


def docs_page(service_cls, config: dict) -> str:
    """ReDoc from a CDN, and under it a plain list of routes that works offline."""
    rows = []
    for _name, route in routes_of(service_cls):
        who = route.auth.describe() if route.auth is not None else "public"
        rows.append(
            f"<tr><td>{html.escape(route.method)}</td><td><code>{html.escape(openapi_path(route.url))}</code></td><td>{html.escape(who)}</td><td>{html.escape(route.summary)}</td></tr>"
        )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{TITLE} API</title>
<style>body{{font-family:sans-serif;margin:1em}}td{{padding:2px 8px}}</style></head>
<body>
<h1>{TITLE} API v{VERSION}</h1>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3).</p>
<div id="redoc"></div>
<script src="https://cdn.redoc.ly/redoc/latest/bundles/redoc.standalone.js"></script>
<script>
if (window.Redoc) {{ Redoc.init("/openapi.json", {{}}, document.getElementById("redoc")); }}
</script>
<h2>Routes</h2>
<table><tr><th>method</th><th>path</th><th>who</th><th>what</th></tr>
{"".join(rows)}
</table>
</body></html>"""
