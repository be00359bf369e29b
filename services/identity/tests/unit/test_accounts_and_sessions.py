"""register, login, refresh, logout and jwks on a SQLite unit of work."""

from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY

from services.common.errors import Conflict, Invalid, Unauthorized
from services.common.tokens import TokenVerifier
from services.identity.contract import EVENTS
from services.identity.domain.model import hash_refresh_token
from services.identity.service_layer import use_cases
from services.identity.tests.unit.conftest import PASSWORD, outbox, rows


def counter(name, **labels):
    return REGISTRY.get_sample_value(f"{name}_total", labels) or 0.0


def test_register_stores_an_argon2_hash_and_emits_user_registered(uow, crypto):
    before = counter("tongban_identity_registrations", kind="citizen")
    user = use_cases.register(uow, crypto, " 13800138000 ", PASSWORD, " 张三 ")
    assert user.phone == "13800138000" and user.name == "张三"
    [row] = rows(uow, "users")
    assert row["password_hash"].startswith("$argon2id$")
    assert PASSWORD not in str(row)
    assert row["kind"] == "citizen" and row["assurance_level"] == 1 and row["roles"] == []
    [envelope] = outbox(uow)
    assert envelope["type"] == "user_registered" and envelope["source"] == "identity"
    assert envelope["payload"]["user_id"] == user.user_id
    assert EVENTS["user_registered"]().load(envelope["payload"])["kind"] == "citizen"
    assert counter("tongban_identity_registrations", kind="citizen") == before + 1


def test_duplicate_phone_is_a_conflict(uow, crypto, citizen):
    with pytest.raises(Conflict, match="already registered"):
        use_cases.register(uow, crypto, "13800138000", "other1234", "李四")
    assert len(rows(uow, "users")) == 1
    assert len(outbox(uow)) == 1


def test_bad_registration_names_every_field_and_stores_nothing(uow, crypto):
    with pytest.raises(Invalid) as excinfo:
        use_cases.register(uow, crypto, "12345", "short1", "")
    assert set(excinfo.value.fields) == {"phone", "password", "name"}
    assert "short1" not in str(excinfo.value)
    assert rows(uow, "users") == [] and outbox(uow) == []


def test_login_issues_a_verifiable_access_token(uow, crypto, citizen):
    before = counter("tongban_identity_logins", outcome="success")
    pair = use_cases.login(uow, crypto, "13800138000", PASSWORD)
    assert pair.token_type == "Bearer" and pair.expires_in == 900
    claims = TokenVerifier(use_cases.jwks(uow, crypto)).verify(pair.access_token)
    assert claims["sub"] == citizen.user_id
    assert claims["sid"] == pair.session_id
    assert claims["kind"] == "citizen" and claims["roles"] == [] and claims["dept"] is None
    assert claims["lvl"] == 1 and claims["name"] == "张三"
    assert claims["exp"] - claims["iat"] == 900
    # Only the digest of the refresh token is stored.
    [token] = rows(uow, "refresh_tokens")
    assert token["token_hash"] == hash_refresh_token(pair.refresh_token)
    assert pair.refresh_token not in str(rows(uow, "refresh_tokens"))
    assert pair.refresh_token not in repr(pair)
    assert counter("tongban_identity_logins", outcome="success") == before + 1


def test_unknown_phone_and_wrong_password_look_the_same(uow, crypto, citizen, monkeypatch):
    dummy_calls = []
    real_dummy = crypto.hasher.verify_dummy
    monkeypatch.setattr(
        crypto.hasher, "verify_dummy", lambda p: dummy_calls.append(1) or real_dummy(p)
    )
    unknown_before = counter("tongban_identity_logins", outcome="unknown_phone")
    with pytest.raises(Unauthorized) as unknown:
        use_cases.login(uow, crypto, "13900139000", PASSWORD)
    with pytest.raises(Unauthorized) as wrong:
        use_cases.login(uow, crypto, "13800138000", "wrong1234")
    assert str(unknown.value) == str(wrong.value) == use_cases.BAD_CREDENTIALS
    assert dummy_calls == [1]  # the unknown phone still cost one verification
    assert rows(uow, "sessions") == []
    assert counter("tongban_identity_logins", outcome="unknown_phone") == unknown_before + 1


