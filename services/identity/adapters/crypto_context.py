"""The secrets the identity use cases need, in one object, and its nameko provider.

:class:`CryptoContext` holds the password hasher, the PII cipher, the signing
keys and the token lifetimes. argon2 and RSA key generation are CPU-bound C
code: they run in eventlet's thread pool (``tpool.execute``) so one login does
not stall every other greenthread of the process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from eventlet import tpool
from nameko.extensions import DependencyProvider
from sqlalchemy.exc import IntegrityError

from services.common.errors import Unavailable
from services.common.messaging.envelope import utcnow
from services.common.pii import PiiCipher, PiiDecryptionError, cipher_from_config
from services.common.timers import Timer
from services.common.tokens import DEFAULT_LEEWAY_SECONDS as VERIFIER_LEEWAY_SECONDS
from services.identity.adapters.crypto import PasswordHasher
from services.identity.adapters.repository import StoredSigningKey
from services.identity.adapters.tokens import SigningKey, TokenIssuer
from services.identity.domain import signing_keys
from services.identity.domain.events import SigningKeyAdded
from services.identity.domain.signing_keys import KeySchedule

log = logging.getLogger(__name__)

DEFAULT_ACCESS_TOKEN_SECONDS = 900
DEFAULT_REFRESH_TOKEN_DAYS = 30
DEFAULT_SIGNING_KEY_PUBLISH_SECONDS = 600
DEFAULT_SIGNING_KEY_ROTATION_DAYS = 30


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

    Every call reads the stored keys' schedules (one small query), so a key
    another replica added is published at once and signs from its
    ``signs_from`` on; the private keys are decrypted and parsed only the first
    time their id is seen. When there is no key (or none this process can
    read), one is made that signs at once; two replicas doing that at the same
    moment store one between them (``follows`` is unique), the other's insert
    fails and it reads the winner's.
    """

    def __init__(
        self,
        cipher: PiiCipher,
        offload: Callable = tpool.execute,
        clock: Callable[[], datetime] = utcnow,
    ):
        self._cipher = cipher
        self._offload = offload
        self._clock = clock
        self._parsed: dict[str, SigningKey] = {}

    def keys(self, uow, now: datetime | None = None) -> list[SigningKey]:
        """The published keys, the one to sign with first; makes one if there is none."""
        now = now or self._clock()
        with uow:
            found = self._published(uow.signing_keys.current(), now)
        if found:
            return found
        created = self.generate()
        with uow:
            stored = uow.signing_keys.current()
            found = self._published(stored, now)
            if found:
                return found
            current = signing_keys.signing_key([entry.schedule for entry in stored], now)
            schedule = signing_keys.first_key(created.kid, now)
            if current is not None:
                schedule = replace(schedule, follows=current.kid)
            try:
                uow.signing_keys.add(self.seal(created, schedule))
            except IntegrityError:
                uow.rollback()
                log.info("another replica stored a signing key first")
            else:
                uow.emit(SigningKeyAdded(kid=created.kid, signs_from=schedule.signs_from))
                uow.commit()
                log.info("created a signing key", extra={"kid": created.kid})
        with uow:
            found = self._published(uow.signing_keys.current(), max(now, self._clock()))
        if not found:
            raise Unavailable("no signing key is readable yet; try again shortly")
        return found

    def generate(self) -> SigningKey:
        """A new RSA key (CPU-bound: in the thread pool)."""
        created = self._offload(SigningKey.generate)
        self._parsed[created.kid] = created
        return created

    def seal(self, key: SigningKey, schedule: KeySchedule) -> StoredSigningKey:
        """The key as stored: its private half encrypted, bound to its id."""
        return StoredSigningKey(
            kid=key.kid,
            private_key_cipher=self._cipher.encrypt(
                key.to_pem().decode("ascii"), associated_data=_key_owner(key.kid)
            ),
            schedule=schedule,
        )

    def _published(self, stored: list[StoredSigningKey], now: datetime) -> list[SigningKey]:
        """The readable published keys, signing key first; empty when none of
        them may sign now."""
        readable = {}
        for entry in stored:
            key = self._parsed.get(entry.kid)
            if key is None:
                key = self._parse(entry)
                if key is None:
                    continue
                self._parsed[entry.kid] = key
            readable[entry.kid] = (key, entry.schedule)
        schedules = [schedule for _, schedule in readable.values()]
        if signing_keys.signing_key(schedules, now) is None:
            return []
        return [readable[schedule.kid][0] for schedule in signing_keys.published(schedules, now)]

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


