"""Signing of EMS webhooks: hex HMAC-SHA256 over ``timestamp + "." + body``.

The sender puts the unix timestamp in ``X-EMS-Timestamp`` and the signature in
``X-EMS-Signature``; the receiver rejects a wrong signature and a timestamp too
far from its clock, so a captured request cannot be replayed later.
"""

import hashlib
import hmac
import time

TIMESTAMP_HEADER = "X-EMS-Timestamp"
SIGNATURE_HEADER = "X-EMS-Signature"
DEFAULT_TOLERANCE = 300


def _key(secret: bytes | str) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else secret


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The hex signature of ``body`` sent at ``timestamp`` (unix seconds)."""
    message = timestamp.encode("ascii") + b"." + body
    return hmac.new(_key(secret), message, hashlib.sha256).hexdigest()


def verify(
    secret: bytes,
    timestamp: str | None,
    body: bytes,
    signature: str | None,
    now: float | None = None,
    tolerance: int = DEFAULT_TOLERANCE,
) -> bool:
    """True when ``signature`` matches and ``timestamp`` is within ``tolerance``
    seconds of ``now`` (default: the current time)."""
    if not timestamp or not signature or not timestamp.isascii() or not timestamp.isdigit():
        return False
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > tolerance:
        return False
    expected = sign(secret, timestamp, body)
    # Compared as bytes: compare_digest refuses non-ASCII str.
    return hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8", "replace"))


def signed_headers(secret: bytes, body: bytes, now: float | None = None) -> dict[str, str]:
    """The two headers to send with ``body``."""
    timestamp = str(int(time.time() if now is None else now))
    return {
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }
