"""Bearer tokens, checked in this process against identity's JWKS.

A background thread of each gateway process loads, before the process reports
ready, identity's JWKS (``identity.jwks()``), the sessions ended whose tokens may
still be alive (``identity.revoked_sessions``) and the accounts locked now
(``identity.locked_accounts``), retrying until identity answers; then it loads
them again every ``JWKS_REFRESH_SECONDS`` (identity publishes a new key
``SIGNING_KEY_PUBLISH_SECONDS`` before it signs with it, longer than that) and
the ended sessions and locks also as soon as the broker connection comes back
(the events sent meanwhile were missed). A token naming a key id we do not
know fetches the JWKS at once, at most once per ``JWKS_MIN_REFETCH_SECONDS``.
Between loads, ``session_revoked``, ``account_locked`` and ``account_unlocked``
keep the sets current (see ``gateway.sessions``). A request never costs a call
to identity.
"""

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import eventlet
from nameko.extensions import DependencyProvider

from gateway.sessions import (
    ACCOUNT_LOCKED,
    LockedAccounts,
    RevokedSessions,
    load_locked_accounts,
    load_revoked_sessions,
)
from services.common.errors import Forbidden, ServiceError, Unauthorized, Unavailable
from services.common.messaging.envelope import isoformat_utc
from services.common.tokens import InvalidToken, TokenVerifier, UnknownKeyId

log = logging.getLogger(__name__)

