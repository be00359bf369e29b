"""tongban as an OpenID Connect provider, through the running cluster's gateway.

Department systems are played by Authlib's requests client (``OAuth2Session``,
as a department's own back end would use it) against the discovery document,
and by the cluster's demo department system (苏州市住房公积金管理中心 网上服务
大厅, simulators/department_portal). The person's browser is a
``requests.Session`` that follows redirects one at a time and fills the
gateway's pages as a browser without JavaScript would: the forms are read with
``html.parser`` and posted with their hidden fields (the CSRF value among them).

The cluster's authorization codes live OIDC_CODE_SECONDS = 10 s (conftest).
"""

import base64
import json
import secrets
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from joserfc.jwk import KeySet, RSAKey

from simulators.department_portal.tokens import verify_id_token
from tests.e2e.test_journey import OPERATOR, Client, eventually, new_id_number, register_citizen

pytestmark = pytest.mark.e2e

PASSWORD = "Secret2026"  # register_citizen's
# Nothing listens there: the tests read the code off the redirect.
REDIRECT_URI = "http://127.0.0.1:9/callback"
CODE_SECONDS = 10
SCOPE_WORDS = {"profile": "基本信息（姓名）", "phone": "手机号码"}
DISCOVERY_PATH = "/.well-known/openid-configuration"


# --- the pages, as a browser reads them -------------------------------------------------


@dataclass
class Form:
    action: str
    method: str
    # (name, type, value, autocomplete, id) of every <input>
    inputs: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    # (name, value, text) of every <button>
    buttons: list[tuple[str, str, str]] = field(default_factory=list)


class Page(HTMLParser):
    """What the tests look at in a page: its language, h1, forms, labels
    (``for`` -> text), alerts and whether it has scripts."""

    def __init__(self, html: str):
        super().__init__()
        self.lang = None
        self.h1 = ""
        self.forms: list[Form] = []
        self.labels: dict[str, str] = {}
        self.alerts: list[str] = []
        self.scripts = 0
        self._open: list[tuple[str, str | None]] = []  # (what, key) whose text is read
        self._button: list | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        if tag == "html":
            self.lang = attributes.get("lang")
        elif tag == "script":
            self.scripts += 1
        elif tag == "h1":
            self._open.append(("h1", None))
        elif tag == "label":
            self._open.append(("label", attributes.get("for", "")))
            self.labels[attributes.get("for", "")] = ""
        elif attributes.get("role") == "alert":
            self._open.append(("alert", None))
            self.alerts.append("")
        elif tag == "form":
            self.forms.append(Form(attributes.get("action", ""), attributes.get("method", "get")))
        elif tag == "input" and self.forms:
            self.forms[-1].inputs.append(
                tuple(
                    attributes.get(name, "")
                    for name in ("name", "type", "value", "autocomplete", "id")
                )
            )
        elif tag == "button" and self.forms:
            self._button = [attributes.get("name", ""), attributes.get("value", ""), ""]

    def handle_endtag(self, tag):
        if tag == "button" and self._button is not None:
            self.forms[-1].buttons.append(tuple(self._button))
            self._button = None
        elif self._open and tag in ("h1", "label") and self._open[-1][0] == tag:
            self._open.pop()
        elif self._open and self._open[-1][0] == "alert" and tag in ("p", "div"):
            self._open.pop()

    def handle_data(self, data):
        if self._button is not None:
            self._button[2] += data.strip()
        for what, key in self._open:
            if what == "h1":
                self.h1 += data
            elif what == "label":
                self.labels[key] += data.strip()
            elif what == "alert":
                self.alerts[-1] += data.strip()


