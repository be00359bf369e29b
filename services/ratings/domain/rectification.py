"""Rectification of bad reviews (差评整改): verify, rectify, call back, escalate.

Plain Python, as the rest of the domain. The rules (GB/T 39734/39735,
国办发〔2019〕51号):

- A review graded 1 or 2 opens a rectification (``bad_review_flagged``) for
  the department that handled the case (for a window visit, the visit's
  department). The department verifies it (核实) within one working day of
  the day it opened (``verify_due``) and decides how it answers:

  - ``immediate`` (立行立改): fixed at once. Due the day it is verified, and
    resolved by the verification itself, the plan being what was done;
  - ``deadline`` (限期整改): a plan due ``working_days`` working days after
    the day it is verified (15 unless given, at most 60);
  - ``explain`` (解释说明): the complaint has no basis in law or policy; the
    plan is the explanation, due the day it is verified.

- ``resolve`` records the fix of a verified rectification; for ``explain`` the
  explanation is the answer when no other comment is given.
- The return visit (回访) of a resolved rectification: the citizen reached and
  satisfied closes it (outcome ``satisfied``); reached and unsatisfied reopens
  it once, as round 2, to be verified (again within one working day) and
  resolved again; an unsatisfied citizen in round 2 closes it
  (``closed_after_reopen``). A citizen not reached is recorded and it waits for
  another call; the third unreachable call of a round closes it
  (``unreachable``).
- An appeal the operator upholds closes it from any open state
  (``appeal_upheld``): the review no longer counts.
- Late work escalates (督办) to the department's admin once a working day
  after its current due date has begun (``verify_due`` while it awaits
  verification, ``due_date`` once verified), and to the operator
  ``operator_days`` working days later (ESCALATE_TO_OPERATOR_DAYS, 3 unless
  configured); once per rectification, round and level. A resolved
  rectification awaiting its return visit has no due date and does not escalate.
- Staff of the department (dept_admin or window_clerk) or an operator verify,
  resolve and record return visits.

Working days are counted on the province's working calendar
(``services.common.working_calendar``); days are dates in China Standard Time.
Instants passed in must be timezone-aware; they are kept in UTC. Each change
records its domain event in ``events``, for the service layer's outbox.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from services.common.working_calendar import WorkingCalendar

from .events import (
    Event,
    RectificationClosed,
    RectificationEscalated,
    RectificationResolved,
    RectificationVerified,
    ReturnVisitRecorded,
)
from .exceptions import InvalidTransition, NotPermitted, ValidationFailed

# China has one zone and no DST, so a fixed offset is exact.
CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "CST")

# States.
AWAITING_VERIFICATION = "awaiting_verification"
VERIFIED = "verified"
RESOLVED = "resolved"
CLOSED = "closed"
CLOSED_FOR_APPEAL = "closed_for_appeal"
STATES = (AWAITING_VERIFICATION, VERIFIED, RESOLVED, CLOSED, CLOSED_FOR_APPEAL)
OPEN_STATES = frozenset({AWAITING_VERIFICATION, VERIFIED, RESOLVED})

# Decisions of the verification.
IMMEDIATE = "immediate"
DEADLINE = "deadline"
EXPLAIN = "explain"
DECISIONS = (IMMEDIATE, DEADLINE, EXPLAIN)

# Outcomes of a closed rectification.
SATISFIED = "satisfied"
CLOSED_AFTER_REOPEN = "closed_after_reopen"
UNREACHABLE = "unreachable"
APPEAL_UPHELD = "appeal_upheld"
OUTCOMES = (SATISFIED, CLOSED_AFTER_REOPEN, UNREACHABLE, APPEAL_UPHELD)

# Escalation levels, in the order they are reached.
DEPT_ADMIN = "dept_admin"
OPERATOR = "operator"
ESCALATION_LEVELS = (DEPT_ADMIN, OPERATOR)

VERIFY_WORKING_DAYS = 1
DEFAULT_DEADLINE_WORKING_DAYS = 15
MAX_DEADLINE_WORKING_DAYS = 60
ESCALATE_TO_OPERATOR_DAYS = 3
# The third unreachable call of a round closes the rectification.
MAX_UNREACHABLE_CALLS = 3
# A rectification is reopened once: round 2 is the last.
LAST_ROUND = 2

MAX_TEXT_LENGTH = 500
DEPARTMENT_STAFF_ROLES = frozenset({"dept_admin", "window_clerk"})

WORKING_DAYS_MESSAGE = (
    f"must be a whole number of working days from 1 to {MAX_DEADLINE_WORKING_DAYS}"
)
DECISION_MESSAGE = "must be one of " + ", ".join(DECISIONS)
BOOLEAN_MESSAGE = "must be true or false"


# ---------------------------------------------------------------------------
# Small rules


def as_utc(instant: datetime, name: str = "now") -> datetime:
    """A timezone-aware instant, in UTC. A naive one is a programming error."""
    if not isinstance(instant, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(instant).__name__}")
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return instant.astimezone(UTC)


def china_day(instant: datetime) -> date:
    """The date in China Standard Time of an aware instant."""
    return as_utc(instant).astimezone(CHINA_STANDARD_TIME).date()


def verify_due_of(day: date, calendar: WorkingCalendar) -> date:
    """The last day to verify a rectification opened (or reopened) on ``day``:
    the next working day (opened on Friday or Saturday: due on Monday, unless
    the calendar moves it)."""
    return calendar.add_working_days(day, VERIFY_WORKING_DAYS)


def is_past(due: date, today: date, calendar: WorkingCalendar) -> bool:
    """A working day after ``due`` has begun (work due on Friday is late on
    Monday, not on the weekend nobody works)."""
    return calendar.working_days_between(due, today) >= 1


def escalation_levels(
    due: date,
    today: date,
    calendar: WorkingCalendar,
    operator_days: int = ESCALATE_TO_OPERATOR_DAYS,
) -> list[str]:
    """The levels work due on ``due`` has reached ``today``: the department's
    admin once it is late, the operator once it would still be late with its
    due date ``operator_days`` working days later."""
    reached = []
    for level, deadline in (
        (DEPT_ADMIN, due),
        (OPERATOR, calendar.add_working_days(due, operator_days)),
    ):
        if not is_past(deadline, today, calendar):
            break
        reached.append(level)
    return reached


def _actor_value(actor: Any, key: str) -> Any:
    return actor.get(key) if isinstance(actor, Mapping) else None


def may_act(actor: Mapping[str, Any], department_code: str) -> bool:
    """Operators, and staff of ``department_code`` with role dept_admin or
    window_clerk, may act on that department's rectifications."""
    if not _actor_value(actor, "user_id"):
        return False
    kind = _actor_value(actor, "kind")
    if kind == "operator":
        return True
    roles = _actor_value(actor, "roles")
    if not isinstance(roles, (list, tuple, set, frozenset)):
        return False
    return (
        kind == "staff"
        and _actor_value(actor, "department_code") == department_code
        and any(role in DEPARTMENT_STAFF_ROLES for role in roles if isinstance(role, str))
    )


