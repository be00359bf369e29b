"""The OpenID provider's use cases end to end on SQLite: the code flow with
PKCE, the token endpoint's refusals, refresh, prompt and max_age, consent,
signing out everywhere, and the claims of each scope."""

import base64
import json
import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from services.common import errors
from services.common.testing import clear_outbox
from services.common.tokens import TokenVerifier
from services.identity.adapters.backchannel import BackchannelLogoutFailed
from services.identity.adapters.oidc_context import OidcContext, OidcSettings
from services.identity.adapters.tokens import SigningKey
from services.identity.service_layer import mandates, oidc, use_cases
from services.identity.tests.unit.conftest import (
    ID_NUMBER,
    OTHER_ID_NUMBER,
    PASSWORD,
    USCC,
    actor_of,
    outbox,
)

ISSUER = "http://127.0.0.1:8000"
CALLBACK = "http://127.0.0.1:8600/callback"
HOME = "http://127.0.0.1:8600/"
BACKCHANNEL = "http://127.0.0.1:8600/backchannel-logout"
PHONE = "13800138000"


class FakeBackchannel:
    """Records the logout tokens sent; answers ``status``."""

    def __init__(self, status: int = 200):
        self.status = status
        self.sent: list[tuple[str, str]] = []

    def deliver(self, uri, logout_token):
        self.sent.append((uri, logout_token))
        if self.status not in (200, 204):
            raise BackchannelLogoutFailed(f"answered {self.status}")
        return self.status


@pytest.fixture
def context():
    return OidcContext(OidcSettings(issuer=ISSUER), backchannel=FakeBackchannel())


@pytest.fixture
def client(uow, operator):
    return register(uow, operator)


def register(uow, operator, **changes):
    values = {
        "name": "苏州市住房公积金管理中心",
        "department_code": "sz-gjj",
        "redirect_uris": [CALLBACK],
        "post_logout_redirect_uris": [HOME],
        "backchannel_logout_uri": BACKCHANNEL,
    }
    values.update(changes)
    return oidc.register_client(uow, operator, **values)


class Browser:
    """A browser and a department system going through the code flow."""

    def __init__(self, uow, crypto, context, client, scope="openid profile phone"):
        self.uow, self.crypto, self.context, self.client = uow, crypto, context, client
        self.scope = scope
        self.cookie = None
        self.verifier = secrets.token_urlsafe(48)

    def query(self, **changes) -> dict:
        query = {
            "response_type": "code",
            "client_id": self.client["client_id"],
            "redirect_uri": CALLBACK,
            "scope": self.scope,
            "state": "st-1",
            "nonce": uuid.uuid4().hex,
            "code_challenge": create_s256_code_challenge(self.verifier),
            "code_challenge_method": "S256",
        }
        query.update(changes)
        return {key: value for key, value in query.items() if value is not None}

    def sign_in(self, phone=PHONE, password=PASSWORD, now=None):
        answer = oidc.sign_in(self.uow, self.crypto, self.context, phone, password, now=now)
        self.cookie = answer["browser_session"]
        return answer

    def authorize(self, query=None, now=None):
        return oidc.authorize(
            self.uow, self.crypto, self.context, query or self.query(), self.cookie, now=now
        )

    def consent(self, query, allow=True, now=None):
        return oidc.consent(
            self.uow, self.crypto, self.context, query, self.cookie, allow=allow, now=now
        )

    def code(self, query=None, now=None) -> tuple[str, dict]:
        """Through sign-in and consent to a code; (code, the query used)."""
        query = query or self.query()
        if self.cookie is None:
            self.sign_in(now=now)
        answer = self.authorize(query, now=now)
        if answer["outcome"] == "consent":
            answer = self.consent(query, now=now)
        assert answer["outcome"] == "redirect", answer
        return parameters(answer["location"])["code"], query

    def basic(self, secret=None) -> str:
        credentials = f"{self.client['client_id']}:{secret or self.client['client_secret']}"
        return "Basic " + base64.b64encode(credentials.encode()).decode()

    def token(self, form, authorization="basic", now=None):
        if authorization == "basic":
            authorization = self.basic()
        return oidc.token(self.uow, self.crypto, self.context, form, authorization, now=now)

    def exchange(self, code, verifier=None, **changes):
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": verifier or self.verifier,
        }
        form.update(changes)
        return self.token({key: value for key, value in form.items() if value is not None})