def test_login_upgrades_a_hash_made_with_weaker_parameters(uow, crypto, citizen):
    from services.identity.adapters.crypto import PasswordHasher

    crypto.hasher = PasswordHasher(time_cost=2, memory_cost=8, parallelism=1)
    old_hash = rows(uow, "users")[0]["password_hash"]
    use_cases.login(uow, crypto, "13800138000", PASSWORD)
    new_hash = rows(uow, "users")[0]["password_hash"]
    assert new_hash != old_hash and "t=2" in new_hash
    use_cases.login(uow, crypto, "13800138000", PASSWORD)


def test_refresh_rotates_the_pair(uow, crypto, citizen):
    first = use_cases.login(uow, crypto, "13800138000", PASSWORD)
    second = use_cases.refresh(uow, crypto, first.refresh_token)
    assert second.refresh_token != first.refresh_token
    assert second.session_id == first.session_id
    claims = TokenVerifier(use_cases.jwks(uow, crypto)).verify(second.access_token)
    assert claims["sid"] == first.session_id and claims["sub"] == citizen.user_id
    used = {row["token_hash"]: row["used_at"] for row in rows(uow, "refresh_tokens")}
    assert used[hash_refresh_token(first.refresh_token)] is not None
    assert used[hash_refresh_token(second.refresh_token)] is None
    third = use_cases.refresh(uow, crypto, second.refresh_token)
    assert third.refresh_token not in (first.refresh_token, second.refresh_token)


def test_refresh_carries_the_current_assurance_level(uow, crypto, citizen):
    first = use_cases.login(uow, crypto, "13800138000", PASSWORD)
    use_cases.verify_real_name(uow, crypto, citizen.user_id, "张三", "11010519491231002X")
    second = use_cases.refresh(uow, crypto, first.refresh_token)
    assert TokenVerifier(use_cases.jwks(uow, crypto)).verify(second.access_token)["lvl"] == 2


def test_reusing_a_spent_token_revokes_the_whole_session(uow, crypto, citizen):
    first = use_cases.login(uow, crypto, "13800138000", PASSWORD)
    second = use_cases.refresh(uow, crypto, first.refresh_token)
    reused_before = counter("tongban_identity_token_refreshes", outcome="reused")
    with pytest.raises(Unauthorized) as excinfo:
        use_cases.refresh(uow, crypto, first.refresh_token)
    assert str(excinfo.value) == use_cases.REFRESH_REJECTED
    # The revocation was committed before the error left.
    [session] = rows(uow, "sessions")
    assert session["revoked_at"] is not None
    assert session["revoked_reason"] == "refresh token reused"
    # The legitimate holder's newer token is dead as well.
    with pytest.raises(Unauthorized):
        use_cases.refresh(uow, crypto, second.refresh_token)
    assert counter("tongban_identity_token_refreshes", outcome="reused") == reused_before + 1


def test_other_sessions_survive_a_reuse(uow, crypto, citizen):
    phone = use_cases.login(uow, crypto, "13800138000", PASSWORD)
    laptop = use_cases.login(uow, crypto, "13800138000", PASSWORD)
    use_cases.refresh(uow, crypto, phone.refresh_token)
    with pytest.raises(Unauthorized):
        use_cases.refresh(uow, crypto, phone.refresh_token)
    use_cases.refresh(uow, crypto, laptop.refresh_token)


@pytest.mark.parametrize("token", ["", "not-a-token", "x" * 43])
def test_unknown_refresh_token_is_unauthorized(uow, crypto, citizen, token):
    with pytest.raises(Unauthorized) as excinfo:
        use_cases.refresh(uow, crypto, token)
    assert str(excinfo.value) == use_cases.REFRESH_REJECTED


def test_expired_refresh_token_is_unauthorized_and_keeps_the_session(uow, crypto, citizen):
    issued_at = datetime(2026, 11, 1, tzinfo=UTC)
    pair = use_cases.login(uow, crypto, "13800138000", PASSWORD, now=issued_at)
    with pytest.raises(Unauthorized) as excinfo:
        use_cases.refresh(uow, crypto, pair.refresh_token, now=issued_at + timedelta(days=30))
    assert str(excinfo.value) == use_cases.REFRESH_REJECTED
    assert rows(uow, "sessions")[0]["revoked_at"] is None
    use_cases.refresh(uow, crypto, pair.refresh_token, now=issued_at + timedelta(days=29))


