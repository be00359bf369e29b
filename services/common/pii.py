"""Protection of personal data: AES-256-GCM encryption and HMAC keyed hashes.

One secret, ``PII_KEY`` in the service config (TONGBAN_PII_KEY), feeds
:class:`PiiCipher`; separate sub-keys for encryption and for the keyed hash are
derived from it with HKDF so that neither use weakens the other. Every service
that stores a national ID number builds its cipher with :func:`cipher_from_config`.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import logging
import os
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

log = logging.getLogger(__name__)

MIN_PII_KEY_BYTES = 32
_NONCE_BYTES = 12
_CIPHER_PREFIX = "v1:"
# The HKDF labels predate this module (they were identity's); changing them would
# make every stored ciphertext and lookup hash unreadable.
_ENCRYPTION_INFO = b"tongban/identity/pii/aes-256-gcm/v1"
_HASH_INFO = b"tongban/identity/pii/hmac-sha256/v1"
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")

# The development default of config/service.yaml. It happens to be valid
# base64url (43 characters, 32 bytes), so it decodes as a key; it is still
# public, hence the warning.
DEV_PII_KEY = "dev-only-pii-key-change-me-0123456789abcdef"
# What a service that reads PII_KEY will not start without outside development
# (services.common.environment.RequiredSecrets).
PII_SECRETS = {"PII_KEY": DEV_PII_KEY}

_warned_about_weak_key = False

# A read of a full ID number by anyone but its owner is recorded (identity's
# ``pii_access``): why it was read, who read it, whose it is.
CASE_REVIEW = "case_review"
AUTOMATIC_DECISION = "automatic_decision"
PURPOSES = (CASE_REVIEW, AUTOMATIC_DECISION)
ACCESSOR_KINDS = ("citizen", "staff", "operator", "service")
# A user's own number (identity), or the person a case's agent applied for by
# number (workflow; the subject id is the application id).
SUBJECT_USER = "user"
SUBJECT_APPLICATION_PRINCIPAL = "application_principal"
SUBJECT_KINDS = (SUBJECT_USER, SUBJECT_APPLICATION_PRINCIPAL)


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


def pii_key_bytes(text: str) -> bytes:
    """The PII key from its configured text: hex or base64 of 32+ bytes.

    Any other non-empty text (a passphrase) is accepted by hashing it to 32
    bytes with SHA-256. That, or the public development default, logs one
    warning per process: fine on a laptop, not in production.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("PII_KEY is not set")
    text = text.strip()
    try:
        key = decode_key(text)
    except ValueError:
        _warn_once("PII_KEY is not a hex or base64 key of 32 bytes; deriving one with SHA-256")
        return hashlib.sha256(text.encode("utf-8")).digest()
    if text == DEV_PII_KEY:
        _warn_once("PII_KEY is the public development default")
    return key


def cipher_from_config(config: dict) -> PiiCipher:
    """The cipher for nameko config's ``PII_KEY``; ValueError when it is not set.

    Built once per key text: its two keys are derived with HKDF, which every
    unit of work that reads or writes an ID number would otherwise repeat."""
    return _cipher_for((config or {}).get("PII_KEY") or "")


@functools.lru_cache(maxsize=8)
def _cipher_for(text: str) -> PiiCipher:
    return PiiCipher(pii_key_bytes(text))


def _warn_once(problem: str) -> None:
    global _warned_about_weak_key
    if not _warned_about_weak_key:
        _warned_about_weak_key = True
        log.warning(f"{problem}. Set TONGBAN_PII_KEY to a generated key outside development.")


def _derive(master: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master)
