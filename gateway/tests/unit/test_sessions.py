import datetime as dt

from gateway.sessions import FALLBACK_SECONDS, RevokedSessions, apply_session_revoked
from services.common.messaging.envelope import isoformat_utc, make_envelope
from services.common.tokens import TokenVerifier


class Clock:
    def __init__(self):
        self.now = 1_800_000_000.0

    def __call__(self):
        return self.now


def revoked_envelope(session_id, expires_at: float) -> dict:
    moment = dt.datetime.fromtimestamp(expires_at, dt.UTC)
    payload = {
        "session_id": session_id,
        "user_id": "u-1",
        "revoked_at": isoformat_utc(moment - dt.timedelta(minutes=15)),
        "expires_at": isoformat_utc(moment),
    }
    return make_envelope("identity", "session_revoked", payload)


def test_a_revoked_session_is_refused_until_expiry_plus_the_token_leeway():
    clock = Clock()
    revoked = RevokedSessions(grace_seconds=30, clock=clock)
    revoked.revoke("s-1", clock.now + 900)
    assert revoked.is_revoked("s-1") and not revoked.is_revoked("s-2")
    assert not revoked.is_revoked(None) and not revoked.is_revoked(["s-1"])
    clock.now += 929
    assert revoked.is_revoked("s-1")
    clock.now += 1
    assert not revoked.is_revoked("s-1") and len(revoked) == 0


def test_the_grace_covers_the_token_checks_leeway():
    assert RevokedSessions().grace_seconds >= TokenVerifier({"keys": []}).leeway


def test_expired_entries_are_dropped_and_the_size_is_bounded():
    clock = Clock()
    revoked = RevokedSessions(max_entries=3, grace_seconds=0, clock=clock)
    revoked.revoke("old", clock.now + 10)
    clock.now += 20
    revoked.revoke("a", clock.now + 900)
    assert len(revoked) == 1  # "old" went on the way
    for name in "bcd":
        revoked.revoke(name, clock.now + 900)
    assert len(revoked) == 3
    assert not revoked.is_revoked("a")  # the oldest goes first when full
    assert all(revoked.is_revoked(name) for name in "bcd")
    revoked.revoke("gone", clock.now - 1)  # already past: nothing to remember
    assert not revoked.is_revoked("gone") and len(revoked) == 3


def test_a_repeated_event_keeps_the_later_expiry():
    clock = Clock()
    revoked = RevokedSessions(grace_seconds=0, clock=clock)
    revoked.revoke("s-1", clock.now + 900)
    revoked.revoke("s-1", clock.now + 100)
    clock.now += 500
    assert revoked.is_revoked("s-1")


def test_the_event_is_read_from_its_envelope():
    clock = Clock()
    revoked = RevokedSessions(grace_seconds=0, clock=clock)
    apply_session_revoked(revoked, revoked_envelope("s-1", clock.now + 60))
    assert revoked.is_revoked("s-1")
    clock.now += 61
    assert not revoked.is_revoked("s-1")


def test_a_bad_event_is_ignored_or_kept_for_a_token_lifetime():
    clock = Clock()
    revoked = RevokedSessions(grace_seconds=0, clock=clock)
    apply_session_revoked(revoked, {"payload": {"expires_at": "2026-11-25T08:00:00Z"}})
    apply_session_revoked(revoked, "nonsense")
    assert len(revoked) == 0
    apply_session_revoked(revoked, {"payload": {"session_id": "s-1", "expires_at": "soon"}})
    clock.now += FALLBACK_SECONDS - 1
    assert revoked.is_revoked("s-1")
