"""Fixtures for the gateway's tests: real RSA-signed tokens and a fake RPC pool."""

import base64
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

KID = "test-key-1"
BACKGROUND_CALLS = frozenset(
    {
        "jwks",
        "revoked_sessions",
        "locked_accounts",
        "list_regions",
        "list_departments",
        "export_items",
    }
)


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class Signer:
    """Signs access tokens the way identity does; publishes the matching JWKS."""

    def __init__(self, kid: str = KID):
        self.kid = kid
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    @property
    def jwks(self) -> dict:
        numbers = self.key.public_key().public_numbers()
        return {
            "keys": [
                {
                    "kty": "RSA",
                    "kid": self.kid,
                    "use": "sig",
                    "alg": "RS256",
                    "n": _b64(numbers.n),
                    "e": _b64(numbers.e),
                }
            ]
        }

    def token(
        self,
        kind: str = "citizen",
        roles=(),
        dept=None,
        sub: str = "u-1",
        expires_in: int = 900,
        **overrides,
    ) -> str:
        now = int(time.time())
        claims = {
            "iss": "tongban-identity",
            "aud": "tongban",
            "sub": sub,
            "sid": "s-1",
            "kind": kind,
            "roles": list(roles),
            "dept": dept,
            "lvl": 2,
            "name": "张三",
            "iat": now,
            "exp": now + expires_in,
        }
        claims.update(overrides)
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})


class FakeRpc:
    """Stands in for RpcClientPool: canned answers per (service, method).

    An answer may be a value, an exception (raised) or a callable taking the
    keyword arguments.
    """

    def __init__(self, jwks: dict):
        self.answers: dict[tuple[str, str], object] = {("identity", "jwks"): jwks}
        self.calls: list[tuple[str, str, dict]] = []

    def call(self, service, method, correlation_id=None, **kwargs):
        self.calls.append((service, method, dict(kwargs, correlation_id=correlation_id)))
        answer = self.answers.get((service, method), {})
        if isinstance(answer, BaseException):
            raise answer
        if callable(answer):
            return answer(**kwargs)
        return answer

    def calls_to(self, service, method) -> list[dict]:
        return [kw for s, m, kw in self.calls if (s, m) == (service, method)]

    @property
    def request_calls(self) -> list[tuple[str, str, dict]]:
        """The calls made for requests, not by the gateway's own loaders (signing
        keys, the search index)."""
        return [c for c in self.calls if c[1] not in BACKGROUND_CALLS]


@pytest.fixture(scope="session")
def signer():
    return Signer()


@pytest.fixture
def fake_rpc(signer):
    return FakeRpc(signer.jwks)


def unique() -> str:
    return uuid.uuid4().hex[:8]
