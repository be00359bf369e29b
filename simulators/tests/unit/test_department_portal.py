"""The demo department system (simulators/department_portal): its checks of
the logout and ID tokens, its session store, and its pages and back channel
through werkzeug's test client against a small provider of the test's own
(discovery, JWKS and token endpoint on a free port, no cluster)."""

import base64
import hashlib
import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.routing import Map, Rule
from werkzeug.test import Client
from werkzeug.wrappers import Request

from simulators.department_portal.__main__ import parse_args
from simulators.department_portal.app import (
    COOKIE_NAME,
    DEFAULT_CLIENT_ID,
    DEFAULT_PORT,
    PortalApp,
    PortalServer,
    client_registration,
)
from simulators.department_portal.provider import Provider
from simulators.department_portal.sessions import (
    IDLE_SECONDS,
    PENDING_SECONDS,
    AuthorizationRequest,
    SeenTokenIds,
    Sessions,
    SignedIn,
)
from simulators.department_portal.tokens import (
    BACKCHANNEL_LOGOUT_EVENT,
    InvalidToken,
    at_hash,
    verify_id_token,
    verify_logout_token,
)
from simulators.server import BackgroundServer, json_response

ISSUER = "http://127.0.0.1:8000"
CLIENT = "gjj-suzhou"
SECRET = "test-secret"  # noqa: S105
NOW = 1_800_000_000
KEY = RSAKey.generate_key(2048, parameters={"kid": "key-1"})
# Another key under the same id: a forged signature.
IMPOSTOR = RSAKey.generate_key(2048, parameters={"kid": "key-1"})
KEYS = KeySet([KEY])


def sign(claims: dict, *, key=KEY, header: dict | None = None) -> str:
    return jwt.encode({"alg": "RS256", "kid": key.kid, **(header or {})}, claims, key)


def logout_claims(**changes) -> dict:
    claims = {
        "iss": ISSUER,
        "aud": CLIENT,
        "iat": NOW,
        "exp": NOW + 120,
        "jti": "event-1",
        "sub": "u-1",
        "sid": "bs-1",
        "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def logout_token(**changes) -> str:
    return sign(logout_claims(**changes), header={"typ": "logout+jwt"})


def check_logout(token: str):
    return verify_logout_token(token, KEYS, issuer=ISSUER, client_id=CLIENT, now=lambda: NOW)


# --- the logout token (Back-Channel Logout 1.0 §2.6) -------------------------------------


def test_a_valid_logout_token_names_the_sessions_to_end():
    request = check_logout(logout_token())
    assert (request.jti, request.sub, request.sid, request.expires_at) == (
        "event-1",
        "u-1",
        "bs-1",
        NOW + 120,
    )
    assert check_logout(logout_token(sub=None)).sub is None
    assert check_logout(logout_token(sid=None)).sid is None
    assert check_logout(logout_token(aud=[CLIENT, "other"], azp=CLIENT)).sid == "bs-1"


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (sign(logout_claims(), key=IMPOSTOR, header={"typ": "logout+jwt"}), "signature"),
        (
            sign(
                logout_claims(),
                key=RSAKey.generate_key(2048, parameters={"kid": "unknown"}),
                header={"typ": "logout+jwt"},
            ),
            "key",
        ),
        (sign(logout_claims()), "typ"),
        (sign(logout_claims(), header={"typ": "JWT"}), "typ"),
        (logout_token(iss="http://elsewhere.example"), "iss"),
        (logout_token(aud="another-client"), "aud"),
        (logout_token(aud=[CLIENT, "other"]), "azp"),
        (logout_token(exp=NOW - 3600), "expired"),
        (logout_token(iat=NOW + 3600), "iat"),
        (logout_token(iat=None), "iat"),
        (logout_token(exp=None), "exp"),
        (logout_token(jti=None), "jti"),
        (logout_token(jti=""), "jti"),
        (logout_token(sub=None, sid=None), "sub nor sid"),
        (logout_token(sid=7), "sid"),
        (logout_token(events=None), "events"),
        (logout_token(events={"http://example.com/other-event": {}}), "events"),
        (logout_token(events={BACKCHANNEL_LOGOUT_EVENT: "yes"}), "events"),
        (logout_token(nonce="n-1"), "nonce"),
        ("not.a.token", "JWT"),
        ("", "JWT"),
    ],
)
def test_a_logout_token_that_does_not_verify_is_refused(token, reason):
    with pytest.raises(InvalidToken, match=reason):
        check_logout(token)


