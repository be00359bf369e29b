"""The lockout rules, on plain objects: thresholds, growth, cap, window, reset."""

from datetime import UTC, datetime, timedelta

import pytest

from services.identity.domain.lockout import (
    FailedLogins,
    LockoutPolicy,
    Scope,
    retry_after,
)

T0 = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
PHONE = LockoutPolicy(failures=5)
ADDRESS = LockoutPolicy(failures=50)


def fail(counter, times, at=T0, policy=PHONE, every=timedelta(seconds=1)):
    """``times`` failures from ``at`` on; what the last one returned, and when it was."""
    locked, moment = False, at
    for n in range(times):
        moment = at + every * n
        locked = counter.record_failure(policy, moment)
    return locked, moment


def lock(counter, at, policy=PHONE):
    locked, moment = fail(counter, policy.failures, at=at, policy=policy, every=timedelta(0))
    assert locked
    return moment


def test_the_fifth_failure_in_the_window_locks_for_a_minute():
    counter = FailedLogins(Scope.PHONE, "13800138000")
    assert fail(counter, 4)[0] is False
    assert not counter.is_locked(T0 + timedelta(seconds=4))
    locked, at = fail(counter, 1, at=T0 + timedelta(seconds=10))
    assert locked
    assert counter.locked_until == at + timedelta(minutes=1)
    assert counter.lock_count == 1
    assert counter.failures == 5
    assert counter.retry_after(at) == 60
    assert counter.retry_after(at + timedelta(seconds=59.5)) == 1
    assert counter.retry_after(at + timedelta(minutes=1)) == 0


def test_each_lock_doubles_the_wait_up_to_the_cap():
    counter = FailedLogins(Scope.PHONE, "13800138000")
    policy = LockoutPolicy(failures=5, base=timedelta(minutes=1), maximum=timedelta(minutes=5))
    waits, at = [], T0
    for _ in range(5):
        locked_at = lock(counter, at, policy)
        waits.append(counter.locked_until - locked_at)
        at = counter.locked_until
    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 5, 5)]
    assert counter.lock_count == 5


def test_the_default_cap_is_an_hour():
    assert LockoutPolicy().lock_duration(7) == timedelta(hours=1)
    assert LockoutPolicy().lock_duration(1000) == timedelta(hours=1)


def test_failures_outside_the_window_start_a_new_count():
    counter = FailedLogins(Scope.PHONE, "13800138000")
    fail(counter, 4)
    locked, _ = fail(counter, 4, at=T0 + timedelta(seconds=901))
    assert not locked
    assert counter.failures == 4
    assert fail(counter, 1, at=T0 + timedelta(seconds=950))[0]


def test_failures_while_locked_are_not_counted_and_do_not_extend_the_lock():
    counter = FailedLogins(Scope.PHONE, "13800138000")
    at = lock(counter, T0)
    until = counter.locked_until
    assert counter.record_failure(PHONE, at + timedelta(seconds=5)) is False
    assert counter.locked_until == until
    # after the lock, the count starts from nothing
    assert fail(counter, 4, at=until)[0] is False
    assert counter.failures == 4


def test_a_success_resets_the_count_and_the_growth():
    counter = FailedLogins(Scope.PHONE, "13800138000")
    lock(counter, T0)
    after = counter.locked_until
    fail(counter, 3, at=after)
    counter.record_success()
    assert counter.failures == 0 and counter.lock_count == 0
    assert fail(counter, 4, at=after + timedelta(seconds=10))[0] is False
    locked, at = fail(counter, 1, at=after + timedelta(minutes=1))
    assert locked
    assert counter.lock_count == 1
    assert counter.locked_until - at == timedelta(minutes=1)


def test_a_day_without_a_lock_resets_the_growth():
    counter = FailedLogins(Scope.PHONE, "13800138000")
    lock(counter, T0)
    lock(counter, counter.locked_until)
    assert counter.lock_count == 2
    at = lock(counter, T0 + timedelta(hours=25))
    assert counter.lock_count == 1
    assert counter.locked_until - at == timedelta(minutes=1)


def test_an_address_locks_only_after_fifty_failures():
    counter = FailedLogins(Scope.ADDRESS, "203.0.113.9")
    assert fail(counter, 49, policy=ADDRESS)[0] is False
    locked, at = fail(counter, 1, at=T0 + timedelta(seconds=60), policy=ADDRESS)
    assert locked
    assert counter.retry_after(at) == 60


def test_a_threshold_of_zero_never_locks():
    counter = FailedLogins(Scope.ADDRESS, "127.0.0.1")
    assert fail(counter, 500, policy=LockoutPolicy(failures=0))[0] is False
    assert not counter.is_locked(T0)


def test_an_operator_unlock_clears_the_lock_and_the_growth():
    counter = FailedLogins(Scope.PHONE, "13800138000")
    at = lock(counter, T0)
    counter.unlock()
    assert not counter.is_locked(at)
    assert counter.failures == 0 and counter.lock_count == 0


@pytest.mark.parametrize("seconds", [0, 30])
def test_the_wait_is_the_longest_of_the_counters(seconds):
    phone = FailedLogins(Scope.PHONE, "13800138000")
    address = FailedLogins(Scope.ADDRESS, "203.0.113.9")
    lock(phone, T0 - timedelta(seconds=seconds))
    assert retry_after([phone, None, address], T0) == 60 - seconds
    assert retry_after([None, address], T0) == 0
