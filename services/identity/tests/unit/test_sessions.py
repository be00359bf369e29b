import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from services.identity.domain.exceptions import (
    RefreshRejected,
    RefreshTokenExpired,
    RefreshTokenReused,
    SessionRevoked,
)
from services.identity.domain.model import (
    REFRESH_TOKEN_TTL,
    RefreshToken,
    Session,
    hash_refresh_token,
    new_refresh_token_secret,
)

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def test_start_issues_a_first_token():
    session, issued = Session.start("user-1", now=NOW)
    assert session.user_id == "user-1" and not session.is_revoked
    assert issued.record.session_id == session.session_id
    assert issued.record.token_hash == hash_refresh_token(issued.secret)
    assert issued.record.expires_at == NOW + REFRESH_TOKEN_TTL == NOW + timedelta(days=30)
    assert issued.record.used_at is None
    assert issued.secret not in repr(issued)


def test_only_the_digest_is_stored():
    secret = new_refresh_token_secret()
    assert len(secret) >= 43
    assert new_refresh_token_secret() != secret
    assert hash_refresh_token(secret) == hashlib.sha256(secret.encode()).hexdigest()


def test_rotation_spends_the_old_token_and_issues_a_new_one():
    session, first = Session.start("user-1", now=NOW)
    later = NOW + timedelta(minutes=20)
    second = session.rotate(first.record, now=later)
    assert first.record.used_at == later
    assert second.secret != first.secret
    assert second.record.session_id == session.session_id
    assert second.record.expires_at == later + REFRESH_TOKEN_TTL
    third = session.rotate(second.record, now=later + timedelta(minutes=20))
    assert third.record.used_at is None and not session.is_revoked


def test_reusing_a_used_token_revokes_the_session():
    session, first = Session.start("user-1", now=NOW)
    second = session.rotate(first.record, now=NOW + timedelta(minutes=1))
    with pytest.raises(RefreshTokenReused):
        session.rotate(first.record, now=NOW + timedelta(minutes=2))
    assert session.is_revoked
    assert session.revoked_reason == "refresh token reused"
    # The legitimate holder's newer token is dead too.
    with pytest.raises(SessionRevoked):
        session.rotate(second.record, now=NOW + timedelta(minutes=3))


def test_expired_token_is_rejected():
    session, first = Session.start("user-1", now=NOW, ttl=timedelta(days=30))
    with pytest.raises(RefreshTokenExpired):
        session.rotate(first.record, now=NOW + timedelta(days=30))
    assert first.record.used_at is None and not session.is_revoked


def test_token_just_before_expiry_still_works():
    session, first = Session.start("user-1", now=NOW)
    session.rotate(first.record, now=NOW + REFRESH_TOKEN_TTL - timedelta(seconds=1))


def test_logout_revokes_the_session():
    session, first = Session.start("user-1", now=NOW)
    session.logout(now=NOW + timedelta(minutes=5))
    assert session.is_revoked and session.revoked_reason == "logout"
    assert session.revoked_at == NOW + timedelta(minutes=5)
    with pytest.raises(SessionRevoked):
        session.rotate(first.record, now=NOW + timedelta(minutes=6))
    assert first.record.used_at is None


def test_revocation_is_idempotent():
    session, _ = Session.start("user-1", now=NOW)
    session.revoke(now=NOW, reason="refresh token reused")
    session.logout(now=NOW + timedelta(hours=1))
    assert session.revoked_at == NOW
    assert session.revoked_reason == "refresh token reused"


def test_all_rejections_share_one_base():
    for error in (RefreshTokenReused, RefreshTokenExpired, SessionRevoked):
        assert issubclass(error, RefreshRejected)


def test_token_from_another_session_is_a_programming_error():
    session, _ = Session.start("user-1", now=NOW)
    _, other = Session.start("user-1", now=NOW)
    with pytest.raises(ValueError):
        session.rotate(other.record, now=NOW)


def test_refresh_token_expiry_check():
    token = RefreshToken("h", "s", NOW, NOW + timedelta(days=1))
    assert not token.is_expired(NOW)
    assert token.is_expired(NOW + timedelta(days=1))


def test_the_revoked_event_names_when_the_last_access_token_expires():
    session, _ = Session.start("user-1", now=NOW)
    with pytest.raises(ValueError):
        session.revoked_event(timedelta(minutes=15))
    session.logout(now=NOW + timedelta(minutes=5))
    event = session.revoked_event(timedelta(minutes=15))
    assert event.type == "session_revoked"
    assert (event.session_id, event.user_id) == (session.session_id, "user-1")
    assert event.revoked_at == NOW + timedelta(minutes=5)
    assert event.expires_at == NOW + timedelta(minutes=20)
