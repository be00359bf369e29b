import base64
import json
import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from services.identity.adapters.tokens import (
    InvalidToken,
    SigningKey,
    TokenIssuer,
    TokenVerifier,
    UnknownKeyId,
    jwk_thumbprint,
    jwks,
)


@pytest.fixture(scope="module")
def key():
    return SigningKey.generate()


@pytest.fixture(scope="module")
def other_key():
    return SigningKey.generate()


@pytest.fixture
def issuer(key):
    return TokenIssuer([key])


def issue(issuer: TokenIssuer, now: datetime | None = None) -> str:
    return issuer.issue(
        user_id="u1",
        session_id="s1",
        kind="staff",
        roles=["approver"],
        department_code="320100",
        assurance_level=2,
        name="李四",
        now=now,
    )


def test_round_trip_carries_every_claim(issuer):
    token = issue(issuer)
    claims = TokenVerifier(issuer.jwks()).verify(token)
    assert claims["iss"] == "tongban-identity"
    assert claims["aud"] == "tongban"
    assert (claims["sub"], claims["sid"], claims["kind"]) == ("u1", "s1", "staff")
    assert claims["roles"] == ["approver"]
    assert claims["dept"] == "320100"
    assert claims["lvl"] == 2
    assert claims["name"] == "李四"
    assert claims["exp"] - claims["iat"] == 900
    assert abs(claims["iat"] - time.time()) < 5
    assert len(claims["jti"]) == 32


def test_header_names_the_key(issuer, key):
    header = jwt.get_unverified_header(issue(issuer))
    assert header["alg"] == "RS256"
    assert header["kid"] == key.kid


def test_each_token_has_its_own_jti(issuer):
    verifier = TokenVerifier(issuer.jwks())
    assert verifier.verify(issue(issuer))["jti"] != verifier.verify(issue(issuer))["jti"]


def test_expired_token_is_rejected(issuer):
    token = issue(issuer, now=datetime.now(UTC) - timedelta(seconds=900 + 31))
    with pytest.raises(InvalidToken) as excinfo:
        TokenVerifier(issuer.jwks()).verify(token)
    assert excinfo.value.reason == "token expired"


def test_leeway_accepts_a_token_just_expired(issuer):
    token = issue(issuer, now=datetime.now(UTC) - timedelta(seconds=900 + 10))
    assert TokenVerifier(issuer.jwks(), leeway=30).verify(token)["sub"] == "u1"
    with pytest.raises(InvalidToken, match="expired"):
        TokenVerifier(issuer.jwks(), leeway=0).verify(token)


def test_token_signed_by_another_key_with_a_known_kid_is_rejected(key, other_key):
    forged_signer = SigningKey(private_key=other_key.private_key, kid=key.kid)
    token = issue(TokenIssuer([forged_signer]))
    with pytest.raises(InvalidToken) as excinfo:
        TokenVerifier(jwks([key])).verify(token)
    assert excinfo.value.reason == "bad signature"


def test_unknown_kid_is_rejected(key, other_key):
    token = issue(TokenIssuer([other_key]))
    with pytest.raises(UnknownKeyId) as excinfo:
        TokenVerifier(jwks([key])).verify(token)
    assert excinfo.value.reason == "unknown key id"
    assert isinstance(excinfo.value, InvalidToken)


def test_wrong_audience_and_issuer(key):
    document = jwks([key])
    with pytest.raises(InvalidToken, match="wrong audience"):
        TokenVerifier(document).verify(issue(TokenIssuer([key], audience="elsewhere")))
    with pytest.raises(InvalidToken, match="wrong issuer"):
        TokenVerifier(document).verify(issue(TokenIssuer([key], issuer="someone-else")))


def test_tampered_payload_is_rejected(issuer):
    header, payload, signature = issue(issuer).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["lvl"] = 3
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(InvalidToken, match="bad signature"):
        TokenVerifier(issuer.jwks()).verify(f"{header}.{forged}.{signature}")


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c"])
def test_malformed_tokens(issuer, token):
    with pytest.raises(InvalidToken, match="malformed token"):
        TokenVerifier(issuer.jwks()).verify(token)


def test_symmetric_and_unsigned_tokens_are_rejected(issuer, key):
    claims = {"sub": "u1", "iss": "tongban-identity", "aud": "tongban", "exp": 2**40, "iat": 0}
    # Algorithm confusion: an HMAC token must never be checked against an RSA key.
    hs256 = jwt.encode(claims, b"k" * 32, algorithm="HS256", headers={"kid": key.kid})
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": key.kid})
    verifier = TokenVerifier(issuer.jwks())
    for token in (hs256, unsigned):
        with pytest.raises(InvalidToken, match="unsupported algorithm"):
            verifier.verify(token)