def parameters(location: str) -> dict:
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


@pytest.fixture
def browser(uow, crypto, context, client, citizen):
    return Browser(uow, crypto, context, client)


def test_code_flow_with_pkce(browser, uow, crypto, citizen):
    query = browser.query()
    assert browser.authorize(query)["outcome"] == "sign_in"
    signed_in = browser.sign_in()
    assert signed_in["user_id"] == citizen.user_id and signed_in["expires_in"] == 28800
    asked = browser.authorize(query)
    assert asked["outcome"] == "consent" and asked["user_name"] == "张三"
    assert asked["scopes"] == ["openid", "profile", "phone"]
    assert asked["client"]["name"] == "苏州市住房公积金管理中心"
    answer = browser.consent(query)
    assert answer["outcome"] == "redirect" and answer["location"].startswith(CALLBACK + "?")
    sent = parameters(answer["location"])
    assert sent["state"] == "st-1" and sent["iss"] == ISSUER

    issued = browser.exchange(sent["code"])
    assert issued["status"] == 200, issued
    assert issued["headers"]["Cache-Control"] == "no-store"
    body = issued["body"]
    assert body["token_type"] == "Bearer" and body["scope"] == "openid profile phone"
    assert set(body) == {
        "access_token",
        "token_type",
        "expires_in",
        "refresh_token",
        "id_token",
        "scope",
    }
    jwks = use_cases.jwks(uow, crypto)
    access = TokenVerifier(jwks).verify(body["access_token"])
    assert access["client_id"] == browser.client["client_id"]
    assert access["scope"] == "openid profile phone" and access["sub"] == citizen.user_id
    id_token = TokenVerifier(jwks, issuer=ISSUER, audience=browser.client["client_id"]).verify(
        body["id_token"]
    )
    assert jwt.get_unverified_header(body["id_token"])["kid"] == jwks["keys"][0]["kid"]
    assert id_token["nonce"] == query["nonce"] and id_token["azp"] == browser.client["client_id"]
    assert id_token["acr"] == "urn:tongban:loa:1" and id_token["amr"] == ["pwd"]
    assert id_token["name"] == "张三" and id_token["phone_number"] == "+8613800138000"
    assert id_token["sid"] != access["sid"]  # the browser session's, not the client session's
    assert id_token["exp"] - id_token["iat"] == 600 and id_token["at_hash"]

    # The second system signs in without a password (single sign-on).
    other = register(uow, browser_operator(uow, crypto), name="另一部门", department_code="sz-rs")
    second = Browser(uow, crypto, browser.context, other)
    second.cookie = browser.cookie
    code, _ = second.code()
    assert second.exchange(code)["status"] == 200


def browser_operator(uow, crypto):
    user = use_cases.ensure_operator(uow, crypto, "13800000000", "Operator2026", "平台运营")
    return actor_of(user)


def test_an_unknown_client_or_unregistered_redirect_uri_is_never_redirected_to(browser):
    browser.sign_in()
    for query in (
        browser.query(client_id="c_unknown"),
        browser.query(redirect_uri="http://127.0.0.1:8600/elsewhere"),
        browser.query(redirect_uri=CALLBACK + "/"),
        browser.query(redirect_uri=None),
    ):
        answer = browser.authorize(query)
        assert answer["outcome"] == "error" and answer["location"] is None, query
        assert answer["error"] in ("invalid_client", "invalid_request")


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"scope": "profile phone"}, "invalid_scope"),
        ({"scope": "openid email"}, "invalid_scope"),
        ({"request": "eyJhbGciOiJub25lIn0.e30."}, "request_not_supported"),
        ({"request_uri": "https://gjj.example.cn/r/1"}, "request_uri_not_supported"),
        ({"max_age": "soon"}, "invalid_request"),
    ],
)
def test_other_bad_requests_go_back_to_the_client(browser, changes, error):
    browser.sign_in()
    answer = browser.authorize(browser.query(**changes))
    assert answer["outcome"] == "redirect", answer
    sent = parameters(answer["location"])
    assert answer["location"].startswith(CALLBACK + "?")
    assert sent["error"] == error and sent["state"] == "st-1" and sent["iss"] == ISSUER
    assert "code" not in sent


