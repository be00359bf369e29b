"""Signed notices to the platform's callback URL, sent in the background and
retried with backoff: hex HMAC-SHA256 over ``timestamp + "." + body``, the unix
timestamp in ``X-Payment-Timestamp``, the signature in ``X-Payment-Signature``
(the platform's side of the scheme; the gateway checks it)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable

import requests

log = logging.getLogger(__name__)

TIMESTAMP_HEADER = "X-Payment-Timestamp"
SIGNATURE_HEADER = "X-Payment-Signature"

# post(url, body, headers, timeout) -> HTTP status
Post = Callable[[str, bytes, dict[str, str], float], int]


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    return hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


def signed_headers(secret: bytes, body: bytes, now: float | None = None) -> dict[str, str]:
    timestamp = str(int(time.time() if now is None else now))
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(secret, timestamp, body)}


def post_with_requests(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    return requests.post(url, data=body, headers=headers, timeout=timeout).status_code


class NoticeSender:
    """Call with a notice: it is delivered on a thread of its own (the cashier
    answers at once), until the receiver answers 2xx or ``attempts`` run out."""

    def __init__(
        self,
        url: str,
        secret: bytes,
        *,
        attempts: int = 8,
        backoff: float = 0.5,
        timeout: float = 5.0,
        post: Post = post_with_requests,
    ):
        self.url = url
        self._secret = secret
        self._attempts = attempts
        self._backoff = backoff
        self._timeout = timeout
        self._post = post
        self._stopping = threading.Event()
        self._threads: set[threading.Thread] = set()
        self._lock = threading.Lock()

    def __call__(self, notice: dict) -> None:
        thread = threading.Thread(target=self.deliver, args=(notice,), daemon=True)
        with self._lock:
            self._threads = {t for t in self._threads if t.is_alive()} | {thread}
        thread.start()

    def deliver(self, notice: dict) -> bool:
        """Send ``notice`` until it is taken; True once the receiver answered 2xx."""
        body = json.dumps(notice, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        for attempt in range(1, self._attempts + 1):
            # Signed afresh each time so a late retry is not rejected as stale.
            headers = {"Content-Type": "application/json", **signed_headers(self._secret, body)}
            try:
                status = self._post(self.url, body, headers, self._timeout)
            except (requests.RequestException, OSError) as error:
                log.warning("notice %s attempt %d failed: %s", notice["order_id"], attempt, error)
            else:
                if 200 <= status < 300:
                    return True
                log.warning("notice %s attempt %d answered %d", notice["order_id"], attempt, status)
            if attempt < self._attempts and self._stopping.wait(self._backoff * 2 ** (attempt - 1)):
                return False
        log.error("gave up on the notice of %s", notice["order_id"])
        return False

    def close(self) -> None:
        self._stopping.set()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=2)
