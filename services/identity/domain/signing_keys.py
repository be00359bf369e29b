"""When each signing key signs, is published, and retires.

Plain Python over the keys' schedule (no key material here). A key is added
``publish_lead`` before it may sign, so that every verifier has fetched the JWKS
holding it before any token it signs exists. The signing key is the newest whose
``signs_from`` has passed. Once a newer key signs, no token of the older one is
issued any more, and none is valid after the newer key's ``signs_from`` plus
the access token lifetime (plus the verifiers' clock leeway): that instant is
the older key's ``retires_at``, after which it leaves the JWKS and is marked
retired.

Each key also records which signing key it ``follows`` (the first key follows
:data:`FIRST`); the store keeps that unique, so two replicas rotating at once
add one key between them, not two pending keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

# What the first key follows: no key.
FIRST = ""


class KeyStatus(StrEnum):
    PENDING = "pending"  # published, not signing yet
    SIGNING = "signing"  # the key that signs new tokens
    VERIFYING = "verifying"  # a newer key signs; published until its tokens expire
    RETIRED = "retired"  # out of the JWKS


@dataclass(frozen=True)
class KeySchedule:
    """A stored key's schedule. ``retires_at`` is set when a newer key is added
    (that key's ``signs_from`` + token lifetime + leeway); ``retired_at`` when
    the key was taken out of the JWKS."""

    kid: str
    created_at: datetime
    signs_from: datetime
    retires_at: datetime | None = None
    retired_at: datetime | None = None
    follows: str | None = None

    def is_published(self, now: datetime) -> bool:
        return self.retired_at is None and (self.retires_at is None or now < self.retires_at)

    def is_due_to_retire(self, now: datetime) -> bool:
        return self.retired_at is None and self.retires_at is not None and self.retires_at <= now


@dataclass(frozen=True)
class KeyView:
    """A key as an operator sees it: ``retires_at`` is null until a newer key signs."""

    kid: str
    created_at: datetime
    signs_from: datetime
    retires_at: datetime | None
    status: KeyStatus


def _newest_first(keys: Iterable[KeySchedule]) -> list[KeySchedule]:
    return sorted(keys, key=lambda k: (k.signs_from, k.created_at, k.kid), reverse=True)


def signing_key(keys: Iterable[KeySchedule], now: datetime) -> KeySchedule | None:
    """The newest published key whose ``signs_from`` has passed; None when there is none."""
    for key in _newest_first(keys):
        if key.is_published(now) and key.signs_from <= now:
            return key
    return None


def pending_key(keys: Iterable[KeySchedule], now: datetime) -> KeySchedule | None:
    """The key published but not signing yet (the newest, should there be several)."""
    for key in _newest_first(keys):
        if key.is_published(now) and key.signs_from > now:
            return key
    return None


def published(keys: Iterable[KeySchedule], now: datetime) -> list[KeySchedule]:
    """The keys in the JWKS, the signing key first, then the rest newest first."""
    current = signing_key(keys, now)
    rest = [k for k in _newest_first(keys) if k.is_published(now) and k is not current]
    return ([current] if current else []) + rest


def status_of(key: KeySchedule, keys: Sequence[KeySchedule], now: datetime) -> KeyStatus:
    if not key.is_published(now):
        return KeyStatus.RETIRED
    if key.signs_from > now:
        return KeyStatus.PENDING
    current = signing_key(keys, now)
    if current is not None and current.kid == key.kid:
        return KeyStatus.SIGNING
    return KeyStatus.VERIFYING


def views(keys: Sequence[KeySchedule], now: datetime) -> list[KeyView]:
    """Every key, newest first, with its status at ``now``."""
    found = []
    for key in _newest_first(keys):
        status = status_of(key, keys, now)
        still_signs = status in (KeyStatus.PENDING, KeyStatus.SIGNING)
        found.append(
            KeyView(
                kid=key.kid,
                created_at=key.created_at,
                signs_from=key.signs_from,
                retires_at=None if still_signs else key.retires_at,
                status=status,
            )
        )
    return found


def first_key(kid: str, now: datetime) -> KeySchedule:
    """The very first key (none stored, or none readable): it signs at once."""
    return KeySchedule(kid=kid, created_at=now, signs_from=now, follows=FIRST)


@dataclass(frozen=True)
class Rotation:
    """What adding a key changes: the new key, and the older keys given their
    ``retires_at``."""

    added: KeySchedule
    scheduled: tuple[KeySchedule, ...]


def rotate(
    keys: Sequence[KeySchedule],
    kid: str,
    now: datetime,
    *,
    publish_lead: timedelta,
    token_lifetime: timedelta,
) -> Rotation:
    """Add key ``kid``, signing from ``now + publish_lead``.

    Every older published key without a ``retires_at`` gets the new key's
    ``signs_from + token_lifetime`` (the caller adds the leeway into
    ``token_lifetime``). Raises ValueError when a key is still pending: the
    caller answers that one instead.
    """
    if pending_key(keys, now) is not None:
        raise ValueError("a key is already pending")
    current = signing_key(keys, now)
    signs_from = now + publish_lead
    added = KeySchedule(
        kid=kid,
        created_at=now,
        signs_from=signs_from,
        follows=current.kid if current is not None else FIRST,
    )
    retires_at = signs_from + token_lifetime
    scheduled = tuple(
        replace(key, retires_at=retires_at)
        for key in keys
        if key.is_published(now) and key.retires_at is None
    )
    return Rotation(added=added, scheduled=scheduled)


def rotation_due(keys: Sequence[KeySchedule], now: datetime, every: timedelta | None) -> bool:
    """Should the schedule add a key: the signing key has signed for ``every``
    (None: never) and no key is pending."""
    if every is None or every <= timedelta(0):
        return False
    if pending_key(keys, now) is not None:
        return False
    current = signing_key(keys, now)
    return current is not None and now - current.signs_from >= every


def due_to_retire(keys: Iterable[KeySchedule], now: datetime) -> list[KeySchedule]:
    """Keys past their ``retires_at`` not yet marked retired."""
    return [key for key in keys if key.is_due_to_retire(now)]
