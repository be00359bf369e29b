"""The OpenID Connect routes' own logic: continue, discovery, the token
endpoint's errors, and how the OpenAPI document describes the new routes."""

import json

import jsonschema_rs
import pytest
from marshmallow import ValidationError
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from gateway import schemas as s
from gateway.errors import BadForm, RateLimited, error_answer
from gateway.oidc import (
    TOKEN_ERRORS,
    after_sign_in,
    authorize_query_of,
    authorize_url,
    discovery_document,
    issuer_of,
    normalised_phone,
)
from gateway.openapi import build_document
from gateway.service import GatewayService
from services.common.errors import Invalid, Unavailable
from services.identity import contract as identity


@pytest.mark.parametrize(
    "value",
    [
        "/oidc/authorize",
        "/oidc/authorize?client_id=gjj-suzhou&scope=openid+profile&state=a%20b",
    ],
)
def test_continue_may_name_the_authorization_endpoint(value):
    assert s.ContinueQuery().load({"continue": value}) == {"continue_": value}


@pytest.mark.parametrize(
    "value",
    [
        "",
        "https://evil.example/oidc/authorize",
        "//evil.example/oidc/authorize",
        "/\\evil.example/oidc/authorize",
        "/oidc/authorize/../../api",
        "/oidc/authorizex",
        "/oidc/authorize#fragment",
        "/oidc/authorize?a=\\b",
        "/oidc/authorize?a=b c",
        "/oidc/authorize?\n",
        "/oidc/sign-in?continue=/oidc/authorize",
        "javascript:alert(1)//oidc/authorize",
    ],
)
def test_continue_refuses_anything_else(value):
    with pytest.raises(ValidationError):
        s.ContinueQuery().load({"continue": value})


def test_the_request_a_continue_carries():
    query = {"client_id": "gjj-suzhou", "scope": "openid profile", "state": "a&b=c"}
    assert authorize_query_of(authorize_url(query)) == query
    # Unknown parameters are ignored, as OAuth 2.0 says.
    assert authorize_query_of("/oidc/authorize?client_id=x&colour=red") == {"client_id": "x"}


@pytest.mark.parametrize(
    "value", ["/oidc/authorize?client_id=a&client_id=b", "/oidc/authorize?state=%00"]
)
def test_a_tampered_continue_is_refused(value):
    with pytest.raises(Invalid):
        authorize_query_of(value)


@pytest.mark.parametrize(
    ("prompt", "left"),
    [("login", None), ("login consent", "consent"), ("consent", "consent"), (None, None)],
)
def test_after_sign_in_the_request_no_longer_asks_for_a_login(prompt, left):
    query = {"client_id": "c", "state": "s"}
    if prompt is not None:
        query["prompt"] = prompt
    again = authorize_query_of(after_sign_in(query))
    assert again.get("prompt") == left
    assert again["client_id"] == "c" and again["state"] == "s"


def test_the_discovery_document():
    issuer = issuer_of({"OIDC_ISSUER": "https://www.jszwfw.gov.cn/"})
    assert issuer == "https://www.jszwfw.gov.cn"
    document = discovery_document(issuer)
    assert identity.OpenIdConfiguration().load(document) == document
    assert document["issuer"] == issuer
    assert document["authorization_endpoint"] == issuer + "/oidc/authorize"
    assert document["token_endpoint"] == issuer + "/oidc/token"
    assert document["userinfo_endpoint"] == issuer + "/oidc/userinfo"
    assert document["end_session_endpoint"] == issuer + "/oidc/logout"
    assert document["jwks_uri"] == issuer + "/.well-known/jwks.json"
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["acr_values_supported"] == ["urn:tongban:loa:1", "urn:tongban:loa:2"]
    assert set(document["scopes_supported"]) == {
        "openid",
        "profile",
        "phone",
        "enterprise",
        "agent",
        "staff",
        "offline_access",
    }
    assert document["token_endpoint_auth_methods_supported"] == [
        "client_secret_basic",
        "private_key_jwt",
        "none",
    ]
    assert document["backchannel_logout_supported"] is True
    assert document["frontchannel_logout_supported"] is False
    assert issuer_of({}) == "http://127.0.0.1:8000"


@pytest.mark.parametrize(
    ("given", "phone"),
    [("13900000001", "13900000001"), ("+86 139-0000-0001", "13900000001"), ("139 ", "139")],
)
def test_phones_as_people_type_them(given, phone):
    assert normalised_phone(given) == phone


def request() -> Request:
    return Request(EnvironBuilder(method="POST", path="/oidc/token").get_environ())


@pytest.mark.parametrize(
    ("exc", "status", "error"),
    [
        (Invalid("invalid form", {"code": "give this field once"}), 400, "invalid_request"),
        (BadForm("the body must be a form"), 400, "invalid_request"),
        (RateLimited("slow down", retry_after=2), 429, "rate_limited"),
        (Unavailable("identity is down"), 503, "temporarily_unavailable"),
        (RuntimeError("a secret"), 500, "server_error"),
    ],
)
def test_the_token_endpoint_answers_every_error_as_oauth(exc, status, error):
    response = TOKEN_ERRORS.response(error_answer(exc), request())
    assert response.status_code == status
    body = json.loads(response.get_data())
    assert set(body) == {"error", "error_description"} and body["error"] == error
    assert "secret" not in body["error_description"]
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"
    identity.OAuthError().load(body)


