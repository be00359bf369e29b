"""Sessions that ended before their access tokens expired, known in this process.

identity announces a logout (or a session revoked for a reused refresh token)
with ``session_revoked {session_id, user_id, revoked_at, expires_at}``; the
gateway subscribes with one broadcast queue per process, like the catalogue
cache, and from then on refuses every token whose ``sid`` names that session.
After ``expires_at`` (revoked_at + the access token lifetime, plus the token
check's clock leeway) no token of the session passes the expiry check anyway,
so the entry is dropped.

What this does not cover: a gateway process that was not subscribed when the
event went out (started later, or disconnected from the broker) never hears of
it and accepts the session's tokens until they expire, 15 minutes at most. The
set is bounded (``REVOKED_SESSIONS_MAX_ENTRIES``); should more sessions end
within one token lifetime, the oldest entries go first and are logged.
"""

import datetime as dt
import logging
import time
from collections import OrderedDict

from services.common.tokens import TokenVerifier

log = logging.getLogger(__name__)

# Kept this much longer than expires_at: TokenVerifier accepts a token this many
# seconds past its exp (clock leeway).
GRACE_SECONDS = TokenVerifier({"keys": []}).leeway
# When an event names no usable expires_at: the contracted access token lifetime.
FALLBACK_SECONDS = 900.0


class RevokedSessions:
    """Session ids with the instant (epoch seconds) until which they are refused."""

    def __init__(
        self,
        max_entries: int = 100_000,
        grace_seconds: float = GRACE_SECONDS,
        clock=time.time,
    ):
        self.max_entries = max_entries
        self.grace_seconds = grace_seconds
        self.clock = clock
        # Insertion order is roughly expiry order (expires_at = revoked_at + a
        # constant), so expired entries gather at the front.
        self._until: OrderedDict[str, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._until)

    def revoke(self, session_id: str, expires_at: float) -> None:
        """Refuse ``session_id`` until ``expires_at`` (epoch seconds) plus the grace."""
        now = self.clock()
        until = expires_at + self.grace_seconds
        if until <= now:
            return
        until = max(until, self._until.pop(session_id, until))
        self._until[session_id] = until
        self._drop_expired(now)
        while len(self._until) > self.max_entries:
            dropped, dropped_until = self._until.popitem(last=False)
            if dropped_until > now:
                log.warning(
                    "revoked sessions full; forgetting one before its tokens expire",
                    extra={"session_id": dropped, "max_entries": self.max_entries},
                )

    def is_revoked(self, session_id) -> bool:
        until = self._until.get(session_id) if isinstance(session_id, str) else None
        if until is None:
            return False
        if self.clock() < until:
            return True
        del self._until[session_id]
        return False

    def _drop_expired(self, now: float) -> None:
        while self._until:
            session_id, until = next(iter(self._until.items()))
            if until > now:
                return
            del self._until[session_id]


def _epoch_seconds(value) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


def apply_session_revoked(revoked: RevokedSessions, body) -> None:
    """Record what a ``session_revoked`` event (enveloped or bare) announces."""
    payload = body.get("payload") if isinstance(body, dict) else None
    if not isinstance(payload, dict):
        payload = body if isinstance(body, dict) else {}
    session_id = payload.get("session_id")
    if not isinstance(session_id, str) or not session_id:
        log.warning("session_revoked without a session id; ignored")
        return
    expires_at = _epoch_seconds(payload.get("expires_at"))
    if expires_at is None:
        # Better to refuse the session for a whole token lifetime than not at all.
        log.warning("session_revoked without a usable expires_at", extra={"session_id": session_id})
        expires_at = revoked.clock() + FALLBACK_SECONDS
    revoked.revoke(session_id, expires_at)
    log.info("session revoked", extra={"session_id": session_id})