def test_missing_kid_is_rejected(key, issuer):
    claims = {"sub": "u1", "iss": "tongban-identity", "aud": "tongban", "exp": 2**40, "iat": 0}
    token = jwt.encode(claims, key.private_key, algorithm="RS256")
    with pytest.raises(InvalidToken, match="missing key id"):
        TokenVerifier(issuer.jwks()).verify(token)


def test_missing_required_claim_is_rejected(key, issuer):
    claims = {"iss": "tongban-identity", "aud": "tongban", "exp": 2**40, "iat": 0}
    token = jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid})
    with pytest.raises(InvalidToken, match="missing claim sub"):
        TokenVerifier(issuer.jwks()).verify(token)


def test_key_rotation_keeps_old_tokens_valid(key, other_key):
    old_token = issue(TokenIssuer([key]))
    rotated = TokenIssuer([other_key, key])
    new_token = issue(rotated)
    assert jwt.get_unverified_header(new_token)["kid"] == other_key.kid
    verifier = TokenVerifier(rotated.jwks())
    assert verifier.verify(old_token)["sub"] == "u1"
    assert verifier.verify(new_token)["sub"] == "u1"
    assert verifier.kids == {key.kid, other_key.kid}


def test_jwks_shape(key, other_key):
    document = jwks([key, other_key])
    assert set(document) == {"keys"}
    assert [entry["kid"] for entry in document["keys"]] == [key.kid, other_key.kid]
    for entry in document["keys"]:
        assert set(entry) == {"kty", "n", "e", "kid", "use", "alg"}  # nothing private
        assert entry["kty"] == "RSA"
        assert entry["use"] == "sig" and entry["alg"] == "RS256"
        assert entry["e"] == "AQAB"
        assert "=" not in entry["n"]
        assert len(base64.urlsafe_b64decode(entry["n"] + "==")) == 256  # 2048 bits
    json.dumps(document)  # serialisable as is


def test_jwks_entries_load_in_pyjwt(key):
    entry = key.public_jwk()
    assert jwt.PyJWK(entry).key_id == key.kid


def test_verifier_skips_unusable_jwks_entries(key, issuer):
    document = {
        "keys": [
            {"kty": "EC", "kid": "ec"},
            {**key.public_jwk(), "kid": "enc", "use": "enc"},
            {"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"},
            key.public_jwk(),
        ]
    }
    verifier = TokenVerifier(document)
    assert verifier.kids == {key.kid}
    assert verifier.verify(issue(issuer))["sub"] == "u1"
    assert TokenVerifier({}).kids == frozenset()


def test_kid_is_the_rfc_7638_thumbprint():
    # The example key and thumbprint of RFC 7638, section 3.1.
    n = (
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_B"
        "JECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_F"
        "DW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4"
        "vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
    )
    modulus = int.from_bytes(base64.urlsafe_b64decode(n + "=="), "big")
    public_key = rsa.RSAPublicNumbers(65537, modulus).public_key()
    assert jwk_thumbprint(public_key) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_pem_round_trip(key):
    loaded = SigningKey.from_pem(key.to_pem())
    assert loaded.kid == key.kid
    assert SigningKey.from_pem(key.to_pem().decode()).kid == key.kid
    encrypted = key.to_pem(password=b"pass phrase")
    assert b"ENCRYPTED" in encrypted
    assert SigningKey.from_pem(encrypted, password=b"pass phrase").kid == key.kid
    assert "PRIVATE" not in repr(key)


def test_from_pem_rejects_non_rsa_keys():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(ValueError):
        SigningKey.from_pem(pem)


def test_issuer_needs_a_key():
    with pytest.raises(ValueError):
        TokenIssuer([])


def test_a_token_verified_before_is_not_checked_again_until_it_expires(issuer, monkeypatch):
    verifier = TokenVerifier(issuer.jwks(), leeway=0)
    token = issue(issuer)
    decode, decoded = jwt.decode, []
    monkeypatch.setattr(jwt, "decode", lambda *a, **k: decoded.append(1) or decode(*a, **k))
    claims = verifier.verify(token)
    assert decoded == [1]

    again = verifier.verify(token)
    assert again == claims and decoded == [1]
    again["sub"] = "someone else"  # the caller's copy
    assert verifier.verify(token)["sub"] == "u1"

    # Past its expiry it is checked again.
    later = claims["exp"] + 1
    monkeypatch.setattr(time, "time", lambda: later)
    verifier.verify(token)
    assert decoded == [1, 1]


def test_another_verifier_checks_for_itself(issuer, other_key):
    token = issue(issuer)
    TokenVerifier(issuer.jwks()).verify(token)
    stranger = TokenVerifier({"keys": [other_key.public_jwk()]})
    with pytest.raises(InvalidToken):
        stranger.verify(token)