def _clean_text(value: Any, *, required: bool) -> tuple[str, str | None]:
    """The stripped text and what is wrong with it (None when it is fine)."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        return "", "must be a string"
    cleaned = value.strip()
    if required and not cleaned:
        return cleaned, "must not be empty"
    if len(cleaned) > MAX_TEXT_LENGTH:
        return cleaned, f"must be at most {MAX_TEXT_LENGTH} characters"
    return cleaned, None


def _working_days_error(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return WORKING_DAYS_MESSAGE
    if not 1 <= value <= MAX_DEADLINE_WORKING_DAYS:
        return WORKING_DAYS_MESSAGE
    return None


# ---------------------------------------------------------------------------
# What is kept with a rectification


@dataclass(frozen=True)
class ReturnVisit:
    """One call back to the citizen (回访) in ``round``: whether they were
    reached and, if so, whether they are satisfied with the fix."""

    return_visit_id: str
    round: int
    reached: bool
    satisfied: bool | None
    comment: str
    recorded_by: str | None
    recorded_at: datetime


@dataclass(frozen=True)
class Escalation:
    """Late work of ``round`` brought to ``level`` (督办): its due date
    ``due_date`` was missed."""

    level: str
    round: int
    due_date: date
    escalated_at: datetime


# ---------------------------------------------------------------------------
# Rectification


@dataclass(eq=False)
class Rectification:
    """The department's duty to answer a bad review (see the module for the rules).

    Identity is ``rectification_id``. ``application_id`` is the reviewed case's,
    ``visit_id`` the reviewed window visit's (one of them is set). ``decision``,
    ``plan``, ``working_days``, ``due_date`` and the ``verified_*`` and
    ``resolved_*`` fields are those of the current ``round`` (cleared when it is
    reopened); ``return_visits`` and ``escalations`` keep every round's.
    ``events`` holds the domain events recorded since it was loaded; it is not
    persisted.
    """

    rectification_id: str
    review_id: str
    department_code: str
    opened_at: datetime
    verify_due: date
    application_id: str | None = None
    visit_id: str | None = None
    state: str = AWAITING_VERIFICATION
    round: int = 1
    decision: str | None = None
    plan: str | None = None
    working_days: int | None = None
    due_date: date | None = None
    verified_at: datetime | None = None
    verified_by: str | None = None
    resolved_at: datetime | None = None
    resolution_comment: str | None = None
    resolved_by: str | None = None
    closed_at: datetime | None = None
    outcome: str | None = None
    return_visits: list[ReturnVisit] = field(default_factory=list)
    escalations: list[Escalation] = field(default_factory=list)
    events: list[Event] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.opened_at = as_utc(self.opened_at, "opened_at")
        for name in ("verified_at", "resolved_at", "closed_at"):
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, as_utc(value, name))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Rectification):
            return NotImplemented
        return other.rectification_id == self.rectification_id

    def __hash__(self) -> int:
        return hash(self.rectification_id)

    @classmethod
    def open(
        cls,
        *,
        review_id: str,
        department_code: str,
        now: datetime,
        calendar: WorkingCalendar,
        application_id: str | None = None,
        visit_id: str | None = None,
    ) -> Rectification:
        """A new rectification of a bad review of a case (``application_id``)
        or of a window visit (``visit_id``), for ``department_code`` (the
        department that handled it) to verify by the next working day
        (``verify_due``).

        Records no event: the review that opens it records
        ``bad_review_flagged`` with its ``verify_due``
        (``Review.open_rectification``). ValueError unless exactly one of
        ``application_id`` and ``visit_id`` is given.
        """
        if (application_id is None) == (visit_id is None):
            raise ValueError("a rectification is of a case or of a visit: give one of the ids")
        opened_at = as_utc(now)
        return cls(
            rectification_id=uuid.uuid4().hex,
            review_id=review_id,
            department_code=department_code,
            opened_at=opened_at,
            verify_due=verify_due_of(china_day(opened_at), calendar),
            application_id=application_id,
            visit_id=visit_id,
        )

    # ------------------------------------------------------------ questions

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def current_due(self) -> date | None:
        """What the department owes by when: ``verify_due`` while it awaits
        verification, ``due_date`` once verified; None otherwise (resolved and
        awaiting the return visit, or closed)."""
        if self.state == AWAITING_VERIFICATION:
            return self.verify_due
        if self.state == VERIFIED:
            return self.due_date
        return None

    def is_late(self, today: date, calendar: WorkingCalendar) -> bool:
        """A working day after its current due date has begun."""
        due = self.current_due
        return due is not None and is_past(due, today, calendar)

    @property
    def unreachable_calls(self) -> int:
        """Calls of the current round that did not reach the citizen."""
        return sum(
            1 for visit in self.return_visits if visit.round == self.round and not visit.reached
        )

    def escalated_levels(self, round: int | None = None) -> frozenset[str]:
        """The levels escalated to in ``round`` (the current one by default)."""
        round = self.round if round is None else round
        return frozenset(e.level for e in self.escalations if e.round == round)

    # ------------------------------------------------------------ commands

    def verify(
        self,
        actor: Mapping[str, Any],
        decision: Any,
        plan: Any,
        working_days: Any = None,
        *,
        now: datetime,
        calendar: WorkingCalendar,
    ) -> None:
        """The department's verification (核实) and how it answers (see the module).

        Raises NotPermitted unless the actor is an operator or staff of the
        department with role dept_admin or window_clerk; InvalidTransition (a
        Conflict) unless it awaits verification; ValidationFailed naming every
        bad field: ``decision`` (immediate, deadline or explain), ``plan``
        (1..500 characters), ``working_days`` (a deadline's, 1..60, 15 when not
        given; refused for the other decisions). Records
        ``rectification_verified`` and, for ``immediate``,
        ``rectification_resolved``.
        """
        self._check_actor(actor)
        if self.state != AWAITING_VERIFICATION:
            raise InvalidTransition(f"the rectification is {self.state}, not awaiting verification")
        errors: dict[str, str] = {}
        if decision not in DECISIONS:
            errors["decision"] = DECISION_MESSAGE
        cleaned_plan, message = _clean_text(plan, required=True)
        if message is not None:
            errors["plan"] = message
        if decision == DEADLINE:
            if working_days is None:
                working_days = DEFAULT_DEADLINE_WORKING_DAYS
            elif (message := _working_days_error(working_days)) is not None:
                errors["working_days"] = message
        elif working_days is not None and decision in DECISIONS:
            errors["working_days"] = "only a deadline decision takes working days"
        if errors:
            raise ValidationFailed(errors)

        verified_at = as_utc(now)
        today = china_day(verified_at)
        self.decision = decision
        self.plan = cleaned_plan
        self.working_days = working_days if decision == DEADLINE else None
        self.due_date = (
            calendar.add_working_days(today, working_days) if decision == DEADLINE else today
        )
        self.verified_at = verified_at
        self.verified_by = _actor_value(actor, "user_id")
        self.state = VERIFIED
        self.events.append(
            RectificationVerified(
                rectification_id=self.rectification_id,
                review_id=self.review_id,
                department_code=self.department_code,
                decision=decision,
                due_date=self.due_date,
                verified_at=verified_at,
            )
        )
        if decision == IMMEDIATE:
            self._resolved(self.verified_by, cleaned_plan, verified_at)

    def resolve(self, actor: Mapping[str, Any], comment: Any, *, now: datetime) -> None:
        """Record the fix of a verified rectification.

        Raises NotPermitted (as ``verify``); InvalidTransition (a Conflict)
        unless it is verified; ValidationFailed unless the stripped comment is
        1..500 characters (for ``explain`` an empty comment takes the
        explanation). Records ``rectification_resolved`` with the round.
        """
        self._check_actor(actor)
        if self.state != VERIFIED:
            if self.state == AWAITING_VERIFICATION:
                raise InvalidTransition("the rectification must be verified before it is resolved")
            raise InvalidTransition(f"the rectification is {self.state}, not verified")
        required = self.decision != EXPLAIN
        cleaned, message = _clean_text(comment, required=required)
        if message is not None:
            raise ValidationFailed({"comment": message})
        self._resolved(_actor_value(actor, "user_id"), cleaned or self.plan, as_utc(now))

    def record_return_visit(
        self,
        actor: Mapping[str, Any],
        reached: Any,
        satisfied: Any = None,
        comment: Any = None,
        *,
        now: datetime,
        calendar: WorkingCalendar,
    ) -> ReturnVisit:
        """Record a call back to the citizen (回访) about the fix, and what it
        leads to (see the module: closed, reopened, or still awaiting a call).

        Raises NotPermitted (as ``verify``); InvalidTransition (a Conflict)
        unless it is resolved; ValidationFailed naming every bad field:
        ``reached`` (true or false), ``satisfied`` (true or false when reached,
        null when not), ``comment`` (at most 500 characters). Records
        ``return_visit_recorded`` and, when it closes, ``rectification_closed``.
        """
        self._check_actor(actor)
        if self.state != RESOLVED:
            raise InvalidTransition(
                f"the rectification is {self.state}; a return visit follows its resolution"
            )
        errors: dict[str, str] = {}
        if not isinstance(reached, bool):
            errors["reached"] = BOOLEAN_MESSAGE
        elif reached and not isinstance(satisfied, bool):
            errors["satisfied"] = "must be true or false when the citizen was reached"
        elif not reached and satisfied is not None:
            errors["satisfied"] = "must be null when the citizen was not reached"
        cleaned_comment, message = _clean_text(comment, required=False)
        if message is not None:
            errors["comment"] = message
        if errors:
            raise ValidationFailed(errors)

        recorded_at = as_utc(now)
        visit = ReturnVisit(
            return_visit_id=uuid.uuid4().hex,
            round=self.round,
            reached=reached,
            satisfied=satisfied if reached else None,
            comment=cleaned_comment,
            recorded_by=_actor_value(actor, "user_id"),
            recorded_at=recorded_at,
        )
        self.return_visits.append(visit)
        reopen = reached and not satisfied and self.round < LAST_ROUND
        self.events.append(
            ReturnVisitRecorded(
                rectification_id=self.rectification_id,
                review_id=self.review_id,
                department_code=self.department_code,
                reached=visit.reached,
                satisfied=visit.satisfied,
                reopened=reopen,
                recorded_at=recorded_at,
            )
        )
        if reached and satisfied:
            self._close(SATISFIED, recorded_at)
        elif reopen:
            self._reopen(recorded_at, calendar)
        elif reached:
            self._close(CLOSED_AFTER_REOPEN, recorded_at)
        elif self.unreachable_calls >= MAX_UNREACHABLE_CALLS:
            self._close(UNREACHABLE, recorded_at)
        return visit

    def close_for_appeal(self, now: datetime) -> bool:
        """Close it because the operator upheld the appeal against its review
        (outcome ``appeal_upheld``), from any open state; records
        ``rectification_closed``. True when it closed; False, changing
        nothing, when it was closed already."""
        if not self.is_open:
            return False
        self._close(APPEAL_UPHELD, as_utc(now), state=CLOSED_FOR_APPEAL)
        return True

    def escalate(
        self,
        today: date,
        calendar: WorkingCalendar,
        *,
        now: datetime,
        operator_days: int = ESCALATE_TO_OPERATOR_DAYS,
    ) -> list[Escalation]:
        """Escalate late work (督办, see the module) to every level it has
        reached ``today`` and not been escalated to in this round; records
        ``rectification_escalated`` for each. The new escalations, lowest
        level first (none when it is on time, closed or resolved)."""
        due = self.current_due
        if due is None:
            return []
        done = self.escalated_levels()
        escalated_at = as_utc(now)
        raised = []
        for level in escalation_levels(due, today, calendar, operator_days):
            if level in done:
                continue
            escalation = Escalation(
                level=level, round=self.round, due_date=due, escalated_at=escalated_at
            )
            self.escalations.append(escalation)
            raised.append(escalation)
            self.events.append(
                RectificationEscalated(
                    rectification_id=self.rectification_id,
                    review_id=self.review_id,
                    department_code=self.department_code,
                    level=level,
                    due_date=due,
                    escalated_at=escalated_at,
                )
            )
        return raised

    # ------------------------------------------------------------ inside

    def _check_actor(self, actor: Mapping[str, Any]) -> None:
        if not may_act(actor, self.department_code):
            raise NotPermitted("only the department's staff or an operator may act on it")

    def _resolved(self, resolved_by: str | None, comment: str | None, now: datetime) -> None:
        self.state = RESOLVED
        self.resolved_at = now
        self.resolution_comment = comment
        self.resolved_by = resolved_by
        self.events.append(
            RectificationResolved(
                rectification_id=self.rectification_id,
                review_id=self.review_id,
                application_id=self.application_id,
                department_code=self.department_code,
                resolved_by=resolved_by,
                resolved_at=now,
                round=self.round,
            )
        )

    def _reopen(self, now: datetime, calendar: WorkingCalendar) -> None:
        self.round += 1
        self.state = AWAITING_VERIFICATION
        self.verify_due = verify_due_of(china_day(now), calendar)
        self.decision = self.plan = self.working_days = self.due_date = None
        self.verified_at = self.verified_by = None
        self.resolved_at = self.resolution_comment = self.resolved_by = None

    def _close(self, outcome: str, now: datetime, state: str = CLOSED) -> None:
        self.state = state
        self.outcome = outcome
        self.closed_at = now
        self.events.append(
            RectificationClosed(
                rectification_id=self.rectification_id,
                review_id=self.review_id,
                department_code=self.department_code,
                outcome=outcome,
                closed_at=now,
            )
        )