def test_refresh_token_lifetime_comes_from_the_context(uow, crypto, citizen):
    crypto.refresh_token_ttl = timedelta(days=1)
    issued_at = datetime(2026, 11, 1, tzinfo=UTC)
    pair = use_cases.login(uow, crypto, "13800138000", PASSWORD, now=issued_at)
    with pytest.raises(Unauthorized):
        use_cases.refresh(uow, crypto, pair.refresh_token, now=issued_at + timedelta(days=1))


def test_a_token_spent_by_a_parallel_refresh_cannot_be_spent_again(uow, crypto, citizen):
    # What the conditional update guarantees when no row lock serialises us.
    pair = use_cases.login(uow, crypto, "13800138000", PASSWORD)
    with uow:
        token = uow.refresh_tokens.get(hash_refresh_token(pair.refresh_token))
        token.used_at = datetime.now(UTC)
        assert uow.refresh_tokens.mark_used(token) is True
        assert uow.refresh_tokens.mark_used(token) is False
        uow.commit()


def test_logout_revokes_the_session(uow, crypto, citizen):
    pair = use_cases.login(uow, crypto, "13800138000", PASSWORD)
    assert use_cases.logout(uow, crypto, pair.session_id) is None
    assert rows(uow, "sessions")[0]["revoked_reason"] == "logout"
    with pytest.raises(Unauthorized):
        use_cases.refresh(uow, crypto, pair.refresh_token)
    # Again, or for a session nobody knows: nothing happens, nothing is emitted.
    use_cases.logout(uow, crypto, pair.session_id)
    use_cases.logout(uow, crypto, "no-such-session")
    assert rows(uow, "sessions")[0]["revoked_reason"] == "logout"
    assert [e["type"] for e in outbox(uow)].count("session_revoked") == 1


def session_revocations(uow) -> list[dict]:
    return [
        EVENTS["session_revoked"]().load(envelope["payload"])
        for envelope in outbox(uow)
        if envelope["type"] == "session_revoked"
    ]


def test_logout_emits_session_revoked_until_the_last_access_token_expires(uow, crypto, citizen):
    crypto.access_token_seconds = 600
    logged_in = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    pair = use_cases.login(uow, crypto, "13800138000", PASSWORD, now=logged_in)
    assert session_revocations(uow) == []
    logged_out = logged_in + timedelta(minutes=3)
    use_cases.logout(uow, crypto, pair.session_id, now=logged_out)
    [envelope] = [e for e in outbox(uow) if e["type"] == "session_revoked"]
    assert envelope["source"] == "identity"
    assert envelope["payload"] == {
        "session_id": pair.session_id,
        "user_id": citizen.user_id,
        "revoked_at": "2026-11-02T08:03:00Z",
        "expires_at": "2026-11-02T08:13:00Z",
    }
    [payload] = session_revocations(uow)
    assert payload["expires_at"] - payload["revoked_at"] == timedelta(seconds=600)


def test_a_reuse_revocation_emits_session_revoked(uow, crypto, citizen):
    logged_in = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    other = use_cases.login(uow, crypto, "13800138000", PASSWORD, now=logged_in)
    first = use_cases.login(uow, crypto, "13800138000", PASSWORD, now=logged_in)
    use_cases.refresh(uow, crypto, first.refresh_token, now=logged_in + timedelta(minutes=1))
    assert session_revocations(uow) == []
    reused_at = logged_in + timedelta(minutes=2)
    with pytest.raises(Unauthorized):
        use_cases.refresh(uow, crypto, first.refresh_token, now=reused_at)
    [payload] = session_revocations(uow)
    assert payload == {
        "session_id": first.session_id,
        "user_id": citizen.user_id,
        "revoked_at": reused_at,
        "expires_at": reused_at + timedelta(seconds=crypto.access_token_seconds),
    }
    assert payload["session_id"] != other.session_id
    # A refresh with a token of the now revoked session emits nothing more.
    with pytest.raises(Unauthorized):
        use_cases.refresh(uow, crypto, first.refresh_token, now=reused_at)
    assert len(session_revocations(uow)) == 1


def test_jwks_makes_one_key_and_keeps_it(uow, crypto):
    document = use_cases.jwks(uow, crypto)
    assert [key["kty"] for key in document["keys"]] == ["RSA"]
    assert use_cases.jwks(uow, crypto) == document
    [stored] = rows(uow, "signing_keys")
    assert stored["kid"] == document["keys"][0]["kid"]
    assert "PRIVATE KEY" not in stored["private_key_cipher"]
    assert set(document["keys"][0]) == {"kty", "n", "e", "kid", "use", "alg"}