KINDS = ("citizen", "staff", "operator")
SESSION_ENDED = "the session has ended; sign in again"
DEFAULT_REFRESH_SECONDS = 300.0
DEFAULT_MIN_REFETCH_SECONDS = 10.0
MIN_REFRESH_SECONDS = 1.0
# A load of the sessions ended since the last one reaches back this much further.
SINCE_OVERLAP_SECONDS = 60.0


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
    """identity's public keys, the ended sessions and the locked accounts, held
    in this process.

    Fetches through the service's RPC dependency (``rpc_attr``), so a test that
    replaces that dependency also serves them.
    """

    def __init__(self, rpc_attr: str = "rpc"):
        self.rpc_attr = rpc_attr
        self.jwks: dict | None = None
        self.verifier: TokenVerifier | None = None
        self.loaded_at: float | None = None
        self.refresh_seconds = DEFAULT_REFRESH_SECONDS
        self.min_refetch_seconds = DEFAULT_MIN_REFETCH_SECONDS
        self.retry_seconds = 1.0
        self._last_fetch = float("-inf")
        self._loader = None
        self.revoked_sessions = RevokedSessions()
        self.locked_accounts = LockedAccounts()
        self.sessions_loaded = False
        self.locks_loaded = False
        # Wall-clock instant the last complete load of ended sessions began.
        self._sessions_loaded_from: float | None = None

    def setup(self):
        config = self.container.config
        self.refresh_seconds = _seconds(config, "JWKS_REFRESH_SECONDS", DEFAULT_REFRESH_SECONDS)
        self.min_refetch_seconds = _seconds(
            config, "JWKS_MIN_REFETCH_SECONDS", DEFAULT_MIN_REFETCH_SECONDS
        )
        self.retry_seconds = _seconds(config, "JWKS_RETRY_SECONDS", 1.0)
        self.revoked_sessions = RevokedSessions(
            max_entries=int(config.get("REVOKED_SESSIONS_MAX_ENTRIES", 100_000))
        )
        self.locked_accounts = LockedAccounts()

    def start(self):
        self._watch_reconnects()
        self._loader = self.container.spawn_managed_thread(
            self._keep_loaded, identifier="jwks-loader"
        )

    def stop(self):
        if self._loader is not None:
            self._loader.kill()

    kill = stop

    @property
    def ready(self) -> bool:
        return self.verifier is not None and self.sessions_loaded and self.locks_loaded

    def checks(self) -> dict[str, str]:
        """What readiness reports of this: each part ``ok`` or ``not loaded``."""
        return {
            "jwks": "ok" if self.verifier is not None else "not loaded",
            "revoked_sessions": "ok" if self.sessions_loaded else "not loaded",
            "locked_accounts": "ok" if self.locks_loaded else "not loaded",
        }

    def get_dependency(self, worker_ctx):
        return self

    def _rpc(self):
        for provider in self.container.dependencies:
            if provider.attr_name == self.rpc_attr:
                return provider.get_dependency(None)
        raise LookupError(f"no dependency named {self.rpc_attr!r}")

    def _identity(self, method: str, **arguments):
        return self._rpc().call("identity", method, correlation_id=uuid.uuid4().hex, **arguments)

    # -- loading ----------------------------------------------------------------

    def _fetch(self) -> None:
        self._last_fetch = time.monotonic()
        jwks = self._identity("jwks")
        if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
            raise ValueError("identity.jwks() did not return a JWKS document")
        self.install(jwks)

    def install(self, jwks: dict) -> None:
        self.verifier = TokenVerifier(jwks)
        self.jwks = jwks
        self.loaded_at = time.time()
        log.info("JWKS loaded", extra={"kids": ",".join(sorted(self.verifier.kids))})

    def load_revoked_sessions(self) -> None:
        """All the ended sessions at first, then those ended since the last load
        (a minute's overlap covers clocks that differ)."""
        started = time.time()
        since = None
        if self._sessions_loaded_from is not None:
            since = isoformat_utc(
                datetime.fromtimestamp(self._sessions_loaded_from - SINCE_OVERLAP_SECONDS, UTC)
            )
        count = load_revoked_sessions(
            lambda method, **arguments: self._identity(method, **arguments),
            self.revoked_sessions,
            since=since,
        )
        self._sessions_loaded_from = started
        if not self.sessions_loaded:
            log.info("ended sessions loaded", extra={"sessions": count})
        self.sessions_loaded = True

    def load_locked_accounts(self) -> None:
        count = load_locked_accounts(
            lambda method, **arguments: self._identity(method, **arguments),
            self.locked_accounts,
        )
        if not self.locks_loaded:
            log.info("locked accounts loaded", extra={"accounts": count})
        self.locks_loaded = True

    def _load_all(self) -> bool:
        """One round of every load; True when each succeeded."""
        complete = True
        for name, load in (
            ("jwks", self._fetch),
            ("revoked_sessions", self.load_revoked_sessions),
            ("locked_accounts", self.load_locked_accounts),
        ):
            try:
                load()
            except Exception as exc:  # noqa: BLE001  (identity may not be up yet; keep what we have)
                complete = False
                level = logging.INFO if not self.ready else logging.WARNING
                log.log(level, "load failed; retrying", extra={"part": name, "error": _name(exc)})
        return complete

    def _keep_loaded(self) -> None:
        delay = self.retry_seconds
        while True:
            if self._load_all():
                delay = self.retry_seconds
                eventlet.sleep(max(self.refresh_seconds, MIN_REFRESH_SECONDS))
            else:
                eventlet.sleep(delay)
                delay = min(delay * 2, 10.0)

    def _watch_reconnects(self) -> None:
        """Reload the ended sessions and the locks whenever the broker
        connection of this process's event consumers is (re)established:
        kombu calls ``on_consume_ready`` after every connection, the first
        included."""
        consumers = {
            id(extension): extension
            for extension in self.container.extensions
            if callable(getattr(extension, "on_consume_ready", None))
        }
        for consumer in consumers.values():
            original = consumer.on_consume_ready

            def on_consume_ready(*args, _original=original, **kwargs):
                _original(*args, **kwargs)
                if self.sessions_loaded or self.locks_loaded:
                    self.container.spawn_managed_thread(
                        self._reload_after_reconnect, identifier="reload-after-reconnect"
                    )

            consumer.on_consume_ready = on_consume_ready

    def _reload_after_reconnect(self) -> None:
        log.info("broker connection back; reloading ended sessions and locks")
        for load in (self.load_revoked_sessions, self.load_locked_accounts):
            try:
                load()
            except Exception as exc:  # noqa: BLE001  (the periodic load tries again)
                log.warning("reload after reconnect failed", extra={"error": _name(exc)})

    def _refetch_allowed(self) -> bool:
        return time.monotonic() - self._last_fetch >= self.min_refetch_seconds

    # -- checking ---------------------------------------------------------------

    def verify(self, token: str) -> dict:
        """The token's claims; Unauthorized when it is rejected, its session
        ended or its account is locked."""
        claims = self._verify_signed(token)
        if self.revoked_sessions.is_revoked(claims.get("sid")):
            raise Unauthorized(SESSION_ENDED)
        if self.locked_accounts.is_locked(claims.get("sub")):
            raise Unauthorized(ACCOUNT_LOCKED)
        return claims

    def _verify_signed(self, token: str) -> dict:
        if self.verifier is None and self._refetch_allowed():
            self._try_refresh()
        if self.verifier is None:
            raise Unavailable("signing keys are not loaded yet; try again shortly")
        try:
            return self.verifier.verify(token)
        except UnknownKeyId:
            if not self._refetch_allowed():
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


def _seconds(config: dict, name: str, default: float) -> float:
    value = config.get(name)
    return default if value in (None, "") else float(value)


def _name(exc: Exception) -> str:
    return exc.code if isinstance(exc, ServiceError) else type(exc).__name__
