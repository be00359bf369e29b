"""Bearer tokens, checked in this process against identity's JWKS.

The JWKS is fetched by RPC (``identity.jwks()``) in the background when the
gateway starts, retried until identity answers, and fetched again only when a
token names a key id we do not know, at most once per ``JWKS_REFRESH_SECONDS``.
A token of a session that identity announced as ended (``session_revoked``,
see ``gateway.sessions``) is refused. A request never costs a call to identity.
"""

import logging
import time
import uuid
from dataclasses import dataclass

import eventlet
from nameko.extensions import DependencyProvider

from gateway.sessions import RevokedSessions
from services.common.errors import Forbidden, ServiceError, Unauthorized, Unavailable
from services.common.tokens import InvalidToken, TokenVerifier, UnknownKeyId

log = logging.getLogger(__name__)

KINDS = ("citizen", "staff", "operator")
SESSION_ENDED = "the session has ended; sign in again"


@dataclass(frozen=True)
class Access:
    """Who may call a route. ``kinds`` empty means any signed-in user; a staff
    member must also hold one of ``roles`` when roles are named. The owning
    service makes the fine-grained check (department, case) itself."""

    kinds: frozenset = frozenset()
    roles: frozenset = frozenset()

    def describe(self) -> str:
        if not self.kinds:
            return "any signed-in user"
        text = " or ".join(sorted(self.kinds))
        if self.roles:
            text += f" (staff with role {' or '.join(sorted(self.roles))})"
        return text

    def check(self, actor: dict) -> None:
        if self.kinds and actor["kind"] not in self.kinds:
            raise Forbidden(f"this route is for {self.describe()}")
        if actor["kind"] == "staff" and self.roles and not self.roles & set(actor["roles"]):
            raise Forbidden(f"this route needs the role {' or '.join(sorted(self.roles))}")


SIGNED_IN = Access()
STAFF = Access(kinds=frozenset({"staff"}))
OPERATOR = Access(kinds=frozenset({"operator"}))


def staff_with(*roles: str, operator: bool = False) -> Access:
    kinds = {"staff", "operator"} if operator else {"staff"}
    return Access(kinds=frozenset(kinds), roles=frozenset(roles))


def actor_from_claims(claims: dict) -> dict:
    """The ``actor`` argument that service commands take."""
    kind = claims.get("kind")
    if kind not in KINDS:
        raise Unauthorized("the token names no known kind of user")
    roles = claims.get("roles") or []
    return {
        "user_id": str(claims["sub"]),
        "kind": kind,
        "roles": [str(role) for role in roles] if isinstance(roles, list) else [],
        "department_code": claims.get("dept"),
        "name": claims.get("name") or "",
        "level": claims.get("lvl") or 1,
    }


def bearer_token(request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("a bearer token is required")
    return token.strip()


class KeyRing(DependencyProvider):
    """identity's public keys, held in this process.

    Fetches through the service's RPC dependency (``rpc_attr``), so a test that
    replaces that dependency also serves the keys.
    """

    def __init__(self, rpc_attr: str = "rpc"):
        self.rpc_attr = rpc_attr
        self.jwks: dict | None = None
        self.verifier: TokenVerifier | None = None
        self.loaded_at: float | None = None
        self._last_fetch = 0.0
        self._loader = None
        self.revoked_sessions = RevokedSessions()

    def setup(self):
        config = self.container.config
        self.refresh_seconds = float(config.get("JWKS_REFRESH_SECONDS", 30))
        self.retry_seconds = float(config.get("JWKS_RETRY_SECONDS", 1))
        self.revoked_sessions = RevokedSessions(
            max_entries=int(config.get("REVOKED_SESSIONS_MAX_ENTRIES", 100_000))
        )

    def start(self):
        self._loader = self.container.spawn_managed_thread(
            self._load_until_ready, identifier="jwks-loader"
        )

    def stop(self):
        if self._loader is not None:
            self._loader.kill()

    kill = stop

    @property
    def ready(self) -> bool:
        return self.verifier is not None

    def get_dependency(self, worker_ctx):
        return self

    def _rpc(self):
        for provider in self.container.dependencies:
            if provider.attr_name == self.rpc_attr:
                return provider.get_dependency(None)
        raise LookupError(f"no dependency named {self.rpc_attr!r}")

    def _fetch(self) -> None:
        self._last_fetch = time.monotonic()
        jwks = self._rpc().call("identity", "jwks", correlation_id=uuid.uuid4().hex)
        if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
            raise ValueError("identity.jwks() did not return a JWKS document")
        self.install(jwks)

    def install(self, jwks: dict) -> None:
        self.verifier = TokenVerifier(jwks)
        self.jwks = jwks
        self.loaded_at = time.time()
        log.info("JWKS loaded", extra={"kids": ",".join(sorted(self.verifier.kids))})

    def _load_until_ready(self) -> None:
        delay = self.retry_seconds
        while self.verifier is None:
            try:
                self._fetch()
            except Exception as exc:  # noqa: BLE001  (identity may not be up yet)
                log.info("JWKS not loaded yet; retrying", extra={"error": type(exc).__name__})
                eventlet.sleep(delay)
                delay = min(delay * 2, 10.0)

    def _refresh_allowed(self) -> bool:
        return time.monotonic() - self._last_fetch >= self.refresh_seconds

    def verify(self, token: str) -> dict:
        """The token's claims; Unauthorized when it is rejected or its session ended."""
        claims = self._verify_signed(token)
        if self.revoked_sessions.is_revoked(claims.get("sid")):
            raise Unauthorized(SESSION_ENDED)
        return claims

    def _verify_signed(self, token: str) -> dict:
        if self.verifier is None and self._refresh_allowed():
            self._try_refresh()
        if self.verifier is None:
            raise Unavailable("signing keys are not loaded yet; try again shortly")
        try:
            return self.verifier.verify(token)
        except UnknownKeyId:
            if not self._refresh_allowed():
                raise Unauthorized("invalid token: unknown key id") from None
            self._try_refresh()
            try:
                return self.verifier.verify(token)
            except InvalidToken as exc:
                raise Unauthorized(f"invalid token: {exc.reason}") from None
        except InvalidToken as exc:
            raise Unauthorized(f"invalid token: {exc.reason}") from None

    def _try_refresh(self) -> None:
        try:
            self._fetch()
        except ServiceError as exc:
            log.warning("JWKS refresh failed", extra={"error": exc.code})
        except Exception:  # noqa: BLE001  (keep the keys we have)
            log.warning("JWKS refresh failed", exc_info=True)

    def authenticate(self, request) -> tuple[dict, dict]:
        """(claims, actor) of the request's bearer token."""
        claims = self.verify(bearer_token(request))
        return claims, actor_from_claims(claims)
