"""What the gateway adds to the licence routes: a rate limit per client on the
public checks, and the licence JWKS that merges every workflow instance's keys.

The checks (``GET /api/v1/licences/{licence_no}/verify``, ``POST
/api/v1/licences/verify``) are public and each costs an RPC and a signature
check, so each client (its address, as ``gateway.ratelimit`` finds it) gets a
bucket of its own: ``LICENCE_VERIFY_RATE_BURST`` requests (default 60), refilled
at ``LICENCE_VERIFY_RATE_PER_SECOND`` (default 10); past it, 429 with
Retry-After. Separate from the buckets of the sign-in routes, so checking
licences never locks anyone out of signing in.
"""

from nameko.extensions import DependencyProvider

from gateway.errors import RateLimited
from gateway.ratelimit import TokenBuckets, client_of, trusted_networks

DEFAULT_RATE = 10.0
DEFAULT_BURST = 60.0


class LicenceCheckLimit(DependencyProvider):
    """One set of buckets per gateway process for the public licence checks."""

    def setup(self):
        config = self.container.config
        self.buckets = TokenBuckets(
            float(config.get("LICENCE_VERIFY_RATE_PER_SECOND") or DEFAULT_RATE),
            float(config.get("LICENCE_VERIFY_RATE_BURST") or DEFAULT_BURST),
        )
        self.trusted = trusted_networks(config.get("TRUSTED_PROXIES"))

    def get_dependency(self, worker_ctx):
        return self

    def client_of(self, request) -> str:
        return client_of(request, self.trusted)

    def check(self, request) -> None:
        wait = self.buckets.take(self.client_of(request))
        if wait > 0:
            raise RateLimited(
                "too many licence checks; slow down", retry_after=max(1, int(wait + 0.999))
            )


def merged_jwks(answers: list[dict]) -> dict[str, list[dict]]:
    """Every instance's licence keys in one JWKS, each key id once."""
    keys: dict[str, dict] = {}
    for answer in answers:
        for key in answer.get("keys") or ():
            keys.setdefault(key["kid"], key)
    return {"keys": list(keys.values())}
