"""Who may act for whom: an enterprise's members, and mandates to agents (代办制).

Plain Python, no framework imports. The owner of an enterprise (the account
that registered it) adds and removes members, accounts that act for the
enterprise as the owner does. A principal (an enterprise, through its owner,
or a citizen for themself) grants a mandate to an agent: a staff member with
the role ``agent`` of a government service centre, or any real-name verified
citizen. A mandate covers every item or the items it lists, up to and
including ``expires_on``, until it is revoked.

``authorise`` answers whether an account may act for a principal on an item on
a day, and on what basis: ``owner`` (the enterprise's owner, or a person for
themself), ``member`` or ``mandate``.

Days are Jiangsu calendar days (UTC+8), whatever the server's zone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

from services.identity.domain.events import (
    EnterpriseMemberAdded,
    EnterpriseMemberRemoved,
    Event,
    MandateGranted,
    MandateRevoked,
)
from services.identity.domain.exceptions import (
    AlreadyExists,
    NotPermitted,
    ValidationFailed,
)

CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")
# A mandate lasts at most a year: a longer one is renewed, so the principal
# looks at it again.
MAX_MANDATE_DAYS = 366
MAX_MANDATE_ITEMS = 50
ITEM_ID_MAX = 64
AGENT_ROLE = "agent"
_ITEM_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")


class PrincipalKind(StrEnum):
    ENTERPRISE = "enterprise"
    PERSON = "person"


class Basis(StrEnum):
    """Why an account may act for a principal."""

    OWNER = "owner"
    MEMBER = "member"
    MANDATE = "mandate"


class MandateStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


def china_today(now: datetime) -> date:
    return now.astimezone(CHINA_TZ).date()


@dataclass(frozen=True)
class Party:
    """The principal of a mandate: an enterprise by its credit code, or a person
    by their user id; ``name`` as identity knows it."""

    kind: str
    key: str
    name: str

    @classmethod
    def enterprise(cls, uscc: str, name: str) -> Party:
        return cls(PrincipalKind.ENTERPRISE.value, uscc, name)

    @classmethod
    def person(cls, user_id: str, name: str) -> Party:
        return cls(PrincipalKind.PERSON.value, user_id, name)

    def to_dict(self) -> dict[str, str]:
        """``{kind, uscc|user_id, name}``: the wire form."""
        id_field = "uscc" if self.kind == PrincipalKind.ENTERPRISE else "user_id"
        return {"kind": self.kind, id_field: self.key, "name": self.name}


class _RecordsEvents:
    # An ORM may load instances without calling __init__, so `events` may be missing.
    def _record(self, event: Event) -> None:
        self.__dict__.setdefault("events", []).append(event)

    def pull_events(self) -> list[Event]:
        events = self.__dict__.get("events") or []
        self.__dict__["events"] = []
        return list(events)


# --- members ------------------------------------------------------------------


@dataclass(eq=False)
class Membership(_RecordsEvents):
    """An account that acts for an enterprise (the owner is not one: it owns it)."""

    uscc: str
    user_id: str
    name: str
    added_by: str
    added_at: datetime
    events: list[Event] = field(default_factory=list, repr=False)

    @classmethod
    def add(
        cls,
        enterprise: Any,
        actor_id: str,
        member: Any,
        *,
        already_member: bool,
        now: datetime,
    ) -> Membership:
        """The owner adds ``member`` (a User, or None when unknown); records
        ``enterprise_member_added``. NotPermitted unless the actor owns the
        enterprise; ValidationFailed naming ``user_id`` for an unknown account,
        one that is no real-name verified citizen, or the owner; AlreadyExists
        for a member already."""
        require_owner(enterprise, actor_id, "add members")
        if member is None:
            raise ValidationFailed({"user_id": "no such account"})
        if member.user_id == enterprise.owner_user_id:
            raise ValidationFailed({"user_id": "the owner acts for the enterprise already"})
        if member.kind != "citizen" or not member.is_verified:
            raise ValidationFailed({"user_id": "must be a real-name verified citizen"})
        if already_member:
            raise MemberExists()
        membership = cls(
            uscc=enterprise.uscc,
            user_id=member.user_id,
            name=member.name,
            added_by=actor_id,
            added_at=now,
        )
        membership._record(EnterpriseMemberAdded(uscc=enterprise.uscc, user_id=member.user_id))
        return membership

    def remove(self, enterprise: Any, actor_id: str) -> None:
        """The owner removes the member; records ``enterprise_member_removed``."""
        require_owner(enterprise, actor_id, "remove members")
        self._record(EnterpriseMemberRemoved(uscc=self.uscc, user_id=self.user_id))


class MemberExists(AlreadyExists):
    def __init__(self) -> None:
        super().__init__("the account is a member of the enterprise already")


def require_owner(enterprise: Any, actor_id: str, what: str) -> None:
    if actor_id != enterprise.owner_user_id:
        raise NotPermitted(f"only the enterprise's owner may {what}")


def may_read_enterprise(enterprise: Any, actor: Mapping[str, Any], is_member: bool) -> bool:
    """Members, the owner and operators read an enterprise's members and mandates."""
    return (
        actor.get("kind") == "operator"
        or actor.get("user_id") == enterprise.owner_user_id
        or is_member
    )