class Browser:
    """A person's browser without JavaScript: follows redirects one at a time,
    signs in and consents on the gateway's pages, and keeps its cookies
    (tongban_sso among them). ``shown`` lists the paths of the pages it was
    shown in the last :meth:`authorize`."""

    def __init__(self, issuer: str):
        self.issuer = issuer
        self.http = requests.Session()
        self.shown: list[str] = []
        self.pages: dict[str, str] = {}  # path -> the last page shown there

    def get(self, url: str) -> requests.Response:
        response = self.http.get(url, allow_redirects=False, timeout=15)
        assert response.status_code < 500, (url, response.status_code, response.text)
        return response

    def submit(self, response: requests.Response, values: dict, button=None):
        """Post the page's form with its hidden fields and ``values``."""
        (form,) = Page(response.text).forms
        data = {name: value for name, kind, value, _, _ in form.inputs if kind == "hidden"}
        data.update(values)
        if button is not None:
            name, value, _ = next(b for b in form.buttons if b[1] == button)
            data[name] = value
        assert form.method.lower() == "post"
        posted = self.http.post(
            urljoin(response.url, form.action), data=data, allow_redirects=False, timeout=15
        )
        assert posted.status_code < 500, (form.action, posted.status_code, posted.text)
        return posted

    def authorize(
        self, url: str, phone: str | None = None, password: str = PASSWORD, decision="allow"
    ) -> str | requests.Response:
        """Open an authorization URL and go through the gateway's pages
        (signing in with ``phone`` when asked, answering consent with
        ``decision``); the URL the gateway finally sends the browser to
        outside tongban, or the page it stopped at."""
        self.shown = []
        response = self.get(url)
        for _ in range(10):
            if response.is_redirect:
                location = urljoin(response.url, response.headers["Location"])
                if not location.startswith(self.issuer + "/"):
                    return location
                response = self.get(location)
                continue
            path = urlsplit(response.url).path
            self.shown.append(path)
            self.pages[path] = response.text
            if path == "/oidc/sign-in" and response.status_code == 200 and phone:
                response = self.submit(response, self.credentials(response, phone, password))
            elif path == "/oidc/consent" and response.status_code == 200:
                response = self.submit(response, {}, button=decision)
            else:
                return response
        raise AssertionError(f"too many steps: {self.shown}")

    @staticmethod
    def credentials(response: requests.Response, phone: str, password: str) -> dict:
        """The sign-in form's phone and password inputs, found by their
        autocomplete purpose."""
        (form,) = Page(response.text).forms
        by_purpose = {purpose: name for name, _, _, purpose, _ in form.inputs if purpose}
        return {by_purpose["tel"]: phone, by_purpose["current-password"]: password}


# --- the department systems -------------------------------------------------------------