def test_a_wrong_redirect_uri_or_verifier_at_the_token_endpoint(browser):
    code, _ = browser.code()
    wrong_uri = browser.exchange(code, redirect_uri="http://127.0.0.1:8600/other")
    assert wrong_uri["status"] == 400 and wrong_uri["body"]["error"] == "invalid_grant"
    missing = browser.exchange(code, verifier="", code_verifier=None)
    assert missing["status"] == 400 and missing["body"]["error"] == "invalid_grant"
    wrong = browser.exchange(code, verifier=secrets.token_urlsafe(48))
    assert wrong["status"] == 400 and wrong["body"]["error"] == "invalid_grant"
    # None of these spent the code.
    assert browser.exchange(code)["status"] == 200


def test_a_reused_code_is_refused_and_revokes_its_session(browser, uow):
    code, _ = browser.code()
    first = browser.exchange(code)
    sid = claims_of(first["body"]["access_token"])["sid"]
    clear_outbox(uow)
    again = browser.exchange(code)
    assert again["status"] == 400 and again["body"]["error"] == "invalid_grant"
    with uow:
        assert uow.sessions.get(sid).is_revoked
    assert [(e["type"], e["payload"]["session_id"]) for e in outbox(uow)] == [
        ("session_revoked", sid)
    ]
    refreshed = browser.token(
        {"grant_type": "refresh_token", "refresh_token": first["body"]["refresh_token"]}
    )
    assert refreshed["body"]["error"] == "invalid_grant"


def test_an_expired_code_is_refused(browser, context):
    issued_at = datetime.now(UTC)
    code, query = browser.code()
    later = issued_at + context.settings.code_ttl + timedelta(seconds=1)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "code_verifier": browser.verifier,
    }
    answer = browser.token(form, now=later)
    assert answer["status"] == 400 and answer["body"]["error"] == "invalid_grant"


def test_client_authentication_failures(browser):
    code, _ = browser.code()
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "code_verifier": browser.verifier,
    }
    wrong = browser.token(form, authorization=browser.basic("not-the-secret"))
    assert wrong["status"] == 401 and wrong["body"]["error"] == "invalid_client"
    assert wrong["headers"]["WWW-Authenticate"] == 'Basic realm="tongban"'
    unauthenticated = browser.token({**form, "client_id": browser.client["client_id"]}, None)
    assert unauthenticated["status"] == 400 and unauthenticated["body"]["error"] == "invalid_client"
    assert "WWW-Authenticate" not in unauthenticated["headers"]
    unknown = browser.token({**form, "grant_type": "password"})
    assert unknown["body"]["error"] == "unsupported_grant_type"
    assert browser.token(form)["status"] == 200


def test_a_deleted_client_signs_nobody_in(browser, uow, crypto, operator, citizen):
    code, _ = browser.code()
    issued = browser.exchange(code)
    sid = claims_of(issued["body"]["access_token"])["sid"]
    clear_outbox(uow)
    oidc.delete_client(uow, crypto, operator, browser.client["client_id"])
    assert [e["type"] for e in outbox(uow)] == ["session_revoked", "oidc_client_deleted"]
    with uow:
        assert uow.sessions.get(sid).is_revoked
    assert browser.authorize()["outcome"] == "error"
    refreshed = browser.token(
        {"grant_type": "refresh_token", "refresh_token": issued["body"]["refresh_token"]}
    )
    assert refreshed["status"] == 401 and refreshed["body"]["error"] == "invalid_client"
    with pytest.raises(errors.Unauthorized):
        oidc.userinfo(uow, citizen.user_id, "openid", browser.client["client_id"])


