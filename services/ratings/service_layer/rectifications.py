"""Rectification use cases (差评整改): staff's lists, verification, the fix,
the return visit, the escalation sweep, and ratings' copy of the working
calendar they count on.

Each takes the unit of work first, then keyword arguments as the contract loads
them; each command is one transaction whose events go to the outbox with it.
``now`` (and ``today``, its date in China Standard Time) default to the process
clock (``services.common.clock``), so drills and tests move time. The rules are
the domain's (``services.ratings.domain.rectification``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime

import sqlalchemy as sa

from services.common import clock
from services.common.errors import Invalid
from services.common.working_calendar import WorkingCalendar
from services.ratings.adapters.calendar_repository import WORKFLOW
from services.ratings.adapters.rectification_repository import RectificationView
from services.ratings.domain.exceptions import NotPermitted, UnknownRectification
from services.ratings.domain.rectification import (
    ESCALATE_TO_OPERATOR_DAYS,
    ESCALATION_LEVELS,
    STATES,
    Rectification,
    china_day,
    escalation_levels,
    is_past,
)

log = logging.getLogger(__name__)

CONSUMER_CALENDAR_LOADED = "ratings.on_calendar_loaded"

# How often the escalation sweep runs (RECTIFICATION_CHECK_SECONDS).
DEFAULT_CHECK_SECONDS = 60.0
# Most working days a late rectification may stay with its department's admin
# before it goes to the operator too.
MAX_OPERATOR_DAYS = 60


def operator_days_of(config: Mapping) -> int:
    """RECTIFICATION_ESCALATE_TO_OPERATOR_DAYS: working days a late
    rectification stays with its department's admin before it goes to the
    operator too (3 unless set); ValueError naming the setting for anything but
    a whole number 1..60."""
    value = config.get("RECTIFICATION_ESCALATE_TO_OPERATOR_DAYS")
    if value is None or value == "":
        return ESCALATE_TO_OPERATOR_DAYS
    text = str(value).strip()
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_OPERATOR_DAYS:
        raise ValueError(
            "RECTIFICATION_ESCALATE_TO_OPERATOR_DAYS must be a whole number of working days,"
            f" 1..{MAX_OPERATOR_DAYS}; got {value!r}"
        )
    return int(text)


def check_seconds_of(config: Mapping) -> float:
    """RECTIFICATION_CHECK_SECONDS: seconds between escalation sweeps (60
    unless set); ValueError naming the setting for anything but a positive
    number."""
    value = config.get("RECTIFICATION_CHECK_SECONDS")
    if value is None or value == "":
        return DEFAULT_CHECK_SECONDS
    try:
        seconds = float(str(value).strip())
    except ValueError:
        seconds = float("nan")
    if not seconds > 0 or seconds == float("inf"):
        raise ValueError(
            f"RECTIFICATION_CHECK_SECONDS must be a positive number of seconds; got {value!r}"
        )
    return seconds


def _offset(page: int, page_size: int) -> int:
    return (page - 1) * page_size


def _now(now: datetime | None) -> datetime:
    return now if now is not None else clock.now()


# ---------------------------------------------------------------- calendar


def rectification_calendar(uow, now: datetime | None = None) -> WorkingCalendar:
    """The working calendar rectification deadlines count on: every year
    workflow loaded, else shipped with the code. Call it inside the unit of
    work's transaction. A year in neither counts weekdays only; when ``now``
    falls in such a year this is logged, since the deadlines then ignore that
    year's holidays."""
    calendar = uow.calendar.load()
    if now is not None:
        today = china_day(now)
        if not calendar.covers(today, today):
            log.warning(
                "no working calendar for %s: rectification deadlines count weekdays only",
                today.year,
                extra={"year": today.year},
            )
    return calendar


