"""What every route shares: ids, JSON errors, tokens, guards, ops endpoints."""

import pytest

from services.common.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    Unauthorized,
    Unavailable,
)
from services.common.rpc import Timeout


def error_of(response) -> dict:
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body["error"]) == {"code", "message", "fields"}
    return body["error"]


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (Invalid("bad", {"name": "does not match"}), 422, "invalid"),
        (NotFound("no such licence"), 404, "not_found"),
        (Unauthorized("no"), 401, "unauthorized"),
        (Forbidden("no"), 403, "forbidden"),
        (Conflict("state"), 409, "conflict"),
        (Unavailable("down"), 503, "unavailable"),
        (Timeout("slow"), 504, "timeout"),
        (RuntimeError("boom with a secret"), 500, "internal"),
    ],
)
def test_service_errors_map_to_statuses(gateway, exc, status, code):
    gateway.rpc.answers[("workflow", "verify_licence")] = exc
    response = gateway.request("GET", "/api/v1/licences/JS32000020261125000001/verify")
    assert response.status_code == status
    error = error_of(response)
    assert error["code"] == code
    assert "secret" not in error["message"]
    if code == "invalid":
        assert error["fields"] == {"name": "does not match"}


def test_request_id_is_echoed_or_made(gateway):
    given = gateway.request("GET", "/healthz", headers={"X-Request-Id": "abc-123"})
    assert given.headers["X-Request-Id"] == "abc-123"
    made = gateway.request("GET", "/healthz")
    assert len(made.headers["X-Request-Id"]) >= 16


def test_request_id_reaches_the_rpc_call(gateway):
    gateway.request(
        "GET", "/api/v1/licences/JS32000020261125000009/verify", headers={"X-Request-Id": "cid-42"}
    )
    assert gateway.rpc.calls_to("workflow", "verify_licence")[-1] == {
        "licence_no": "JS32000020261125000009",
        "correlation_id": "cid-42",
    }


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"text"', b"\xff\xfe"])
def test_malformed_or_non_object_json_is_400(gateway, body):
    response = gateway.request("POST", "/api/v1/auth/login", data=body)
    assert response.status_code == 400
    assert error_of(response)["code"] == "bad_json"
    assert gateway.rpc.calls_to("identity", "login") == []


def test_unknown_fields_are_422_naming_them(gateway):
    body = {"phone": "13800000000", "password": "abcd1234", "is_admin": True}
    response = gateway.request("POST", "/api/v1/auth/login", json=body)
    assert response.status_code == 422
    assert "is_admin" in error_of(response)["fields"]


def test_unknown_route_and_wrong_method_are_json(gateway):
    missing = gateway.request("GET", "/api/v1/nothing-here")
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"
    wrong = gateway.request("DELETE", "/api/v1/regions")
    assert wrong.status_code == 405 and error_of(wrong)["code"] == "method_not_allowed"
    assert "GET" in wrong.headers["Allow"]


def test_body_too_large_is_413(gateway):
    response = gateway.request("POST", "/api/v1/auth/login", data=b"x" * (1024 * 1024 + 1))
    assert response.status_code == 413


# --------------------------------------------------------------------- tokens


def test_no_token_is_401(gateway):
    response = gateway.request("GET", "/api/v1/me")
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "make_token",
    [
        lambda signer: "not-a-jwt",
        lambda signer: signer.token(expires_in=-120),
        lambda signer: signer.token(aud="someone-else"),
        lambda signer: signer.token(iss="someone-else"),
        lambda signer: signer.token()[:-4] + "AAAA",
    ],
    ids=["garbage", "expired", "audience", "issuer", "signature"],
)
def test_bad_tokens_are_401(gateway, make_token):
    response = gateway.request("GET", "/api/v1/me", token=make_token(gateway.signer))
    assert response.status_code == 401
    assert gateway.rpc.calls_to("identity", "get_profile") == []


def test_a_token_from_another_key_is_401_and_refetches_at_most_once(gateway):
    from gateway.tests.conftest import Signer

    stranger = Signer(kid="other-key")
    jwks_fetches = len(gateway.rpc.calls_to("identity", "jwks"))
    for _ in range(3):
        response = gateway.request("GET", "/api/v1/me", token=stranger.token())
        assert response.status_code == 401
    # Fetched once at start; an unknown kid within 10 s of that does not refetch.
    assert len(gateway.rpc.calls_to("identity", "jwks")) == jwks_fetches


def test_a_new_key_is_picked_up_after_a_rotation(start_gateway, fake_rpc):
    from gateway.tests.conftest import Signer

    gateway = start_gateway(JWKS_MIN_REFETCH_SECONDS=0)
    rotated = Signer(kid="rotated-key")
    fake_rpc.answers[("identity", "jwks")] = rotated.jwks
    fake_rpc.answers[("identity", "get_profile")] = {"user_id": "u-1", "kind": "citizen"}
    response = gateway.request("GET", "/api/v1/me", token=rotated.token())
    assert response.status_code == 200, response.text