def discovery(cluster) -> dict:
    response = requests.get(cluster.gateway_url + DISCOVERY_PATH, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def metadata(cluster) -> dict:
    return discovery(cluster)


@pytest.fixture(scope="module")
def operator(cluster) -> Client:
    client = Client(cluster.gateway_url)
    client.login(**OPERATOR)
    return client


def register_client(operator: Client, **changes) -> dict:
    body = {
        "name": "苏州市测试业务系统",
        "department_code": "sz-gjj",
        "redirect_uris": [REDIRECT_URI],
        "post_logout_redirect_uris": ["http://127.0.0.1:9/signed-out"],
        **changes,
    }
    response = operator.post("/api/v1/admin/oidc-clients", json=body)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def department(operator) -> dict:
    """A department system registered just now, with a secret."""
    registered = register_client(operator)
    assert registered["token_endpoint_auth_method"] == "client_secret_basic"
    assert registered["client_secret"]
    return registered


def rp(registered: dict, scope: str = "openid profile phone", **options) -> OAuth2Session:
    """Authlib's client for a registered department system."""
    options.setdefault("token_endpoint_auth_method", "client_secret_basic")
    return OAuth2Session(
        registered["client_id"],
        registered.get("client_secret"),
        scope=scope,
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
        default_timeout=15,
        **options,
    )


@dataclass
class Authorization:
    """An authorization request a department system sent, and what its
    answer must match."""

    url: str
    state: str
    nonce: str
    code_verifier: str


def authorization(client: OAuth2Session, metadata: dict, **extra) -> Authorization:
    nonce, verifier = secrets.token_urlsafe(16), secrets.token_urlsafe(48)
    url, state = client.create_authorization_url(
        metadata["authorization_endpoint"], nonce=nonce, code_verifier=verifier, **extra
    )
    return Authorization(url, state, nonce, verifier)


def query_of(url: str) -> dict:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def code_of(callback: str, request: Authorization, issuer: str) -> str:
    assert isinstance(callback, str), f"no redirect: {getattr(callback, 'text', callback)}"
    assert callback.startswith(REDIRECT_URI + "?"), callback
    answer = query_of(callback)
    assert answer["state"] == request.state and answer["iss"] == issuer, answer
    return answer["code"]


def exchange(client: OAuth2Session, metadata: dict, callback: str, request: Authorization):
    assert isinstance(callback, str), f"no redirect: {getattr(callback, 'text', callback)}"
    return client.fetch_token(
        metadata["token_endpoint"],
        authorization_response=callback,
        state=request.state,
        code_verifier=request.code_verifier,
    )


def id_token_claims(cluster, metadata, token: dict, client_id: str, nonce: str) -> dict:
    """The ID token's claims once verified against the JWKS of the discovery
    document (signature, iss, aud, nonce, exp, at_hash)."""
    keys = KeySet.import_key_set(requests.get(metadata["jwks_uri"], timeout=10).json())
    return verify_id_token(
        token["id_token"],
        keys,
        issuer=cluster.gateway_url,
        client_id=client_id,
        nonce=nonce,
        access_token=token["access_token"],
    )


def payload_of(token: str) -> dict:
    """A JWT's claims, unverified (to look at what it carries)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def signed_in_citizen(cluster, name: str = "王小明", real_name: bool = False):
    """A registered citizen: ``(API client, phone, user_id, id number or None)``."""
    citizen, phone = register_citizen(cluster.gateway_url, name)
    id_number = None
    if real_name:
        id_number = new_id_number()
        response = citizen.post("/api/v1/me/real-name", json={"name": name, "id_number": id_number})
        assert response.status_code == 200, response.text
    user_id = citizen.get("/api/v1/me").json()["user_id"]
    return citizen, phone, user_id, id_number


def oauth_error(call) -> str:
    with pytest.raises(OAuthError) as refused:
        call()
    return refused.value.error


# --- discovery ----------------------------------------------------------------------------


def test_the_discovery_document_names_the_endpoints_at_the_issuer(cluster, metadata):
    issuer = cluster.gateway_url
    assert metadata["issuer"] == issuer
    assert metadata["authorization_endpoint"] == issuer + "/oidc/authorize"
    assert metadata["token_endpoint"] == issuer + "/oidc/token"
    assert metadata["userinfo_endpoint"] == issuer + "/oidc/userinfo"
    assert metadata["end_session_endpoint"] == issuer + "/oidc/logout"
    assert metadata["jwks_uri"] == issuer + "/.well-known/jwks.json"
    assert metadata["response_types_supported"] == ["code"]
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["id_token_signing_alg_values_supported"] == ["RS256"]
    assert set(metadata["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "private_key_jwt",
        "none",
    }
    assert metadata["backchannel_logout_supported"] is True
    assert metadata["backchannel_logout_session_supported"] is True
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert {"openid", "profile", "phone"} <= set(metadata["scopes_supported"])


# --- the code flow ---------------------------------------------------------------------------


def test_the_code_flow_with_pkce_signs_a_citizen_in_to_a_department_system(
    cluster, metadata, department
):
    citizen, phone, user_id, id_number = signed_in_citizen(cluster, "李实名", real_name=True)
    client = rp(department)
    request = authorization(client, metadata)
    browser = Browser(cluster.gateway_url)

    # A wrong password re-shows the form with the reason, as an alert.
    first = browser.get(request.url)
    assert first.status_code == 302
    sign_in = browser.get(urljoin(first.url, first.headers["Location"]))
    assert urlsplit(sign_in.url).path == "/oidc/sign-in" and sign_in.status_code == 200
    page = Page(sign_in.text)
    assert page.lang == "zh-CN" and page.scripts == 0
    assert "苏州市测试业务系统" in sign_in.text
    (form,) = page.forms
    visible = [field for field in form.inputs if field[1] != "hidden"]
    assert visible and all(page.labels.get(field[4]) for field in visible), page.labels
    assert any(name == "csrf" for name, *_ in form.inputs)
    wrong = browser.submit(sign_in, browser.credentials(sign_in, phone, "Wrong2026"))
    assert wrong.status_code == 401
    assert Page(wrong.text).alerts and Page(wrong.text).forms

    callback = browser.authorize(request.url, phone)
    assert browser.shown == ["/oidc/sign-in", "/oidc/consent"]
    consent = Page(browser.pages["/oidc/consent"])
    assert consent.lang == "zh-CN" and consent.scripts == 0
    assert {text for _, _, text in consent.forms[0].buttons} == {"同意", "拒绝"}
    sso = next(cookie for cookie in browser.http.cookies if cookie.name == "tongban_sso")
    assert sso.path == "/oidc" and sso.has_nonstandard_attr("HttpOnly")

    code_of(callback, request, cluster.gateway_url)
    token = exchange(client, metadata, callback, request)
    assert token["token_type"].lower() == "bearer"
    assert set(token["scope"].split()) == {"openid", "profile", "phone"}
    claims = id_token_claims(cluster, metadata, token, department["client_id"], request.nonce)
    assert claims["sub"] == user_id
    assert claims["azp"] == department["client_id"]
    assert claims["name"] == "李实名"
    assert claims["phone_number"] == "+86" + phone
    assert claims["phone_number_verified"] is True
    assert claims["acr"] == "urn:tongban:loa:2"
    assert claims["amr"] == ["pwd"]
    assert claims["auth_time"] <= claims["iat"] and claims["sid"]

    # The access token works on tongban's API and at the userinfo endpoint.
    me = requests.get(
        cluster.gateway_url + "/api/v1/me",
        headers={"Authorization": f"Bearer {token['access_token']}"},
        timeout=10,
    )
    assert me.status_code == 200 and me.json()["user_id"] == user_id
    userinfo = client.get(metadata["userinfo_endpoint"])
    assert userinfo.status_code == 200, userinfo.text
    assert userinfo.json() == {
        "sub": user_id,
        "name": "李实名",
        "phone_number": "+86" + phone,
        "phone_number_verified": True,
    }
    posted = client.post(metadata["userinfo_endpoint"])
    assert posted.status_code == 200 and posted.json()["sub"] == user_id

    # Never the full ID number.
    for text in (json.dumps(payload_of(token["id_token"])), userinfo.text):
        assert id_number not in text and id_number[6:14] not in text

    # The refresh grant: new tokens, the same sign-in, no nonce; the old
    # refresh token stops working.
    old_refresh = token["refresh_token"]
    refreshed = client.refresh_token(metadata["token_endpoint"], refresh_token=old_refresh)
    assert refreshed["refresh_token"] != old_refresh
    again = payload_of(refreshed["id_token"])
    assert again["sub"] == user_id and again["auth_time"] == claims["auth_time"]
    assert again["aud"] == department["client_id"] and "nonce" not in again
    assert (
        oauth_error(
            lambda: rp(department).refresh_token(
                metadata["token_endpoint"], refresh_token=old_refresh
            )
        )
        == "invalid_grant"
    )


def test_userinfo_and_the_id_token_carry_only_the_scopes_granted(cluster, metadata, department):
    _, phone, user_id, _ = signed_in_citizen(cluster, "赵最少")
    browser = Browser(cluster.gateway_url)
    only_openid = rp(department, scope="openid")
    request = authorization(only_openid, metadata)
    token = exchange(only_openid, metadata, browser.authorize(request.url, phone), request)
    claims = id_token_claims(cluster, metadata, token, department["client_id"], request.nonce)
    assert "name" not in claims and "phone_number" not in claims
    assert only_openid.get(metadata["userinfo_endpoint"]).json() == {"sub": user_id}

    # More scopes: consent is asked again, for what is new; no password.
    with_profile = rp(department, scope="openid profile")
    request = authorization(with_profile, metadata)
    callback = browser.authorize(request.url)
    assert browser.shown == ["/oidc/consent"]
    assert SCOPE_WORDS["profile"] in browser.pages["/oidc/consent"]
    token = exchange(with_profile, metadata, callback, request)
    userinfo = with_profile.get(metadata["userinfo_endpoint"]).json()
    assert userinfo == {"sub": user_id, "name": "赵最少"}


def test_a_second_system_signs_the_same_browser_in_without_a_password(
    cluster, metadata, department, operator
):
    _, phone, user_id, _ = signed_in_citizen(cluster, "钱二号")
    browser = Browser(cluster.gateway_url)
    first = rp(department)
    request = authorization(first, metadata)
    token = exchange(first, metadata, browser.authorize(request.url, phone), request)
    first_claims = id_token_claims(cluster, metadata, token, department["client_id"], request.nonce)

    second_system = register_client(operator, name="苏州市第二业务系统")
    second = rp(second_system)
    request = authorization(second, metadata)
    callback = browser.authorize(request.url)  # no phone: a sign-in page would stop here
    assert browser.shown == ["/oidc/consent"]
    assert "苏州市第二业务系统" in browser.pages["/oidc/consent"]
    token = exchange(second, metadata, callback, request)
    claims = id_token_claims(cluster, metadata, token, second_system["client_id"], request.nonce)
    assert claims["sub"] == user_id and claims["aud"] == second_system["client_id"]
    assert claims["sid"] == first_claims["sid"]
    assert claims["auth_time"] == first_claims["auth_time"]

    # A first-party system (skip_consent) is not even asked about.
    first_party = register_client(operator, name="苏州市第一方系统", skip_consent=True)
    third = rp(first_party)
    request = authorization(third, metadata)
    callback = browser.authorize(request.url)
    assert browser.shown == []
    assert exchange(third, metadata, callback, request)["id_token"]

    # prompt=login asks for the password again.
    request = authorization(third, metadata, prompt="login")
    assert browser.authorize(request.url).status_code == 200
    assert browser.shown == ["/oidc/sign-in"]


def test_prompt_none_without_a_browser_session_is_login_required(cluster, metadata, department):
    request = authorization(rp(department), metadata, prompt="none")
    callback = Browser(cluster.gateway_url).authorize(request.url)
    answer = query_of(callback)
    assert callback.startswith(REDIRECT_URI + "?")
    assert answer["error"] == "login_required"
    assert answer["state"] == request.state and answer["iss"] == cluster.gateway_url
    assert "code" not in answer


def test_denying_consent_sends_access_denied_back(cluster, metadata, department):
    _, phone, _, _ = signed_in_citizen(cluster, "孙拒绝")
    request = authorization(rp(department), metadata)
    callback = Browser(cluster.gateway_url).authorize(request.url, phone, decision="deny")
    answer = query_of(callback)
    assert answer["error"] == "access_denied" and answer["state"] == request.state
    assert "code" not in answer


def test_wrong_passwords_on_the_sign_in_page_lock_the_phone_for_the_api_too(
    cluster, metadata, department
):
    """The sign-in page counts failures with /auth/login (identity's lockout):
    after LOGIN_LOCK_FAILURES (5) the right password is refused on both, with
    Retry-After, until the lock (10 s in this cluster) runs out."""
    _, phone, _, _ = signed_in_citizen(cluster, "周锁定")
    browser = Browser(cluster.gateway_url)
    request = authorization(rp(department), metadata)
    for _ in range(5):
        page = browser.authorize(request.url, phone, password="Wrong2026guess")
        assert page.status_code == 401 and Page(page.text).alerts, page.text
    locked = browser.authorize(request.url, phone)
    assert locked.status_code == 401 and int(locked.headers["Retry-After"]) > 0
    assert "tongban_sso" not in browser.http.cookies
    api = requests.post(
        cluster.gateway_url + "/api/v1/auth/login",
        json={"phone": phone, "password": PASSWORD},
        timeout=10,
    )
    assert api.status_code == 401 and int(api.headers["Retry-After"]) > 0
    # The lock runs out; the right password then signs in.
    time.sleep(int(locked.headers["Retry-After"]) + 1)
    callback = browser.authorize(request.url, phone)
    assert isinstance(callback, str) and "code" in query_of(callback), callback


# --- refusals --------------------------------------------------------------------------------


def test_an_unregistered_redirect_uri_is_a_400_page_and_no_redirect(cluster, metadata, department):
    client = rp(department)
    client.redirect_uri = "http://127.0.0.1:9/elsewhere"
    request = authorization(client, metadata)
    response = Browser(cluster.gateway_url).get(request.url)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert response.headers["Content-Type"].startswith("text/html")
    assert Page(response.text).lang == "zh-CN"


@pytest.fixture
def signed_in_browser(cluster):
    """A browser whose person signed in once (for a code without pages)."""
    _, phone, _, _ = signed_in_citizen(cluster, "周浏览")
    return Browser(cluster.gateway_url), phone


def fresh_code(browser_and_phone, client, metadata) -> tuple[str, Authorization]:
    browser, phone = browser_and_phone
    request = authorization(client, metadata)
    return browser.authorize(request.url, phone), request


@pytest.mark.parametrize("verifier", [None, "wrong-" + "v" * 43])
def test_a_missing_or_wrong_code_verifier_is_invalid_grant(
    metadata, department, signed_in_browser, verifier
):
    client = rp(department)
    callback, request = fresh_code(signed_in_browser, client, metadata)
    options = {} if verifier is None else {"code_verifier": verifier}
    error = oauth_error(
        lambda: client.fetch_token(
            metadata["token_endpoint"],
            authorization_response=callback,
            state=request.state,
            **options,
        )
    )
    assert error == "invalid_grant"


def test_a_code_used_twice_is_refused_and_ends_what_its_first_use_gave(
    cluster, metadata, department, signed_in_browser
):
    client = rp(department)
    callback, request = fresh_code(signed_in_browser, client, metadata)
    token = exchange(client, metadata, callback, request)
    assert oauth_error(lambda: exchange(rp(department), metadata, callback, request)) == (
        "invalid_grant"
    )
    refresh = lambda: rp(department).refresh_token(  # noqa: E731
        metadata["token_endpoint"], refresh_token=token["refresh_token"]
    )
    assert oauth_error(refresh) == "invalid_grant"

    def access_token_refused():
        response = requests.get(
            cluster.gateway_url + "/api/v1/me",
            headers={"Authorization": f"Bearer {token['access_token']}"},
            timeout=10,
        )
        return response.status_code == 401

    eventually(access_token_refused, timeout=10, what="the first use's access token refused")


def test_an_expired_code_is_invalid_grant(metadata, department, signed_in_browser):
    client = rp(department)
    callback, request = fresh_code(signed_in_browser, client, metadata)
    time.sleep(CODE_SECONDS + 1)
    assert oauth_error(lambda: exchange(client, metadata, callback, request)) == "invalid_grant"


def test_a_wrong_client_secret_is_invalid_client(cluster, metadata, department, signed_in_browser):
    client = rp(department)
    callback, request = fresh_code(signed_in_browser, client, metadata)
    response = requests.post(
        metadata["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": query_of(callback)["code"],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": request.code_verifier,
        },
        auth=(department["client_id"], "not-the-secret"),
        timeout=10,
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert response.headers["Cache-Control"] == "no-store"
    wrong = rp({**department, "client_secret": "not-the-secret"})
    assert oauth_error(lambda: exchange(wrong, metadata, callback, request)) == "invalid_client"


# --- private_key_jwt ---------------------------------------------------------------------------


def test_a_system_registered_with_a_jwks_authenticates_with_private_key_jwt(
    cluster, metadata, operator, signed_in_browser
):
    # Authlib's PrivateKeyJWT as a department would use it: assertions that
    # live an hour, a new jti each.
    key = RSAKey.generate_key(2048, parameters={"kid": "gjj-2026", "use": "sig"})
    registered = register_client(
        operator, name="苏州市密钥认证系统", jwks={"keys": [key.as_dict(private=False)]}
    )
    assert registered["token_endpoint_auth_method"] == "private_key_jwt"
    assert not registered.get("client_secret")
    endpoint = metadata["token_endpoint"]
    client = OAuth2Session(
        registered["client_id"],
        key,
        scope="openid profile",
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
        token_endpoint_auth_method=PrivateKeyJWT(endpoint, headers={"kid": key.kid}),
        default_timeout=15,
    )
    callback, request = fresh_code(signed_in_browser, client, metadata)
    token = exchange(client, metadata, callback, request)
    claims = id_token_claims(cluster, metadata, token, registered["client_id"], request.nonce)
    assert claims["aud"] == registered["client_id"]

    # An assertion is good once (its jti), and only from the registered key.
    assertion = PrivateKeyJWT(endpoint, headers={"kid": key.kid}).sign(client, endpoint)
    callback, request = fresh_code(signed_in_browser, client, metadata)

    def token_request(client_assertion: str) -> requests.Response:
        return requests.post(
            endpoint,
            data={
                "grant_type": "authorization_code",
                "code": query_of(callback)["code"],
                "redirect_uri": REDIRECT_URI,
                "code_verifier": request.code_verifier,
                "client_id": registered["client_id"],
                "client_assertion_type": ("urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                "client_assertion": client_assertion,
            },
            timeout=10,
        )

    other_key = RSAKey.generate_key(2048, parameters={"kid": "gjj-2026"})
    forged = PrivateKeyJWT(endpoint, headers={"kid": key.kid}).sign(
        OAuth2Session(registered["client_id"], other_key), endpoint
    )
    # RFC 6749 §5.2: 401 only for a client that tried HTTP authentication.
    refused = token_request(forged)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_client"
    assert token_request(assertion).status_code == 200
    replayed = token_request(assertion)
    assert replayed.status_code == 400 and replayed.json()["error"] == "invalid_client"


# --- logout reaching the department system ---------------------------------------------------


def sign_in_at_the_portal(cluster, browser: Browser, phone: str | None) -> requests.Response:
    """Through the demo department system: its sign-in link, tongban's pages,
    back to its home page; that page."""
    portal = cluster.department_portal_url
    login = browser.get(portal + "/login")
    assert login.status_code == 302
    callback = browser.authorize(login.headers["Location"], phone)
    assert isinstance(callback, str) and callback.startswith(portal + "/callback?"), callback
    landed = browser.get(callback)
    assert landed.status_code == 303, landed.text
    return browser.get(urljoin(callback, landed.headers["Location"]))


def test_the_department_systems_own_sign_out_ends_the_sign_in_everywhere(
    cluster, department_portal, department
):
    _, phone, user_id, _ = signed_in_citizen(cluster, "吴公积")
    browser = Browser(cluster.gateway_url)
    home = sign_in_at_the_portal(cluster, browser, phone)
    assert browser.shown == ["/oidc/sign-in", "/oidc/consent"]
    assert "您好，吴公积" in home.text
    (signed_in,) = department_portal.signed_in(user_id)
    assert signed_in["name"] == "吴公积" and signed_in["sid"]

    # Its sign-out button: its session ends, then tongban's (RP-initiated).
    (form,) = [form for form in Page(home.text).forms if form.action == "/logout"]
    out = browser.http.post(urljoin(home.url, form.action), allow_redirects=False, timeout=15)
    assert out.status_code == 303
    end_session = out.headers["Location"]
    assert end_session.startswith(cluster.gateway_url + "/oidc/logout?")
    assert query_of(end_session)["post_logout_redirect_uri"] == cluster.department_portal_url + "/"
    back = browser.get(end_session)
    assert back.status_code == 302, back.text
    location = back.headers["Location"]
    assert location.startswith(cluster.department_portal_url + "/?")
    assert query_of(location)["state"] == query_of(end_session)["state"]
    assert "您已退出登录" in browser.get(location).text
    assert department_portal.signed_in(user_id) == []

    # tongban's browser session ended too: the next sign-in asks the password.
    request = authorization(rp(department), discovery(cluster))
    assert browser.authorize(request.url).status_code == 200
    assert browser.shown == ["/oidc/sign-in"]


def test_signing_out_at_tongban_reaches_the_department_system_by_the_back_channel(
    cluster, department_portal
):
    _, phone, user_id, _ = signed_in_citizen(cluster, "郑通道")
    browser = Browser(cluster.gateway_url)
    sign_in_at_the_portal(cluster, browser, phone)
    assert department_portal.signed_in(user_id)

    # The end-session endpoint without an id_token_hint asks first.
    asked = browser.get(cluster.gateway_url + "/oidc/logout")
    assert asked.status_code == 200
    assert Page(asked.text).forms, asked.text
    confirmed = browser.submit(asked, {})
    assert confirmed.status_code == 200, confirmed.text
    assert "您已退出登录" in confirmed.text
    department_portal.wait_signed_out(user_id, timeout=10)


def test_signing_out_of_the_api_ends_the_browser_session_and_reaches_the_department_system(
    cluster, metadata, department, department_portal
):
    _, phone, user_id, _ = signed_in_citizen(cluster, "冯接口")
    browser = Browser(cluster.gateway_url)
    sign_in_at_the_portal(cluster, browser, phone)
    # A department's back end signed the same browser in and holds tokens.
    client = rp(department)
    request = authorization(client, metadata)
    token = exchange(client, metadata, browser.authorize(request.url), request)
    assert browser.shown == ["/oidc/consent"]

    response = requests.post(
        cluster.gateway_url + "/api/v1/auth/logout",
        headers={"Authorization": f"Bearer {token['access_token']}"},
        timeout=10,
    )
    assert response.status_code == 204, response.text
    department_portal.wait_signed_out(user_id, timeout=10)
    request = authorization(client, metadata)
    assert browser.authorize(request.url).status_code == 200
    assert browser.shown == ["/oidc/sign-in"]
