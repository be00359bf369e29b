"""Sessions that ended before their access tokens expired, known in this process.

identity announces a logout (or a session revoked for a reused refresh token)
with ``session_revoked {session_id, user_id, revoked_at, expires_at}``; the
gateway subscribes with one broadcast queue per process, like the catalogue
cache, and from then on refuses every token whose ``sid`` names that session.
After ``expires_at`` (revoked_at + the access token lifetime, plus the token
check's clock leeway) no token of the session passes the expiry check anyway,
so the entry is dropped.

A gateway process that was not subscribed when the event went out (started
later, or disconnected from the broker) learns of the session from
``identity.revoked_sessions``, which lists the sessions ended whose tokens may
still be alive: the process loads it whole before it reports ready, again after
its broker connection comes back, and every ``JWKS_REFRESH_SECONDS``. The
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


def load_revoked_sessions(call, revoked: RevokedSessions, since: str | None = None) -> int:
    """Record every session identity lists as ended with tokens still alive
    (``identity.revoked_sessions``, all pages; ``since`` an ISO instant narrows
    it); how many were listed. ``call(method, **arguments)`` asks identity."""
    arguments = {"since": since} if since else {}
    items = _all_pages(call, "revoked_sessions", **arguments)
    for item in items:
        apply_session_revoked(revoked, item)
    return len(items)


# --- locked accounts ------------------------------------------------------------

ACCOUNT_LOCKED = "the account is locked; try again later"


class LockedAccounts:
    """Accounts locked after failed logins, with the instant (epoch seconds)
    their lock ends, known in this process.

    Fed by identity's ``account_locked`` and ``account_unlocked`` (one broadcast
    queue per process) and loaded whole from ``identity.locked_accounts`` at
    start and again now and then (a process misses the events sent while it
    was not subscribed). A lock that runs out is not announced: it simply ends
    at ``locked_until``.
    """

    def __init__(self, clock=time.time):
        self.clock = clock
        self._until: dict[str, float] = {}
        # Unlocks heard while a load was under way: the load's answer may
        # predate them.
        self._unlocked_during_load: set[str] | None = None

    def __len__(self) -> int:
        return len(self._until)

    def lock(self, user_id: str, until: float) -> None:
        if until <= self.clock():
            return
        self._until[user_id] = max(until, self._until.get(user_id, until))
        if self._unlocked_during_load is not None:
            self._unlocked_during_load.discard(user_id)

    def unlock(self, user_id: str) -> None:
        self._until.pop(user_id, None)
        if self._unlocked_during_load is not None:
            self._unlocked_during_load.add(user_id)

    def is_locked(self, user_id) -> bool:
        until = self._until.get(user_id) if isinstance(user_id, str) else None
        if until is None:
            return False
        if self.clock() < until:
            return True
        del self._until[user_id]
        return False

    def begin_load(self) -> None:
        self._unlocked_during_load = set()

    def abandon_load(self) -> None:
        self._unlocked_during_load = None

    def finish_load(self, locks: dict[str, float]) -> None:
        """Replace the set with what identity listed (begun by :meth:`begin_load`),
        but for the accounts unlocked meanwhile."""
        unlocked = self._unlocked_during_load or set()
        self._unlocked_during_load = None
        now = self.clock()
        self._until = {
            user_id: until
            for user_id, until in locks.items()
            if until > now and user_id not in unlocked
        }


def _payload(body) -> dict:
    payload = body.get("payload") if isinstance(body, dict) else None
    if not isinstance(payload, dict):
        payload = body if isinstance(body, dict) else {}
    return payload


def apply_account_locked(locked: LockedAccounts, body) -> None:
    """Record what an ``account_locked`` event (enveloped or bare) announces."""
    payload = _payload(body)
    user_id = payload.get("user_id")
    until = _epoch_seconds(payload.get("locked_until"))
    if not isinstance(user_id, str) or not user_id or until is None:
        log.warning("account_locked without a user id or locked_until; ignored")
        return
    locked.lock(user_id, until)
    log.info("account locked", extra={"user_id": user_id})


def apply_account_unlocked(locked: LockedAccounts, body) -> None:
    """Record what an ``account_unlocked`` event (enveloped or bare) announces."""
    user_id = _payload(body).get("user_id")
    if not isinstance(user_id, str) or not user_id:
        log.warning("account_unlocked without a user id; ignored")
        return
    locked.unlock(user_id)
    log.info("account unlocked", extra={"user_id": user_id})


def load_locked_accounts(call, locked: LockedAccounts) -> int:
    """Replace the locks with identity's list (``identity.locked_accounts``, all
    pages); how many were listed."""
    locked.begin_load()
    try:
        items = _all_pages(call, "locked_accounts")
    except BaseException:
        locked.abandon_load()
        raise
    locks = {}
    for item in items:
        until = _epoch_seconds(item.get("locked_until")) if isinstance(item, dict) else None
        if until is not None and isinstance(item.get("user_id"), str):
            locks[item["user_id"]] = max(until, locks.get(item["user_id"], until))
    locked.finish_load(locks)
    return len(items)


PAGE_SIZE = 100
# A list that changed while it was read page by page is read again, this often.
READ_ATTEMPTS = 3


def _all_pages(call, method: str, **arguments) -> list[dict]:
    """Every item of a paged identity list. Pages are offsets into a list that
    may change meanwhile (entries expire at its head), so a read whose total
    moved is started again; the last attempt is taken as it is."""
    for attempt in range(1, READ_ATTEMPTS + 1):
        items, complete = _read_pages(call, method, arguments, strict=attempt < READ_ATTEMPTS)
        if complete:
            return items
    return items


def _read_pages(call, method: str, arguments: dict, strict: bool) -> tuple[list[dict], bool]:
    items: list[dict] = []
    first_total = None
    page = 1
    while True:
        answer = call(method, page=page, page_size=PAGE_SIZE, **arguments)
        found = answer.get("items") or []
        total = int(answer.get("total") or 0)
        if first_total is None:
            first_total = total
        elif total != first_total and strict:
            return items, False
        items.extend(found)
        if not found or len(items) >= total:
            return items, True
        page += 1