# --- private_key_jwt -------------------------------------------------------------


@pytest.fixture
def keyed(uow, crypto, context, operator, citizen):
    key = SigningKey.generate()
    client = register(uow, operator, jwks={"keys": [key.public_jwk()]})
    assert client["client_secret"] is None
    assert client["token_endpoint_auth_method"] == "private_key_jwt"
    return Browser(uow, crypto, context, client), key


def assertion(key, client_id, audience=ISSUER + "/oidc/token", jti=None, lifetime=60):
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": now,
        "exp": now + lifetime,
        "jti": jti or uuid.uuid4().hex,
    }
    return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid})


def assertion_form(code, browser, signed):
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "code_verifier": browser.verifier,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": signed,
    }


def test_private_key_jwt(keyed):
    browser, key = keyed
    client_id = browser.client["client_id"]
    code, _ = browser.code()
    signed = assertion(key, client_id)
    good = browser.token(assertion_form(code, browser, signed), authorization=None)
    assert good["status"] == 200, good
    replayed = browser.token(assertion_form(code, browser, signed), authorization=None)
    assert replayed["status"] == 400 and replayed["body"]["error"] == "invalid_client"

    code, _ = browser.code()
    for refused in (
        assertion(key, client_id, audience="https://elsewhere.example.cn/token"),
        assertion(key, client_id, lifetime=7200),  # lives too long
        assertion(SigningKey.generate(), client_id),  # not its key
    ):
        answer = browser.token(assertion_form(code, browser, refused), authorization=None)
        assert answer["status"] == 400 and answer["body"]["error"] == "invalid_client"
    # The issuer is an accepted audience too.
    issuer_audience = assertion(key, client_id, audience=ISSUER)
    answer = browser.token(assertion_form(code, browser, issuer_audience), authorization=None)
    assert answer["status"] == 200, answer
    # Seen ids are kept until the assertions expire.
    assert oidc.forget_expired(browser.uow) == 0
    assert oidc.forget_expired(browser.uow, datetime.now(UTC) + timedelta(minutes=2)) == 2


def test_a_public_client_proves_itself_with_pkce_only(uow, crypto, context, operator, citizen):
    client = register(uow, operator, public=True)
    browser = Browser(uow, crypto, context, client)
    code, _ = browser.code()
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "client_id": client["client_id"],
    }
    missing = browser.token(form, authorization=None)
    assert missing["body"]["error"] == "invalid_grant"
    answer = browser.token({**form, "code_verifier": browser.verifier}, authorization=None)
    assert answer["status"] == 200


# --- refresh ---------------------------------------------------------------------


