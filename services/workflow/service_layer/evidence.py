"""Deciding an evidence step (domain.evidence) as soon as it opens.

As for an auto step (``use_cases.decide_auto_step``): the case is read, the
evidence looked for outside any transaction (catalog may take seconds), then
one transaction applies what was found, once per ``evidence_step_started`` and
only while the step still waits. A lookup that fails hands the step to a person
at once; nothing waits on catalog coming back.

- ``assessment``: catalog's ``find_assessment(zone_id, kind, on)`` for the zone
  the form names (``form.zone_id``); the report covers the step when it is of
  the step's kind, for that zone, and valid today (``valid_from <= today <=
  valid_to``): an expired report covers nothing.
- ``licence``: a material ``{"licence_no": ...}`` that ``held_licence`` finds
  valid today, of the step's licence type, held by the applicant or the party
  applied for (``Application.holder_id``); looked up in the applying
  transaction, since the licences are this instance's own records.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from services.common import clock
from services.common.errors import Invalid, NotFound
from services.workflow.domain.evidence import COVERED, NOT_COVERED, UNAVAILABLE
from services.workflow.domain.model import Application, local_date
from services.workflow.domain.process import StepDefinition
from services.workflow.service_layer.facts import _reason
from services.workflow.service_layer.unit_of_work import WorkflowUnitOfWork
from services.workflow.service_layer.use_cases import _commit, _licence_numbers

log = logging.getLogger(__name__)

CONSUMER = "workflow.on_evidence_step_started"

# find_assessment(zone_id=..., kind=..., on="2026-12-01") -> catalog's answer
# {"zone": {...} | None, "assessment": {...} | None}; raises the shared errors.
FindAssessment = Callable[..., Mapping[str, Any]]
# held_licence(uow, licence_no, holder_ids, *, licence_type=None, on=None) -> dict | None
HeldLicence = Callable[..., Mapping[str, Any] | None]
Found = tuple[str, Any]  # (covered, covered_by) or (not_covered | unavailable, reason)


def decide_evidence_step(
    uow: WorkflowUnitOfWork,
    envelope: Mapping,
    find_assessment: FindAssessment,
    held_licence: HeldLicence | None = None,
    *,
    now: datetime | None = None,
) -> str | None:
    """Decide the evidence step ``evidence_step_started`` names, once per event.

    Answers what happened: covered, not_covered or unavailable (a person
    checks), or None when there was nothing to decide (a repeat, a step decided
    meanwhile, another instance's case)."""
    payload = envelope["payload"]
    application_id, step_id = payload["application_id"], payload["step_id"]
    now = now or clock.now()
    today = local_date(now)
    with uow:
        application = uow.applications.get(application_id)
    waiting = application.evidence_step() if application is not None else None
    if waiting is None or waiting[0].id != step_id:
        _record_delivery(uow, envelope)
        return None
    definition = waiting[1]
    found: Found | None = None
    if definition.kind == "assessment":
        found = assessment_covering(application, definition, today, find_assessment)
    with uow:
        if not uow.first_delivery(envelope, CONSUMER):
            return None
        calendar = uow.calendar.load()
        application = uow.applications.get(application_id, for_update=True)
        waiting = application.evidence_step()
        if waiting is None or waiting[0].id != step_id:  # decided meanwhile
            uow.commit()
            return None
        if found is None:
            found = licence_covering(uow, application, definition, today, held_licence)
        outcome, detail = found
        if outcome == COVERED:
            application.cover_evidence_step(
                detail,
                calendar=calendar,
                licence_numbers=_licence_numbers(uow, application_id),
                now=now,
            )
        else:
            application.evidence_to_person(outcome, detail, calendar=calendar, now=now)
        uow.applications.save(application)
        uow.collect(application)
        _commit(uow)
    log.info(
        "evidence step decided",
        extra={"application_id": application_id, "step": step_id, "outcome": outcome},
    )
    return outcome


def assessment_covering(
    application: Application,
    definition: StepDefinition,
    today: date,
    find_assessment: FindAssessment,
) -> Found:
    """The zone's report of the step's kind valid today, or why there is none."""
    kind = definition.assessment_kind
    zone_id = application.form.get("zone_id")
    if not isinstance(zone_id, str) or not zone_id.strip():
        return NOT_COVERED, f"the form names no zone (zone_id): the {kind} report is checked"
    zone_id = zone_id.strip()
    try:
        answer = find_assessment(zone_id=zone_id, kind=kind, on=today.isoformat())
    except (NotFound, Invalid):
        return NOT_COVERED, f"zone {zone_id} is not in the catalogue"
    except Exception as error:  # noqa: BLE001  (any failure: a person checks, never a guess)
        return UNAVAILABLE, f"catalog cannot answer: {_reason(error)}"
    if not isinstance(answer, Mapping) or not answer.get("zone"):
        return NOT_COVERED, f"zone {zone_id} is not in the catalogue"
    zone_name = answer["zone"].get("name") or zone_id
    assessment = answer.get("assessment")
    if not _valid_report(assessment, zone_id, kind, today):
        return NOT_COVERED, f"{zone_name} has no {kind} assessment valid on {today.isoformat()}"
    return COVERED, {
        "kind": "assessment",
        "id": str(assessment["assessment_id"]),
        "title": str(assessment.get("title") or ""),
    }


def _valid_report(assessment: Any, zone_id: str, kind: str, today: date) -> bool:
    if not isinstance(assessment, Mapping):
        return False
    if assessment.get("zone_id") != zone_id or assessment.get("kind") != kind:
        return False
    try:
        valid_from = date.fromisoformat(str(assessment["valid_from"]))
        valid_to = date.fromisoformat(str(assessment["valid_to"]))
    except (KeyError, ValueError):
        return False
    return valid_from <= today <= valid_to


def licence_covering(
    uow: WorkflowUnitOfWork,
    application: Application,
    definition: StepDefinition,
    today: date,
    held_licence: HeldLicence | None,
) -> Found:
    """A licence among the materials held and valid today, or why there is none."""
    licence_type = definition.licence_type
    numbers = [
        material["licence_no"].strip()
        for material in application.materials
        if isinstance(material.get("licence_no"), str) and material["licence_no"].strip()
    ]
    if not numbers:
        return NOT_COVERED, f"no {licence_type} licence among the materials: the copy is checked"
    if held_licence is None:
        held_licence = _held_licence()
    holders = holder_ids(application)
    for licence_no in numbers:
        try:
            found = held_licence(uow, licence_no, holders, licence_type=licence_type, on=today)
        except Exception as error:  # noqa: BLE001  (any failure: a person checks)
            return UNAVAILABLE, f"licences cannot be looked up: {_reason(error)}"
        if found:
            return COVERED, {
                "kind": "licence",
                "id": str(found["licence_no"]),
                "title": str(found.get("name") or ""),
            }
    return NOT_COVERED, f"no valid {licence_type} licence of the applicant among the materials"


def holder_ids(application: Application) -> list[str]:
    """Whose licences count: the applicant's and the party's applied for."""
    holder = getattr(application, "holder_id", None)
    if callable(holder) or holder is None:
        holder = application._holder_id()
    return list(dict.fromkeys([application.applicant_id, holder]))


def _held_licence() -> HeldLicence:
    from services.workflow.service_layer.licences import held_licence

    return held_licence


def _record_delivery(uow: WorkflowUnitOfWork, envelope: Mapping) -> None:
    with uow:
        uow.first_delivery(envelope, CONSUMER)
        uow.commit()