def record_calendar_year(uow, envelope: dict) -> bool:
    """Take a year an operator loaded or corrected in workflow (its
    ``calendar_loaded``, the envelope with the payload loaded): the year
    replaces ratings' copy, unless a correction workflow made later is stored
    already (events may arrive out of order; the envelope's ``occurred_at``
    orders them).

    Once per event: a repeated delivery changes nothing. Returns whether the
    year was stored. Raises Invalid when the envelope has no id, or for a
    payload whose days are not of its year or are both holiday and workday
    (dead-lettered for an operator).
    """
    if not isinstance(envelope.get("id"), str) or not envelope["id"]:
        raise Invalid("not an event envelope", {"id": "is required"})
    try:
        return _record_calendar_year_once(uow, envelope)
    except sa.exc.IntegrityError:
        # Each workflow instance announces the year it loaded, at the same
        # moment: both found no row to lock and the other inserted it first.
        # Again, this one finds it and replaces it or keeps the later one.
        return _record_calendar_year_once(uow, envelope)


def _record_calendar_year_once(uow, envelope: dict) -> bool:
    payload = envelope["payload"]
    loaded_at = _occurred_at(envelope)
    with uow:
        if not uow.first_delivery(envelope, CONSUMER_CALENDAR_LOADED):
            return False
        try:
            stored = uow.calendar.put(
                payload["year"],
                payload["holidays"],
                payload["workdays"],
                source=WORKFLOW,
                loaded_at=loaded_at,
            )
        except ValueError as error:
            raise Invalid("bad calendar_loaded payload", {"payload": str(error)}) from None
        uow.commit()
    if not stored:
        log.info(
            "kept a later calendar year than the one received",
            extra={"year": payload["year"], "event_id": envelope["id"]},
        )
    return stored


def _occurred_at(envelope: dict) -> datetime | None:
    """The envelope's ``occurred_at`` as an aware instant; None when it has none
    (the year then replaces only a shipped one)."""
    value = envelope.get("occurred_at")
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else None
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def store_shipped_calendars(uow) -> list[int]:
    """Store every year shipped with the code that ratings has no copy of (a
    year workflow loaded is left alone); the years stored."""
    with uow:
        stored = uow.calendar.store_shipped()
        uow.commit()
    return stored


# ---------------------------------------------------------------- who sees what


def rectification_scope(actor: Mapping) -> str | None:
    """The department whose rectifications the actor sees; None for all of them
    (an operator). Raises NotPermitted for anyone else: citizens, staff without
    a department."""
    actor = actor if isinstance(actor, Mapping) else {}
    if not actor.get("user_id"):
        raise NotPermitted("only department staff or an operator may see rectifications")
    if actor.get("kind") == "operator":
        return None
    if actor.get("kind") == "staff" and actor.get("department_code"):
        return actor["department_code"]
    raise NotPermitted("only department staff or an operator may see rectifications")


def _view(view: RectificationView, today: date, calendar: WorkingCalendar) -> dict:
    """What staff see of a rectification (``contract.Rectification``)."""
    rectification, review = view.rectification, view.review
    return {
        "rectification_id": rectification.rectification_id,
        "review_id": rectification.review_id,
        "application_id": rectification.application_id,
        "visit_id": rectification.visit_id,
        "department_code": rectification.department_code,
        "grade": review.grade,
        "review_comment": review.comment,
        "item_id": review.item_id,
        "item_name": review.item_name,
        "store_id": review.store_id,
        "submitted_at": review.submitted_at,
        "state": rectification.state,
        "round": rectification.round,
        "opened_at": rectification.opened_at,
        "verify_due": rectification.verify_due,
        "decision": rectification.decision,
        "plan": rectification.plan,
        "working_days": rectification.working_days,
        "due_date": rectification.due_date,
        "verified_at": rectification.verified_at,
        "verified_by": rectification.verified_by,
        "resolved_at": rectification.resolved_at,
        "resolved_by": rectification.resolved_by,
        "resolution_comment": rectification.resolution_comment,
        "overdue": rectification.is_late(today, calendar),
        "return_visits": list(rectification.return_visits),
        "escalations": list(rectification.escalations),
        "closed_at": rectification.closed_at,
        "outcome": rectification.outcome,
    }


# ---------------------------------------------------------------- queries


