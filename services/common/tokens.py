"""Verifying access tokens against a JWKS document, with nothing else.

identity signs; the gateway, and any department's own service, verify locally
with this, so a token check never costs a call to identity.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import jwt

ALGORITHM = "RS256"
DEFAULT_ISSUER = "tongban-identity"
DEFAULT_AUDIENCE = "tongban"
REQUIRED_CLAIMS = ("exp", "iat", "iss", "aud", "sub")
# Seconds of clock difference forgiven on exp, nbf and iat (a token issued
# further ahead than this is refused as not yet valid).
DEFAULT_LEEWAY_SECONDS = 30
# Tokens a verifier keeps as verified (about a kilobyte each).
VERIFIED_KEPT = 4096


class InvalidToken(Exception):
    """An access token was rejected; `reason` says why in a few words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UnknownKeyId(InvalidToken):
    """The token names a key the JWKS lacks; the caller may refetch the JWKS once."""


class TokenVerifier:
    """Verifies RS256 access tokens against a JWKS dict, nothing else."""

    def __init__(
        self,
        jwks_document: Mapping[str, Any],
        issuer: str = DEFAULT_ISSUER,
        audience: str = DEFAULT_AUDIENCE,
        leeway: int = DEFAULT_LEEWAY_SECONDS,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
        self._verified: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._keys: dict[str, Any] = {}
        for entry in jwks_document.get("keys", []):
            if not _usable_jwk(entry):
                continue
            try:
                self._keys[entry["kid"]] = jwt.PyJWK(dict(entry), algorithm=ALGORITHM).key
            except jwt.PyJWTError:
                continue  # one malformed entry must not disable the others

    @property
    def kids(self) -> frozenset[str]:
        return frozenset(self._keys)

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims; raises InvalidToken (or UnknownKeyId) when rejected.

        A token verified before by this verifier (its keys) is not checked
        again until it expires: the signature and the claims of the same text
        are the same, and only time undoes them (``exp``; ``nbf`` and ``iat``
        only come more true). The last ``VERIFIED_KEPT`` are kept."""
        verified = self._verified.get(token)
        if verified is not None:
            if verified["exp"] > time.time() - self.leeway:
                self._verified.move_to_end(token)
                return dict(verified)
            del self._verified[token]
        claims = self._verify(token)
        if isinstance(claims.get("exp"), (int, float)):
            self._verified[token] = dict(claims)
            while len(self._verified) > VERIFIED_KEPT:
                self._verified.popitem(last=False)
        return claims

    def _verify(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken("malformed token") from exc
        if header.get("alg") != ALGORITHM:
            raise InvalidToken("unsupported algorithm")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise InvalidToken("missing key id")
        key = self._keys.get(kid)
        if key is None:
            raise UnknownKeyId("unknown key id")
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("token expired") from exc
        except jwt.InvalidSignatureError as exc:
            raise InvalidToken("bad signature") from exc
        except jwt.InvalidAudienceError as exc:
            raise InvalidToken("wrong audience") from exc
        except jwt.InvalidIssuerError as exc:
            raise InvalidToken("wrong issuer") from exc
        except jwt.ImmatureSignatureError as exc:
            raise InvalidToken("token not yet valid") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidToken(f"missing claim {exc.claim}") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken("invalid token") from exc


def _usable_jwk(entry: object) -> bool:
    return (
        isinstance(entry, Mapping)
        and entry.get("kty") == "RSA"
        and isinstance(entry.get("kid"), str)
        and entry.get("use", "sig") == "sig"
        and entry.get("alg", ALGORITHM) == ALGORITHM
    )
