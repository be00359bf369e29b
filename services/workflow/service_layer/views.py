"""A case as somebody sees it today: what they may do, and how close each due
date is (green, yellow, red).

The views read the Application's attributes through to it, and add what depends
on who asks and on today's date, so the contract's schemas dump them as they
dump a case.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.common.working_calendar import WorkingCalendar
from services.workflow.domain.model import Application, china_today
from services.workflow.domain.progress import StepRun, StepState


def step_views(application: Application, today: date, calendar: WorkingCalendar) -> list[dict]:
    """Each step as the answer shows it: its state, department, due date and
    signal, and for a parallel step each branch's."""
    return [_step_view(application, run, today, calendar) for run in application.steps]


def _step_view(
    application: Application, run: StepRun, today: date, calendar: WorkingCalendar
) -> dict[str, Any]:
    definition = application.process.step(run.id)

    def signal(due: date | None, open_: bool) -> str | None:
        if not open_ or due is None:
            return None
        return application.signal(today, calendar, due=due)

    view: dict[str, Any] = {
        "id": run.id,
        "kind": run.kind,
        "state": str(run.state),
        "department_code": None,
        "role": None,
        "days": definition.total_days,
        "started_on": run.started_on,
        "due_date": run.due_date,
        "finished_at": run.finished_at,
        "signal": signal(run.due_date, run.open),
        "join": definition.join.to_json() if definition.kind == "parallel" else None,
        "branches": [],
        "decided_by": None,
        "comment": None,
        "auto": run.auto,
        "evidence": run.evidence,
        "covered_by": run.covered_by,
    }
    if definition.kind == "parallel":
        branches = run.tasks or []
        if not branches:  # not started yet: the definition's branches
            view["branches"] = [
                {
                    "department_code": branch.department_code or application.department_code,
                    "role": branch.role,
                    "state": str(StepState.PENDING),
                    "due_date": None,
                    "signal": None,
                    "decided_by": None,
                    "comment": None,
                }
                for branch in definition.branches
            ]
        else:
            view["branches"] = [
                {
                    "department_code": task.department_code,
                    "role": task.role,
                    "state": str(task.state),
                    "due_date": task.due_date,
                    "signal": signal(task.due_date, task.open),
                    "decided_by": task.decided_by,
                    "comment": task.comment or None,
                }
                for task in branches
            ]
        return view
    task = run.tasks[0] if run.tasks else None
    if task is not None:
        view.update(
            department_code=task.department_code,
            role=task.role,
            decided_by=task.decided_by,
            comment=task.comment or None,
        )
    elif definition.kind != "auto":
        view.update(
            department_code=definition.department_code or application.department_code,
            role=definition.role,
        )
    else:
        view["department_code"] = definition.department_code or application.department_code
    return view


@dataclass
class CaseView:
    """A whole case for one reader: the Application, what the reader may do
    now, and the signals of its due dates today."""

    application: Application
    available_actions: list[dict[str, Any]]
    signal: str | None
    steps: list[dict[str, Any]]

    def __getattr__(self, name: str):
        return getattr(self.application, name)

    @classmethod
    def of(
        cls,
        application: Application,
        actor: Mapping[str, Any],
        calendar: WorkingCalendar,
        *,
        today: date | None = None,
    ) -> CaseView:
        today = today or china_today()
        return cls(
            application=application,
            available_actions=application.available_actions(actor),
            signal=application.signal(today, calendar),
            steps=step_views(application, today, calendar),
        )


@dataclass
class WorkItem:
    """A case in a list: the Application's summary, its signal today and, on a
    department's worklist, the department's open task."""

    application: Application
    signal: str | None
    task: dict[str, Any] | None

    def __getattr__(self, name: str):
        return getattr(self.application, name)

    @classmethod
    def of(
        cls,
        application: Application,
        department: str | None,
        calendar: WorkingCalendar,
        *,
        today: date | None = None,
    ) -> WorkItem:
        today = today or china_today()
        task = None
        if department is not None:
            for run in application.steps:
                found = next(
                    (t for t in run.tasks if t.open and t.department_code == department), None
                )
                if run.open and found is not None:
                    task = {
                        "step": run.id,
                        "role": found.role,
                        "due_date": found.due_date,
                        "signal": application.signal(today, calendar, due=found.due_date),
                    }
                    break
        return cls(application, application.signal(today, calendar), task)
