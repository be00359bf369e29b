"""The OpenID Connect routes through HTTP, with identity's answers faked."""

from urllib.parse import parse_qs, urlsplit

import pytest

from gateway.oidc import authorize_url
from services.common.errors import Unauthorized

CLIENT = {
    "client_id": "gjj-suzhou",
    "name": "苏州市住房公积金管理中心",
    "department_code": "sz-gjj",
}
QUERY = {
    "client_id": "gjj-suzhou",
    "redirect_uri": "http://127.0.0.1:8600/callback",
    "response_type": "code",
    "scope": "openid profile",
    "state": "st-1",
    "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    "code_challenge_method": "S256",
}
CONTINUE = authorize_url(QUERY)
CSRF = "k" * 43
SSO = "browser-session-secret"


def outcome(kind: str, **values) -> dict:
    answer = {
        "outcome": kind,
        "location": None,
        "error": None,
        "error_description": None,
        "client": None,
        "scopes": None,
        "user_name": None,
    }
    return {**answer, **values}


def get(gateway, path, **kwargs):
    # Each request carries the cookies it names, not those of an earlier answer.
    gateway.http.cookies.clear()
    return gateway.request("GET", path, allow_redirects=False, **kwargs)


def post(gateway, path, data, cookies=None, **kwargs):
    gateway.http.cookies.clear()
    return gateway.request(
        "POST", path, data=data, cookies=cookies or {}, allow_redirects=False, **kwargs
    )


