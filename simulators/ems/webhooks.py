"""Signed delivery of tracking scans to the webhook URL, retried with backoff."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable

import requests

from .signature import signed_headers

log = logging.getLogger(__name__)

# post(url, body, headers, timeout) -> HTTP status
Post = Callable[[str, bytes, dict[str, str], float], int]


def post_with_requests(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    return requests.post(url, data=body, headers=headers, timeout=timeout).status_code


class WebhookSender:
    """Call with a scan payload; True once the receiver answered 2xx, False when
    every attempt failed or the simulator is stopping."""

    def __init__(
        self,
        url: str,
        secret: bytes,
        *,
        attempts: int = 5,
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

    def __call__(self, payload: dict[str, str]) -> bool:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        for attempt in range(1, self._attempts + 1):
            # Signed afresh each time so a late retry is not rejected as stale.
            headers = {
                "Content-Type": "application/json",
                **signed_headers(self._secret, body),
            }
            try:
                status = self._post(self.url, body, headers, self._timeout)
            except (requests.RequestException, OSError) as error:
                log.warning(
                    "webhook %s attempt %d failed: %s",
                    payload["status"],
                    attempt,
                    error,
                )
            else:
                if 200 <= status < 300:
                    return True
                log.warning(
                    "webhook %s attempt %d answered %d",
                    payload["status"],
                    attempt,
                    status,
                )
            last = attempt == self._attempts
            if not last and self._stopping.wait(self._backoff * 2 ** (attempt - 1)):
                return False
        log.error(
            "gave up on webhook %s for %s after %d attempts",
            payload["status"],
            payload["tracking_no"],
            self._attempts,
        )
        return False

    def close(self) -> None:
        self._stopping.set()
