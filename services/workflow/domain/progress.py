"""Where a case stands in its process: each step's run, each task, the clock.

A step of the definition (``domain.process``) runs as a :class:`StepRun`; the work
in it is done as :class:`Task` s: one for an accept, review or approve step, one
per branch for a parallel step, none for an auto step unless its facts could not
be fetched and a person decides instead. Extensions (延期), suspensions
(特别程序) and escalations of late work (督办) are kept with the case, and so is
the state of its clock.

Plain Python; ``to_dict``/``from_dict`` give the JSON the repository stores.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from services.common.working_calendar import WorkingCalendar

# Within this many working days of its due date an open case or step is yellow.
YELLOW_DAYS = 2
# A task red this many working days after it went to its department's admin
# goes to the operator as well (config ESCALATE_TO_OPERATOR_DAYS).
ESCALATE_TO_OPERATOR_DAYS = 3


class StepState(StrEnum):
    PENDING = "pending"  # not reached yet
    ACTIVE = "active"  # open: work to do
    DONE = "done"  # passed: accepted, approved, its join met, decided automatically
    DENIED = "denied"  # ended the case: denied, rejected, or its join can no longer be met
    NOT_NEEDED = "not_needed"  # a branch left open when its join was met
    CLOSED = "closed"  # the case ended elsewhere before the work was done


OPEN_STATES = frozenset({StepState.PENDING, StepState.ACTIVE})


class Signal(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


def warning_of(
    due: date, today: date, calendar: WorkingCalendar, yellow_days: int = YELLOW_DAYS
) -> Signal:
    """Red once a working day after ``due`` has begun; yellow within
    ``yellow_days`` working days of it; green before."""
    if calendar.working_days_between(due, today) >= 1:
        return Signal.RED
    if calendar.working_days_between(today, due) <= yellow_days:
        return Signal.YELLOW
    return Signal.GREEN


def signal_of(due: date, today: date, calendar: WorkingCalendar, clock: Clock) -> Signal:
    """The signal of an open due date today, measured as if a stopped clock
    restarted today: the due date moved by the working days it has stood still
    so far (as it will move when the clock runs again)."""
    waited = clock.waited_so_far(today, calendar)
    return warning_of(calendar.add_working_days(due, waited), today, calendar)


def _date(value) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _instant(value) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _iso(value) -> str | None:
    return None if value is None else value.isoformat()


@dataclass
class Task:
    """One piece of work: a department's role owes a decision by ``due_date``."""

    department_code: str
    role: str
    days: int
    state: str = StepState.PENDING
    started_on: date | None = None
    due_date: date | None = None
    decided_at: datetime | None = None
    decided_by: str | None = None
    # The action taken (accept, reject, approve, deny) and its comment.
    decision: str | None = None
    comment: str = ""

    @property
    def open(self) -> bool:
        return self.state == StepState.ACTIVE

    def start(self, on: date, calendar: WorkingCalendar) -> None:
        self.state = StepState.ACTIVE
        self.started_on = on
        self.due_date = calendar.add_working_days(on, self.days)

    def decide(self, state: str, action: str, actor_id: str | None, comment: str, now) -> None:
        self.state = state
        self.decision = action
        self.decided_by = actor_id
        self.decided_at = now
        self.comment = comment

    def to_dict(self) -> dict[str, Any]:
        return {
            "department_code": self.department_code,
            "role": self.role,
            "days": self.days,
            "state": str(self.state),
            "started_on": _iso(self.started_on),
            "due_date": _iso(self.due_date),
            "decided_at": _iso(self.decided_at),
            "decided_by": self.decided_by,
            "decision": self.decision,
            "comment": self.comment,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Task:
        return cls(
            department_code=data["department_code"],
            role=data["role"],
            days=int(data["days"]),
            state=data["state"],
            started_on=_date(data.get("started_on")),
            due_date=_date(data.get("due_date")),
            decided_at=_instant(data.get("decided_at")),
            decided_by=data.get("decided_by"),
            decision=data.get("decision"),
            comment=data.get("comment") or "",
        )


@dataclass
class StepRun:
    """A step of the case's process definition, as it runs on this case."""

    id: str
    kind: str
    state: str = StepState.PENDING
    started_on: date | None = None
    due_date: date | None = None
    finished_at: datetime | None = None
    tasks: list[Task] = field(default_factory=list)
    # An auto step's outcome: {"outcome": approved|denied|unavailable, "failures":
    # [...], "source": ...}.
    auto: dict[str, Any] | None = None
    # An evidence step's lookup: {"outcome": covered|not_covered|unavailable,
    # "reason"}, and what covered it: {"kind": assessment|licence, "id", "title"}.
    evidence: dict[str, Any] | None = None
    covered_by: dict[str, Any] | None = None

    @property
    def open(self) -> bool:
        return self.state == StepState.ACTIVE

    def finish(self, state: str, now: datetime) -> None:
        self.state = state
        self.finished_at = now

    def close_open_tasks(self, state: str = StepState.CLOSED) -> None:
        for task in self.tasks:
            if task.state in OPEN_STATES:
                task.state = state

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "state": str(self.state),
            "started_on": _iso(self.started_on),
            "due_date": _iso(self.due_date),
            "finished_at": _iso(self.finished_at),
            "tasks": [task.to_dict() for task in self.tasks],
            "auto": self.auto,
            "evidence": self.evidence,
            "covered_by": self.covered_by,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StepRun:
        return cls(
            id=data["id"],
            kind=data["kind"],
            state=data["state"],
            started_on=_date(data.get("started_on")),
            due_date=_date(data.get("due_date")),
            finished_at=_instant(data.get("finished_at")),
            tasks=[Task.from_dict(task) for task in data.get("tasks") or ()],
            auto=data.get("auto"),
            evidence=data.get("evidence"),
            covered_by=data.get("covered_by"),
        )


class ExtensionState(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REFUSED = "refused"


@dataclass
class Extension:
    """An approver asks for more working days (延期); the department admin decides."""

    extension_id: str
    working_days: int
    reason: str
    requested_by: str
    requested_at: datetime
    state: str = ExtensionState.REQUESTED
    decided_by: str | None = None
    decided_at: datetime | None = None
    comment: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "extension_id": self.extension_id,
            "working_days": self.working_days,
            "reason": self.reason,
            "requested_by": self.requested_by,
            "requested_at": _iso(self.requested_at),
            "state": str(self.state),
            "decided_by": self.decided_by,
            "decided_at": _iso(self.decided_at),
            "comment": self.comment,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Extension:
        return cls(
            extension_id=data["extension_id"],
            working_days=int(data["working_days"]),
            reason=data["reason"],
            requested_by=data["requested_by"],
            requested_at=_instant(data["requested_at"]),
            state=data["state"],
            decided_by=data.get("decided_by"),
            decided_at=_instant(data.get("decided_at")),
            comment=data.get("comment") or "",
        )


SUSPENSION_KINDS = ("hearing", "inspection", "testing", "expert_review", "tender", "other")


@dataclass
class Suspension:
    """A special procedure (听证, 现场核查, 检验检测, 专家评审, 招标…) during which the
    clock stops."""

    suspension_id: str
    kind: str
    reason: str
    started_by: str
    started_at: datetime
    started_on: date
    ended_by: str | None = None
    ended_at: datetime | None = None
    result: str = ""
    # Working days the clock stood still, known once it ends.
    working_days: int | None = None

    @property
    def open(self) -> bool:
        return self.ended_at is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "suspension_id": self.suspension_id,
            "kind": self.kind,
            "reason": self.reason,
            "started_by": self.started_by,
            "started_at": _iso(self.started_at),
            "started_on": _iso(self.started_on),
            "ended_by": self.ended_by,
            "ended_at": _iso(self.ended_at),
            "result": self.result,
            "working_days": self.working_days,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Suspension:
        return cls(
            suspension_id=data["suspension_id"],
            kind=data["kind"],
            reason=data["reason"],
            started_by=data["started_by"],
            started_at=_instant(data["started_at"]),
            started_on=_date(data["started_on"]),
            ended_by=data.get("ended_by"),
            ended_at=_instant(data.get("ended_at")),
            result=data.get("result") or "",
            working_days=data.get("working_days"),
        )


@dataclass
class Clock:
    """Whether the case's time limits run. While stopped (the applicant owes
    materials, or a special procedure runs) the due dates wait; when it restarts
    they move by the working days it stood still."""

    stopped_on: date | None = None
    stopped_for: str | None = None  # "supplement", "suspension" or "payment"
    # Working days it stood still so far, over every stop that ended.
    stood_still: int = 0

    @property
    def running(self) -> bool:
        return self.stopped_on is None

    def stop(self, on: date, reason: str) -> None:
        self.stopped_on = on
        self.stopped_for = reason

    def restart(self, on: date, calendar: WorkingCalendar) -> int:
        """Run again; the working days it stood still (the day it stopped does
        not count, the day it restarts does)."""
        waited = max(calendar.working_days_between(self.stopped_on, on), 0)
        self.stopped_on = None
        self.stopped_for = None
        self.stood_still += waited
        return waited

    def waited_so_far(self, today: date, calendar: WorkingCalendar) -> int:
        if self.running:
            return 0
        return max(calendar.working_days_between(self.stopped_on, today), 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "stopped_on": _iso(self.stopped_on),
            "stopped_for": self.stopped_for,
            "stood_still": self.stood_still,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Clock:
        data = data or {}
        return cls(
            stopped_on=_date(data.get("stopped_on")),
            stopped_for=data.get("stopped_for"),
            stood_still=int(data.get("stood_still") or 0),
        )


class EscalationLevel(StrEnum):
    """Who a late task is escalated to (督办): first its department's admin,
    then the operator."""

    DEPT_ADMIN = "dept_admin"
    OPERATOR = "operator"


def escalation_levels(
    due: date,
    today: date,
    calendar: WorkingCalendar,
    clock: Clock,
    operator_days: int = ESCALATE_TO_OPERATOR_DAYS,
) -> list[EscalationLevel]:
    """The levels an open task due ``due`` has reached today: its department's
    admin once it is red (a working day after ``due`` has begun), the operator
    once it would still be red with its due date ``operator_days`` working days
    later. None while the clock stands still: its due dates move when it runs
    again."""
    if not clock.running:
        return []
    reached = []
    for level, deadline in (
        (EscalationLevel.DEPT_ADMIN, due),
        (EscalationLevel.OPERATOR, calendar.add_working_days(due, operator_days)),
    ):
        if signal_of(deadline, today, calendar, clock) != Signal.RED:
            break
        reached.append(level)
    return reached


@dataclass
class Escalation:
    """Late work brought to someone above it: the task of ``department_code`` at
    step ``step_id`` missed ``due_date`` and went to ``level`` at ``raised_at``.
    Open until the task is done or the case ends (``resolved_at``)."""

    escalation_id: str
    step_id: str
    department_code: str
    level: str
    raised_at: datetime
    due_date: date
    resolved_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.resolved_at is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "escalation_id": self.escalation_id,
            "step_id": self.step_id,
            "department_code": self.department_code,
            "level": str(self.level),
            "raised_at": _iso(self.raised_at),
            "due_date": _iso(self.due_date),
            "resolved_at": _iso(self.resolved_at),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Escalation:
        return cls(
            escalation_id=data["escalation_id"],
            step_id=data["step_id"],
            department_code=data["department_code"],
            level=data["level"],
            raised_at=_instant(data["raised_at"]),
            due_date=_date(data["due_date"]),
            resolved_at=_instant(data.get("resolved_at")),
        )
