"""Sign-in lockout use cases: what login asks before and tells after checking a
password, and the operator's unlock.

Failed logins are counted per phone as typed (registered or not) and per client
address, in identity's database, so every replica sees the same counts and
locks (rules: ``services.identity.domain.lockout``). While either is locked,
login answers the same Unauthorized as a wrong password, with ``retry_after``
in its fields, and checks no password.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.common import errors
from services.common.messaging.envelope import utcnow
from services.identity.domain.events import AccountLocked, AccountUnlocked
from services.identity.domain.exceptions import NotPermitted
from services.identity.domain.id_numbers import mask_phone
from services.identity.domain.lockout import (
    DEFAULT_ADDRESS_FAILURES,
    DEFAULT_BASE,
    DEFAULT_MAXIMUM,
    DEFAULT_PHONE_FAILURES,
    DEFAULT_WINDOW,
    FailedLogins,
    LockoutPolicies,
    LockoutPolicy,
    Scope,
    retry_after,
)
from services.identity.domain.model import UserKind
from services.identity.metrics import LOGIN_LOCKS

log = logging.getLogger(__name__)

# Rounds of "read, count, save if nobody saved meanwhile" before giving up on
# counting one failure (each lost round means another replica just counted).
SAVE_ATTEMPTS = 5


def policies_from(config: Mapping) -> LockoutPolicies:
    """The lockout rules from the service's config (LOGIN_LOCK_*)."""

    def seconds(name: str, default: timedelta) -> timedelta:
        value = config.get(name)
        return timedelta(seconds=float(value)) if value not in (None, "") else default

    def count(name: str, default: int) -> int:
        value = config.get(name)
        return int(value) if value not in (None, "") else default

    window = seconds("LOGIN_LOCK_WINDOW_SECONDS", DEFAULT_WINDOW)
    base = seconds("LOGIN_LOCK_BASE_SECONDS", DEFAULT_BASE)
    maximum = max(seconds("LOGIN_LOCK_MAX_SECONDS", DEFAULT_MAXIMUM), base)
    return LockoutPolicies(
        phone=LockoutPolicy(
            failures=count("LOGIN_LOCK_FAILURES", DEFAULT_PHONE_FAILURES),
            window=window,
            base=base,
            maximum=maximum,
        ),
        address=LockoutPolicy(
            failures=count("LOGIN_ADDRESS_LOCK_FAILURES", DEFAULT_ADDRESS_FAILURES),
            window=window,
            base=base,
            maximum=maximum,
        ),
    )


@dataclass
class SignInAttempt:
    """One login's phone and client address, and their counters as read before
    the password is checked (None: nothing failed there lately)."""

    phone: str
    client_address: str | None
    now: datetime
    counters: dict[Scope, FailedLogins | None] = field(default_factory=dict)

    @property
    def retry_after(self) -> int:
        """Seconds until neither the phone nor the address is locked; 0: go ahead."""
        return retry_after(self.counters.values(), self.now)

    def keys(self) -> dict[Scope, str]:
        keys = {Scope.PHONE: self.phone}
        if self.client_address:
            keys[Scope.ADDRESS] = self.client_address
        return keys


def begin(uow, phone: str, client_address: str | None, now: datetime) -> SignInAttempt:
    """Inside the caller's transaction: read the counters of the phone and the
    address. The caller refuses the login while ``retry_after`` is not 0."""
    attempt = SignInAttempt(phone=phone, client_address=client_address, now=now)
    for scope, key in attempt.keys().items():
        attempt.counters[scope] = uow.login_failures.get(scope, key)
    return attempt


def failed(uow, attempt: SignInAttempt) -> None:
    """Count a failed login against the phone and the address, each in its own
    transaction; a count that reaches the threshold locks (and, for a
    registered account's phone, emits ``account_locked``)."""
    policies = policies_from(uow.config)
    for scope, key in attempt.keys().items():
        if policies.of(scope).failures > 0:  # 0: that scope never locks
            _count_failure(uow, policies.of(scope), scope, key, attempt.now)


def succeeded(uow, attempt: SignInAttempt) -> None:
    """Inside the caller's transaction (the one opening the session): the phone's
    failures and the growth of its next lock start again. The address's count
    stays: one valid account must not clear an address guessing at others."""
    if attempt.counters.get(Scope.PHONE) is None:
        return
    counter = uow.login_failures.get(Scope.PHONE, attempt.phone, for_update=True)
    if counter is None or counter.is_locked(attempt.now):
        return  # locked meanwhile by failures elsewhere: that lock stands
    counter.record_success()
    uow.login_failures.save(counter)  # lost to a concurrent save: nothing to undo