# -- the OpenAPI document of the new routes ---------------------------------------


@pytest.fixture(scope="module")
def document():
    return build_document(GatewayService)


def test_the_new_routes_are_documented(document):
    paths = document["paths"]
    expected = {
        ("/.well-known/openid-configuration", "get"),
        ("/oidc/authorize", "get"),
        ("/oidc/sign-in", "get"),
        ("/oidc/sign-in", "post"),
        ("/oidc/consent", "get"),
        ("/oidc/consent", "post"),
        ("/oidc/token", "post"),
        ("/oidc/userinfo", "get"),
        ("/oidc/userinfo", "post"),
        ("/oidc/logout", "get"),
        ("/oidc/logout", "post"),
        ("/api/v1/admin/oidc-clients", "get"),
        ("/api/v1/admin/oidc-clients", "post"),
        ("/api/v1/admin/oidc-clients/{client_id}", "get"),
        ("/api/v1/admin/oidc-clients/{client_id}", "put"),
        ("/api/v1/admin/oidc-clients/{client_id}", "delete"),
        ("/api/v1/admin/oidc-clients/{client_id}/secret", "post"),
    }
    assert expected <= {(path, method) for path in paths for method in paths[path]}


def test_forms_are_documented_as_forms(document):
    for path in ("/oidc/sign-in", "/oidc/consent", "/oidc/token", "/oidc/logout"):
        body = document["paths"][path]["post"]["requestBody"]
        assert list(body["content"]) == ["application/x-www-form-urlencoded"], path
    schemas = document["components"]["schemas"]
    assert {"csrf", "continue", "phone", "password"} <= set(schemas["SignInForm"]["required"])
    assert schemas["ConsentForm"]["properties"]["decision"]["enum"] == ["allow", "deny"]


def test_pages_and_redirects_are_documented_as_they_answer(document):
    paths = document["paths"]
    authorize = paths["/oidc/authorize"]["get"]["responses"]
    assert authorize["302"]["headers"]["Location"] and "content" not in authorize["302"]
    assert "422" not in authorize and list(authorize["400"]["content"]) == ["text/html"]
    sign_in = paths["/oidc/sign-in"]
    assert list(sign_in["get"]["responses"]["200"]["content"]) == ["text/html"]
    assert "Location" in sign_in["post"]["responses"]["303"]["headers"]
    assert list(sign_in["post"]["responses"]["401"]["content"]) == ["text/html"]
    assert "429" in sign_in["post"]["responses"]
    logout = paths["/oidc/logout"]
    assert "Location" in logout["get"]["responses"]["302"]["headers"]
    assert "Location" in logout["post"]["responses"]["303"]["headers"]
    for operation in (sign_in["get"], sign_in["post"], logout["get"], logout["post"]):
        for status, answer in operation["responses"].items():
            if status not in ("302", "303"):
                assert list(answer["content"]) == ["text/html"], status


def test_the_token_endpoint_is_documented_with_oauth_errors(document):
    token = document["paths"]["/oidc/token"]["post"]
    responses = token["responses"]
    assert responses["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TokenSuccess"
    }
    oauth = {"$ref": "#/components/schemas/OAuthError"}
    for status in ("400", "401", "429", "500", "503"):
        assert responses[status]["content"]["application/json"]["schema"] == oauth, status
    assert "422" not in responses
    assert responses["401"]["headers"]["WWW-Authenticate"]
    assert token["security"] == [{"clientSecretBasic": []}, {}]
    assert document["components"]["securitySchemes"]["clientSecretBasic"]["scheme"] == "basic"


def test_the_userinfo_and_admin_routes_are_bearer_routes(document):
    paths = document["paths"]
    for path, method in (
        ("/oidc/userinfo", "get"),
        ("/oidc/userinfo", "post"),
        ("/api/v1/admin/oidc-clients", "post"),
        ("/api/v1/admin/oidc-clients/{client_id}", "delete"),
    ):
        operation = paths[path][method]
        assert operation["security"] == [{"bearer": []}]
        assert {"401", "403"} <= set(operation["responses"])
    assert "204" in paths["/api/v1/admin/oidc-clients/{client_id}"]["delete"]["responses"]
    assert "201" in paths["/api/v1/admin/oidc-clients"]["post"]["responses"]


def test_the_json_routes_keep_their_json_errors(document):
    login = document["paths"]["/api/v1/auth/login"]["post"]["responses"]
    assert login["400"]["description"] == "Malformed JSON (code bad_json)"
    assert login["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }


def test_the_discovery_document_matches_its_documented_schema(document):
    schema = {
        "$ref": "#/components/schemas/OpenIdConfiguration",
        "components": document["components"],
    }
    validator = jsonschema_rs.Draft202012Validator(schema)
    answer = discovery_document("http://127.0.0.1:8000")
    assert not [error.message for error in validator.iter_errors(answer)]
