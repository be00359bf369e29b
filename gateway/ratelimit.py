"""Token buckets per client for the routes that take passwords and refresh tokens.

Each client (its address) gets a bucket of ``AUTH_RATE_BURST`` tokens refilled at
``AUTH_RATE_PER_SECOND``; a request with an empty bucket gets a 429 with
Retry-After. The table is bounded: the least recently seen clients go first.
Each gateway process keeps its own buckets, so the effective limit of a client
is the per-process limit times the processes it reaches.
"""

import math
import time
from collections import OrderedDict

from nameko.extensions import SharedExtension

from gateway.errors import RateLimited


class TokenBuckets:
    def __init__(self, rate: float, burst: float, max_clients: int = 100_000, clock=None):
        self.rate = rate
        self.burst = burst
        self.max_clients = max_clients
        self.clock = clock or time.monotonic
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, client: str) -> float:
        """0 when the request may go ahead, else the seconds until it may."""
        now = self.clock()
        tokens, seen = self._buckets.pop(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - seen) * self.rate)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / self.rate if self.rate > 0 else 60.0
        self._buckets[client] = (tokens, now)
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        return wait


class AuthRateLimiter(SharedExtension):
    """One set of buckets per gateway process, shared by every limited route."""

    def setup(self):
        config = self.container.config
        rate = float(config.get("AUTH_RATE_PER_SECOND", 5))
        burst = float(config.get("AUTH_RATE_BURST", 20))
        self.trust_forwarded_for = str(config.get("TRUST_FORWARDED_FOR", "false")).lower() in (
            "1",
            "true",
            "yes",
        )
        self.buckets = TokenBuckets(rate, burst)

    def client_of(self, request) -> str:
        """The client's address. Behind a trusted proxy, the last X-Forwarded-For
        entry is the one that proxy saw; earlier entries are the client's word
        and could be forged to dodge the limit."""
        if self.trust_forwarded_for:
            forwarded = request.headers.get("X-Forwarded-For", "")
            last = forwarded.split(",")[-1].strip()
            if last:
                return last
        return request.remote_addr or "unknown"

    def check(self, request) -> None:
        wait = self.buckets.take(self.client_of(request))
        if wait > 0:
            raise RateLimited("too many requests; slow down", retry_after=max(1, math.ceil(wait)))