def test_refresh_rotates_and_is_bound_to_its_client(browser, uow, crypto, operator):
    code, _ = browser.code()
    first = browser.exchange(code)["body"]
    refreshed = browser.token(
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert refreshed["status"] == 200, refreshed
    second = refreshed["body"]
    assert second["refresh_token"] != first["refresh_token"]
    old, new = claims_of(first["id_token"]), claims_of(second["id_token"])
    assert new["auth_time"] == old["auth_time"] and "nonce" not in new
    assert new["sid"] == old["sid"]
    assert claims_of(second["access_token"])["sid"] == claims_of(first["access_token"])["sid"]

    # Another client may not use it.
    other = Browser(uow, crypto, browser.context, register(uow, operator, name="另一部门"))
    stolen = other.token({"grant_type": "refresh_token", "refresh_token": second["refresh_token"]})
    assert stolen["status"] == 400 and stolen["body"]["error"] == "invalid_grant"
    # Nor tongban's own refresh.
    with pytest.raises(errors.Unauthorized):
        use_cases.refresh(uow, crypto, second["refresh_token"])
    # A spent one coming back revokes the session.
    reused = browser.token({"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert reused["body"]["error"] == "invalid_grant"
    after = browser.token({"grant_type": "refresh_token", "refresh_token": second["refresh_token"]})
    assert after["body"]["error"] == "invalid_grant"


def test_tongbans_own_refresh_tokens_are_not_for_clients(browser, uow, crypto):
    pair = use_cases.login(uow, crypto, PHONE, PASSWORD)
    answer = browser.token({"grant_type": "refresh_token", "refresh_token": pair.refresh_token})
    assert answer["status"] == 400 and answer["body"]["error"] == "invalid_grant"


# --- prompt, max_age, consent ---------------------------------------------------------


def test_prompt_none(browser):
    without_session = browser.authorize(browser.query(prompt="none"))
    assert parameters(without_session["location"])["error"] == "login_required"
    browser.sign_in()
    unconsented = browser.authorize(browser.query(prompt="none"))
    sent = parameters(unconsented["location"])
    assert sent["error"] == "consent_required" and sent["state"] == "st-1"
    browser.code()
    silent = browser.authorize(browser.query(prompt="none"))
    assert silent["outcome"] == "redirect" and "code" in parameters(silent["location"])


def test_prompt_login_and_consent(browser):
    browser.code()
    assert browser.authorize(browser.query(prompt="login"))["outcome"] == "sign_in"
    assert browser.authorize(browser.query(prompt="consent"))["outcome"] == "consent"
    assert browser.authorize()["outcome"] == "redirect"


def test_max_age(browser):
    signed_in_at = datetime.now(UTC)
    browser.sign_in(now=signed_in_at)
    browser.code(now=signed_in_at)
    later = signed_in_at + timedelta(seconds=120)
    assert browser.authorize(browser.query(max_age="60"), now=later)["outcome"] == "sign_in"
    fresh = browser.authorize(browser.query(max_age="600"), now=later)
    assert fresh["outcome"] == "redirect" and "code" in parameters(fresh["location"])
    expired = signed_in_at + timedelta(hours=9)
    assert browser.authorize(now=expired)["outcome"] == "sign_in"


def test_consent_denied(browser, uow, citizen):
    browser.sign_in()
    query = browser.query()
    denied = browser.consent(query, allow=False)
    sent = parameters(denied["location"])
    assert sent["error"] == "access_denied" and sent["state"] == "st-1" and sent["iss"] == ISSUER
    with uow:
        assert uow.consents.get(citizen.user_id, browser.client["client_id"]) is None
    assert browser.authorize(query)["outcome"] == "consent"


def test_consent_is_remembered_per_scope(browser):
    browser.code()
    wider = browser.query(scope="openid profile phone enterprise")
    assert browser.authorize(wider)["outcome"] == "consent"
    browser.consent(wider)
    assert browser.authorize(browser.query(scope="openid enterprise"))["outcome"] == "redirect"


def test_consent_rechecks_the_request(browser):
    browser.sign_in()
    bad = browser.consent(browser.query(redirect_uri="http://127.0.0.1:8600/elsewhere"))
    assert bad["outcome"] == "error"
    browser.cookie = None
    assert browser.consent(browser.query())["outcome"] == "sign_in"


def test_a_first_party_system_does_not_ask(uow, crypto, context, operator, citizen):
    client = register(uow, operator, skip_consent=True)
    browser = Browser(uow, crypto, context, client)
    browser.sign_in()
    assert browser.authorize()["outcome"] == "redirect"


def test_sign_in_locks_as_login_does(browser, uow):
    for _ in range(5):
        with pytest.raises(errors.Unauthorized) as refused:
            browser.sign_in(password="wrong1234")
    assert "retry_after" not in refused.value.fields
    with pytest.raises(errors.Unauthorized) as locked:
        browser.sign_in()
    assert int(locked.value.fields["retry_after"]) > 0
    assert "account_locked" in [e["type"] for e in outbox(uow)]


# --- signing out ---------------------------------------------------------------------


def end_session(browser, query, confirmed=False, cookie="browser"):
    cookie = browser.cookie if cookie == "browser" else cookie
    return oidc.end_session(
        browser.uow, browser.crypto, browser.context, query, cookie, confirmed=confirmed
    )


def test_end_session_with_id_token_hint(browser, uow, crypto, operator):
    code, _ = browser.code()
    first = browser.exchange(code)["body"]
    other = Browser(uow, crypto, browser.context, register(uow, operator, name="另一部门"))
    other.cookie = browser.cookie
    other_code, _ = other.code()
    second = other.exchange(other_code)["body"]
    clear_outbox(uow)

    answer = end_session(
        browser,
        {"id_token_hint": first["id_token"], "post_logout_redirect_uri": HOME, "state": "bye"},
    )
    assert answer["outcome"] == "redirect" and answer["location"] == HOME + "?state=bye"
    sent = outbox(uow)
    revoked = {e["payload"]["session_id"] for e in sent if e["type"] == "session_revoked"}
    assert revoked == {
        claims_of(first["access_token"])["sid"],
        claims_of(second["access_token"])["sid"],
    }
    due = [e["payload"] for e in sent if e["type"] == "backchannel_logout_due"]
    assert sorted(entry["client_id"] for entry in due) == sorted(
        [browser.client["client_id"], other.client["client_id"]]
    )
    assert {entry["sid"] for entry in due} == {claims_of(first["id_token"])["sid"]}
    assert browser.authorize()["outcome"] == "sign_in"

    # Ending it again announces nothing new.
    clear_outbox(uow)
    again = end_session(browser, {"id_token_hint": first["id_token"]})
    assert again["outcome"] == "signed_out" and outbox(uow) == []


def test_end_session_without_a_hint_asks_first(browser, uow):
    browser.code()
    clear_outbox(uow)
    query = {"client_id": browser.client["client_id"], "post_logout_redirect_uri": HOME}
    asked = end_session(browser, query)
    assert asked["outcome"] == "confirm" and asked["client"]["name"] == "苏州市住房公积金管理中心"
    assert outbox(uow) == []
    confirmed = end_session(browser, query, confirmed=True)
    assert confirmed["outcome"] == "redirect" and confirmed["location"] == HOME
    assert [e["type"] for e in outbox(uow)] == ["backchannel_logout_due"]
    assert end_session(browser, {}, confirmed=True)["outcome"] == "signed_out"


def test_end_session_refusals(browser, uow, crypto, operator):
    code, _ = browser.code()
    body = browser.exchange(code)["body"]
    unregistered = end_session(
        browser,
        {"id_token_hint": body["id_token"], "post_logout_redirect_uri": "https://evil.example/"},
    )
    assert unregistered["outcome"] == "error"
    no_client = end_session(browser, {"post_logout_redirect_uri": HOME})
    assert no_client["outcome"] == "error"
    other = register(uow, operator, name="另一部门")
    mismatch = end_session(
        browser, {"id_token_hint": body["id_token"], "client_id": other["client_id"]}
    )
    assert mismatch["outcome"] == "error"
    forged = jwt.encode(
        {"iss": ISSUER, "aud": "x", "sub": "y"},
        SigningKey.generate().private_key,
        algorithm="RS256",
        headers={"kid": "k"},
    )
    assert end_session(browser, {"id_token_hint": forged})["outcome"] == "confirm"


def test_end_session_by_the_hints_sid_without_a_cookie(browser, uow):
    code, _ = browser.code()
    body = browser.exchange(code)["body"]
    answer = end_session(browser, {"id_token_hint": body["id_token"]}, cookie=None)
    assert answer["outcome"] == "signed_out"
    assert browser.authorize()["outcome"] == "sign_in"


def test_logout_anywhere_ends_the_browser_session(browser, uow, crypto):
    code, _ = browser.code()
    body = browser.exchange(code)["body"]
    clear_outbox(uow)
    use_cases.logout(uow, crypto, claims_of(body["access_token"])["sid"])
    types = [e["type"] for e in outbox(uow)]
    assert types == ["session_revoked", "backchannel_logout_due"]
    assert browser.authorize()["outcome"] == "sign_in"
    clear_outbox(uow)
    use_cases.logout(uow, crypto, claims_of(body["access_token"])["sid"])
    assert outbox(uow) == []


def test_the_logout_token_is_delivered_once(browser, uow, crypto, context):
    code, _ = browser.code()
    id_token = browser.exchange(code)["body"]["id_token"]
    end_session(browser, {"id_token_hint": id_token})
    event = next(e for e in outbox(uow) if e["type"] == "backchannel_logout_due")
    oidc.deliver_backchannel_logout(uow, crypto, context, event)
    oidc.deliver_backchannel_logout(uow, crypto, context, event)  # redelivered
    assert len(context.backchannel.sent) == 1
    uri, token = context.backchannel.sent[0]
    assert uri == BACKCHANNEL
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "logout+jwt" and header["kid"]
    claims = TokenVerifier(
        use_cases.jwks(uow, crypto), issuer=ISSUER, audience=browser.client["client_id"]
    ).verify(token)
    assert claims["jti"] == event["payload"]["jti"] and claims["sid"] == claims_of(id_token)["sid"]
    assert claims["events"] == {"http://schemas.openid.net/event/backchannel-logout": {}}
    assert "nonce" not in claims


def test_a_failed_delivery_raises_for_a_retry(browser, uow, crypto, context):
    code, _ = browser.code()
    end_session(browser, {"id_token_hint": browser.exchange(code)["body"]["id_token"]})
    event = next(e for e in outbox(uow) if e["type"] == "backchannel_logout_due")
    context.backchannel.status = 500
    with pytest.raises(errors.Unavailable):
        oidc.deliver_backchannel_logout(uow, crypto, context, event)
    context.backchannel.status = 204
    oidc.deliver_backchannel_logout(uow, crypto, context, event)
    assert len(context.backchannel.sent) == 2


# --- claims -----------------------------------------------------------------------------


def test_claims_per_scope_never_carry_the_id_number(uow, crypto, context, operator, verified):
    """A verified owner of an enterprise, mandated by a verified person: the
    ID numbers stay out of every token and answer (a masked one at most)."""
    with uow:
        agent_user = uow.users.get(verified.user_id)
    use_cases.register_enterprise(uow, actor_of(agent_user), "南京某某科技有限公司", USCC, "张三")
    principal = use_cases.register(uow, crypto, "13900000009", PASSWORD, "李四")
    use_cases.verify_real_name(uow, crypto, principal.user_id, "李四", OTHER_ID_NUMBER)
    with uow:
        principal = uow.users.get(principal.user_id)
    expires_on = mandates.china_today(datetime.now(UTC)) + timedelta(days=30)
    mandates.grant_personal_mandate(uow, actor_of(principal), verified.user_id, expires_on)

    client = register(uow, operator)
    browser = Browser(
        uow, crypto, context, client, scope="openid profile phone enterprise agent staff"
    )
    code, _ = browser.code()
    body = browser.exchange(code)["body"]
    id_token = claims_of(body["id_token"])
    assert id_token["acr"] == "urn:tongban:loa:2"
    assert id_token["enterprises"] == [
        {"uscc": USCC, "name": "南京某某科技有限公司", "role": "owner"}
    ]
    [mandate] = id_token["mandates"]
    assert mandate["principal_kind"] == "person" and mandate["principal_name"] == "李四"
    assert mandate["principal_ref"] == principal.id_number_masked
    assert "department_code" not in id_token  # a citizen has none
    info = oidc.userinfo(uow, verified.user_id, body["scope"], client["client_id"])
    assert info == {key: id_token[key] for key in info}
    assert set(info) == {
        "sub",
        "name",
        "phone_number",
        "phone_number_verified",
        "enterprises",
        "mandates",
    }
    narrow = oidc.userinfo(uow, verified.user_id, "openid", client["client_id"])
    assert narrow == {"sub": verified.user_id}
    everything = json.dumps([body, id_token, info, outbox(uow)], ensure_ascii=False)
    assert ID_NUMBER not in everything and OTHER_ID_NUMBER not in everything
    with pytest.raises(errors.Unauthorized):
        oidc.userinfo(uow, verified.user_id, "profile", client["client_id"])


def test_staff_claims(uow, crypto, context, operator):
    staff = use_cases.create_staff(
        uow, crypto, operator, "13700000001", "Staff2026", "李审批", "js-amr", ["approver"]
    )
    client = register(uow, operator)
    browser = Browser(uow, crypto, context, client, scope="openid staff")
    browser.sign_in(phone="13700000001", password="Staff2026")
    code, _ = browser.code()
    id_token = claims_of(browser.exchange(code)["body"]["id_token"])
    assert id_token["sub"] == staff.user_id
    assert id_token["department_code"] == "js-amr" and id_token["roles"] == ["approver"]


def test_an_expired_id_token_is_still_a_hint(browser):
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    browser.sign_in(now=an_hour_ago)
    code, _ = browser.code(now=an_hour_ago)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "code_verifier": browser.verifier,
    }
    id_token = browser.token(form, now=an_hour_ago)["body"]["id_token"]
    assert claims_of(id_token)["exp"] < time.time()
    answer = end_session(browser, {"id_token_hint": id_token}, cookie=None)
    assert answer["outcome"] == "signed_out"
    assert browser.authorize()["outcome"] == "sign_in"


@pytest.mark.parametrize(
    ("form", "authorization"),
    [
        ({}, None),
        ({"grant_type": "authorization_code"}, "basic"),
        ({"grant_type": "authorization_code", "code": "x"}, "Basic !!!"),
        ({"grant_type": "authorization_code", "code": "x"}, "Basic " + "bm9jb2xvbg=="),
        ({"grant_type": "authorization_code", "code": "x"}, "Bearer abc"),
        ({"grant_type": "refresh_token"}, "basic"),
        ({"grant_type": "refresh_token", "refresh_token": "nope"}, "basic"),
        (
            {
                "grant_type": "authorization_code",
                "code": "x",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": "not.a.jwt",
            },
            None,
        ),
    ],
)
def test_malformed_token_requests_get_oauth_errors(browser, form, authorization):
    answer = browser.token(form, authorization=authorization)
    assert answer["status"] in (400, 401) and answer["body"]["error"], answer


def test_a_client_without_keys_cannot_use_an_assertion(browser):
    code, _ = browser.code()
    signed = assertion(SigningKey.generate(), browser.client["client_id"])
    answer = browser.token(assertion_form(code, browser, signed), authorization=None)
    assert answer["status"] == 400 and answer["body"]["error"] == "invalid_client"


@pytest.mark.parametrize(
    "changes",
    [{"response_type": 'tö"ken'}, {"redirect_uri": CALLBACK + '?ä"'}, {"scope": 'openid ö"'}],
)
def test_parameters_authlib_cannot_quote_are_a_malformed_request(browser, changes):
    browser.sign_in()
    answer = browser.authorize(browser.query(**changes))
    if answer["outcome"] == "redirect":  # a scope goes back to the client
        assert parameters(answer["location"])["error"] == "invalid_scope"
    else:
        assert answer["outcome"] == "error" and answer["error"] == "invalid_request"


def test_unreadable_registered_keys_refuse_the_client(uow, crypto, context, operator, citizen):
    client = register(uow, operator, jwks={"keys": [{"kty": "RSA", "n": "x", "e": "AQAB"}]})
    browser = Browser(uow, crypto, context, client)
    code, _ = browser.code()
    signed = assertion(SigningKey.generate(), client["client_id"])
    answer = browser.token(assertion_form(code, browser, signed), authorization=None)
    assert answer["status"] == 400 and answer["body"]["error"] == "invalid_client"