# --- mandates ------------------------------------------------------------------


@dataclass(eq=False)
class Mandate(_RecordsEvents):
    """A principal's mandate to an agent, for every item (``item_ids`` empty)
    or the items listed, through ``expires_on`` (a Jiangsu day, included)."""

    mandate_id: str
    principal: Party
    agent_user_id: str
    agent_name: str
    item_ids: tuple[str, ...]
    expires_on: date
    granted_by: str
    granted_at: datetime
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    events: list[Event] = field(default_factory=list, repr=False)

    @classmethod
    def grant(
        cls,
        *,
        mandate_id: str,
        principal: Party,
        granted_by: str,
        agent: Any,
        item_ids: Any,
        expires_on: Any,
        now: datetime,
    ) -> Mandate:
        """A mandate from ``principal`` (granted by ``granted_by``, its owner or
        the person) to ``agent`` (a User, or None when unknown); records
        ``mandate_granted``. ValidationFailed naming every bad field:
        ``agent_user_id`` (unknown, neither an ``agent`` staff member nor a
        real-name verified citizen, or the principal itself), ``expires_on``
        (not after today, or more than MAX_MANDATE_DAYS ahead), ``item_ids``."""
        problems: dict[str, str] = {}
        agent_problem = _agent_problem(agent, principal, granted_by)
        if agent_problem:
            problems["agent_user_id"] = agent_problem
        today = china_today(now)
        if not isinstance(expires_on, date) or isinstance(expires_on, datetime):
            problems["expires_on"] = "must be a date"
        elif expires_on <= today:
            problems["expires_on"] = "must be after today"
        elif expires_on > today + timedelta(days=MAX_MANDATE_DAYS):
            problems["expires_on"] = f"must be at most {MAX_MANDATE_DAYS} days ahead"
        items, item_problems = _item_ids(item_ids)
        problems.update(item_problems)
        if problems:
            raise ValidationFailed(problems)
        mandate = cls(
            mandate_id=mandate_id,
            principal=principal,
            agent_user_id=agent.user_id,
            agent_name=agent.name,
            item_ids=items,
            expires_on=expires_on,
            granted_by=granted_by,
            granted_at=now,
        )
        mandate._record(
            MandateGranted(
                mandate_id=mandate_id,
                principal=principal.to_dict(),
                agent_user_id=agent.user_id,
                item_ids=list(items),
                expires_on=expires_on,
            )
        )
        return mandate

    def status(self, on: date) -> MandateStatus:
        if self.revoked_at is not None:
            return MandateStatus.REVOKED
        if on > self.expires_on:
            return MandateStatus.EXPIRED
        return MandateStatus.ACTIVE

    def covers(self, item_id: str, on: date) -> bool:
        """In force on ``on`` for ``item_id``."""
        if self.status(on) != MandateStatus.ACTIVE:
            return False
        return not self.item_ids or item_id in self.item_ids

    def revoke(self, actor_id: str, now: datetime) -> bool:
        """Revoke the mandate; records ``mandate_revoked``. False (nothing
        recorded) when it was revoked already."""
        if self.revoked_at is not None:
            return False
        self.revoked_at = now
        self.revoked_by = actor_id
        self._record(
            MandateRevoked(
                mandate_id=self.mandate_id,
                principal=self.principal.to_dict(),
                agent_user_id=self.agent_user_id,
            )
        )
        return True