def _setting(config: dict, name: str, default):
    """The config value, or ``default`` when unset or empty (0 is a value)."""
    value = config.get(name)
    return default if value in (None, "") else value


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
        signing_key_publish_seconds: float = DEFAULT_SIGNING_KEY_PUBLISH_SECONDS,
        signing_key_rotation_days: float = DEFAULT_SIGNING_KEY_ROTATION_DAYS,
        clock: Callable[[], datetime] = utcnow,
    ):
        self.hasher = hasher
        self.pii = pii
        self.access_token_seconds = access_token_seconds
        self.refresh_token_ttl = refresh_token_ttl
        self._offload = offload
        # A new key is published this long before it signs.
        self.signing_key_publish_lead = timedelta(seconds=signing_key_publish_seconds)
        # The schedule adds a key when the signing key signed this long (None: never).
        self.signing_key_rotation_every = (
            timedelta(days=signing_key_rotation_days) if signing_key_rotation_days > 0 else None
        )
        self.keyring = KeyRing(pii, offload=offload, clock=clock)

    @property
    def verifiable_for(self) -> timedelta:
        """How long after a key stops signing its tokens may still pass a check:
        the access token lifetime plus the verifiers' clock leeway."""
        return timedelta(seconds=self.access_token_seconds + VERIFIER_LEEWAY_SECONDS)

    @classmethod
    def from_config(cls, config: dict, hasher: PasswordHasher | None = None) -> CryptoContext:
        """Built from nameko config: PII_KEY, ACCESS_TOKEN_SECONDS, REFRESH_TOKEN_DAYS,
        SIGNING_KEY_PUBLISH_SECONDS, SIGNING_KEY_ROTATION_DAYS and, optionally,
        ARGON2_TIME_COST / ARGON2_MEMORY_KIB / ARGON2_PARALLELISM."""
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
        publish_seconds = float(
            _setting(config, "SIGNING_KEY_PUBLISH_SECONDS", DEFAULT_SIGNING_KEY_PUBLISH_SECONDS)
        )
        refresh_seconds = config.get("JWKS_REFRESH_SECONDS")
        if refresh_seconds not in (None, "") and publish_seconds <= float(refresh_seconds):
            log.warning(
                "SIGNING_KEY_PUBLISH_SECONDS should exceed the gateways' JWKS_REFRESH_SECONDS:"
                " a gateway may meet a new key's tokens before it fetched the key",
                extra={"publish_seconds": publish_seconds, "refresh_seconds": refresh_seconds},
            )
        return cls(
            hasher,
            cipher_from_config(config),
            access_token_seconds=int(
                config.get("ACCESS_TOKEN_SECONDS") or DEFAULT_ACCESS_TOKEN_SECONDS
            ),
            refresh_token_ttl=timedelta(
                days=float(config.get("REFRESH_TOKEN_DAYS") or DEFAULT_REFRESH_TOKEN_DAYS)
            ),
            signing_key_publish_seconds=publish_seconds,
            signing_key_rotation_days=float(
                _setting(config, "SIGNING_KEY_ROTATION_DAYS", DEFAULT_SIGNING_KEY_ROTATION_DAYS)
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


DEFAULT_SIGNING_KEY_CHECK_SECONDS = 3600


class SigningKeyTimer(Timer):
    """A timer whose interval is the config value SIGNING_KEY_CHECK_SECONDS
    (default an hour): the signing keys' schedule (rotation and retirement)."""

    def setup(self):
        self.interval = float(
            _setting(self.container.config, "SIGNING_KEY_CHECK_SECONDS", 0)
            or DEFAULT_SIGNING_KEY_CHECK_SECONDS
        )


signing_key_timer = SigningKeyTimer.decorator