def list_rectifications(
    uow,
    actor: Mapping,
    page: int,
    page_size: int,
    state: str | None = None,
    level: str | None = None,
    now: datetime | None = None,
) -> dict:
    """One page of rectifications, each with its review: staff see their
    department's, an operator every department's; only ``state``'s when given,
    only those escalated to ``level`` (dept_admin, operator) in their current
    round when given. Open ones first, the earliest due first (see
    ``RectificationRepository.list``).

    Raises NotPermitted for anyone but staff with a department or an operator;
    Invalid naming ``state`` or ``level`` when it is not one of theirs.
    """
    department = rectification_scope(actor)
    _check_filters(state, level)
    today = china_day(_now(now))
    with uow:
        calendar = rectification_calendar(uow)
        views, total = uow.rectifications.list(
            department, _offset(page, page_size), page_size, state=state, level=level
        )
    return {
        "items": [_view(view, today, calendar) for view in views],
        "page": page,
        "page_size": page_size,
        "total": total,
    }


def _check_filters(state: str | None, level: str | None) -> None:
    errors = {}
    if state is not None and state not in STATES:
        errors["state"] = "must be one of " + ", ".join(STATES)
    if level is not None and level not in ESCALATION_LEVELS:
        errors["level"] = "must be one of " + ", ".join(ESCALATION_LEVELS)
    if errors:
        raise Invalid("invalid filter", errors)


def get_rectification(
    uow, actor: Mapping, rectification_id: str, now: datetime | None = None
) -> dict:
    """One rectification with its review, return visits and escalations.
    Raises NotPermitted as ``list_rectifications``; UnknownRectification (a
    NotFound) for an unknown id or one of another department."""
    department = rectification_scope(actor)
    today = china_day(_now(now))
    with uow:
        calendar = rectification_calendar(uow)
        view = uow.rectifications.view(rectification_id)
    if view is None or department not in (None, view.rectification.department_code):
        raise UnknownRectification()
    return _view(view, today, calendar)


# ---------------------------------------------------------------- commands


def _change(uow, actor: Mapping, rectification_id: str, now: datetime, change) -> dict:
    """``change(rectification, calendar)`` on the rectification, locked, in one
    transaction with its events; the rectification as staff then see it."""
    rectification_scope(actor)
    with uow:
        calendar = rectification_calendar(uow, now)
        rectification = uow.rectifications.get(rectification_id, for_update=True)
        if rectification is None:
            raise UnknownRectification()
        change(rectification, calendar)
        uow.rectifications.save(rectification)
        uow.collect(rectification)
        view = uow.rectifications.view(rectification_id)
        uow.commit()
    return _view(view, china_day(now), calendar)


def verify_rectification(
    uow,
    actor: Mapping,
    rectification_id: str,
    decision: str,
    plan: str,
    working_days: int | None = None,
    now: datetime | None = None,
) -> dict:
    """The department verifies a bad review (核实) and decides how it answers:
    ``immediate`` (fixed at once: resolved with it, the plan being what was
    done), ``deadline`` (``working_days`` working days, 15 unless given, at most
    60) or ``explain`` (the plan is the explanation). Emits
    ``rectification_verified`` (and ``rectification_resolved`` for immediate).

    Raises UnknownRectification (a NotFound); NotPermitted unless an operator or
    staff (dept_admin, window_clerk) of the department; InvalidTransition (a
    Conflict) unless it awaits verification; ValidationFailed naming decision,
    plan or working_days.
    """
    now = _now(now)
    return _change(
        uow,
        actor,
        rectification_id,
        now,
        lambda rectification, calendar: rectification.verify(
            actor, decision, plan, working_days, now=now, calendar=calendar
        ),
    )


def resolve_rectification(
    uow,
    actor: Mapping,
    rectification_id: str,
    comment: str | None = None,
    now: datetime | None = None,
) -> dict:
    """Record the fix of a verified rectification (for ``explain`` the
    explanation, unless a comment is given). Emits ``rectification_resolved``
    with its round.

    Raises UnknownRectification (a NotFound); NotPermitted as
    ``verify_rectification``; InvalidTransition (a Conflict) unless it is
    verified; ValidationFailed for an empty (but after explain) or too long
    comment.
    """
    now = _now(now)
    return _change(
        uow,
        actor,
        rectification_id,
        now,
        lambda rectification, _calendar: rectification.resolve(actor, comment, now=now),
    )


