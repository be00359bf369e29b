"""The department system's own sessions, in memory: a browser's session (keyed
by the portal's cookie) holds the sign-ins it has started and, once back from
tongban, who is signed in. Back-channel logouts end sessions by the
provider's ``sid`` and/or ``sub``; the logout tokens already acted on are
remembered until they expire (:class:`SeenTokenIds`).

Thread-safe: the server answers each request on a thread of its own.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace

# A sign-in not completed within this long is forgotten (and its state refused).
PENDING_SECONDS = 600
# A browser may start a few sign-ins at once (several tabs); older ones are dropped.
MAX_PENDING = 5
# A session unused this long ends, signed in or not.
IDLE_SECONDS = 8 * 3600
DEFAULT_CAPACITY = 10_000


@dataclass(frozen=True)
class AuthorizationRequest:
    """A sign-in sent to tongban and not yet back: what the callback must match."""

    state: str
    nonce: str
    code_verifier: str
    started_at: float


@dataclass(frozen=True)
class SignedIn:
    """Who is signed in, from the verified ID token."""

    sub: str
    sid: str | None
    name: str | None
    acr: str | None
    phone_number: str | None
    id_token: str
    signed_in_at: float

    @classmethod
    def from_claims(cls, claims: dict, id_token: str, now: float) -> SignedIn:
        return cls(
            sub=claims["sub"],
            sid=claims.get("sid"),
            name=claims.get("name"),
            acr=claims.get("acr"),
            phone_number=claims.get("phone_number"),
            id_token=id_token,
            signed_in_at=now,
        )

    def listed(self) -> dict:
        """The session as ``GET /api/sessions`` lists it (no token)."""
        return {
            "sid": self.sid,
            "sub": self.sub,
            "name": self.name,
            "acr": self.acr,
            "signed_in_at": int(self.signed_in_at),
        }


@dataclass
class Session:
    """One browser's session; ``key`` is its cookie's value."""

    key: str
    used_at: float
    pending: dict[str, AuthorizationRequest] = field(default_factory=dict)
    user: SignedIn | None = None
    # The state sent with the last RP-initiated logout, to greet the browser
    # when tongban sends it back.
    logout_state: str | None = None


def new_key() -> str:
    return secrets.token_urlsafe(32)


class Sessions:
    """The sessions of every browser, the least recently used dropped first
    beyond ``capacity``. Answers are copies: change them through the methods."""

    def __init__(
        self, capacity: int = DEFAULT_CAPACITY, clock: Callable[[], float] = time.time
    ) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._capacity = capacity
        self._clock = clock
        self._lock = threading.Lock()
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def _live(self, key: str | None, now: float) -> Session | None:
        session = self._sessions.get(key) if key else None
        if session is None:
            return None
        if now - session.used_at > IDLE_SECONDS:
            del self._sessions[key]
            return None
        session.used_at = now
        self._sessions.move_to_end(key)
        return session

    def _store(self, session: Session) -> None:
        self._sessions[session.key] = session
        self._sessions.move_to_end(session.key)
        while len(self._sessions) > self._capacity:
            self._sessions.popitem(last=False)

    @staticmethod
    def _copy(session: Session) -> Session:
        return replace(session, pending=dict(session.pending))

    def get(self, key: str | None) -> Session | None:
        """The live session of cookie value ``key``, or None."""
        with self._lock:
            session = self._live(key, self._clock())
            return self._copy(session) if session else None

    def start_sign_in(self, key: str | None, request: AuthorizationRequest) -> str:
        """Remember ``request`` in the session of ``key`` (a new session when
        there is none); the session's key, for the cookie."""
        with self._lock:
            now = self._clock()
            session = self._live(key, now) or Session(key=new_key(), used_at=now)
            session.pending = {
                state: pending
                for state, pending in session.pending.items()
                if now - pending.started_at <= PENDING_SECONDS
            }
            while len(session.pending) >= MAX_PENDING:
                del session.pending[next(iter(session.pending))]
            session.pending[request.state] = request
            self._store(session)
            return session.key

    def take_sign_in(self, key: str | None, state: str) -> AuthorizationRequest | None:
        """The session's pending sign-in of ``state``, forgotten as it is
        taken (a state is good once); None when unknown or too old."""
        with self._lock:
            now = self._clock()
            session = self._live(key, now)
            if session is None:
                return None
            request = session.pending.pop(state, None)
            if request is None or now - request.started_at > PENDING_SECONDS:
                return None
            return request

    def sign_in(self, key: str, user: SignedIn) -> str:
        """Sign ``user`` in to the session of ``key`` under a new key (the old
        cookie value stops working: no session fixation); the new key."""
        with self._lock:
            now = self._clock()
            old = self._sessions.pop(key, None)
            pending = old.pending if old else {}
            session = Session(key=new_key(), used_at=now, pending=pending, user=user)
            self._store(session)
            return session.key

    def sign_out(self, key: str | None, logout_state: str | None = None) -> SignedIn | None:
        """End the sign-in of the session of ``key``; who was signed in."""
        with self._lock:
            session = self._live(key, self._clock())
            if session is None:
                return None
            user, session.user = session.user, None
            session.logout_state = logout_state
            return user

    def end(self, *, sub: str | None, sid: str | None) -> int:
        """End every sign-in of the provider's session ``sid`` (of ``sub``
        when both are given) or, with no ``sid``, every sign-in of ``sub``
        (Back-Channel Logout 1.0 §2.7); how many ended."""
        if sub is None and sid is None:
            return 0
        ended = 0
        with self._lock:
            for session in self._sessions.values():
                user = session.user
                if user is None:
                    continue
                if (sid is None or user.sid == sid) and (sub is None or user.sub == sub):
                    session.user = None
                    ended += 1
        return ended

    def signed_in(self) -> list[SignedIn]:
        """Who is signed in now, in every live session, the longest first."""
        with self._lock:
            now = self._clock()
            return sorted(
                (
                    session.user
                    for session in self._sessions.values()
                    if session.user is not None and now - session.used_at <= IDLE_SECONDS
                ),
                key=lambda user: user.signed_in_at,
            )


class SeenTokenIds:
    """The ``jti`` of every logout token acted on, until the token expires
    (Back-Channel Logout 1.0 §2.6 step 7): a replayed token is refused."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._expiry: dict[str, float] = {}

    def first_time(self, jti: str, expires_at: float) -> bool:
        """Record ``jti``; whether it was not seen before."""
        with self._lock:
            now = self._clock()
            self._expiry = {seen: until for seen, until in self._expiry.items() if until >= now}
            if jti in self._expiry:
                return False
            self._expiry[jti] = expires_at
            return True
