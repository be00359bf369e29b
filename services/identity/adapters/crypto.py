"""Password hashing (argon2id) and protection of personal data (AES-256-GCM, HMAC).

One secret, TONGBAN_PII_KEY, feeds PiiCipher; separate sub-keys for encryption
and for the keyed hash are derived from it with HKDF so that neither use weakens
the other.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets

import argon2
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MIN_PII_KEY_BYTES = 32
_NONCE_BYTES = 12
_CIPHER_PREFIX = "v1:"
_ENCRYPTION_INFO = b"tongban/identity/pii/aes-256-gcm/v1"
_HASH_INFO = b"tongban/identity/pii/hmac-sha256/v1"
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")


class PasswordHasher:
    """argon2id password hashes. Defaults are RFC 9106's low-memory profile;
    tests pass cheap parameters."""

    def __init__(
        self,
        *,
        time_cost: int = 3,
        memory_cost: int = 65536,
        parallelism: int = 4,
        hash_len: int = 32,
        salt_len: int = 16,
    ) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost,
            parallelism=parallelism,
            hash_len=hash_len,
            salt_len=salt_len,
            type=argon2.Type.ID,
        )
        self._dummy_hash: str | None = None

    def hash(self, password: str) -> str:
        """An encoded argon2id hash ($argon2id$v=19$...) with a fresh salt."""
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        """True if `password` matches; False on mismatch or an unreadable hash."""
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        """True if the hash was made with other parameters (rehash after login)."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except (InvalidHashError, ValueError):
            return True

    def verify_dummy(self, password: str) -> bool:
        """Spend the time of one verification and return False.

        Login calls this for an unknown phone so that its timing does not tell
        which phones are registered.
        """
        if self._dummy_hash is None:
            self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))
        self.verify(self._dummy_hash, password)
        return False


class PiiDecryptionError(ValueError):
    """A ciphertext is malformed, was altered, or was made with another key."""


class PiiCipher:
    """Encrypts ID numbers (AES-256-GCM) and makes keyed lookup hashes (HMAC-SHA256)."""

    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_PII_KEY_BYTES:
            raise ValueError(f"PII key must be at least {MIN_PII_KEY_BYTES} bytes")
        self._aead = AESGCM(_derive(key, _ENCRYPTION_INFO))
        self._hash_key = _derive(key, _HASH_INFO)

    @classmethod
    def from_encoded_key(cls, text: str) -> PiiCipher:
        """Build from a hex or base64 (standard or URL-safe) key string."""
        return cls(decode_key(text))

    @staticmethod
    def generate_key() -> str:
        """A new random key, base64 encoded, for TONGBAN_PII_KEY."""
        return base64.b64encode(os.urandom(MIN_PII_KEY_BYTES)).decode("ascii")

    def encrypt(self, plaintext: str, *, associated_data: str = "") -> str:
        """'v1:' + base64(nonce + ciphertext + tag). Pass the same
        `associated_data` (for example the owner's id) to decrypt."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(
            nonce, plaintext.encode("utf-8"), associated_data.encode("utf-8")
        )
        return _CIPHER_PREFIX + base64.b64encode(nonce + sealed).decode("ascii")

    def decrypt(self, ciphertext: str, *, associated_data: str = "") -> str:
        """The plaintext of `encrypt`; raises PiiDecryptionError if it was tampered with."""
        if not ciphertext.startswith(_CIPHER_PREFIX):
            raise PiiDecryptionError("unknown ciphertext version")
        try:
            blob = base64.b64decode(ciphertext[len(_CIPHER_PREFIX) :], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise PiiDecryptionError("ciphertext is not valid base64") from exc
        if len(blob) < _NONCE_BYTES + 16:
            raise PiiDecryptionError("ciphertext too short")
        try:
            plaintext = self._aead.decrypt(
                blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], associated_data.encode("utf-8")
            )
        except InvalidTag as exc:
            raise PiiDecryptionError("ciphertext failed authentication") from exc
        return plaintext.decode("utf-8")

    def keyed_hash(self, value: str) -> str:
        """HMAC-SHA256 hex of `value`, for unique lookups; normalise the value first."""
        return hmac.new(self._hash_key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def decode_key(text: str) -> bytes:
    """Decode a hex or base64 key string; raise ValueError if unreadable or too short."""
    text = text.strip()
    if _HEX.fullmatch(text):
        key = bytes.fromhex(text)
    else:
        try:
            padded = text + "=" * (-len(text) % 4)
            key = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("PII key must be hex or base64") from exc
    if len(key) < MIN_PII_KEY_BYTES:
        raise ValueError(f"PII key must be at least {MIN_PII_KEY_BYTES} bytes")
    return key


def _derive(master: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master)