def assert_page(response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    return response.text


def test_discovery_comes_from_the_configuration(start_gateway):
    gateway = start_gateway(OIDC_ISSUER="https://www.jszwfw.gov.cn")
    response = get(gateway, "/.well-known/openid-configuration")
    assert response.status_code == 200
    document = response.json()
    assert document["issuer"] == "https://www.jszwfw.gov.cn"
    assert document["token_endpoint"] == "https://www.jszwfw.gov.cn/oidc/token"
    assert gateway.rpc.request_calls == []


def test_authorize_redirects_as_identity_says(gateway):
    location = "http://127.0.0.1:8600/callback?code=c1&state=st-1&iss=x"
    gateway.rpc.answers[("identity", "oidc_authorize")] = outcome("redirect", location=location)
    response = get(gateway, "/oidc/authorize", params=QUERY, cookies={"tongban_sso": SSO})
    assert response.status_code == 302
    assert response.headers["Location"] == location
    [call] = gateway.rpc.calls_to("identity", "oidc_authorize")
    assert call["query"] == QUERY and call["browser_session"] == SSO


def test_authorize_sends_the_browser_to_sign_in_and_consent(gateway):
    for kind, page in (("sign_in", "/oidc/sign-in"), ("consent", "/oidc/consent")):
        gateway.rpc.answers[("identity", "oidc_authorize")] = outcome(kind, client=CLIENT)
        response = get(gateway, "/oidc/authorize", params=dict(QUERY, colour="red"))
        assert response.status_code == 302
        target = urlsplit(response.headers["Location"])
        assert target.path == page
        assert parse_qs(target.query) == {"continue": [CONTINUE]}


def test_a_request_that_cannot_go_back_to_the_client_is_a_page(gateway):
    gateway.rpc.answers[("identity", "oidc_authorize")] = outcome(
        "error", error="invalid_request", error_description="redirect_uri is not registered"
    )
    response = get(gateway, "/oidc/authorize", params=QUERY)
    text = assert_page(response, 400)
    assert "redirect_uri is not registered" in text and "Location" not in response.headers


def test_the_sign_in_page_sets_the_csrf_cookie_its_form_repeats(gateway):
    gateway.rpc.answers[("identity", "oidc_authorize")] = outcome("sign_in", client=CLIENT)
    response = get(gateway, "/oidc/sign-in", params={"continue": CONTINUE})
    text = assert_page(response, 200)
    assert "苏州市住房公积金管理中心 请求使用您的政务服务网账号登录" in text
    cookie = response.headers["Set-Cookie"]
    assert "tongban_csrf=" in cookie and "SameSite=Strict" in cookie and "Path=/oidc" in cookie
    value = response.cookies["tongban_csrf"]
    assert f'name="csrf" value="{value}"' in text
    assert (
        "form-action 'self' http://127.0.0.1:8600;" in response.headers["Content-Security-Policy"]
    )
    # The browser's own value is kept: a second tab's form stays good.
    again = get(
        gateway, "/oidc/sign-in", params={"continue": CONTINUE}, cookies={"tongban_csrf": CSRF}
    )
    assert "Set-Cookie" not in again.headers and f'value="{CSRF}"' in again.text


@pytest.mark.parametrize(
    "value", ["https://evil.example/", "//evil.example/oidc/authorize", "/api/v1/me", ""]
)
def test_the_sign_in_page_goes_on_to_the_authorization_endpoint_only(gateway, value):
    response = get(gateway, "/oidc/sign-in", params={"continue": value})
    assert "请求无效" in assert_page(response, 400)
    assert gateway.rpc.request_calls == []


def sign_in_form(**overrides) -> dict:
    return {
        "csrf": CSRF,
        "continue": CONTINUE,
        "phone": "13900000001",
        "password": "Citizen2026",
        **overrides,
    }


@pytest.mark.parametrize(
    ("cookies", "form"),
    [
        ({}, sign_in_form()),
        ({"tongban_csrf": CSRF}, sign_in_form(csrf="x" * 43)),
        ({"tongban_csrf": CSRF}, {k: v for k, v in sign_in_form().items() if k != "csrf"}),
    ],
)
def test_a_post_without_the_csrf_value_does_nothing(gateway, cookies, form):
    response = post(gateway, "/oidc/sign-in", form, cookies=cookies)
    assert "表单已失效，请重新打开页面" in assert_page(response, 400)
    assert gateway.rpc.request_calls == []
    response = post(gateway, "/oidc/consent", {**form, "decision": "allow"}, cookies=cookies)
    assert "表单已失效" in assert_page(response, 400)
    assert gateway.rpc.request_calls == []


def test_signing_in_sets_the_browser_session_and_goes_on(gateway):
    gateway.rpc.answers[("identity", "oidc_sign_in")] = {
        "browser_session": SSO,
        "expires_in": 28800,
        "user_id": "u-1",
    }
    login_again = authorize_url(dict(QUERY, prompt="login consent"))
    response = post(
        gateway,
        "/oidc/sign-in",
        sign_in_form(phone="+86 139 0000 0001", **{"continue": login_again}),
        cookies={"tongban_csrf": CSRF},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == authorize_url(dict(QUERY, prompt="consent"))
    cookie = response.headers["Set-Cookie"]
    for attribute in (f"tongban_sso={SSO}", "HttpOnly", "SameSite=Lax", "Path=/oidc"):
        assert attribute in cookie
    assert "Max-Age=28800" in cookie and "Secure" not in cookie
    [call] = gateway.rpc.calls_to("identity", "oidc_sign_in")
    assert call["phone"] == "13900000001" and call["password"] == "Citizen2026"
    assert call["client_address"] == "127.0.0.1"


def test_a_wrong_password_shows_the_form_again(gateway):
    gateway.rpc.answers[("identity", "oidc_sign_in")] = Unauthorized("wrong phone or password")
    gateway.rpc.answers[("identity", "oidc_authorize")] = outcome("sign_in", client=CLIENT)
    response = post(gateway, "/oidc/sign-in", sign_in_form(), cookies={"tongban_csrf": CSRF})
    text = assert_page(response, 401)
    assert "手机号码或密码不正确" in text and 'role="alert"' in text
    assert "Retry-After" not in response.headers and "tongban_sso" not in str(response.headers)


def test_a_locked_sign_in_says_how_long(gateway):
    gateway.rpc.answers[("identity", "oidc_sign_in")] = Unauthorized(
        "wrong phone or password", {"retry_after": "120"}
    )
    gateway.rpc.answers[("identity", "oidc_authorize")] = outcome("sign_in", client=CLIENT)
    response = post(gateway, "/oidc/sign-in", sign_in_form(), cookies={"tongban_csrf": CSRF})
    text = assert_page(response, 401)
    assert response.headers["Retry-After"] == "120"
    assert "2 分钟" in text


def test_a_malformed_phone_is_asked_again_before_identity_hears_of_it(gateway):
    gateway.rpc.answers[("identity", "oidc_authorize")] = outcome("sign_in", client=CLIENT)
    response = post(
        gateway, "/oidc/sign-in", sign_in_form(phone="12345"), cookies={"tongban_csrf": CSRF}
    )
    assert "请输入 11 位手机号码" in assert_page(response, 400)
    assert gateway.rpc.calls_to("identity", "oidc_sign_in") == []


def test_the_consent_page_and_its_answer(gateway):
    gateway.rpc.answers[("catalog", "list_departments")] = {
        "items": [{"code": "sz-gjj", "name": "苏州市住房公积金管理中心"}]
    }
    client = dict(CLIENT, name="苏州公积金网上服务大厅")
    gateway.rpc.answers[("identity", "oidc_authorize")] = outcome(
        "consent", client=client, scopes=["openid", "profile", "phone"], user_name="张三"
    )
    page = get(
        gateway, "/oidc/consent", params={"continue": CONTINUE}, cookies={"tongban_sso": SSO}
    )
    text = assert_page(page, 200)
    assert "基本信息（姓名）" in text and "手机号码" in text and "张三" in text
    assert "苏州公积金网上服务大厅（苏州市住房公积金管理中心）请求获取您的以下信息" in text
    location = "http://127.0.0.1:8600/callback?error=access_denied&state=st-1"
    gateway.rpc.answers[("identity", "oidc_consent")] = outcome("redirect", location=location)
    response = post(
        gateway,
        "/oidc/consent",
        {"csrf": CSRF, "continue": CONTINUE, "decision": "deny"},
        cookies={"tongban_csrf": CSRF, "tongban_sso": SSO},
    )
    assert response.status_code == 303 and response.headers["Location"] == location
    [call] = gateway.rpc.calls_to("identity", "oidc_consent")
    assert call["allow"] is False and call["query"] == QUERY and call["browser_session"] == SSO


def test_the_token_endpoint_forwards_the_form_and_the_client_credentials(gateway):
    gateway.rpc.answers[("identity", "oidc_token")] = {
        "status": 401,
        "body": {"error": "invalid_client", "error_description": "unknown client"},
        "headers": {"WWW-Authenticate": 'Basic realm="tongban"'},
    }
    form = {"grant_type": "authorization_code", "code": "c1", "extension": "ignored"}
    response = post(gateway, "/oidc/token", form, headers={"Authorization": "Basic Z2pqOng="})
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_client", "error_description": "unknown client"}
    assert response.headers["WWW-Authenticate"] == 'Basic realm="tongban"'
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"
    [call] = gateway.rpc.calls_to("identity", "oidc_token")
    assert call["form"] == form and call["authorization"] == "Basic Z2pqOng="


@pytest.mark.parametrize(
    ("kwargs", "described"),
    [
        ({"data": "grant_type=a&grant_type=b"}, "grant_type"),
        ({"json": {"grant_type": "authorization_code"}}, "x-www-form-urlencoded"),
        ({"data": {"code": "c1"}}, "grant_type"),
    ],
)
def test_a_bad_token_request_is_an_oauth_error(gateway, kwargs, described):
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if "data" in kwargs else {}
    response = gateway.request("POST", "/oidc/token", headers=headers, **kwargs)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_request" and described in body["error_description"]
    assert response.headers["Cache-Control"] == "no-store"
    assert gateway.rpc.calls_to("identity", "oidc_token") == []


def test_userinfo_needs_a_token_granted_openid(gateway):
    plain = gateway.token()
    response = gateway.request("GET", "/oidc/userinfo", token=plain)
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    assert gateway.request("GET", "/oidc/userinfo").status_code == 401
    gateway.rpc.answers[("identity", "oidc_userinfo")] = {"sub": "u-1", "name": "张三"}
    granted = gateway.token(scope="openid profile", client_id="gjj-suzhou")
    for method in ("GET", "POST"):
        response = gateway.request(method, "/oidc/userinfo", token=granted)
        assert response.status_code == 200 and response.json() == {"sub": "u-1", "name": "张三"}
        assert response.headers["Cache-Control"] == "no-store"
    call = gateway.rpc.calls_to("identity", "oidc_userinfo")[-1]
    assert call["user_id"] == "u-1" and call["scope"] == "openid profile"
    assert call["client_id"] == "gjj-suzhou"


def test_logout_asks_then_signs_out_and_clears_the_cookie(gateway):
    gateway.rpc.answers[("identity", "oidc_end_session")] = outcome("confirm", client=CLIENT)
    query = {"client_id": "gjj-suzhou", "post_logout_redirect_uri": "http://127.0.0.1:8600/"}
    page = get(gateway, "/oidc/logout", params=query, cookies={"tongban_sso": SSO})
    text = assert_page(page, 200)
    assert 'action="/oidc/logout"' in text and 'value="gjj-suzhou"' in text
    assert gateway.rpc.calls_to("identity", "oidc_end_session")[-1]["confirmed"] is False
    location = "http://127.0.0.1:8600/?state=s"
    gateway.rpc.answers[("identity", "oidc_end_session")] = {
        **outcome("redirect", location=location)
    }
    response = post(
        gateway,
        "/oidc/logout",
        {**query, "csrf": CSRF},
        cookies={"tongban_csrf": CSRF, "tongban_sso": SSO},
    )
    assert response.status_code == 303 and response.headers["Location"] == location
    assert "tongban_sso=;" in response.headers["Set-Cookie"]
    call = gateway.rpc.calls_to("identity", "oidc_end_session")[-1]
    assert call["confirmed"] is True and call["query"] == query and call["browser_session"] == SSO


def test_a_forged_logout_confirmation_does_nothing(gateway):
    response = post(gateway, "/oidc/logout", {"csrf": CSRF}, cookies={"tongban_sso": SSO})
    assert "表单已失效" in assert_page(response, 400)
    assert gateway.rpc.request_calls == []


def test_a_department_system_may_post_its_logout_request(gateway):
    gateway.rpc.answers[("identity", "oidc_end_session")] = outcome("signed_out")
    response = post(gateway, "/oidc/logout", {"id_token_hint": "eyJ.x.y"})
    assert "您已退出登录" in assert_page(response, 200)
    assert "tongban_sso=;" in response.headers["Set-Cookie"]
    assert gateway.rpc.calls_to("identity", "oidc_end_session")[-1]["confirmed"] is False


def test_client_admin_routes_forward_the_actor(gateway):
    admin = gateway.token(kind="staff", roles=["dept_admin"], dept="sz-gjj")
    gateway.rpc.answers[("identity", "list_oidc_clients")] = {
        "items": [],
        "page": 1,
        "page_size": 20,
        "total": 0,
    }
    response = gateway.request("GET", "/api/v1/admin/oidc-clients", token=admin)
    assert response.status_code == 200
    call = gateway.rpc.calls_to("identity", "list_oidc_clients")[-1]
    assert call["actor"]["department_code"] == "sz-gjj" and call["page"] == 1
    body = {"name": "x", "department_code": "sz-gjj", "redirect_uris": ["https://a/cb"]}
    assert (
        gateway.request("PUT", "/api/v1/admin/oidc-clients/c1", token=admin, json=body).status_code
        == 403
    )
    assert (
        gateway.request("DELETE", "/api/v1/admin/oidc-clients/c1", token=admin).status_code == 403
    )
    operator = gateway.token(kind="operator")
    response = gateway.request("DELETE", "/api/v1/admin/oidc-clients/c1", token=operator)
    assert response.status_code == 204
    assert gateway.rpc.calls_to("identity", "delete_oidc_client")[-1]["client_id"] == "c1"
