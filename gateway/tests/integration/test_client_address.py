"""The client address through a running gateway: what login tells identity,
X-Forwarded-For from trusted proxies only, the public reads' limit and a locked
sign-in's Retry-After."""

from services.common.errors import Unauthorized

CREDENTIALS = {"phone": "13800000000", "password": "Secret2026"}
PAIR = {"access_token": "a", "refresh_token": "r", "token_type": "Bearer", "expires_in": 900}
STORES = {"items": [], "page": 1, "page_size": 20, "total": 0}


def test_login_tells_identity_the_client_address(start_gateway, fake_rpc):
    gateway = start_gateway()
    fake_rpc.answers[("identity", "login")] = PAIR
    forged = {"X-Forwarded-For": "198.51.100.20"}
    assert gateway.request("POST", "/api/v1/auth/login", json=CREDENTIALS, headers=forged).ok
    [call] = fake_rpc.calls_to("identity", "login")
    call.pop("correlation_id", None)
    assert call == {**CREDENTIALS, "client_address": "127.0.0.1"}


def test_behind_a_trusted_proxy_the_forwarded_address_counts(start_gateway, fake_rpc):
    gateway = start_gateway(TRUSTED_PROXIES="127.0.0.0/8")
    fake_rpc.answers[("identity", "login")] = PAIR
    headers = {"X-Forwarded-For": "1.2.3.4, 198.51.100.20"}
    assert gateway.request("POST", "/api/v1/auth/login", json=CREDENTIALS, headers=headers).ok
    assert fake_rpc.calls_to("identity", "login")[0]["client_address"] == "198.51.100.20"


def test_a_locked_sign_in_answers_retry_after(start_gateway, fake_rpc):
    gateway = start_gateway()
    message = "phone number or password is incorrect"
    fake_rpc.answers[("identity", "login")] = Unauthorized(message, {"retry_after": "37"})
    response = gateway.request("POST", "/api/v1/auth/login", json=CREDENTIALS)
    assert response.status_code == 401
    assert response.headers["Retry-After"] == "37"
    assert response.json() == {"error": {"code": "unauthorized", "message": message, "fields": {}}}


def test_public_reads_are_limited_per_client(start_gateway, fake_rpc):
    gateway = start_gateway(PUBLIC_RATE_PER_SECOND=0.01, PUBLIC_RATE_BURST=2)
    fake_rpc.answers[("catalog", "list_stores")] = STORES
    statuses = [gateway.request("GET", "/api/v1/stores").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    limited = gateway.request("GET", "/api/v1/items/item-1")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    document = gateway.request("GET", "/openapi.json").json()["paths"]
    for path in (
        "/api/v1/items",
        "/api/v1/items/{item_id}",
        "/api/v1/stores",
        "/api/v1/licences/{licence_no}/verify",
        "/api/v1/licences/verify",
    ):
        operation = document[path].get("get") or document[path]["post"]
        assert "429" in operation["responses"], path


def test_a_public_rate_of_zero_turns_the_limit_off(start_gateway, fake_rpc):
    gateway = start_gateway(PUBLIC_RATE_PER_SECOND=0, PUBLIC_RATE_BURST=1)
    fake_rpc.answers[("catalog", "list_stores")] = STORES
    assert {gateway.request("GET", "/api/v1/stores").status_code for _ in range(5)} == {200}
