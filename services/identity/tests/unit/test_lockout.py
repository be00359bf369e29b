"""Login lockout on a SQLite unit of work: what a locked phone or address
answers, what is counted, the events, the operator's unlock and the list."""

import logging
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY

from services.common.errors import Forbidden, NotFound, Unauthorized
from services.identity.contract import EVENTS, LockedAccountPage
from services.identity.domain.lockout import FailedLogins, Scope
from services.identity.service_layer import lockout, use_cases
from services.identity.tests.unit.conftest import PASSWORD, actor_of, outbox, rows

T0 = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
PHONE = "13800138000"
UNKNOWN = "13900139000"
ADDRESS = "203.0.113.9"


def counter(name, **labels):
    return REGISTRY.get_sample_value(f"{name}_total", labels) or 0.0


def attempt(uow, crypto, phone, password, at=T0, address=ADDRESS):
    """Log in; the Unauthorized raised, or None on success."""
    try:
        use_cases.login(uow, crypto, phone, password, client_address=address, now=at)
    except Unauthorized as exc:
        return exc
    return None


def fail(uow, crypto, phone, times, at=T0, address=ADDRESS):
    return [attempt(uow, crypto, phone, "wrong1234", at, address) for _ in range(times)]


def events_of(uow, event_type):
    return [e["payload"] for e in outbox(uow) if e["type"] == event_type]


def test_five_failures_lock_the_phone_even_for_the_right_password(uow, crypto, citizen):
    locks_before = counter("tongban_identity_login_locks", scope="phone")
    locked_before = counter("tongban_identity_logins", outcome="locked")
    wrong = fail(uow, crypto, PHONE, 5)
    assert all(e.fields == {} for e in wrong)
    refused = attempt(uow, crypto, PHONE, PASSWORD, at=T0 + timedelta(seconds=1))
    assert isinstance(refused, Unauthorized)
    assert refused.message == wrong[0].message == use_cases.BAD_CREDENTIALS
    assert refused.code == wrong[0].code
    assert refused.fields == {"retry_after": "59"}
    assert rows(uow, "sessions") == []
    assert counter("tongban_identity_login_locks", scope="phone") == locks_before + 1
    assert counter("tongban_identity_logins", outcome="locked") == locked_before + 1
    # the lock runs out on its own
    assert attempt(uow, crypto, PHONE, PASSWORD, at=T0 + timedelta(minutes=1)) is None


def test_no_password_is_checked_while_locked(uow, crypto, citizen, monkeypatch):
    fail(uow, crypto, PHONE, 5)
    checked = []
    monkeypatch.setattr(crypto, "verify_password", lambda *a: checked.append(1) or True)
    monkeypatch.setattr(crypto, "verify_dummy", lambda *a: checked.append(1))
    assert isinstance(attempt(uow, crypto, PHONE, PASSWORD), Unauthorized)
    assert isinstance(attempt(uow, crypto, UNKNOWN, PASSWORD, address="198.51.100.1"), Unauthorized)
    assert checked == [1]  # only the unknown phone's (not locked) dummy check


def test_a_lock_emits_account_locked_and_logs_a_masked_phone(uow, crypto, citizen, caplog):
    with caplog.at_level(logging.WARNING):
        fail(uow, crypto, PHONE, 5)
    [payload] = events_of(uow, "account_locked")
    loaded = EVENTS["account_locked"]().load(payload)
    assert loaded["user_id"] == citizen.user_id
    assert loaded["locked_until"] == T0 + timedelta(minutes=1)
    assert loaded["failures"] == 5 and loaded["lock_count"] == 1
    [record] = [r for r in caplog.records if "locked" in r.getMessage()]
    assert record.levelno == logging.WARNING
    assert record.phone == "138****8000"
    assert PHONE not in record.getMessage() and PHONE not in str(record.__dict__)


