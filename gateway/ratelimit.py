"""Who the client is, and token buckets per client.

The client is its address: the connection's, or behind a trusted proxy the one
that proxy saw (:func:`client_of`, ``TRUSTED_PROXIES``).

Two sets of buckets, each client with a bucket in each:

- the routes that take passwords and refresh tokens (register, login,
  refresh): ``AUTH_RATE_BURST`` requests refilled at ``AUTH_RATE_PER_SECOND``;
- the public reads (item search, item guides, stores, licence checks):
  ``PUBLIC_RATE_BURST`` refilled at ``PUBLIC_RATE_PER_SECOND``; 0 turns it off.

A request with an empty bucket gets a 429 with Retry-After. The tables are
bounded: the least recently seen clients go first. Each gateway process keeps
its own buckets, so the effective limit of a client is the per-process limit
times the processes it reaches (failed logins, by contrast, are counted by
identity for every process at once).
"""

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Iterable

from nameko.extensions import SharedExtension

from gateway.errors import RateLimited

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# The longest client address identity counts failed sign-ins of (an IPv6
# address with a zone fits).
MAX_ADDRESS = 64

DEFAULT_PUBLIC_RATE = 50.0
DEFAULT_PUBLIC_BURST = 200.0


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


def trusted_networks(text) -> tuple[Network, ...]:
    """``TRUSTED_PROXIES``: comma-separated CIDRs (a bare address is a /32 or
    /128). Raises ValueError naming a bad entry, so a typo stops the start
    rather than trusting nobody (or everybody) silently."""
    networks = []
    for entry in str(text or "").split(","):
        entry = entry.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"TRUSTED_PROXIES: {entry!r} is not a CIDR") from None
    return tuple(networks)


def _address(text: str):
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _is_trusted(address, trusted: Iterable[Network]) -> bool:
    return address is not None and any(address in network for network in trusted)


def client_of(request, trusted: Iterable[Network] = ()) -> str:
    """The client's address.

    X-Forwarded-For is believed only when the connection comes from a trusted
    proxy: then the client is the right-most entry that is not itself a trusted
    proxy (each proxy appends the address it saw; what is left of that is the
    client's own word and could be forged to dodge a limit or a lock). A
    malformed entry there is taken as it is (cut to ``MAX_ADDRESS`` characters):
    a proxy of ours did not write it.
    """
    trusted = tuple(trusted)
    remote = request.remote_addr or "unknown"
    if not trusted or not _is_trusted(_address(remote), trusted):
        return remote
    hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        if not _is_trusted(_address(hop), trusted):
            return hop[:MAX_ADDRESS]
    # Every hop is a proxy of ours (or there is no header): the first one is the
    # nearest the client we know of.
    return next((hop for hop in hops if hop), remote)[:MAX_ADDRESS]


class RateLimiter(SharedExtension):
    """The client addresses and the buckets of one gateway process, shared by
    every route (``@route(rate_limited=True)``: sign-in; ``public_read=True``:
    public reads)."""

    def setup(self):
        config = self.container.config
        self.trusted = trusted_networks(config.get("TRUSTED_PROXIES"))
        self.auth = TokenBuckets(
            float(config.get("AUTH_RATE_PER_SECOND", 5)), float(config.get("AUTH_RATE_BURST", 20))
        )
        public_rate = _number(config, "PUBLIC_RATE_PER_SECOND", DEFAULT_PUBLIC_RATE)
        public_burst = _number(config, "PUBLIC_RATE_BURST", DEFAULT_PUBLIC_BURST)
        self.public = TokenBuckets(public_rate, public_burst) if public_rate > 0 else None

    def client_of(self, request) -> str:
        return client_of(request, self.trusted)

    def check(self, client: str) -> None:
        """The sign-in routes' limit for ``client`` (``client_of`` the request)."""
        _take(self.auth, client, "too many requests; slow down")

    def check_public(self, client: str) -> None:
        """The public reads' limit (none when PUBLIC_RATE_PER_SECOND is 0)."""
        if self.public is not None:
            _take(self.public, client, "too many requests; slow down")


def _number(config, name: str, default: float) -> float:
    value = config.get(name)
    return default if value in (None, "") else float(value)


def _take(buckets: TokenBuckets, client: str, message: str) -> None:
    wait = buckets.take(client)
    if wait > 0:
        raise RateLimited(message, retry_after=max(1, math.ceil(wait)))