def test_valid_token_gives_the_actor_to_the_service(gateway):
    gateway.rpc.answers[("identity", "register_enterprise")] = {"enterprise_id": "e-1"}
    token = gateway.token(sub="u-7")
    body = {
        "name": "南京某某科技有限公司",
        "uscc": "91320100MA1XXXXX0A",
        "legal_representative": "张三",
    }
    response = gateway.request("POST", "/api/v1/enterprises", token=token, json=body)
    assert response.status_code == 201, response.text
    call = gateway.rpc.calls_to("identity", "register_enterprise")[-1]
    assert call["actor"] == {
        "user_id": "u-7",
        "kind": "citizen",
        "roles": [],
        "department_code": None,
        "name": "张三",
        "level": 2,
    }
    assert call["uscc"] == body["uscc"]


def test_logout_uses_the_session_id(gateway):
    response = gateway.request("POST", "/api/v1/auth/logout", token=gateway.token(sid="s-77"))
    assert response.status_code == 204
    assert gateway.rpc.calls_to("identity", "logout")[-1]["session_id"] == "s-77"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/worklist", None),
        ("GET", "/api/v1/escalations", None),
        ("POST", "/api/v1/applications/a-1/actions", {"action": "approve"}),
        ("GET", "/api/v1/rectifications", None),
        ("POST", "/api/v1/rectifications/r-1/resolve", {"comment": "fixed"}),
        ("POST", "/api/v1/items", {}),
        ("PUT", "/api/v1/items/i-1", {}),
        ("POST", "/api/v1/items/i-1/publish", None),
        ("POST", "/api/v1/items/i-1/retire", None),
        ("POST", "/api/v1/admin/staff", {}),
    ],
)
def test_citizens_are_refused_staff_routes(gateway, method, path, body):
    response = gateway.request(method, path, token=gateway.token(kind="citizen"), json=body)
    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"
    assert gateway.rpc.request_calls == []


def test_only_operators_create_staff(gateway):
    body = {
        "phone": "13900000000",
        "password": "abcd1234",
        "name": "李四",
        "department_code": "js-gat",
        "roles": ["approver"],
    }
    staff = gateway.token(kind="staff", roles=["dept_admin"], dept="js-gat")
    assert gateway.request("POST", "/api/v1/admin/staff", token=staff, json=body).status_code == 403
    gateway.rpc.answers[("identity", "create_staff")] = {"user_id": "u-9"}
    operator = gateway.token(kind="operator")
    response = gateway.request("POST", "/api/v1/admin/staff", token=operator, json=body)
    assert response.status_code == 201 and response.json() == {"user_id": "u-9"}


def test_actions_need_a_case_role(gateway):
    admin = gateway.token(kind="staff", roles=["dept_admin"], dept="js-gat")
    body = {"action": "approve", "comment": "ok"}
    path = "/api/v1/applications/a-1/actions"
    assert gateway.request("POST", path, token=admin, json=body).status_code == 403
    gateway.rpc.answers[("workflow", "act")] = {"application_id": "a-1", "state": "approved"}
    approver = gateway.token(kind="staff", roles=["approver"], dept="js-gat")
    response = gateway.request("POST", path, token=approver, json=body)
    assert response.status_code == 200
    assert response.json() == {"application_id": "a-1", "state": "approved"}


# --------------------------------------------------------------------- ops


def test_healthz_readyz_metrics(gateway):
    assert gateway.request("GET", "/healthz").json() == {"status": "ok", "service": "gateway"}
    ready = gateway.request("GET", "/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {
        "jwks": "ok",
        "revoked_sessions": "ok",
        "locked_accounts": "ok",
        "broker": "ok",
    }
    gateway.request("GET", "/api/v1/regions")
    metrics = gateway.request("GET", "/metrics").text
    assert 'tongban_gateway_requests_total{method="GET",route="/api/v1/regions",status="200"}' in (
        metrics
    )
    assert "tongban_gateway_request_seconds_bucket" in metrics


def test_readyz_is_503_until_the_jwks_is_loaded(start_gateway, fake_rpc):
    fake_rpc.answers[("identity", "jwks")] = Unavailable("identity is not running")
    gateway = start_gateway()
    response = gateway.request("GET", "/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["jwks"] == "not loaded"
    assert gateway.request("GET", "/.well-known/jwks.json").status_code == 503
    assert gateway.request("GET", "/api/v1/me", token=gateway.token()).status_code == 503


def test_jwks_is_served_from_the_cached_copy(gateway):
    fetches = len(gateway.rpc.calls_to("identity", "jwks"))
    response = gateway.request("GET", "/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.json()["keys"][0]["kid"] == gateway.signer.kid
    assert len(gateway.rpc.calls_to("identity", "jwks")) == fetches


def test_openapi_and_docs(gateway):
    document = gateway.request("GET", "/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/applications/{application_id}/review" in document["paths"]
    docs = gateway.request("GET", "/docs")
    assert docs.headers["Content-Type"].startswith("text/html")
    assert "/api/v1/items/{item_id}" in docs.text and "redoc" in docs.text


def test_auth_routes_are_rate_limited(start_gateway, fake_rpc):
    gateway = start_gateway(AUTH_RATE_PER_SECOND=0.01, AUTH_RATE_BURST=2)
    fake_rpc.answers[("identity", "login")] = Unauthorized("wrong phone or password")
    body = {"phone": "13800000000", "password": "wrong-password"}
    statuses = [gateway.request("POST", "/api/v1/auth/login", json=body) for _ in range(3)]
    assert [r.status_code for r in statuses] == [401, 401, 429]
    assert error_of(statuses[-1])["code"] == "rate_limited"
    assert int(statuses[-1].headers["Retry-After"]) >= 1