def test_a_logout_token_signed_another_way_than_rs256_is_refused():
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"logout+jwt","kid":"key-1"}')
    payload = base64.urlsafe_b64encode(json.dumps(logout_claims()).encode())
    with pytest.raises(InvalidToken, match="alg"):
        check_logout(f"{header.decode().rstrip('=')}.{payload.decode().rstrip('=')}.")


# --- the ID token (Core 1.0 §3.1.3.7) -------------------------------------------------------


def id_token(**changes) -> str:
    claims = {
        "iss": ISSUER,
        "sub": "u-1",
        "aud": CLIENT,
        "exp": NOW + 600,
        "iat": NOW,
        "nonce": "n-1",
        "sid": "bs-1",
        "name": "张三",
        "at_hash": at_hash("access-1"),
    }
    claims.update(changes)
    return sign({name: value for name, value in claims.items() if value is not None})


def check_id_token(token: str, nonce: str = "n-1", access_token: str = "access-1") -> dict:
    return verify_id_token(
        token,
        KEYS,
        issuer=ISSUER,
        client_id=CLIENT,
        nonce=nonce,
        access_token=access_token,
        now=lambda: NOW,
    )


def test_a_valid_id_token_gives_its_claims():
    assert check_id_token(id_token())["name"] == "张三"


@pytest.mark.parametrize(
    ("token", "nonce", "reason"),
    [
        (id_token(), "another-sign-in", "nonce"),
        (id_token(nonce=None), "n-1", "nonce"),
        (id_token(aud="another-client"), "n-1", "aud"),
        (id_token(iss="http://elsewhere.example"), "n-1", "iss"),
        (id_token(exp=NOW - 3600), "n-1", "expired"),
        (id_token(at_hash=at_hash("another-access-token")), "n-1", "at_hash"),
        (id_token(sub=None), "n-1", "sub"),
    ],
)
def test_an_id_token_that_does_not_verify_is_refused(token, nonce, reason):
    with pytest.raises(InvalidToken, match=reason):
        check_id_token(token, nonce)


def test_at_hash_is_the_left_half_of_the_sha256_in_base64url():
    digest = hashlib.sha256(b"access-1").digest()[:16]
    assert at_hash("access-1") == base64.urlsafe_b64encode(digest).decode().rstrip("=")


# --- the session store ----------------------------------------------------------------------


class Clock:
    def __init__(self):
        self.now = float(NOW)

    def __call__(self):
        return self.now


def pending(state: str = "s-1", started_at: float = NOW) -> AuthorizationRequest:
    return AuthorizationRequest(state, "n-1", "v" * 43, started_at)


def signed_in(sub: str = "u-1", sid: str = "bs-1") -> SignedIn:
    return SignedIn(sub, sid, "张三", "urn:tongban:loa:1", None, "id-token", NOW)


def test_a_sign_in_state_is_good_once_in_its_own_session_and_not_for_long():
    clock = Clock()
    sessions = Sessions(clock=clock)
    key = sessions.start_sign_in(None, pending("s-1"))
    assert sessions.take_sign_in("another-browser", "s-1") is None
    assert sessions.take_sign_in(key, "s-1") == pending("s-1")
    assert sessions.take_sign_in(key, "s-1") is None
    assert sessions.start_sign_in(key, pending("s-2")) == key
    clock.now += PENDING_SECONDS + 1
    assert sessions.take_sign_in(key, "s-2") is None


def test_signing_in_gives_the_session_a_new_key():
    sessions = Sessions(clock=Clock())
    key = sessions.start_sign_in(None, pending())
    new_key = sessions.sign_in(key, signed_in())
    assert new_key != key
    assert sessions.get(key) is None
    assert sessions.get(new_key).user == signed_in()
    assert sessions.signed_in() == [signed_in()]
    assert sessions.sign_out(new_key, logout_state="st") == signed_in()
    assert sessions.get(new_key).user is None and sessions.get(new_key).logout_state == "st"
    assert sessions.signed_in() == []