def test_the_waits_grow(uow, crypto, citizen):
    fail(uow, crypto, PHONE, 5)
    second = T0 + timedelta(minutes=1)
    fail(uow, crypto, PHONE, 5, at=second)
    refused = attempt(uow, crypto, PHONE, PASSWORD, at=second)
    assert refused.fields == {"retry_after": "120"}
    payloads = events_of(uow, "account_locked")
    assert [p["lock_count"] for p in payloads] == [1, 2]


def test_an_unknown_phone_is_locked_the_same_way_without_an_event(uow, crypto, citizen):
    wrong = fail(uow, crypto, UNKNOWN, 5)
    refused = attempt(uow, crypto, UNKNOWN, PASSWORD)
    assert refused.message == wrong[0].message and refused.fields == {"retry_after": "60"}
    assert events_of(uow, "account_locked") == []
    # the registered phone is not touched
    assert attempt(uow, crypto, PHONE, PASSWORD) is None


def test_a_success_resets_the_phone_count(uow, crypto, citizen):
    fail(uow, crypto, PHONE, 4)
    assert attempt(uow, crypto, PHONE, PASSWORD) is None
    fail(uow, crypto, PHONE, 4)
    assert attempt(uow, crypto, PHONE, PASSWORD) is None
    [row] = [r for r in rows(uow, "login_failures") if r["scope"] == "phone"]
    assert row["failures"] == 0 and row["lock_count"] == 0


def test_an_address_is_locked_after_fifty_failures_across_phones(uow, crypto, citizen):
    uow.config = {"LOGIN_LOCK_FAILURES": "1000"}
    locks_before = counter("tongban_identity_login_locks", scope="address")
    for n in range(50):
        attempt(uow, crypto, f"1370000{n:04d}", "wrong1234")
    refused = attempt(uow, crypto, PHONE, PASSWORD)
    assert refused.fields == {"retry_after": "60"}
    assert counter("tongban_identity_login_locks", scope="address") == locks_before + 1
    # another address signs in
    assert attempt(uow, crypto, PHONE, PASSWORD, address="198.51.100.1") is None
    # no address (an internal caller): only the phone counts
    assert attempt(uow, crypto, PHONE, PASSWORD, address=None) is None


def test_a_success_does_not_clear_the_address(uow, crypto, citizen):
    uow.config = {"LOGIN_ADDRESS_LOCK_FAILURES": "3"}
    fail(uow, crypto, UNKNOWN, 2)
    assert attempt(uow, crypto, PHONE, PASSWORD) is None
    fail(uow, crypto, "13700000001", 1)
    assert attempt(uow, crypto, PHONE, PASSWORD).fields == {"retry_after": "60"}


def test_the_config_sets_the_rules(uow, crypto, citizen):
    uow.config = {
        "LOGIN_LOCK_FAILURES": 2,
        "LOGIN_LOCK_BASE_SECONDS": "5",
        "LOGIN_LOCK_MAX_SECONDS": "8",
        "LOGIN_LOCK_WINDOW_SECONDS": "30",
    }
    fail(uow, crypto, PHONE, 2)
    assert attempt(uow, crypto, PHONE, PASSWORD).fields == {"retry_after": "5"}
    later = T0 + timedelta(seconds=5)
    fail(uow, crypto, PHONE, 2, at=later)
    fail(uow, crypto, PHONE, 2, at=later + timedelta(seconds=10))
    assert attempt(uow, crypto, PHONE, PASSWORD, at=later + timedelta(seconds=10)).fields == {
        "retry_after": "8"
    }


def test_the_operator_unlocks(uow, crypto, citizen, operator):
    fail(uow, crypto, PHONE, 5)
    answer = lockout.unlock_account(uow, operator, citizen.user_id, now=T0)
    assert answer == {"user_id": citizen.user_id, "locked": False}
    [payload] = events_of(uow, "account_unlocked")
    assert EVENTS["account_unlocked"]().load(payload) == {
        "user_id": citizen.user_id,
        "unlocked_by": operator["user_id"],
    }
    assert attempt(uow, crypto, PHONE, PASSWORD) is None
    # the growth starts again too
    fail(uow, crypto, PHONE, 5)
    assert attempt(uow, crypto, PHONE, PASSWORD).fields == {"retry_after": "60"}


