"""What the department system checks in the tokens tongban sends it: the ID
token of a sign-in (OpenID Connect Core 1.0 §3.1.3.7) and the logout token of
a back-channel logout (Back-Channel Logout 1.0 §2.6).

Pure functions over a token, the provider's keys and "now"; the keys come
from :class:`simulators.department_portal.provider.Provider`.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

# The only algorithm tongban signs with (id_token_signing_alg_values_supported).
ALGORITHMS = ["RS256"]
# Clocks of the provider and the department system may differ this much.
LEEWAY_SECONDS = 60
# A token issued longer ago than this is not taken, whatever its exp says.
MAX_AGE_SECONDS = 3600
BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_TYPE = "logout+jwt"  # noqa: S105  (a media type)


class InvalidToken(Exception):
    """A token that must not be acted on; the message says why (never the
    token itself)."""


@dataclass(frozen=True)
class LogoutRequest:
    """What a valid logout token asks for: end the sessions of ``sid`` (the
    provider's browser session) and/or of ``sub``; ``jti`` and ``expires_at``
    for the replay check."""

    jti: str
    sub: str | None
    sid: str | None
    expires_at: int


def token_header(token: str) -> dict:
    """The JOSE header of a compact JWS, unverified (to pick the key)."""
    try:
        return jws.extract_compact(token.encode("ascii")).protected
    except (JoseError, UnicodeError, ValueError) as error:
        raise InvalidToken("not a signed JWT") from error


def has_key(keys: KeySet, kid: object) -> bool:
    """Whether ``keys`` holds the key ``kid`` names."""
    return isinstance(kid, str) and any(key.kid == kid for key in keys)


def _verified_claims(token: str, keys: KeySet) -> tuple[dict, dict]:
    """The header and the claims of ``token`` once its RS256 signature checks
    out with the key its ``kid`` names."""
    header = token_header(token)
    if header.get("alg") not in ALGORITHMS:
        raise InvalidToken(f"alg must be one of {', '.join(ALGORITHMS)}")
    if not has_key(keys, header.get("kid")):
        raise InvalidToken("signed with a key the provider does not publish")
    try:
        decoded = jwt.decode(token, keys, algorithms=ALGORITHMS)
    except (JoseError, ValueError) as error:
        raise InvalidToken("bad signature or payload") from error
    return decoded.header, decoded.claims


def _check_common(
    claims: dict, *, issuer: str, client_id: str, now: int, required: tuple[str, ...]
) -> None:
    """iss, aud (and azp when several audiences), exp and iat, as Core
    §3.1.3.7 steps 2-4 and 9-10 say."""
    for name in required:
        if name not in claims:
            raise InvalidToken(f"{name} is missing")
    if claims["iss"] != issuer:
        raise InvalidToken("iss is not the provider")
    audience = claims["aud"]
    audiences = [audience] if isinstance(audience, str) else audience
    if not isinstance(audiences, list) or client_id not in audiences:
        raise InvalidToken("aud does not name this client")
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise InvalidToken("azp must name this client when aud has several")
    for name in ("exp", "iat"):
        if not isinstance(claims[name], int | float) or isinstance(claims[name], bool):
            raise InvalidToken(f"{name} is not a number")
    if claims["exp"] <= now - LEEWAY_SECONDS:
        raise InvalidToken("expired")
    if not now - MAX_AGE_SECONDS <= claims["iat"] <= now + LEEWAY_SECONDS:
        raise InvalidToken("iat is too far from now")


def at_hash(access_token: str) -> str:
    """The ``at_hash`` of an access token under RS256 (Core §3.1.3.6)."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode("ascii")


def verify_id_token(
    token: str,
    keys: KeySet,
    *,
    issuer: str,
    client_id: str,
    nonce: str,
    access_token: str | None = None,
    now: Callable[[], float] = time.time,
) -> dict:
    """The claims of a valid ID token for this client and this sign-in's
    ``nonce``; InvalidToken otherwise."""
    _, claims = _verified_claims(token, keys)
    _check_common(
        claims,
        issuer=issuer,
        client_id=client_id,
        now=int(now()),
        required=("iss", "sub", "aud", "exp", "iat", "nonce"),
    )
    if not isinstance(claims["sub"], str) or not claims["sub"]:
        raise InvalidToken("sub is missing")
    if claims["nonce"] != nonce:
        raise InvalidToken("nonce is not this sign-in's")
    if access_token is not None and "at_hash" in claims:
        if claims["at_hash"] != at_hash(access_token):
            raise InvalidToken("at_hash does not match the access token")
    return claims


def verify_logout_token(
    token: str,
    keys: KeySet,
    *,
    issuer: str,
    client_id: str,
    now: Callable[[], float] = time.time,
) -> LogoutRequest:
    """What a valid logout token asks (Back-Channel Logout 1.0 §2.6 steps
    2-6: signature, typ, iss, aud, iat, exp, jti, sub and/or sid, the
    back-channel logout event, no nonce); InvalidToken otherwise. The replay
    check (step 7) is the caller's: it keeps the jtis it has seen."""
    header, claims = _verified_claims(token, keys)
    # Explicit typing (§2.4) keeps an ID token from passing as a logout token.
    if header.get("typ") != LOGOUT_TOKEN_TYPE:
        raise InvalidToken(f"typ must be {LOGOUT_TOKEN_TYPE}")
    _check_common(
        claims,
        issuer=issuer,
        client_id=client_id,
        now=int(now()),
        required=("iss", "aud", "iat", "exp", "jti", "events"),
    )
    sub, sid = claims.get("sub"), claims.get("sid")
    if sub is None and sid is None:
        raise InvalidToken("neither sub nor sid is given")
    for name, value in (("sub", sub), ("sid", sid)):
        if value is not None and (not isinstance(value, str) or not value):
            raise InvalidToken(f"{name} is not a string")
    events = claims["events"]
    if not isinstance(events, dict) or not isinstance(events.get(BACKCHANNEL_LOGOUT_EVENT), dict):
        raise InvalidToken("events does not hold the back-channel logout event")
    if "nonce" in claims:
        raise InvalidToken("a logout token carries no nonce")
    if not isinstance(claims["jti"], str) or not claims["jti"]:
        raise InvalidToken("jti is not a string")
    return LogoutRequest(jti=claims["jti"], sub=sub, sid=sid, expires_at=int(claims["exp"]))
