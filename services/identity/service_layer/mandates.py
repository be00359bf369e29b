"""Use cases of enterprise members and mandates to agents (代办制).

Each command is one transaction that writes its events to the outbox. Lists
answer ``{"items", "page", "page_size", "total"}``. A mandate's ``status``
(active, expired, revoked) is read on the Jiangsu day of ``now``, by the
platform's clock (``services.common.clock``, as workflow's time limits).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from services.common import clock, errors
from services.identity.domain.exceptions import InvalidUscc, NotPermitted, ValidationFailed
from services.identity.domain.mandates import (
    Mandate,
    MemberExists,
    Membership,
    NotAuthorised,
    Party,
    PrincipalKind,
    authorise,
    china_today,
    may_read_enterprise,
    require_owner,
)
from services.identity.domain.model import Enterprise, UserKind, new_id
from services.identity.domain.uscc import validate_uscc
from services.identity.metrics import AUTHORISATIONS, ENTERPRISE_MEMBERS, MANDATES

log = logging.getLogger(__name__)

PRINCIPAL = "principal"
AGENT = "agent"


def _enterprise(uow, uscc: Any) -> Enterprise:
    try:
        code = validate_uscc(uscc)
    except InvalidUscc as exc:
        raise ValidationFailed({"uscc": exc.reason}) from None
    enterprise = uow.enterprises.by_uscc(code)
    if enterprise is None:
        raise errors.NotFound("enterprise not found")
    return enterprise


def _page(items: list, total: int, page: int, page_size: int) -> dict[str, Any]:
    return {"items": items, "page": page, "page_size": page_size, "total": total}


# --- members --------------------------------------------------------------------


def add_member(uow, actor: Mapping, uscc: str, user_id: str, now: datetime | None = None):
    """The owner adds an account that acts for the enterprise; emits
    ``enterprise_member_added``. NotFound (enterprise), Forbidden (not the
    owner), Invalid (user_id: unknown, not a verified citizen, the owner),
    Conflict (a member already)."""
    now = now or clock.now()
    with uow:
        enterprise = _enterprise(uow, uscc)
        require_owner(enterprise, actor["user_id"], "add members")
        member = uow.users.get(user_id)
        membership = Membership.add(
            enterprise,
            actor["user_id"],
            member,
            already_member=uow.members.get(enterprise.uscc, user_id) is not None,
            now=now,
        )
        try:
            uow.members.add(membership)
            uow.emit(*membership.pull_events())
            uow.commit()
        except IntegrityError:  # added a moment ago by a request racing this one
            raise MemberExists() from None
    ENTERPRISE_MEMBERS.labels("added").inc()
    return membership


def remove_member(uow, actor: Mapping, uscc: str, user_id: str) -> None:
    """The owner removes a member; emits ``enterprise_member_removed``.
    NotFound (enterprise, member), Forbidden (not the owner)."""
    with uow:
        enterprise = _enterprise(uow, uscc)
        require_owner(enterprise, actor["user_id"], "remove members")
        membership = uow.members.get(enterprise.uscc, user_id)
        if membership is None:
            raise errors.NotFound("no such member of the enterprise")
        membership.remove(enterprise, actor["user_id"])
        uow.members.remove(membership)
        uow.emit(*membership.pull_events())
        uow.commit()
    ENTERPRISE_MEMBERS.labels("removed").inc()


def list_members(uow, actor: Mapping, uscc: str, page: int = 1, page_size: int = 20) -> dict:
    """A page of the enterprise's members, first added first, for its owner,
    its members and operators. NotFound, Forbidden."""
    with uow:
        enterprise = _enterprise(uow, uscc)
        _require_reader(uow, enterprise, actor)
        found, total = uow.members.page(enterprise.uscc, page=page, page_size=page_size)
    return _page(found, total, page, page_size)


def _require_reader(uow, enterprise: Enterprise, actor: Mapping) -> None:
    is_member = uow.members.get(enterprise.uscc, actor.get("user_id") or "") is not None
    if not may_read_enterprise(enterprise, actor, is_member):
        raise NotPermitted("only the enterprise's owner, its members and operators may read this")


# --- mandates -------------------------------------------------------------------


def grant_enterprise_mandate(
    uow,
    actor: Mapping,
    uscc: str,
    agent_user_id: str,
    expires_on: date,
    item_ids: list[str] | None = None,
    now: datetime | None = None,
) -> dict:
    """The enterprise's owner mandates an agent; emits ``mandate_granted``.
    NotFound, Forbidden (not the owner), Invalid (agent_user_id, expires_on,
    item_ids)."""
    now = now or clock.now()
    with uow:
        enterprise = _enterprise(uow, uscc)
        require_owner(enterprise, actor["user_id"], "grant mandates")
        principal = Party.enterprise(enterprise.uscc, enterprise.name)
        return _grant(uow, principal, actor, agent_user_id, expires_on, item_ids, now)


def grant_personal_mandate(
    uow,
    actor: Mapping,
    agent_user_id: str,
    expires_on: date,
    item_ids: list[str] | None = None,
    now: datetime | None = None,
) -> dict:
    """A citizen mandates an agent to act for them; emits ``mandate_granted``.
    Forbidden (not a citizen), Invalid (agent_user_id, expires_on, item_ids)."""
    now = now or clock.now()
    with uow:
        user = uow.users.get(actor["user_id"])
        if user is None or user.kind != UserKind.CITIZEN:
            raise NotPermitted("only a citizen grants a mandate for themself")
        principal = Party.person(user.user_id, user.name)
        return _grant(uow, principal, actor, agent_user_id, expires_on, item_ids, now)


def _grant(uow, principal: Party, actor, agent_user_id, expires_on, item_ids, now) -> dict:
    mandate = Mandate.grant(
        mandate_id=new_id(),
        principal=principal,
        granted_by=actor["user_id"],
        agent=uow.users.get(agent_user_id),
        item_ids=item_ids,
        expires_on=expires_on,
        now=now,
    )
    uow.mandates.add(mandate)
    uow.emit(*mandate.pull_events())
    uow.commit()
    MANDATES.labels("granted", principal.kind).inc()
    log.info(
        "mandate granted",
        extra={
            "mandate_id": mandate.mandate_id,
            "principal_kind": principal.kind,
            "agent_user_id": mandate.agent_user_id,
        },
    )
    return {"mandate_id": mandate.mandate_id}


def list_enterprise_mandates(
    uow, actor: Mapping, uscc: str, page: int = 1, page_size: int = 20, now=None
) -> dict:
    """A page of the enterprise's mandates, newest first, for its owner, its
    members and operators. NotFound, Forbidden."""
    today = china_today(now or clock.now())
    with uow:
        enterprise = _enterprise(uow, uscc)
        _require_reader(uow, enterprise, actor)
        found, total = uow.mandates.page_of_principal(
            PrincipalKind.ENTERPRISE, enterprise.uscc, page=page, page_size=page_size
        )
    return _page([mandate_view(m, today) for m in found], total, page, page_size)


def list_my_mandates(
    uow, actor: Mapping, role: str = PRINCIPAL, page: int = 1, page_size: int = 20, now=None
) -> dict:
    """A page of the mandates the actor granted for themself (``role``
    principal), or of those granted to the actor by anyone (``role`` agent: whom
    they may act for), newest first."""
    today = china_today(now or clock.now())
    with uow:
        if role == AGENT:
            found, total = uow.mandates.page_of_agent(
                actor["user_id"], page=page, page_size=page_size
            )
        else:
            found, total = uow.mandates.page_of_principal(
                PrincipalKind.PERSON, actor["user_id"], page=page, page_size=page_size
            )
    return _page([mandate_view(m, today) for m in found], total, page, page_size)


def revoke_enterprise_mandate(
    uow, actor: Mapping, uscc: str, mandate_id: str, now: datetime | None = None
) -> None:
    """The enterprise's owner revokes one of its mandates; emits
    ``mandate_revoked`` (once: revoking again changes nothing). NotFound,
    Forbidden."""
    with uow:
        enterprise = _enterprise(uow, uscc)
        require_owner(enterprise, actor["user_id"], "revoke mandates")
        _revoke(uow, actor, Party.enterprise(enterprise.uscc, enterprise.name), mandate_id, now)


def revoke_my_mandate(uow, actor: Mapping, mandate_id: str, now: datetime | None = None) -> None:
    """A citizen revokes a mandate they granted for themself; emits
    ``mandate_revoked`` (once). NotFound."""
    with uow:
        _revoke(uow, actor, Party.person(actor["user_id"], ""), mandate_id, now)


def _revoke(uow, actor, principal: Party, mandate_id: str, now) -> None:
    mandate = uow.mandates.get(mandate_id, for_update=True)
    if mandate is None or (mandate.principal.kind, mandate.principal.key) != (
        principal.kind,
        principal.key,
    ):
        raise errors.NotFound("mandate not found")
    if mandate.revoke(actor["user_id"], now or clock.now()):
        uow.mandates.save(mandate)
        uow.emit(*mandate.pull_events())
        uow.commit()
        MANDATES.labels("revoked", mandate.principal.kind).inc()
        log.info("mandate revoked", extra={"mandate_id": mandate.mandate_id})


def mandate_view(mandate: Mandate, today: date) -> dict[str, Any]:
    return {
        "mandate_id": mandate.mandate_id,
        "principal": mandate.principal.to_dict(),
        "agent_user_id": mandate.agent_user_id,
        "agent_name": mandate.agent_name,
        "item_ids": list(mandate.item_ids),
        "expires_on": mandate.expires_on,
        "granted_at": mandate.granted_at,
        "revoked_at": mandate.revoked_at,
        "status": mandate.status(today).value,
    }


# --- the check other services ask -------------------------------------------------


def authorise_principal(
    uow, actor_id: str, principal: Mapping, item_id: str, on: date | None = None
) -> dict:
    """Whether ``actor_id`` may act for ``principal`` (``{kind: enterprise,
    uscc}`` or ``{kind: person, user_id}``) on ``item_id`` on ``on`` (today
    in Jiangsu when None): ``{basis: owner|member|mandate, mandate_id|null,
    principal: {kind, uscc|user_id, name}}``. Forbidden when no basis holds
    (unknown principal, no mandate, expired, revoked, not covering the item),
    one message for all."""
    on = on or china_today(clock.now())
    with uow:
        party, owner_id, is_member, mandates = _principal_facts(uow, actor_id, principal)
    try:
        answer = authorise(
            actor_id,
            party,
            owner_id=owner_id,
            is_member=is_member,
            mandates=mandates,
            item_id=item_id,
            on=on,
        )
    except NotAuthorised:
        AUTHORISATIONS.labels("refused").inc()
        raise
    AUTHORISATIONS.labels(answer.basis.value).inc()
    return answer.to_dict()


def _principal_facts(uow, actor_id: str, principal: Mapping):
    if principal.get("kind") == PrincipalKind.ENTERPRISE:
        try:
            code = validate_uscc(principal.get("uscc"))
        except InvalidUscc as exc:
            raise ValidationFailed({"principal.uscc": exc.reason}) from None
        enterprise = uow.enterprises.by_uscc(code)
        if enterprise is None:
            return None, None, False, []
        return (
            Party.enterprise(code, enterprise.name),
            enterprise.owner_user_id,
            uow.members.get(code, actor_id) is not None,
            uow.mandates.of_principal_to(PrincipalKind.ENTERPRISE, code, actor_id),
        )
    user_id = principal.get("user_id") or ""
    person = uow.users.get(user_id)
    if person is None or person.kind != UserKind.CITIZEN:
        return None, None, False, []
    return (
        Party.person(user_id, person.name),
        user_id,
        False,
        uow.mandates.of_principal_to(PrincipalKind.PERSON, user_id, actor_id),
    )
