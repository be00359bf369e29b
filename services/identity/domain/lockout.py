"""Sign-in lockout: failed logins counted per phone and per client address.

A phone (as typed, registered or not, so that a lock tells nothing about
registration) is locked after ``failures`` failed logins within ``window`` of
the first of them; a client address likewise with its own, larger threshold
(an office behind one NAT signs many people in). A lock lasts ``base`` and
doubles with each lock that follows (1, 2, 4 ... minutes), capped at
``maximum``. The growth starts again after a successful login (phones only:
one valid account must not clear an address that guesses at others) or after
``growth_reset`` without a lock. While locked, no password is checked and
nothing more is counted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

DEFAULT_PHONE_FAILURES = 5
DEFAULT_ADDRESS_FAILURES = 50
DEFAULT_WINDOW = timedelta(seconds=900)
DEFAULT_BASE = timedelta(seconds=60)
DEFAULT_MAXIMUM = timedelta(seconds=3600)
DEFAULT_GROWTH_RESET = timedelta(hours=24)


class Scope(StrEnum):
    PHONE = "phone"
    ADDRESS = "address"


@dataclass(frozen=True)
class LockoutPolicy:
    """When one scope's failures lock it, and for how long. ``failures`` 0
    never locks (a test cluster whose clients all share one address)."""

    failures: int = DEFAULT_PHONE_FAILURES
    window: timedelta = DEFAULT_WINDOW
    base: timedelta = DEFAULT_BASE
    maximum: timedelta = DEFAULT_MAXIMUM
    growth_reset: timedelta = DEFAULT_GROWTH_RESET

    def lock_duration(self, lock_count: int) -> timedelta:
        """How long the ``lock_count``-th lock in a row lasts (1-based)."""
        doublings = min(max(lock_count - 1, 0), 32)  # 2**32 minutes is past any cap
        return min(self.base * (2**doublings), self.maximum)


@dataclass(frozen=True)
class LockoutPolicies:
    phone: LockoutPolicy = LockoutPolicy()
    address: LockoutPolicy = LockoutPolicy(failures=DEFAULT_ADDRESS_FAILURES)

    def of(self, scope: Scope) -> LockoutPolicy:
        return self.phone if scope == Scope.PHONE else self.address


@dataclass
class FailedLogins:
    """The failed logins of one phone or one client address, and its lock.

    ``version`` is the stored row's, so a save can be made conditional on
    nobody having saved in between.
    """

    scope: Scope
    key: str
    failures: int = 0
    window_started_at: datetime | None = None
    locked_until: datetime | None = None
    lock_count: int = 0
    last_locked_at: datetime | None = None
    version: int = 0

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    def retry_after(self, now: datetime) -> int:
        """Whole seconds until the lock ends (at least 1 while locked); 0 when free."""
        if not self.is_locked(now):
            return 0
        return max(1, math.ceil((self.locked_until - now).total_seconds()))

    def record_failure(self, policy: LockoutPolicy, now: datetime) -> bool:
        """Count one failed login; True when it locks the scope.

        A failure while locked is not counted (the caller refuses those before
        any password is checked): a lock ends when its time is up, whatever is
        tried meanwhile.
        """
        if self.is_locked(now) or policy.failures <= 0:
            return False
        if (
            self.window_started_at is None
            or now >= self.window_started_at + policy.window
            or self.failures >= policy.failures  # the count that locked it last time
        ):
            self.failures = 0
            self.window_started_at = now
        self.failures += 1
        if self.failures < policy.failures:
            return False
        if self.last_locked_at is not None and now - self.last_locked_at >= policy.growth_reset:
            self.lock_count = 0
        self.lock_count += 1
        self.locked_until = now + policy.lock_duration(self.lock_count)
        self.last_locked_at = now
        return True

    def record_success(self) -> None:
        """The right password: failures and the growth of later locks start again."""
        self.failures = 0
        self.window_started_at = None
        self.lock_count = 0
        self.last_locked_at = None

    def unlock(self) -> None:
        """An operator lifts the lock: as if no login had failed."""
        self.record_success()
        self.locked_until = None


def retry_after(counters, now: datetime) -> int:
    """The longest wait of any of ``counters`` (None entries ignored); 0 when none is locked."""
    return max((counter.retry_after(now) for counter in counters if counter is not None), default=0)