def _count_failure(uow, policy: LockoutPolicy, scope: Scope, key: str, now: datetime) -> None:
    for _ in range(SAVE_ATTEMPTS):
        with uow:
            counter = uow.login_failures.get(scope, key, for_update=True)
            fresh = counter is None
            if fresh:
                counter = FailedLogins(scope=scope, key=key)
            locked = counter.record_failure(policy, now)
            if not (uow.login_failures.add(counter) if fresh else uow.login_failures.save(counter)):
                continue  # another replica counted first: read again
            if locked:
                _announce_lock(uow, counter)
            uow.commit()
            if locked:
                LOGIN_LOCKS.labels(scope.value).inc()
            return
    log.warning("a failed login could not be counted", extra={"scope": scope.value})


def _announce_lock(uow, counter: FailedLogins) -> None:
    seconds = int((counter.locked_until - counter.last_locked_at).total_seconds())
    if counter.scope == Scope.ADDRESS:
        log.warning(
            "sign-in locked for a client address after failed logins",
            extra={
                "client_address": counter.key,
                "failures": counter.failures,
                "lock_count": counter.lock_count,
                "lock_seconds": seconds,
            },
        )
        return
    user = uow.users.by_phone(counter.key)
    extra = {
        "phone": mask_phone(counter.key),
        "failures": counter.failures,
        "lock_count": counter.lock_count,
        "lock_seconds": seconds,
    }
    if user is not None:
        extra["user_id"] = user.user_id
    log.warning("sign-in locked for a phone after failed logins", extra=extra)
    if user is not None:
        uow.emit(
            AccountLocked(
                user_id=user.user_id,
                locked_until=counter.locked_until,
                failures=counter.failures,
                lock_count=counter.lock_count,
            )
        )


def forget_idle(uow, now: datetime | None = None) -> int:
    """Delete the counters of phones and addresses idle for longer than any
    rule looks back (the window, the longest lock, the day that resets the
    growth): a spray of made-up phones leaves no rows for ever. How many."""
    now = now or utcnow()
    policies = policies_from(uow.config)
    horizon = max(
        max(policy.window, policy.maximum, policy.growth_reset)
        for policy in (policies.phone, policies.address)
    )
    with uow:
        forgotten = uow.login_failures.delete_idle(now - horizon)
        uow.commit()
    if forgotten:
        log.info("forgot idle failed-login counters", extra={"count": forgotten})
    return forgotten


# --- operator ---------------------------------------------------------------


def unlock_account(uow, actor: Mapping, user_id: str, now: datetime | None = None) -> dict:
    """An operator lifts the lock of the account's phone and clears its failed
    logins; emits ``account_unlocked``. Forbidden unless the actor is an
    operator, NotFound for an unknown account."""
    if actor.get("kind") != UserKind.OPERATOR:
        raise NotPermitted("only an operator may unlock accounts")
    now = now or utcnow()
    for _ in range(SAVE_ATTEMPTS):
        with uow:
            user = uow.users.get(user_id)
            if user is None:
                raise errors.NotFound("user not found")
            counter = uow.login_failures.get(Scope.PHONE, user.phone, for_update=True)
            was_locked = counter is not None and counter.is_locked(now)
            if counter is not None:
                counter.unlock()
                if not uow.login_failures.save(counter):
                    continue
            uow.emit(AccountUnlocked(user_id=user.user_id, unlocked_by=actor["user_id"]))
            uow.commit()
            log.info(
                "account unlocked",
                extra={
                    "user_id": user.user_id,
                    "unlocked_by": actor["user_id"],
                    "was_locked": was_locked,
                },
            )
            return {"user_id": user.user_id, "locked": False}
    raise errors.Unavailable("the account is being signed in to; try again")


def locked_accounts(uow, page: int = 1, page_size: int = 20, now: datetime | None = None) -> dict:
    """A page of the accounts whose phone is locked now, ``{user_id,
    locked_until}``, the soonest to end first (the gateway loads it at start)."""
    now = now or utcnow()
    with uow:
        found, total = uow.login_failures.locked_accounts(now, page=page, page_size=page_size)
    items = [{"user_id": user_id, "locked_until": until} for user_id, until in found]
    return {"items": items, "page": page, "page_size": page_size, "total": total}
