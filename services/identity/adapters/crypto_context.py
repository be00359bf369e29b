"""The secrets the identity use cases need, in one object, and its nameko provider.

:class:`CryptoContext` holds the password hasher, the PII cipher, the signing
keys and the token lifetimes. argon2 and RSA key generation are CPU-bound C
code: they run in eventlet's thread pool (``tpool.execute``) so one login does
not stall every other greenthread of the process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from eventlet import tpool
from nameko.extensions import DependencyProvider

from services.common.messaging.envelope import utcnow
from services.common.pii import PiiCipher, PiiDecryptionError, cipher_from_config
from services.identity.adapters.crypto import PasswordHasher
from services.identity.adapters.repository import StoredSigningKey
from services.identity.adapters.tokens import SigningKey, TokenIssuer

log = logging.getLogger(__name__)

DEFAULT_ACCESS_TOKEN_SECONDS = 900
DEFAULT_REFRESH_TOKEN_DAYS = 30


class BoundPii:
    """The PII cipher with ciphertexts bound to one owner (AES-GCM associated data),
    so a ciphertext copied onto another row fails to decrypt."""

    def __init__(self, cipher: PiiCipher, owner: str):
        self._cipher = cipher
        self._owner = owner

    def encrypt(self, plaintext: str) -> str:
        return self._cipher.encrypt(plaintext, associated_data=self._owner)

    def decrypt(self, ciphertext: str) -> str:
        return self._cipher.decrypt(ciphertext, associated_data=self._owner)

    def keyed_hash(self, value: str) -> str:
        return self._cipher.keyed_hash(value)


class KeyRing:
    """Signing keys stored in the database, parsed once per process.

    Every call reads the active key ids (one small query), so a key another
    replica added is published at once; the private keys are decrypted and
    parsed only the first time their id is seen. When there is no key, one is
    made and stored. Two replicas doing that at the same moment each store
    their own (different ids): both are published and every replica signs with
    the oldest.
    """

    def __init__(self, cipher: PiiCipher, offload: Callable = tpool.execute):
        self._cipher = cipher
        self._offload = offload
        self._parsed: dict[str, SigningKey] = {}

    def keys(self, uow) -> list[SigningKey]:
        """Usable signing keys, the one to sign with first; makes one if there is none."""
        with uow:
            keys = self._usable(uow.signing_keys.active())
            if keys:
                return keys
            created = self._offload(SigningKey.generate)
            uow.signing_keys.add(
                StoredSigningKey(
                    kid=created.kid,
                    private_key_cipher=self._cipher.encrypt(
                        created.to_pem().decode("ascii"), associated_data=_key_owner(created.kid)
                    ),
                    created_at=utcnow(),
                )
            )
            uow.commit()
            log.info("created a signing key", extra={"kid": created.kid})
            self._parsed[created.kid] = created
            return self._usable(uow.signing_keys.active()) or [created]

    def _usable(self, stored: list[StoredSigningKey]) -> list[SigningKey]:
        keys = []
        for entry in stored:
            key = self._parsed.get(entry.kid)
            if key is None:
                key = self._parse(entry)
                if key is None:
                    continue
                self._parsed[entry.kid] = key
            keys.append(key)
        return keys

    def _parse(self, entry: StoredSigningKey) -> SigningKey | None:
        try:
            pem = self._cipher.decrypt(
                entry.private_key_cipher, associated_data=_key_owner(entry.kid)
            )
            key = SigningKey.from_pem(pem)
        except (PiiDecryptionError, ValueError):
            log.error("cannot read a stored signing key; skipping it", extra={"kid": entry.kid})
            return None
        if key.kid != entry.kid:
            log.error("stored signing key does not match its id; skipping it")
            return None
        return key


def _key_owner(kid: str) -> str:
    return f"signing-key:{kid}"


class CryptoContext:
    """Password hashing, the PII cipher, signing keys and token lifetimes."""

    def __init__(
        self,
        hasher: PasswordHasher,
        pii: PiiCipher,
        *,
        access_token_seconds: int = DEFAULT_ACCESS_TOKEN_SECONDS,
        refresh_token_ttl: timedelta = timedelta(days=DEFAULT_REFRESH_TOKEN_DAYS),
        offload: Callable = tpool.execute,
    ):
        self.hasher = hasher
        self.pii = pii
        self.access_token_seconds = access_token_seconds
        self.refresh_token_ttl = refresh_token_ttl
        self._offload = offload
        self.keyring = KeyRing(pii, offload=offload)

    @classmethod
    def from_config(cls, config: dict, hasher: PasswordHasher | None = None) -> CryptoContext:
        """Built from nameko config: PII_KEY, ACCESS_TOKEN_SECONDS, REFRESH_TOKEN_DAYS
        and, optionally, ARGON2_TIME_COST / ARGON2_MEMORY_KIB / ARGON2_PARALLELISM."""
        if hasher is None:
            tuning = {
                argument: int(config[name])
                for name, argument in (
                    ("ARGON2_TIME_COST", "time_cost"),
                    ("ARGON2_MEMORY_KIB", "memory_cost"),
                    ("ARGON2_PARALLELISM", "parallelism"),
                )
                if config.get(name) not in (None, "")
            }
            hasher = PasswordHasher(**tuning)
        return cls(
            hasher,
            cipher_from_config(config),
            access_token_seconds=int(
                config.get("ACCESS_TOKEN_SECONDS") or DEFAULT_ACCESS_TOKEN_SECONDS
            ),
            refresh_token_ttl=timedelta(
                days=float(config.get("REFRESH_TOKEN_DAYS") or DEFAULT_REFRESH_TOKEN_DAYS)
            ),
        )

    def hash_password(self, password: str) -> str:
        return self._offload(self.hasher.hash, password)

    def verify_password(self, password_hash: str, password: str) -> bool:
        return self._offload(self.hasher.verify, password_hash, password)

    def verify_dummy(self, password: str) -> bool:
        """Spend one verification's time and fail (login with an unknown phone)."""
        return self._offload(self.hasher.verify_dummy, password)

    def needs_rehash(self, password_hash: str) -> bool:
        return self.hasher.needs_rehash(password_hash)

    def pii_for(self, owner: str) -> BoundPii:
        return BoundPii(self.pii, owner)

    def token_issuer(self, uow) -> TokenIssuer:
        """A token issuer over the current keys (its own short transaction)."""
        return TokenIssuer(self.keyring.keys(uow), access_ttl=self.access_token_seconds)


class Crypto(DependencyProvider):
    """Gives workers the process's one :class:`CryptoContext` (keys cached in it)."""

    def __init__(self, hasher: PasswordHasher | None = None):
        self.hasher = hasher
        self.context: CryptoContext | None = None

    def setup(self):
        self.context = CryptoContext.from_config(self.container.config, hasher=self.hasher)

    def get_dependency(self, worker_ctx):
        return self.context