def test_a_back_channel_logout_ends_the_sessions_of_its_sid_or_its_subject():
    sessions = Sessions(clock=Clock())
    keys = {
        name: sessions.sign_in(sessions.start_sign_in(None, pending()), signed_in(sub, sid))
        for name, sub, sid in [
            ("first", "u-1", "bs-1"),
            ("same-browser", "u-1", "bs-1"),
            ("other-browser", "u-1", "bs-2"),
            ("other-person", "u-2", "bs-3"),
        ]
    }
    assert sessions.end(sub=None, sid=None) == 0
    assert sessions.end(sub="u-2", sid="bs-1") == 0
    assert sessions.end(sub="u-1", sid="bs-1") == 2
    assert sessions.get(keys["first"]).user is None
    assert sessions.get(keys["other-browser"]).user is not None
    assert sessions.end(sub="u-1", sid=None) == 1
    assert [user.sub for user in sessions.signed_in()] == ["u-2"]
    assert sessions.end(sub=None, sid="bs-3") == 1
    assert sessions.signed_in() == []


def test_idle_sessions_end_and_the_least_recently_used_go_beyond_capacity():
    clock = Clock()
    sessions = Sessions(capacity=2, clock=clock)
    first = sessions.sign_in("x", signed_in("u-1"))
    second = sessions.sign_in("y", signed_in("u-2"))
    assert sessions.get(first) is not None  # now the most recently used
    sessions.sign_in("z", signed_in("u-3"))
    assert sessions.get(second) is None and sessions.get(first) is not None
    clock.now += IDLE_SECONDS + 1
    assert sessions.get(first) is None and sessions.signed_in() == []
    with pytest.raises(ValueError):
        Sessions(capacity=0)


def test_a_logout_token_id_is_taken_once_until_it_expires():
    clock = Clock()
    seen = SeenTokenIds(clock=clock)
    assert seen.first_time("event-1", NOW + 120)
    assert not seen.first_time("event-1", NOW + 120)
    assert seen.first_time("event-2", NOW + 120)
    clock.now += 121
    assert seen.first_time("event-1", NOW + 300)


# --- the pages and the back channel, against a provider of the test's own ---------------


class StubProvider:
    """Discovery, JWKS and a token endpoint that checks the client's secret,
    the code, the redirect URI and the PKCE verifier; ``authorize`` does what
    a signed-in person's consent does: a code for the request's parameters."""

    url_map = Map(
        [
            Rule("/.well-known/openid-configuration", endpoint="discovery"),
            Rule("/.well-known/jwks.json", endpoint="jwks"),
            Rule("/oidc/token", endpoint="token", methods=["POST"]),
        ]
    )

    def __init__(self):
        self.issuer = ""
        self.codes = {}
        self.token_requests = []

    def __call__(self, environ, start_response):
        request = Request(environ)
        endpoint, _ = self.url_map.bind_to_environ(environ).match()
        return getattr(self, endpoint)(request)(environ, start_response)

    def discovery(self, request):
        return json_response(
            {
                "issuer": self.issuer,
                "authorization_endpoint": self.issuer + "/oidc/authorize",
                "token_endpoint": self.issuer + "/oidc/token",
                "jwks_uri": self.issuer + "/.well-known/jwks.json",
                "end_session_endpoint": self.issuer + "/oidc/logout",
                "authorization_response_iss_parameter_supported": True,
            }
        )

    def jwks(self, request):
        return json_response(KEYS.as_dict(private=False))

    def authorize(self, query: dict, sub: str = "u-1", sid: str = "bs-1") -> str:
        code = f"code-{len(self.codes)}"
        self.codes[code] = (query, sub, sid)
        return code

    def token(self, request):
        self.token_requests.append(request.form.to_dict())
        expected = base64.b64encode(f"{CLIENT}:{SECRET}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            return json_response({"error": "invalid_client"}, 401)
        query, sub, sid = self.codes.pop(request.form.get("code"), ({}, None, None))
        verifier = request.form.get("code_verifier", "").encode()
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
        if (
            not query
            or challenge.decode() != query["code_challenge"]
            or request.form.get("redirect_uri") != query["redirect_uri"]
        ):
            return json_response({"error": "invalid_grant"}, 400)
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": sub,
            "aud": CLIENT,
            "iat": now,
            "exp": now + 600,
            "nonce": query["nonce"],
            "sid": sid,
            "acr": "urn:tongban:loa:2",
            "name": "张<三>",
            "phone_number": "+8613900000001",
            "at_hash": at_hash("access-1"),
        }
        return json_response(
            {
                "access_token": "access-1",
                "token_type": "Bearer",
                "expires_in": 600,
                "id_token": sign(claims),
            }
        )

    def logout_token(self, **changes) -> str:
        now = int(time.time())
        return logout_token(iss=self.issuer, iat=now, exp=now + 120, **changes)