def _agent_problem(agent: Any, principal: Party, granted_by: str) -> str | None:
    if agent is None:
        return "no such account"
    if agent.user_id == granted_by or (
        principal.kind == PrincipalKind.PERSON and agent.user_id == principal.key
    ):
        return "a principal acts for itself without a mandate"
    if agent.kind == "staff" and AGENT_ROLE in (agent.roles or ()):
        return None
    if agent.kind == "citizen" and agent.is_verified:
        return None
    return "must be a staff member with the role agent or a real-name verified citizen"


def _item_ids(item_ids: Any) -> tuple[tuple[str, ...], dict[str, str]]:
    """The item ids, opaque (the catalogue is not asked); ``None`` or ``[]``
    means every item."""
    if item_ids is None:
        return (), {}
    if isinstance(item_ids, str) or not isinstance(item_ids, Iterable):
        return (), {"item_ids": "must be a list of item ids"}
    items = list(item_ids)
    if len(items) > MAX_MANDATE_ITEMS:
        return (), {"item_ids": f"at most {MAX_MANDATE_ITEMS} items"}
    problems = {
        f"item_ids.{index}": "must be an item id (letters, digits, . _ : -; at most 64)"
        for index, item in enumerate(items)
        if not isinstance(item, str) or not _ITEM_ID.fullmatch(item)
    }
    if problems:
        return (), problems
    return tuple(dict.fromkeys(items)), {}


@dataclass(frozen=True)
class Authorisation:
    """Answer of ``authorise``: the basis, the mandate (when that is the basis)
    and the principal as identity knows it."""

    basis: Basis
    principal: Party
    mandate_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "basis": self.basis.value,
            "mandate_id": self.mandate_id,
            "principal": self.principal.to_dict(),
        }


class NotAuthorised(NotPermitted):
    """The actor may not act for the principal on the item that day. One
    message whatever the cause, so that the answer tells nothing of other
    people's mandates."""

    def __init__(self) -> None:
        super().__init__("no member role or mandate in force lets you act for this principal")


def authorise(
    actor_id: str,
    principal: Party | None,
    *,
    owner_id: str | None,
    is_member: bool,
    mandates: Iterable[Mandate],
    item_id: str,
    on: date,
) -> Authorisation:
    """Whether ``actor_id`` may act for ``principal`` (None when identity does
    not know it) on ``item_id`` on ``on``. ``owner_id`` is the enterprise's
    owner or the person themself; ``mandates`` the principal's mandates to the
    actor. Raises NotAuthorised."""
    if principal is None:
        raise NotAuthorised()
    if actor_id == owner_id:
        return Authorisation(Basis.OWNER, principal)
    if is_member and principal.kind == PrincipalKind.ENTERPRISE:
        return Authorisation(Basis.MEMBER, principal)
    in_force = sorted(
        (m for m in mandates if m.agent_user_id == actor_id and m.covers(item_id, on)),
        key=lambda m: (m.expires_on, m.granted_at),
        reverse=True,
    )
    if not in_force:
        raise NotAuthorised()
    return Authorisation(Basis.MANDATE, principal, in_force[0].mandate_id)
