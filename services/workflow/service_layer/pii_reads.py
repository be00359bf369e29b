"""Reads of a principal's full ID number, each recorded.

A case loads with its principal's ID number masked (``adapters.repository``);
the full number is read only here, where it is shown or needed:

- a reviewer (staff who see the case) looks at the person the case's agent
  applied for (``principal_identity``, purpose ``case_review``);
- an automatic decision needs the number of a person an older case names by
  number only (``principal_id_number_for_decision``, ``automatic_decision``).

A person with an account has their number at identity: identity's
``person_facts`` is asked with the accessor and the purpose, and identity
records the read itself. A number workflow keeps (encrypted) is decrypted
here and the read goes to identity's trail as ``pii_accessed`` through the
outbox, in the same transaction as the read.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from services.common import clock, errors
from services.common.pii import (
    AUTOMATIC_DECISION,
    CASE_REVIEW,
    SUBJECT_APPLICATION_PRINCIPAL,
)
from services.workflow.domain import exceptions as domain
from services.workflow.domain.events import PiiAccessed
from services.workflow.domain.principals import PERSON


def principal_identity(
    uow, actor: Mapping[str, Any], application_id: str, service: str, *, now: datetime | None = None
) -> dict[str, Any]:
    """The person ``application_id`` was applied for, ID number in full, for a
    staff member who sees the case: ``{application_id, kind, user_id, name,
    id_number}`` (``id_number`` null when the person is not real-name
    verified). Forbidden for anyone but staff, and for the agent who applied
    (they do not review it); NotFound when the case is not theirs to see or
    names no person it was applied for."""
    if actor.get("kind") != "staff" or not actor.get("user_id"):
        raise domain.Forbidden("a case's principal is looked at by staff reviewing it")
    with uow:
        application = uow.applications.get(application_id)
    if application is None or not application.visible_to(actor):
        raise domain.NotFound(f"application {application_id} not found")
    if application.applicant_id == actor["user_id"]:
        # The agent who applied knows whom for; reviewing is the department's.
        raise domain.Forbidden("a case's principal is looked at by the staff reviewing it")
    principal = application.on_behalf_of
    if not principal or principal.get("kind") != PERSON:
        raise domain.NotFound(f"application {application_id} was not applied for a person")
    answer = {
        "application_id": application_id,
        "kind": PERSON,
        "user_id": principal.get("user_id"),
        "name": principal.get("name"),
        "id_number": None,
    }
    if principal.get("user_id"):
        facts = _person_facts(
            uow,
            principal["user_id"],
            purpose=CASE_REVIEW,
            accessor_id=actor["user_id"],
            accessor_kind="staff",
        )
        answer["id_number"] = facts.get("id_number")
        answer["name"] = facts.get("name") or answer["name"]
        return answer
    answer["id_number"] = _read_recorded(
        uow,
        application_id,
        accessor_id=actor["user_id"],
        accessor_kind="staff",
        purpose=CASE_REVIEW,
        service=service,
        now=now,
    )
    return answer


def principal_id_number_for_decision(
    uow, application_id: str, service: str, *, now: datetime | None = None
) -> str | None:
    """The full number of the person an older case names by number, for an
    automatic decision on it (the service is the accessor); None when it
    keeps none."""
    return _read_recorded(
        uow,
        application_id,
        accessor_id=service,
        accessor_kind="service",
        purpose=AUTOMATIC_DECISION,
        service=service,
        now=now,
    )


def _read_recorded(
    uow,
    application_id: str,
    *,
    accessor_id: str,
    accessor_kind: str,
    purpose: str,
    service: str,
    now: datetime | None,
) -> str | None:
    """Decrypt the case's principal's number and record the read, in one
    transaction: the number is not given unless its record commits."""
    with uow:
        number = uow.applications.principal_id_number(application_id)
        if number is None:
            return None
        uow.emit(
            PiiAccessed(
                accessor_id=accessor_id,
                accessor_kind=accessor_kind,
                subject_id=application_id,
                subject_kind=SUBJECT_APPLICATION_PRINCIPAL,
                purpose=purpose,
                service=service,
                at=now or clock.now(),
            )
        )
        uow.commit()
    return number


def _person_facts(uow, user_id: str, **reason: str) -> Mapping[str, Any]:
    person_facts = getattr(uow, "person_facts", None)
    if person_facts is None:
        raise errors.Unavailable("identity cannot be asked for the person's facts")
    return person_facts(user_id, **reason)