@pytest.fixture(scope="module")
def provider():
    provider = StubProvider()
    with BackgroundServer("127.0.0.1", 0, provider, name="test-provider") as server:
        provider.issuer = server.url
        yield provider


@pytest.fixture
def portal(provider):
    relying_party = Provider(
        provider.issuer, CLIENT, SECRET, "http://127.0.0.1:8600/callback", scope="openid profile"
    )
    return PortalApp(relying_party, "http://127.0.0.1:8600")


@pytest.fixture
def browser(portal):
    return Client(portal)


def query_of(location: str) -> dict:
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def sign_in(browser, provider, sub="u-1", sid="bs-1"):
    """/login, the provider's consent, then /callback; the callback's answer."""
    started = browser.get("/login")
    assert started.status_code == 302
    query = query_of(started.headers["Location"])
    code = provider.authorize(query, sub, sid)
    return browser.get(
        "/callback", query_string={"code": code, "state": query["state"], "iss": provider.issuer}
    )


def cookie_of(browser):
    return browser.get_cookie(COOKIE_NAME).value


def test_the_home_page_offers_the_sign_in_in_plain_accessible_chinese(browser):
    response = browser.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html and "<script" not in html
    assert '<a class="action" href="/login">用江苏政务服务网账号登录</a>' in html
    assert "苏州市住房公积金管理中心 网上服务大厅" in html
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert browser.get("/nowhere").status_code == 404


def test_sign_in_sends_the_browser_to_tongban_with_pkce_state_and_nonce(browser, provider):
    response = browser.get("/login")
    location = response.headers["Location"]
    assert location.startswith(provider.issuer + "/oidc/authorize?")
    query = query_of(location)
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT
    assert query["redirect_uri"] == "http://127.0.0.1:8600/callback"
    assert query["scope"] == "openid profile"
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 32 and len(query["nonce"]) >= 32
    cookie = browser.get_cookie(COOKIE_NAME)
    assert cookie.http_only and cookie.same_site == "Lax"


def test_a_completed_sign_in_shows_who_is_signed_in(browser, provider):
    browser.get("/login")
    first_cookie = cookie_of(browser)
    response = sign_in(browser, provider)
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert cookie_of(browser) != first_cookie
    html = browser.get("/").get_data(as_text=True)
    assert "您好，张&lt;三&gt;" in html
    assert "已实名认证" in html and "+8613900000001" in html
    assert '<form method="post" action="/logout">' in html
    request = provider.token_requests[-1]
    assert request["grant_type"] == "authorization_code" and len(request["code_verifier"]) >= 43
    sessions = browser.get("/api/sessions").get_json()["sessions"]
    assert [(s["sub"], s["sid"], s["name"]) for s in sessions] == [("u-1", "bs-1", "张<三>")]


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"state": "forged"}, "登录请求已失效"),
        ({"iss": "http://elsewhere.example"}, "不是来自政务服务网"),
        ({"code": "unknown-code"}, "没有确认本次登录"),
        ({"code": None, "error": "access_denied"}, "您没有同意授权"),
    ],
)
def test_a_callback_that_does_not_check_out_signs_nobody_in(browser, provider, changes, words):
    query = query_of(browser.get("/login").headers["Location"])
    answer = {
        "code": provider.authorize(query),
        "state": query["state"],
        "iss": provider.issuer,
        **changes,
    }
    response = browser.get(
        "/callback", query_string={k: v for k, v in answer.items() if v is not None}
    )
    assert response.status_code == 400
    assert words in response.get_data(as_text=True)
    assert browser.get("/api/sessions").get_json() == {"sessions": []}


