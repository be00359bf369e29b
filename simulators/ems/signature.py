"""How EMS signs its webhooks: hex HMAC-SHA256 over ``timestamp + "." + body``,
the unix timestamp in ``X-EMS-Timestamp`` and the signature in
``X-EMS-Signature``.

EMS's side of the scheme, kept apart from the gateway's check
(``services.common.ems_signature``): courier's tests check that the gateway's
check accepts what this simulator signs.
"""

from __future__ import annotations

import hashlib
import hmac
import time

TIMESTAMP_HEADER = "X-EMS-Timestamp"
SIGNATURE_HEADER = "X-EMS-Signature"


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The hex signature of ``body`` sent at ``timestamp`` (unix seconds)."""
    message = timestamp.encode("ascii") + b"." + body
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def signed_headers(secret: bytes, body: bytes, now: float | None = None) -> dict[str, str]:
    """The two headers to send with ``body``."""
    timestamp = str(int(time.time() if now is None else now))
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(secret, timestamp, body)}
