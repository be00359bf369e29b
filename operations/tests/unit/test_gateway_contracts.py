"""The gateway speaks the services' contracts: every body, query and answer a
route documents is the owning service's schema (or one of the few the gateway
owns), and every body or query it loads is one the service's RPC request
extends, so what the gateway lets through, the service takes."""

import inspect

import pytest

from gateway import schemas as gateway_schemas
from gateway.http import Answer
from gateway.openapi import routes_of
from gateway.service import GatewayService
from operations.roster import SERVICES, service_class
from services.common.entrypoints import contract_entrypoints

ROUTES = routes_of(GatewayService)


def rpc_requests() -> list[type]:
    requests = []
    for name in SERVICES:
        for _, entrypoint in contract_entrypoints(service_class(name)):
            request = getattr(entrypoint, "request", None)
            if request is not None:
                requests.append(type(request))
    return requests


def schemas_of(route) -> dict[str, object]:
    named = {
        "request": route.request_schema,
        "query": route.query_schema,
        "response": route.response_schema,
    }
    for status, answer in route.answers.items():
        named[f"answer {status}"] = answer.schema if isinstance(answer, Answer) else answer
    if route.error_style is not None:
        named["errors"] = route.error_style.schema
    # A JSON schema written out (an HTML page's string) names no wire format.
    return {
        part: schema
        for part, schema in named.items()
        if schema is not None and not isinstance(schema, dict)
    }


@pytest.mark.parametrize(("name", "route"), ROUTES, ids=[name for name, _ in ROUTES])
def test_every_schema_of_a_route_is_a_contract_or_the_gateways_own(name, route):
    for part, schema in schemas_of(route).items():
        module = type(schema).__module__
        owned = module == gateway_schemas.__name__
        contract = module.startswith("services.") and module.endswith(".contract")
        assert owned or contract, f"{name} {part}: {type(schema).__name__} from {module}"


@pytest.mark.parametrize(("name", "route"), ROUTES, ids=[name for name, _ in ROUTES])
def test_what_a_route_loads_an_rpc_request_extends(name, route):
    requests = rpc_requests()
    for schema in (route.request_schema, route.query_schema):
        if schema is None or type(schema).__module__ == gateway_schemas.__name__:
            continue
        loaded = type(schema)
        assert any(issubclass(request, loaded) for request in requests), (
            f"{name}: no RPC request extends {loaded.__name__}"
        )


def test_the_gateway_owns_only_its_own_answers():
    owned = {
        name
        for name, value in vars(gateway_schemas).items()
        if inspect.isclass(value) and value.__module__ == gateway_schemas.__name__
    }
    # Besides its own answers, the requests of the OpenID Connect endpoints,
    # which OAuth 2.0 fixes: identity takes them as the parameters they are.
    oauth = {
        "AuthorizeQuery",
        "ContinueQuery",
        "SignInForm",
        "ConsentForm",
        "EndSessionQuery",
        "LogoutForm",
        "TokenForm",
    }
    assert owned == {"Error", "ErrorDetail", "Empty", "Status", "Health", "Readiness"} | oauth