def record_return_visit(
    uow,
    actor: Mapping,
    rectification_id: str,
    reached: bool,
    satisfied: bool | None = None,
    comment: str | None = "",
    now: datetime | None = None,
) -> dict:
    """Record a call back to the citizen (回访) about a resolved rectification:
    reached and satisfied closes it; reached and unsatisfied reopens it once
    (round 2, to verify again within a working day), and closes it in round 2;
    the third unreachable call of a round closes it. Emits
    ``return_visit_recorded`` (and ``rectification_closed`` when it closes).

    Raises UnknownRectification (a NotFound); NotPermitted as
    ``verify_rectification``; InvalidTransition (a Conflict) unless it is
    resolved; ValidationFailed naming reached, satisfied or comment.
    """
    now = _now(now)
    return _change(
        uow,
        actor,
        rectification_id,
        now,
        lambda rectification, calendar: rectification.record_return_visit(
            actor, reached, satisfied, comment, now=now, calendar=calendar
        ),
    )


def escalate_late_rectifications(
    uow,
    today: date | None = None,
    *,
    operator_days: int = ESCALATE_TO_OPERATOR_DAYS,
    now: datetime | None = None,
) -> int:
    """Escalate every late rectification (督办, ``Rectification.escalate``): to
    its department's admin once a working day after its current due date has
    begun, to the operator ``operator_days`` working days later; once per
    rectification, round and level. Emits ``rectification_escalated`` for each.

    The candidates come from one query (open, due before today, not yet with the
    operator) and are counted on the calendar before any is loaded; each is then
    changed locked, in a transaction of its own. Safe to run in every replica at
    once: a rectification another sweep escalated first is skipped. Answers how
    many escalations were raised.
    """
    now = _now(now)
    today = today if today is not None else china_day(now)
    with uow:
        calendar = rectification_calendar(uow, now)
        late = uow.rectifications.late(today)
    candidates = [
        candidate.rectification_id
        for candidate in late
        if set(escalation_levels(candidate.due, today, calendar, operator_days))
        - candidate.escalated
    ]
    raised = 0
    for rectification_id in candidates:
        with uow:
            rectification = uow.rectifications.get(rectification_id, for_update=True)
            if rectification is None:
                continue
            escalations = rectification.escalate(
                today, calendar, now=now, operator_days=operator_days
            )
            if not escalations:
                continue
            uow.rectifications.save(rectification)
            uow.collect(rectification)
            try:
                uow.commit()
            except sa.exc.IntegrityError:
                # Another replica's sweep escalated it between our read and write.
                log.info(
                    "rectification escalated elsewhere first",
                    extra={"rectification_id": rectification_id},
                )
                continue
        raised += len(escalations)
    return raised


# ---------------------------------------------------------------- figures


def count_rectifications_by_state(uow) -> dict[str, int]:
    """Rectifications per state, every state named (0 when it has none)."""
    with uow:
        counted = uow.rectifications.count_by_state()
    return {state: counted.get(state, 0) for state in STATES}


def count_late_rectifications(uow, now: datetime | None = None) -> int:
    """Open rectifications a working day past their current due date
    (``Rectification.is_late``): verifications and fixes owed and not done."""
    today = china_day(_now(now))
    with uow:
        dues = [due for state, due in uow.rectifications.open_dues() if due is not None]
        if not any(due < today for due in dues):
            return 0
        calendar = rectification_calendar(uow)
    return sum(1 for due in dues if is_past(due, today, calendar))


def close_for_appeal(uow, review_id: str, now: datetime) -> Rectification | None:
    """Inside the caller's transaction: close the open rectification of
    ``review_id`` because its appeal was upheld (outcome ``appeal_upheld``),
    saving it and collecting its events. The rectification when one closed,
    None when the review has none or it was closed already."""
    rectification = uow.rectifications.for_review(review_id, for_update=True)
    if rectification is None or not rectification.close_for_appeal(now):
        return None
    uow.rectifications.save(rectification)
    uow.collect(rectification)
    return rectification