def test_signing_out_ends_the_session_and_sends_the_browser_to_tongbans_end_session(
    browser, provider
):
    sign_in(browser, provider)
    response = browser.post("/logout")
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith(provider.issuer + "/oidc/logout?")
    query = query_of(location)
    assert query["post_logout_redirect_uri"] == "http://127.0.0.1:8600/"
    assert query["client_id"] == CLIENT and query["id_token_hint"].count(".") == 2
    assert browser.get("/api/sessions").get_json() == {"sessions": []}
    back = browser.get("/", query_string={"state": query["state"]}).get_data(as_text=True)
    assert "您已退出登录" in back and 'href="/login"' in back
    assert browser.post("/logout").headers["Location"] == "/"
    not_allowed = browser.get("/logout")
    assert not_allowed.status_code == 405 and not_allowed.headers["Allow"] == "POST"
    assert "此页面不能这样打开" in not_allowed.get_data(as_text=True)


def test_a_back_channel_logout_ends_the_sessions_it_names_once(portal, provider):
    one, two, other = Client(portal), Client(portal), Client(portal)
    sign_in(one, provider, "u-1", "bs-1")
    sign_in(two, provider, "u-1", "bs-2")
    sign_in(other, provider, "u-2", "bs-3")
    token = provider.logout_token(jti="logout-a", sub="u-1", sid="bs-1")
    response = one.post("/backchannel-logout", data={"logout_token": token})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "您好" not in one.get("/").get_data(as_text=True)
    assert "您好" in two.get("/").get_data(as_text=True)
    listed = other.get("/api/sessions").get_json()["sessions"]
    assert sorted(s["sid"] for s in listed) == ["bs-2", "bs-3"]
    replayed = one.post("/backchannel-logout", data={"logout_token": token})
    assert replayed.status_code == 400
    assert replayed.get_json()["error"] == "invalid_request"
    # Only the subject: every session of u-1 ends.
    only_sub = provider.logout_token(jti="logout-b", sub="u-1", sid=None)
    assert one.post("/backchannel-logout", data={"logout_token": only_sub}).status_code == 200
    assert [s["sid"] for s in one.get("/api/sessions").get_json()["sessions"]] == ["bs-3"]


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"logout_token": ""},
        {"logout_token": "not-a-token"},
        {"logout_token": logout_token()},  # another issuer, long expired
    ],
)
def test_a_back_channel_logout_without_a_good_token_is_a_400_and_ends_nothing(
    portal, provider, data
):
    browser = Client(portal)
    sign_in(browser, provider)
    response = browser.post("/backchannel-logout", data=data)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"
    assert len(browser.get("/api/sessions").get_json()["sessions"]) == 1


def test_the_sign_in_page_says_so_when_tongban_cannot_be_reached():
    unreachable = Provider("http://127.0.0.1:9", CLIENT, SECRET, "http://x/callback", timeout=1)
    response = Client(PortalApp(unreachable, "http://127.0.0.1:8600")).get("/login")
    assert response.status_code == 503
    assert "暂时无法登录" in response.get_data(as_text=True)


def test_the_registration_names_this_systems_uris():
    assert client_registration("http://127.0.0.1:8600/") == {
        "name": "苏州市住房公积金管理中心",
        "department_code": "sz-gjj",
        "redirect_uris": ["http://127.0.0.1:8600/callback"],
        "post_logout_redirect_uris": ["http://127.0.0.1:8600/"],
        "backchannel_logout_uri": "http://127.0.0.1:8600/backchannel-logout",
    }


def test_the_command_line_defaults_and_the_environment():
    args = parse_args([], {})
    assert (args.host, args.port, args.client_id) == ("127.0.0.1", DEFAULT_PORT, DEFAULT_CLIENT_ID)
    assert args.issuer == "http://127.0.0.1:8000"
    assert args.base_url == f"http://127.0.0.1:{DEFAULT_PORT}"
    args = parse_args(
        ["--port", "9600"],
        {"OIDC_ISSUER": "http://127.0.0.1:9000", "DEPARTMENT_PORTAL_BASE_URL": "http://x:1"},
    )
    assert (args.port, args.issuer, args.base_url) == (9600, "http://127.0.0.1:9000", "http://x:1")


def test_the_server_on_a_free_port_signs_in_back_to_its_own_url(provider):
    with PortalServer("127.0.0.1", 0, issuer=provider.issuer) as server:
        assert server.base_url == server.url
        assert requests.get(server.url + "/healthz", timeout=5).json() == {"status": "ok"}
        started = requests.get(server.url + "/login", allow_redirects=False, timeout=5)
        assert started.status_code == 302
        assert query_of(started.headers["Location"])["redirect_uri"] == server.url + "/callback"
