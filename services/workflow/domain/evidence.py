"""Steps met by evidence: a zone's regional assessment (区域评) or a licence held.

An ``assessment`` or ``licence`` step opens without work for anybody and records
:class:`EvidenceStepStarted`; the instance that owns the case then looks for the
evidence outside the case's transaction (catalog's ``find_assessment`` for the
zone the form names, the licences materials name) and applies what it found in
one transaction:

- found, valid today: the step passes at once, ``covered_by`` naming the report
  or licence (:meth:`EvidenceSteps.cover_evidence_step`);
- not found (no zone in the form, no report of that kind valid today, an expired
  one, no licence of that type held), or the lookup could not be made (catalog
  down): the step becomes a task for its role and department, who checks what
  the applicant supplied and approves or denies
  (:meth:`EvidenceSteps.evidence_to_person`), never a guess.

Plain Python, mixed into ``model.Application``: the methods use its helpers
(``_pass``, ``_advance``, ``_log``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from services.common.working_calendar import WorkingCalendar

from .exceptions import InvalidTransition
from .process import EVIDENCE_KINDS, StepDefinition
from .progress import StepRun, Task

COVERED = "covered"
NOT_COVERED = "not_covered"
UNAVAILABLE = "unavailable"
OUTCOMES = (COVERED, NOT_COVERED, UNAVAILABLE)
# What covers a step: a zone's assessment report or a licence.
EVIDENCE_SOURCES = ("assessment", "licence")


class EvidenceSteps:
    """The evidence steps of an ``Application`` (mixed into it)."""

    def evidence_step(self) -> tuple[StepRun, StepDefinition] | None:
        """The open evidence step waiting for its lookup, with its definition."""
        for run in self.steps:
            if run.open and run.kind in EVIDENCE_KINDS and not run.tasks and run.evidence is None:
                return run, self.process.step(run.id)
        return None

    def cover_evidence_step(
        self,
        covered_by: Mapping[str, Any],
        *,
        calendar: WorkingCalendar,
        licence_numbers: model.LicenceNumbers,
        now: datetime | None = None,
    ) -> None:
        """The evidence was found: ``covered_by`` is ``{kind: assessment|licence,
        id, title}``. The step passes and the case moves on (approved when it
        was the last step)."""
        run, _ = self._waiting_evidence()
        now = model._aware(now)
        shown = {
            "kind": str(covered_by["kind"]),
            "id": str(covered_by["id"]),
            "title": str(covered_by.get("title") or ""),
        }
        run.covered_by = shown
        run.evidence = {"outcome": COVERED, "reason": ""}
        self._pass(run, now)
        comment = f"{shown['title']} ({shown['id']})" if shown["title"] else shown["id"]
        self._log(now, "evidence_covered", None, model.Role.SYSTEM, comment, step=run.id)
        self._advance(model.local_date(now), calendar, licence_numbers, now)
        self._settle_escalations(now)

    def evidence_to_person(
        self,
        outcome: str,
        reason: str,
        *,
        calendar: WorkingCalendar,
        now: datetime | None = None,
    ) -> None:
        """No evidence covers the step (``not_covered``), or it could not be
        looked for (``unavailable``): the step's role of its department checks
        what the applicant supplied, within the step's working days from today."""
        if outcome not in (NOT_COVERED, UNAVAILABLE):
            raise ValueError(f"outcome must be {NOT_COVERED} or {UNAVAILABLE}, got {outcome!r}")
        run, definition = self._waiting_evidence()
        now = model._aware(now)
        task = Task(
            department_code=definition.department_code or self.department_code,
            role=definition.role or str(model.Role.APPROVER),
            days=definition.days,
        )
        task.start(model.local_date(now), calendar)
        run.tasks.append(task)
        run.due_date = task.due_date
        run.evidence = {"outcome": outcome, "reason": reason}
        self._log(now, f"evidence_{outcome}", None, model.Role.SYSTEM, reason, step=run.id)

    def _waiting_evidence(self) -> tuple[StepRun, StepDefinition]:
        found = self.evidence_step()
        if found is None:
            raise InvalidTransition("no evidence step is waiting for its lookup")
        return found


# Last: model imports this module to build Application on it, and the methods
# above use model's helpers only when called.
from . import model  # noqa: E402
