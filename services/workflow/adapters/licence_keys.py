"""The keys a workflow instance signs its licences with (Ed25519).

Ed25519 (RFC 8032, JOSE ``EdDSA`` with ``OKP`` keys, RFC 8037) rather than
RS256 or ES256: a 64-byte signature (86 characters of base64url) keeps the
document and its QR form small, a 32-byte public key keeps the JWKS small,
signing is deterministic (no per-signature randomness to get wrong) and fast
enough that issuing never needs a thread pool.

Each instance keeps its own keys in its own database (``licence_keys``), as
identity keeps its token keys: the private key PKCS#8 PEM encrypted with the
PII key (AES-256-GCM, bound to the key id), the public half as a JWK. The key id
is the RFC 7638 thumbprint of the public JWK, so ids of different instances
never collide. The first licence an instance issues makes its key, in the same
transaction. Keys are parsed once per process (``_PARSED``, by key id); each
signature costs one small query for the id of the key to sign with. Retired
keys (``active`` false) are still published: the licences they signed must
keep verifying.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from services.common.pii import PiiCipher, PiiDecryptionError
from services.workflow.adapters import orm
from services.workflow.domain.licences import b64url, b64url_decode

log = logging.getLogger(__name__)

ALGORITHM = "EdDSA"
CURVE = "Ed25519"


def _raw_public(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def thumbprint(public_key: Ed25519PublicKey) -> str:
    """RFC 7638 SHA-256 thumbprint of the public key, base64url."""
    members = {"crv": CURVE, "kty": "OKP", "x": b64url(_raw_public(public_key))}
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":"))
    return b64url(hashlib.sha256(canonical.encode("ascii")).digest())


class LicenceSigningKey:
    """An Ed25519 private key and its key id."""

    def __init__(self, private_key: Ed25519PrivateKey):
        self.private_key = private_key
        self.kid = thumbprint(private_key.public_key())

    @classmethod
    def generate(cls) -> LicenceSigningKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, pem: str) -> LicenceSigningKey:
        key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("a licence signing key must be an Ed25519 private key")
        return cls(key)

    def to_pem(self) -> str:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")

    def public_jwk(self) -> dict[str, str]:
        return {
            "kty": "OKP",
            "crv": CURVE,
            "x": b64url(_raw_public(self.private_key.public_key())),
            "kid": self.kid,
            "use": "sig",
            "alg": ALGORITHM,
        }

    def sign(self, data: bytes) -> tuple[str, str]:
        """(kid, base64url signature) of ``data``."""
        return self.kid, b64url(self.private_key.sign(data))

    def __repr__(self) -> str:
        return f"LicenceSigningKey(kid={self.kid!r})"


def signature_holds(jwk: dict, data: bytes, signature: str) -> bool:
    """Whether ``signature`` (base64url) is the JWK's key's signature of ``data``."""
    try:
        if jwk.get("kty") != "OKP" or jwk.get("crv") != CURVE:
            return False
        public_key = Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))
        public_key.verify(b64url_decode(signature), data)
    except (InvalidSignature, ValueError, KeyError, TypeError):
        return False
    return True


# kid -> parsed private key: a key never changes under its id (the id is its
# public key's thumbprint), so a process parses each once.
_PARSED: dict[str, LicenceSigningKey] = {}


def _owner(kid: str) -> str:
    return f"licence-key:{kid}"


def _active_oldest_first() -> tuple[sa.ColumnElement, tuple[sa.Column, ...]]:
    """Which keys are active, and the order a signer takes them in (the
    oldest first, so every replica signs alike): one rule for every read."""
    table = orm.licence_keys
    return table.c.active.is_(True), (table.c.created_at, table.c.kid)


@functools.cache
def _active_keys() -> sa.Select:
    """``SELECT`` of the active keys (id and cipher), oldest first; built once
    (every signature reads them)."""
    table = orm.licence_keys
    active, order = _active_oldest_first()
    return sa.select(table.c.kid, table.c.private_key_cipher).where(active).order_by(*order)


def active_keys_column() -> sa.Label:
    """PostgreSQL: the active keys as ``_active_keys`` reads them, [id,
    cipher] oldest first, a JSON array column ``active_keys`` (null when there
    is none), to read with another statement's row (``active_read``)."""
    table = orm.licence_keys
    active, order = _active_oldest_first()
    pair = sa.func.json_build_array(table.c.kid, table.c.private_key_cipher)
    return (
        sa.select(sa.func.json_agg(aggregate_order_by(pair, *order)))
        .where(active)
        .scalar_subquery()
        .label("active_keys")
    )


class LicenceKeyRepository:
    """The instance's licence keys in the unit of work's transaction.

    ``pii`` gives the cipher for the private keys; it is called only when a
    key is made or first parsed."""

    def __init__(self, session: Session, pii: Callable[[], PiiCipher]):
        self.session = session
        self._pii = pii
        # The active keys read with another statement (active_read), for the
        # next signature.
        self._active: list[tuple[str, str]] | None = None

    def active_read(self, keys: list | None) -> None:
        """The active keys (``active_keys_column``) read with another
        statement of this transaction: the next signature takes them instead
        of reading them again."""
        self._active = [(kid, cipher) for kid, cipher in keys or ()]

    def signing_key(self) -> LicenceSigningKey:
        """The active key to sign with (the oldest, so every replica signs
        alike); one is made, in this transaction, when there is none."""
        rows, self._active = self._active, None
        if rows is None:
            rows = [
                (row.kid, row.private_key_cipher) for row in self.session.execute(_active_keys())
            ]
        for kid, cipher in rows:
            key = _PARSED.get(kid) or self._parse(kid, cipher)
            if key is not None:
                return key
        return self._create()

    def sign(self, data: bytes) -> tuple[str, str]:
        return self.signing_key().sign(data)

    def public_keys(self) -> list[dict]:
        """Every key's public JWK, active or retired, oldest first."""
        table = orm.licence_keys
        return [
            dict(row.public_jwk)
            for row in self.session.execute(
                sa.select(table.c.public_jwk).order_by(table.c.created_at, table.c.kid)
            )
        ]

    def public_key(self, kid: str) -> dict | None:
        table = orm.licence_keys
        found = self.session.execute(
            sa.select(table.c.public_jwk).where(table.c.kid == kid)
        ).scalar_one_or_none()
        return dict(found) if found is not None else None

    def _create(self) -> LicenceSigningKey:
        key = LicenceSigningKey.generate()
        self.session.execute(
            orm.licence_keys.insert().values(
                kid=key.kid,
                private_key_cipher=self._pii().encrypt(
                    key.to_pem(), associated_data=_owner(key.kid)
                ),
                public_jwk=key.public_jwk(),
                created_at=datetime.now(UTC),
                active=True,
            )
        )
        # Cached by its id: should this transaction roll back, the id is never
        # read from the table again, so the cached key is never used.
        _PARSED[key.kid] = key
        log.info("created a licence signing key", extra={"kid": key.kid})
        return key

    def _parse(self, kid: str, cipher_text: str) -> LicenceSigningKey | None:
        try:
            key = LicenceSigningKey.from_pem(
                self._pii().decrypt(cipher_text, associated_data=_owner(kid))
            )
        except (PiiDecryptionError, ValueError):
            log.error("cannot read a stored licence key; skipping it", extra={"kid": kid})
            return None
        if key.kid != kid:
            log.error("a stored licence key does not match its id; skipping it")
            return None
        _PARSED[kid] = key
        return key
