"""RS256 access tokens: signing keys, issuing and the JWKS document.

Verification lives in services.common.tokens (re-exported here), so that every
verifier uses the same code without importing identity.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from services.common.tokens import (  # noqa: F401  (re-exported)
    ALGORITHM,
    DEFAULT_AUDIENCE,
    DEFAULT_ISSUER,
    REQUIRED_CLAIMS,
    InvalidToken,
    TokenVerifier,
    UnknownKeyId,
)


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8 or 1, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class SigningKey:
    """An RSA private key and its key id (RFC 7638 JWK thumbprint, base64url)."""

    private_key: rsa.RSAPrivateKey
    kid: str

    @classmethod
    def generate(cls, key_size: int = 2048) -> SigningKey:
        return cls.from_private_key(
            rsa.generate_private_key(public_exponent=65537, key_size=key_size)
        )

    @classmethod
    def from_private_key(cls, private_key: rsa.RSAPrivateKey) -> SigningKey:
        return cls(private_key=private_key, kid=jwk_thumbprint(private_key.public_key()))

    @classmethod
    def from_pem(cls, pem: bytes | str, password: bytes | None = None) -> SigningKey:
        """Load a PEM private key (PKCS#8 or PKCS#1); it must be RSA."""
        data = pem.encode("ascii") if isinstance(pem, str) else pem
        key = serialization.load_pem_private_key(data, password=password)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("signing key must be an RSA private key")
        return cls.from_private_key(key)

    def to_pem(self, password: bytes | None = None) -> bytes:
        """PKCS#8 PEM, encrypted when a password is given."""
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password)
            if password
            else serialization.NoEncryption()
        )
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )

    def public_jwk(self) -> dict[str, str]:
        """The public key as a JWK for the JWKS document."""
        return {
            **_rsa_public_members(self.private_key.public_key()),
            "kid": self.kid,
            "use": "sig",
            "alg": ALGORITHM,
        }

    def __repr__(self) -> str:
        return f"SigningKey(kid={self.kid!r})"


def _rsa_public_members(public_key: rsa.RSAPublicKey) -> dict[str, str]:
    numbers = public_key.public_numbers()
    return {"kty": "RSA", "n": _b64url_uint(numbers.n), "e": _b64url_uint(numbers.e)}


def jwk_thumbprint(public_key: rsa.RSAPublicKey) -> str:
    """RFC 7638 SHA-256 thumbprint of an RSA public key, base64url without padding."""
    members = _rsa_public_members(public_key)
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def jwks(keys: Iterable[SigningKey]) -> dict[str, list[dict[str, str]]]:
    """The JWKS document {"keys": [...]} publishing the public half of each key."""
    return {"keys": [key.public_jwk() for key in keys]}


class TokenIssuer:
    """Signs access tokens with the first key; every key is published in `jwks()`
    so tokens signed by a retiring key stay verifiable until they expire."""

    def __init__(
        self,
        keys: Sequence[SigningKey],
        issuer: str = DEFAULT_ISSUER,
        audience: str = DEFAULT_AUDIENCE,
        access_ttl: int = 900,
    ) -> None:
        if not keys:
            raise ValueError("at least one signing key is required")
        self.keys = list(keys)
        self.issuer = issuer
        self.audience = audience
        self.access_ttl = access_ttl

    @property
    def signing_key(self) -> SigningKey:
        return self.keys[0]

    def issue(
        self,
        *,
        user_id: str,
        session_id: str,
        kind: str,
        roles: Sequence[str],
        department_code: str | None,
        assurance_level: int,
        name: str,
        now: datetime | None = None,
        extra_claims: Mapping[str, Any] | None = None,
    ) -> str:
        """A signed access token valid for `access_ttl` seconds from `now`;
        `extra_claims` (a department system's `client_id` and `scope`) added."""
        issued_at = int((now or datetime.now(UTC)).timestamp())
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": user_id,
            "sid": session_id,
            "kind": str(kind),
            "roles": [str(role) for role in roles],
            "dept": department_code,
            "lvl": assurance_level,
            "name": name,
            "iat": issued_at,
            "exp": issued_at + self.access_ttl,
            "jti": uuid.uuid4().hex,
            **(extra_claims or {}),
        }
        return self.sign(claims)

    def sign(self, claims: Mapping[str, Any], typ: str | None = None) -> str:
        """`claims` as a JWT signed with the signing key (its id in `kid`);
        `typ`: the header's type (``logout+jwt`` for a logout token)."""
        key = self.signing_key
        headers = {"kid": key.kid}
        if typ is not None:
            headers["typ"] = typ
        return jwt.encode(dict(claims), key.private_key, algorithm=ALGORITHM, headers=headers)

    def read_own(self, token: str, issuer: str) -> dict[str, Any] | None:
        """The claims of a token signed with one of these keys and issued by
        ``issuer``, expired or not (an ID token given back as a hint), or
        None when it is not one."""
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = next((key for key in self.keys if key.kid == kid), None)
            if key is None:
                return None
            return jwt.decode(
                token,
                key.private_key.public_key(),
                algorithms=[ALGORITHM],
                issuer=issuer,
                options={"verify_exp": False, "verify_aud": False, "require": ["iss", "sub"]},
            )
        except jwt.PyJWTError:
            return None

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return jwks(self.keys)
