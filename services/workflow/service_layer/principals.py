"""Agents and principals in the workflow (代办制): who may apply for whom, who
follows a case, and the read model of enterprise membership that says so.

- At submission, an ``on_behalf_of`` other than oneself is checked with
  identity (``authorise_principal``: the owner, a member, or a mandate in force
  for the item today); the case keeps the principal identity names and the
  mandate.
- Before every command on a case (``use_cases._command``) the actor is
  completed with the enterprises they act for, and an agent who applied for
  someone is checked again: a revoked or expired mandate stops them at once
  (Forbidden), while the principal still acts.
- Reads complete the actor the same way, so the principal's members see and
  list the case; a lapsed agent still sees it but is offered no action.
- identity's ``enterprise_registered`` (the owner), ``enterprise_member_added``
  and ``enterprise_member_removed`` feed ``principal_members``, once per event
  id, an older change never undoing a newer one.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from services.common import errors
from services.common.messaging.envelope import utcnow
from services.workflow.domain import exceptions as domain
from services.workflow.domain.model import china_today
from services.workflow.domain.principals import (
    AGENT_ROLE,
    ENTERPRISE,
    ENTERPRISES,
    MANDATE_LAPSED,
    PERSON,
    check_on_behalf_of,
    check_submitter,
    is_oneself,
    speaks_for,
)

log = logging.getLogger(__name__)

CONSUMER_REGISTERED = "workflow.on_enterprise_registered"
CONSUMER_MEMBER_ADDED = "workflow.on_enterprise_member_added"
CONSUMER_MEMBER_REMOVED = "workflow.on_enterprise_member_removed"
OWNER = "owner"
MEMBER = "member"


# ------------------------------------------------------------------ submission


def authorised_principal(
    uow, actor: Mapping[str, Any], on_behalf_of: Any, item_id: str, on: date
) -> tuple[dict | None, str | None]:
    """The principal a new case is for and the mandate it rests on: ``(None,
    None)`` for the applicant themself. Forbidden unless the actor is a citizen
    or (for someone else) an agent, and unless identity lets them act for the
    principal on ``item_id`` on ``on``; Invalid naming ``on_behalf_of.*``.
    Asks identity outside any transaction."""
    check_submitter(actor, on_behalf_of)
    asked, problems = check_on_behalf_of(on_behalf_of)
    if problems:
        raise domain.ValidationFailed(problems)
    if asked is None or is_oneself(actor, asked):
        return None, None
    answer = _authorise(uow, actor["user_id"], asked, item_id, on)
    return dict(answer["principal"]), answer.get("mandate_id")


def _authorise(uow, actor_id: str, principal: Mapping, item_id: str, on: date) -> dict:
    authorise = getattr(uow, "authorise_principal", None)
    if authorise is None:
        raise errors.Unavailable("identity cannot be asked who may act for whom")
    return authorise(actor_id, principal, item_id, on)


# ---------------------------------------------------------------- every command


def acting(
    uow,
    actor: Mapping[str, Any],
    application_id: str | None = None,
    *,
    refuse_lapsed: bool = True,
    today: date | None = None,
) -> Mapping[str, Any]:
    """``actor`` completed for the case rules: ``enterprises`` for a citizen;
    for the agent who applied for ``application_id``'s principal, identity
    asked again whether they still may act for it. Forbidden when they may
    not and ``refuse_lapsed`` (a command), else a copy with ``mandate_lapsed``
    set (a read). A command's actor is completed in place, since the command's
    closure holds the same mapping; a read's is a copy. Staff other than
    agents and operators are left as they are."""
    kind = actor.get("kind")
    user_id = actor.get("user_id")
    is_agent_staff = kind == "staff" and AGENT_ROLE in (actor.get("roles") or ())
    if not user_id or not (kind == "citizen" or is_agent_staff):
        return actor
    with uow:
        enterprises = uow.memberships.enterprises_of(user_id) if kind == "citizen" else []
        parties = uow.memberships.case_parties(application_id) if application_id else None
    actor = actor if refuse_lapsed and isinstance(actor, dict) else dict(actor)
    actor[ENTERPRISES] = enterprises
    if parties is None or not _is_agent_of(parties, actor):
        return actor
    principal = _principal_ref(parties.on_behalf_of)
    if principal is None:
        return actor  # an older case's person known by ID number: no mandate to check
    try:
        _authorise(uow, user_id, principal, parties.item_id, today or china_today())
    except errors.Forbidden:
        log.info(
            "an agent's mandate no longer holds",
            extra={"application_id": parties.application_id, "agent_user_id": user_id},
        )
        if refuse_lapsed:
            raise domain.Forbidden(
                "your mandate to act for this case's principal is no longer in force"
            ) from None
        actor[MANDATE_LAPSED] = True
    return actor


def _is_agent_of(parties, actor: Mapping[str, Any]) -> bool:
    return (
        bool(parties.on_behalf_of)
        and parties.applicant_id == actor.get("user_id")
        and not speaks_for(parties.on_behalf_of, actor)
    )


def _principal_ref(principal: Mapping[str, Any] | None) -> dict | None:
    if not principal:
        return None
    if principal.get("kind") == ENTERPRISE and principal.get("uscc"):
        return {"kind": ENTERPRISE, "uscc": principal["uscc"]}
    if principal.get("kind") == PERSON and principal.get("user_id"):
        return {"kind": PERSON, "user_id": principal["user_id"]}
    return None


def holder_ids(actor: Mapping[str, Any]) -> list[str]:
    """Whose cases and licences the actor follows beside those they applied
    for: their own and the enterprises they act for (``acting`` first)."""
    return [actor["user_id"], *(actor.get(ENTERPRISES) or ())]


# ----------------------------------------------------------- identity's events


def on_enterprise_registered(uow, envelope: Mapping) -> bool:
    """The owner acts for the enterprise."""
    payload = envelope["payload"]
    return _membership(
        uow, envelope, CONSUMER_REGISTERED, payload["uscc"], payload["owner_user_id"], OWNER, True
    )


def on_member_added(uow, envelope: Mapping) -> bool:
    payload = envelope["payload"]
    return _membership(
        uow, envelope, CONSUMER_MEMBER_ADDED, payload["uscc"], payload["user_id"], MEMBER, True
    )


def on_member_removed(uow, envelope: Mapping) -> bool:
    payload = envelope["payload"]
    return _membership(
        uow, envelope, CONSUMER_MEMBER_REMOVED, payload["uscc"], payload["user_id"], MEMBER, False
    )


def _membership(uow, envelope, consumer, uscc, user_id, role, active) -> bool:
    """Once per event id; answers whether the read model changed."""
    changed_at = _occurred_at(envelope)
    with uow:
        if not uow.first_delivery(envelope, consumer):
            return False
        changed = uow.memberships.apply(uscc, user_id, role, active, changed_at)
        uow.commit()
    return changed


def _occurred_at(envelope: Mapping) -> datetime:
    """When identity recorded the change; an envelope without a readable one
    counts as now (it cannot then undo a later change already recorded)."""
    value = envelope.get("occurred_at")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (AttributeError, TypeError, ValueError):
        return utcnow()
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=utcnow().tzinfo)