def test_only_an_operator_unlocks_and_only_known_accounts(uow, crypto, citizen, operator):
    with pytest.raises(Forbidden):
        lockout.unlock_account(uow, actor_of(citizen), citizen.user_id)
    with pytest.raises(NotFound):
        lockout.unlock_account(uow, operator, "nobody")
    assert events_of(uow, "account_unlocked") == []


def test_locked_accounts_lists_registered_phones_locked_now(uow, crypto, citizen):
    other = use_cases.register(uow, crypto, "13800138001", PASSWORD, "李四")
    fail(uow, crypto, PHONE, 5)
    fail(uow, crypto, "13800138001", 5, at=T0 + timedelta(seconds=10))
    fail(uow, crypto, UNKNOWN, 5)
    page = lockout.locked_accounts(uow, page=1, page_size=1, now=T0 + timedelta(seconds=30))
    assert LockedAccountPage().dump(page) == {
        "items": [{"user_id": citizen.user_id, "locked_until": "2026-12-02T08:01:00Z"}],
        "page": 1,
        "page_size": 1,
        "total": 2,
    }
    later = lockout.locked_accounts(uow, now=T0 + timedelta(seconds=65))
    assert [item["user_id"] for item in later["items"]] == [other.user_id]


def test_a_save_loses_to_one_made_since_the_read(uow):
    with uow:
        assert uow.login_failures.add(FailedLogins(Scope.PHONE, PHONE, failures=1))
        uow.commit()
    with uow:
        first = uow.login_failures.get(Scope.PHONE, PHONE)
    with uow:
        second = uow.login_failures.get(Scope.PHONE, PHONE)
        second.failures = 2
        assert uow.login_failures.save(second)
        uow.commit()
    with uow:
        first.failures = 2
        assert not uow.login_failures.save(first)
        assert not uow.login_failures.add(FailedLogins(Scope.PHONE, PHONE))
        uow.commit()
    with uow:
        assert uow.login_failures.get(Scope.PHONE, PHONE).version == 2


def test_concurrent_failures_are_all_counted(uow_factory, database_factory):
    """Replicas (here threads, each with its own unit of work on one database:
    PostgreSQL when the tests have one) counting failures of one phone at once
    lose none of them."""
    import threading

    from services.identity.service_layer.unit_of_work import IdentityUnitOfWork

    url = database_factory("identity_lockout")
    uows = [uow_factory(IdentityUnitOfWork, source="identity", url=url) for _ in range(4)]
    start = threading.Barrier(len(uows))

    def count(one):
        start.wait()
        for _ in range(3):
            lockout.failed(one, lockout.SignInAttempt(UNKNOWN, None, T0))

    uows[0].config = uows[1].config = uows[2].config = uows[3].config = {
        "LOGIN_LOCK_FAILURES": "100"
    }
    threads = [threading.Thread(target=count, args=(one,)) for one in uows]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with uows[0]:
        assert uows[0].login_failures.get(Scope.PHONE, UNKNOWN).failures == 12


def test_idle_counters_are_forgotten_but_not_live_ones(uow, crypto, citizen):
    fail(uow, crypto, UNKNOWN, 5)  # locked, then idle
    fail(uow, crypto, PHONE, 2, at=T0 + timedelta(hours=24))  # recent
    assert lockout.forget_idle(uow, now=T0 + timedelta(hours=24, minutes=1)) == 0
    assert lockout.forget_idle(uow, now=T0 + timedelta(hours=24, seconds=61)) == 1
    remaining = {(row["scope"], row["key"]) for row in rows(uow, "login_failures")}
    assert remaining == {("phone", PHONE), ("address", ADDRESS)}
