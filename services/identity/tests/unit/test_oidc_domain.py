"""The OpenID provider's rules, with nothing running: what a department system
may register, signed-in browsers, consent, codes and the claims of each scope."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from services.common.errors import Conflict
from services.identity.domain.events import (
    BackchannelLogoutDue,
    OidcClientDeleted,
    OidcClientRegistered,
    OidcClientUpdated,
)
from services.identity.domain.exceptions import ValidationFailed
from services.identity.domain.mandates import Mandate, Party
from services.identity.domain.oidc import (
    BACKCHANNEL_LOGOUT_EVENT,
    AuthorizationCode,
    BrowserSession,
    ClientSettings,
    CodeAlreadyUsed,
    CodeExpired,
    ConsentGrant,
    OidcClient,
    Person,
    acr_for,
    digest,
    id_token_claims,
    jwks_problem,
    logout_token_claims,
    logouts_due,
    mandate_claim,
    needs_consent,
    needs_sign_in,
    scope_list,
    uri_problem,
    user_claims,
)

NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
RSA_JWK = {"kty": "RSA", "kid": "k1", "n": "sXch", "e": "AQAB", "use": "sig"}


def settings(**changes) -> ClientSettings:
    values = {
        "name": "苏州市住房公积金管理中心",
        "department_code": "sz-gjj",
        "redirect_uris": ["https://gjj.example.cn/callback"],
        "post_logout_redirect_uris": ["https://gjj.example.cn/"],
        "backchannel_logout_uri": "https://gjj.example.cn/backchannel-logout",
    }
    values.update(changes)
    return ClientSettings.checked(**values)


@pytest.mark.parametrize(
    "uri",
    [
        "https://gjj.example.cn/callback",
        "https://gjj.example.cn:8443/cb?tenant=1",
        "http://127.0.0.1:8600/callback",
        "http://localhost/cb",
        "http://[::1]:9000/cb",
    ],
)
def test_acceptable_uris(uri):
    assert uri_problem(uri) is None


@pytest.mark.parametrize(
    ("uri", "why"),
    [
        ("http://gjj.example.cn/callback", "https"),
        ("https://gjj.example.cn/cb#top", "fragment"),
        ("https://gjj.example.cn/cb#", "fragment"),
        ("https://*.example.cn/cb", "wildcard"),
        ("https://user:pw@gjj.example.cn/cb", "user information"),
        ("/callback", "absolute"),
        ("gjj.example.cn/callback", "absolute"),
        ("javascript:alert(1)", "absolute"),
        ("https://gjj.example.cn/a b", "spaces"),
        ("https://gjj.example.cn:99999/cb", "valid"),
        ("", "URL"),
        (None, "URL"),
    ],
)
def test_refused_uris(uri, why):
    assert why in uri_problem(uri)


def test_jwks_must_be_public_signing_keys():
    assert jwks_problem({"keys": [RSA_JWK]}) is None
    assert jwks_problem({"keys": [{"kty": "EC", "crv": "P-256", "x": "a", "y": "b"}]}) is None
    assert "JWKS" in jwks_problem([RSA_JWK])
    assert "1 to" in jwks_problem({"keys": []})
    assert "public keys only" in jwks_problem({"keys": [{**RSA_JWK, "d": "secret"}]})
    assert "RSA or EC" in jwks_problem({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]})
    assert "signatures" in jwks_problem({"keys": [{**RSA_JWK, "use": "enc"}]})


def test_settings_name_every_bad_field():
    with pytest.raises(ValidationFailed) as refused:
        ClientSettings.checked(
            name="",
            department_code="",
            redirect_uris=[],
            post_logout_redirect_uris=["http://example.cn/"],
            backchannel_logout_uri="ftp://example.cn/logout",
            jwks={"keys": []},
        )
    assert set(refused.value.fields) == {
        "name",
        "department_code",
        "redirect_uris",
        "post_logout_redirect_uris",
        "backchannel_logout_uri",
        "jwks",
    }
    with pytest.raises(ValidationFailed) as public_with_keys:
        settings(public=True, jwks={"keys": [RSA_JWK]})
    assert set(public_with_keys.value.fields) == {"public"}


def test_a_registration_keeps_only_the_secret_digest():
    client, secret = OidcClient.register(settings(), "u-op", now=NOW)
    assert client.client_id.startswith("c_") and len(client.client_id) == 24
    assert client.token_endpoint_auth_method == "client_secret_basic"
    assert client.secret_hash == digest(secret) and secret not in repr(client)
    assert client.secret_matches(secret) and not client.secret_matches(secret + "x")
    assert client.events == [OidcClientRegistered(client.client_id, "sz-gjj", "u-op", NOW)]


def test_methods_follow_the_registration():
    keyed, secret = OidcClient.register(settings(jwks={"keys": [RSA_JWK]}), "u-op", now=NOW)
    assert keyed.token_endpoint_auth_method == "private_key_jwt" and secret is None
    assert keyed.secret_hash is None and not keyed.secret_matches("")
    public, secret = OidcClient.register(settings(public=True), "u-op", now=NOW)
    assert public.token_endpoint_auth_method == "none" and secret is None
    with pytest.raises(Conflict):
        public.rotate_secret(now=NOW)


def test_given_id_and_secret_for_the_demo_system():
    client, secret = OidcClient.register(
        settings(), "bootstrap", client_id="gjj-suzhou", secret="dev-secret", now=NOW
    )
    assert client.client_id == "gjj-suzhou" and secret == "dev-secret"
    assert client.matches(settings(), "dev-secret")
    assert not client.matches(settings(), "other")
    assert not client.matches(settings(redirect_uris=["https://gjj.example.cn/cb2"]), None)


def test_rotation_update_and_delete():
    client, first = OidcClient.register(settings(), "u-op", now=NOW)
    second = client.rotate_secret(now=NOW)
    assert not client.secret_matches(first) and client.secret_matches(second)
    client.update(settings(name="新名称"), "u-op", now=NOW + timedelta(minutes=1))
    assert client.name == "新名称" and client.secret_matches(second)
    client.update(settings(jwks={"keys": [RSA_JWK]}), "u-op", now=NOW)
    assert client.secret_hash is None  # a keyed client has no secret any more
    assert client.delete("u-op", now=NOW) and not client.delete("u-op", now=NOW)
    assert [type(event) for event in client.events] == [
        OidcClientRegistered,
        OidcClientUpdated,
        OidcClientUpdated,
        OidcClientDeleted,
    ]
    with pytest.raises(Conflict):
        client.update(settings(), "u-op")


def test_redirect_uris_match_exactly():
    client, _ = OidcClient.register(settings(), "u-op", now=NOW)
    assert client.has_redirect_uri("https://gjj.example.cn/callback")
    for near in (
        "https://gjj.example.cn/callback/",
        "https://gjj.example.cn/callback?x=1",
        "https://GJJ.example.cn/callback",
        None,
    ):
        assert not client.has_redirect_uri(near)


def test_browser_session_and_when_to_sign_in_again():
    session, secret = BrowserSession.start("u1", timedelta(hours=8), now=NOW)
    assert session.secret_hash == digest(secret) and session.amr == ["pwd"]
    assert session.expires_at == NOW + timedelta(hours=8)
    later = NOW + timedelta(minutes=10)
    assert not needs_sign_in(session, later, (), None)
    assert needs_sign_in(None, later, (), None)
    assert needs_sign_in(session, later, ("login",), None)
    assert needs_sign_in(session, later, (), 300)  # max_age elapsed
    assert not needs_sign_in(session, later, (), 600)
    assert needs_sign_in(session, NOW + timedelta(hours=8), (), None)  # expired
    assert session.end("logout", now=later) and not session.end("logout", now=later)
    assert needs_sign_in(session, later, (), None)


def test_consent_covers_what_was_allowed_together():
    client, _ = OidcClient.register(settings(), "u-op", now=NOW)
    grant = ConsentGrant("u1", client.client_id, ["openid", "profile"], NOW)
    assert not needs_consent(client, grant, ["openid", "profile"], ())
    assert needs_consent(client, grant, ["openid", "phone"], ())
    assert needs_consent(client, grant, ["openid"], ("consent",))
    assert needs_consent(client, None, ["openid"], ())
    grant.add(["phone"], now=NOW)
    assert grant.scopes == ["openid", "profile", "phone"]
    first_party, _ = OidcClient.register(settings(skip_consent=True), "u-op", now=NOW)
    assert not needs_consent(first_party, None, ["openid", "phone"], ())
    assert needs_consent(first_party, None, ["openid"], ("consent",))


def code(now=NOW) -> AuthorizationCode:
    session, _ = BrowserSession.start("u1", timedelta(hours=8), now=now)
    return AuthorizationCode.issue(
        "the-code",
        client_id="c1",
        browser_session=session,
        redirect_uri="https://gjj.example.cn/callback",
        scope="openid profile",
        nonce="n-1",
        code_challenge="x" * 43,
        code_challenge_method="S256",
        acr=acr_for(2),
        ttl=timedelta(seconds=60),
        now=now,
    )


def test_a_code_is_used_once_and_expires():
    issued = code()
    assert issued.code_hash == digest("the-code") and issued.acr == "urn:tongban:loa:2"
    with pytest.raises(CodeExpired):
        issued.check_usable(NOW + timedelta(seconds=60))
    issued.redeem("s-1", NOW + timedelta(seconds=59))
    assert issued.session_id == "s-1"
    with pytest.raises(CodeAlreadyUsed):
        issued.redeem("s-2", NOW + timedelta(seconds=59))


def person(**changes) -> Person:
    values = {
        "user_id": "u1",
        "name": "张三",
        "phone": "13900000001",
        "kind": "citizen",
        "assurance_level": 2,
        "enterprises": ({"uscc": "91320102MA1DB0001X", "name": "某公司", "role": "owner"},),
        "mandates": (
            {
                "mandate_id": "m1",
                "principal_kind": "person",
                "principal_name": "李四",
                "principal_ref": "3201**********0011",
                "expires_at": 1,
            },
        ),
    }
    values.update(changes)
    return Person(**values)


def test_each_scope_opens_its_claims():
    assert user_claims(person(), ["openid"]) == {"sub": "u1"}
    assert user_claims(person(), ["openid", "profile"]) == {"sub": "u1", "name": "张三"}
    assert user_claims(person(), ["phone"]) == {
        "sub": "u1",
        "phone_number": "+8613900000001",
        "phone_number_verified": True,
    }
    assert user_claims(person(), ["enterprise"])["enterprises"][0]["role"] == "owner"
    assert user_claims(person(), ["agent"])["mandates"][0]["principal_ref"].count("*") == 10
    # staff opens department and roles of staff only
    assert "department_code" not in user_claims(person(), ["staff"])
    staff = person(kind="staff", department_code="js-amr", roles=("approver",))
    assert user_claims(staff, ["staff"]) == {
        "sub": "u1",
        "department_code": "js-amr",
        "roles": ["approver"],
    }


def test_a_mandate_claim_ends_with_its_last_day_in_jiangsu():
    mandate = Mandate(
        mandate_id="m1",
        principal=Party.enterprise("91320102MA1DB0001X", "某公司"),
        agent_user_id="u1",
        agent_name="周代办",
        item_ids=(),
        expires_on=date(2026, 12, 31),
        granted_by="u0",
        granted_at=NOW,
    )
    claim = mandate_claim(mandate, "91320102MA1DB0001X")
    assert claim["principal_kind"] == "enterprise"
    assert claim["expires_at"] == int(datetime(2026, 12, 31, 16, 0, tzinfo=UTC).timestamp())


def test_id_token_claims():
    claims = id_token_claims(
        issuer="https://www.jszwfw.gov.cn",
        client_id="c1",
        person=person(),
        scopes=["openid", "profile"],
        browser_session_id="bs-1",
        auth_time=NOW,
        amr=["pwd"],
        acr=acr_for(2),
        ttl=timedelta(seconds=600),
        now=NOW + timedelta(seconds=5),
        nonce="n-1",
        at_hash="half",
    )
    issued_at = int(NOW.timestamp()) + 5
    assert claims == {
        "iss": "https://www.jszwfw.gov.cn",
        "aud": "c1",
        "azp": "c1",
        "iat": issued_at,
        "exp": issued_at + 600,
        "auth_time": int(NOW.timestamp()),
        "acr": "urn:tongban:loa:2",
        "amr": ["pwd"],
        "sid": "bs-1",
        "nonce": "n-1",
        "at_hash": "half",
        "sub": "u1",
        "name": "张三",
    }


def test_logout_token_claims_have_the_event_and_no_nonce():
    claims = logout_token_claims(
        issuer="https://www.jszwfw.gov.cn",
        client_id="c1",
        user_id="u1",
        sid="bs-1",
        jti="j1",
        now=NOW,
    )
    assert claims["events"] == {BACKCHANNEL_LOGOUT_EVENT: {}}
    assert claims["exp"] - claims["iat"] == 120 and "nonce" not in claims
    assert (claims["aud"], claims["sub"], claims["sid"], claims["jti"]) == (
        "c1",
        "u1",
        "bs-1",
        "j1",
    )


def test_a_logout_is_due_to_each_client_with_a_backchannel_uri_once():
    session, _ = BrowserSession.start("u1", timedelta(hours=8), now=NOW)
    told, _ = OidcClient.register(settings(), "u-op", now=NOW)
    silent, _ = OidcClient.register(settings(backchannel_logout_uri=None), "u-op", now=NOW)
    gone, _ = OidcClient.register(settings(), "u-op", now=NOW)
    gone.delete("u-op", now=NOW)
    due = logouts_due(session, [told, silent, gone])
    assert len(due) == 1 and isinstance(due[0], BackchannelLogoutDue)
    assert due[0].client_id == told.client_id and due[0].sid == session.browser_session_id
    assert due[0].backchannel_logout_uri == "https://gjj.example.cn/backchannel-logout"
    assert len(due[0].jti) == 32


def test_scope_lists_keep_order_and_drop_repeats():
    assert scope_list("openid  profile openid") == ["openid", "profile"]
    assert scope_list(None) == []


def test_no_claim_carries_a_full_id_number():
    full = "11010519491231002X"
    claims = user_claims(person(), ["openid", "profile", "phone", "enterprise", "agent", "staff"])
    assert full not in json.dumps(claims, ensure_ascii=False)
