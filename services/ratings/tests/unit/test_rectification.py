"""The rectification of a bad review (差评整改), as plain domain objects: the
verification within a working day, the three decisions, the fix, the return
visit, the reopening, the appeal, and the escalation of late work; working
days counted on the 2026 schedule shipped with the code."""

import dataclasses
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common.errors import Conflict, Forbidden
from services.common.working_calendar import WorkingCalendar, shipped_schedule, year_calendar
from services.ratings.domain.events import (
    RectificationClosed,
    RectificationEscalated,
    RectificationResolved,
    RectificationVerified,
    ReturnVisitRecorded,
)
from services.ratings.domain.exceptions import InvalidTransition, ValidationFailed
from services.ratings.domain.rectification import (
    Rectification,
    china_day,
    escalation_levels,
    is_past,
    may_act,
    verify_due_of,
)

DEPARTMENT = "320100-MSA"
BEIJING = timezone(timedelta(hours=8))


def at(day: date, hour: int = 10) -> datetime:
    """``hour`` o'clock in Nanjing on ``day``, as a UTC instant."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=BEIJING).astimezone(UTC)


# Wednesday 25 November 2026, 10:00 in Nanjing.
OPENED = at(date(2026, 11, 25))

DEPT_ADMIN = {
    "user_id": "u-admin",
    "kind": "staff",
    "roles": ["dept_admin"],
    "department_code": DEPARTMENT,
}
WINDOW_CLERK = {
    "user_id": "u-clerk",
    "kind": "staff",
    "roles": ["window_clerk"],
    "department_code": DEPARTMENT,
}
OPERATOR = {"user_id": "u-op", "kind": "operator", "roles": [], "department_code": None}


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    shipped = shipped_schedule(2026)
    return year_calendar(2026, shipped["holidays"], shipped["workdays"])


def opened(calendar, now=OPENED, **ids) -> Rectification:
    ids = ids or {"application_id": "app-1"}
    return Rectification.open(
        review_id="r-1", department_code=DEPARTMENT, now=now, calendar=calendar, **ids
    )


@pytest.fixture
def rectification(calendar):
    return opened(calendar)


def verified(calendar, decision="deadline", working_days=None, now=OPENED) -> Rectification:
    rectification = opened(calendar)
    rectification.verify(
        DEPT_ADMIN, decision, "补齐一次性告知单", working_days, now=now, calendar=calendar
    )
    rectification.events.clear()
    return rectification


def resolved(calendar, now=OPENED) -> Rectification:
    rectification = verified(calendar, now=now)
    rectification.resolve(WINDOW_CLERK, "已补齐并培训窗口人员", now=now)
    rectification.events.clear()
    return rectification


# --- opening ----------------------------------------------------------------


def test_a_new_rectification_awaits_verification_by_the_next_working_day(rectification):
    assert rectification.state == "awaiting_verification"
    assert rectification.round == 1
    assert rectification.is_open
    assert rectification.opened_at == OPENED
    assert rectification.verify_due == date(2026, 11, 26)
    assert rectification.current_due == date(2026, 11, 26)
    assert rectification.department_code == DEPARTMENT
    assert (rectification.application_id, rectification.visit_id) == ("app-1", None)
    assert rectification.decision is None and rectification.due_date is None
    assert rectification.return_visits == [] and rectification.escalations == []
    assert rectification.events == []


@pytest.mark.parametrize(
    ("opened_on", "verify_due"),
    [
        (date(2026, 11, 27), date(2026, 11, 30)),  # Friday: Monday
        (date(2026, 11, 28), date(2026, 11, 30)),  # Saturday: Monday
        (date(2026, 9, 30), date(2026, 10, 8)),  # before National Day: after it
        (date(2026, 10, 9), date(2026, 10, 10)),  # Friday: the make-up Saturday
        (date(2026, 10, 10), date(2026, 10, 12)),  # the make-up Saturday: Monday
    ],
    ids=["friday", "saturday", "national-day", "make-up-saturday-next", "on-make-up-saturday"],
)
def test_verify_due_is_the_next_working_day_on_the_calendar(calendar, opened_on, verify_due):
    assert opened(calendar, now=at(opened_on)).verify_due == verify_due


def test_the_opening_day_is_the_day_in_china_standard_time(calendar):
    # 15:59 UTC is 23:59 Wednesday in Nanjing; 16:00 UTC is already Thursday.
    late_wednesday = datetime(2026, 11, 25, 15, 59, tzinfo=UTC)
    thursday = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)

    assert opened(calendar, now=late_wednesday).verify_due == date(2026, 11, 26)
    assert opened(calendar, now=thursday).verify_due == date(2026, 11, 27)


def test_a_rectification_of_a_visit_names_the_visit(calendar):
    rectification = opened(calendar, visit_id="v-1")

    assert (rectification.application_id, rectification.visit_id) == (None, "v-1")


@pytest.mark.parametrize("ids", [{}, {"application_id": "app-1", "visit_id": "v-1"}])
def test_a_rectification_is_of_a_case_or_of_a_visit(calendar, ids):
    with pytest.raises(ValueError):
        Rectification.open(
            review_id="r-1", department_code=DEPARTMENT, now=OPENED, calendar=calendar, **ids
        )


def test_opening_needs_an_aware_instant(calendar):
    with pytest.raises(ValueError):
        opened(calendar, now=datetime(2026, 11, 25, 8, 0))


@given(
    st.datetimes(
        timezones=st.just(UTC), min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 20)
    )
)
def test_verify_due_is_always_the_first_working_day_after_the_opening_day(opened_at):
    shipped = shipped_schedule(2026)
    calendar = year_calendar(2026, shipped["holidays"], shipped["workdays"])
    day = opened_at.astimezone(BEIJING).date()

    due = verify_due_of(day, calendar)

    assert due > day
    assert calendar.is_working_day(due)
    assert calendar.working_days_between(day, due) == 1


# --- who acts ---------------------------------------------------------------


@pytest.mark.parametrize(
    "actor",
    [DEPT_ADMIN, WINDOW_CLERK, OPERATOR, {**WINDOW_CLERK, "roles": ["approver", "window_clerk"]}],
    ids=["dept-admin", "window-clerk", "operator", "clerk-among-roles"],
)
def test_department_staff_and_operators_act(actor):
    assert may_act(actor, DEPARTMENT)


NOT_PERMITTED = [
    {"user_id": "u-applicant", "kind": "citizen", "roles": [], "department_code": None},
    {**DEPT_ADMIN, "department_code": "320200-MSA"},
    {**DEPT_ADMIN, "department_code": None},
    {**DEPT_ADMIN, "roles": ["approver"]},
    {**DEPT_ADMIN, "roles": None},
    {**DEPT_ADMIN, "roles": "dept_admin"},
    {**DEPT_ADMIN, "kind": "citizen"},
    {**DEPT_ADMIN, "user_id": None},
    {key: value for key, value in OPERATOR.items() if key != "user_id"},
    {},
    None,
]
NOT_PERMITTED_IDS = [
    "citizen",
    "staff-other-dept",
    "staff-no-dept",
    "approver-only",
    "null-roles",
    "roles-not-a-list",
    "citizen-with-staff-claims",
    "staff-no-user-id",
    "operator-no-user-id",
    "empty",
    "none",
]


@pytest.mark.parametrize("actor", NOT_PERMITTED, ids=NOT_PERMITTED_IDS)
def test_no_one_else_acts(calendar, actor):
    rectification = opened(calendar)
    assert not may_act(actor, DEPARTMENT)

    with pytest.raises(Forbidden):
        rectification.verify(actor, "immediate", "已改", now=OPENED, calendar=calendar)
    later = resolved(calendar)
    with pytest.raises(Forbidden):
        later.record_return_visit(actor, True, True, now=OPENED, calendar=calendar)

    assert rectification.state == "awaiting_verification" and rectification.events == []
    assert later.state == "resolved" and later.return_visits == []


# --- verification -----------------------------------------------------------


def test_a_deadline_is_due_fifteen_working_days_on_unless_given(rectification, calendar):
    rectification.verify(
        DEPT_ADMIN,
        "deadline",
        "  补齐一次性告知单  ",
        now=at(date(2026, 11, 26)),
        calendar=calendar,
    )

    assert rectification.state == "verified"
    assert rectification.decision == "deadline"
    assert rectification.plan == "补齐一次性告知单"
    assert rectification.working_days == 15
    assert rectification.due_date == calendar.add_working_days(date(2026, 11, 26), 15)
    assert rectification.due_date == date(2026, 12, 17)
    assert rectification.current_due == rectification.due_date
    assert rectification.verified_by == "u-admin"
    assert rectification.verified_at == at(date(2026, 11, 26))
    assert rectification.events == [
        RectificationVerified(
            rectification_id=rectification.rectification_id,
            review_id="r-1",
            department_code=DEPARTMENT,
            decision="deadline",
            due_date=date(2026, 12, 17),
            verified_at=at(date(2026, 11, 26)),
        )
    ]


def test_a_deadline_counts_working_days_across_holidays(calendar):
    rectification = opened(calendar, now=at(date(2026, 9, 28)))

    rectification.verify(
        WINDOW_CLERK, "deadline", "调整窗口", 3, now=at(date(2026, 9, 29)), calendar=calendar
    )

    # Wednesday 30 September is the first; 1-7 October are National Day.
    assert rectification.due_date == date(2026, 10, 9)


@pytest.mark.parametrize("working_days", [1, 60])
def test_a_deadline_takes_1_to_60_working_days(rectification, calendar, working_days):
    rectification.verify(
        DEPT_ADMIN, "deadline", "计划", working_days, now=OPENED, calendar=calendar
    )

    assert rectification.working_days == working_days


def test_immediate_is_fixed_at_once_and_resolved_by_the_verification(rectification, calendar):
    rectification.verify(OPERATOR, "immediate", "已当场补办并致歉", now=OPENED, calendar=calendar)

    assert rectification.state == "resolved"
    assert rectification.due_date == date(2026, 11, 25)
    assert rectification.working_days is None
    assert rectification.resolved_at == OPENED
    assert rectification.resolved_by == "u-op"
    assert rectification.resolution_comment == "已当场补办并致歉"
    assert rectification.current_due is None
    assert [type(event) for event in rectification.events] == [
        RectificationVerified,
        RectificationResolved,
    ]
    assert rectification.events[1] == RectificationResolved(
        rectification_id=rectification.rectification_id,
        review_id="r-1",
        application_id="app-1",
        department_code=DEPARTMENT,
        resolved_by="u-op",
        resolved_at=OPENED,
        round=1,
    )


def test_explain_is_due_the_day_it_is_verified(rectification, calendar):
    rectification.verify(
        DEPT_ADMIN, "explain", "该事项依法须本人到场", now=OPENED, calendar=calendar
    )

    assert rectification.state == "verified"
    assert rectification.due_date == date(2026, 11, 25)
    assert rectification.plan == "该事项依法须本人到场"


@pytest.mark.parametrize(
    ("decision", "plan", "working_days", "fields"),
    [
        ("later", "x", None, {"decision": "must be one of immediate, deadline, explain"}),
        (None, "x", None, {"decision": "must be one of immediate, deadline, explain"}),
        ("deadline", "", None, {"plan": "must not be empty"}),
        ("explain", "  \n", None, {"plan": "must not be empty"}),
        ("deadline", None, None, {"plan": "must not be empty"}),
        ("deadline", 5, None, {"plan": "must be a string"}),
        ("deadline", "长" * 501, None, {"plan": "must be at most 500 characters"}),
        (
            "deadline",
            "x",
            0,
            {"working_days": "must be a whole number of working days from 1 to 60"},
        ),
        (
            "deadline",
            "x",
            61,
            {"working_days": "must be a whole number of working days from 1 to 60"},
        ),
        (
            "deadline",
            "x",
            True,
            {"working_days": "must be a whole number of working days from 1 to 60"},
        ),
        (
            "deadline",
            "x",
            5.0,
            {"working_days": "must be a whole number of working days from 1 to 60"},
        ),
        (
            "deadline",
            "x",
            "5",
            {"working_days": "must be a whole number of working days from 1 to 60"},
        ),
        ("immediate", "x", 5, {"working_days": "only a deadline decision takes working days"}),
        ("explain", "x", 5, {"working_days": "only a deadline decision takes working days"}),
        (
            "deadline",
            "",
            0,
            {
                "plan": "must not be empty",
                "working_days": "must be a whole number of working days from 1 to 60",
            },
        ),
    ],
    ids=[
        "unknown-decision",
        "no-decision",
        "empty-plan",
        "blank-explanation",
        "no-plan",
        "plan-not-text",
        "plan-too-long",
        "zero-days",
        "too-many-days",
        "bool-days",
        "float-days",
        "text-days",
        "days-with-immediate",
        "days-with-explain",
        "every-field-at-once",
    ],
)
def test_a_bad_verification_names_its_fields(
    rectification, calendar, decision, plan, working_days, fields
):
    with pytest.raises(ValidationFailed) as caught:
        rectification.verify(
            DEPT_ADMIN, decision, plan, working_days, now=OPENED, calendar=calendar
        )

    assert caught.value.fields == fields
    assert rectification.state == "awaiting_verification"
    assert rectification.events == []


def test_a_rectification_is_verified_once(calendar):
    rectification = verified(calendar)

    with pytest.raises(InvalidTransition) as caught:
        rectification.verify(DEPT_ADMIN, "immediate", "x", now=OPENED, calendar=calendar)

    assert isinstance(caught.value, Conflict)
    assert caught.value.code == "invalid_transition"
    assert rectification.decision == "deadline"


def test_forbidden_comes_before_invalid_transition_and_that_before_validation(calendar):
    rectification = verified(calendar)
    stranger = {**DEPT_ADMIN, "department_code": "320200-MSA"}

    with pytest.raises(Forbidden):
        rectification.verify(stranger, "later", "", now=OPENED, calendar=calendar)
    with pytest.raises(InvalidTransition):
        rectification.verify(DEPT_ADMIN, "later", "", now=OPENED, calendar=calendar)


# --- resolving --------------------------------------------------------------


def test_a_verified_rectification_is_resolved_with_the_fix(calendar):
    rectification = verified(calendar)
    later = OPENED + timedelta(days=3)

    rectification.resolve(WINDOW_CLERK, "  已补齐告知单  ", now=later)

    assert rectification.state == "resolved"
    assert rectification.resolution_comment == "已补齐告知单"
    assert rectification.resolved_by == "u-clerk"
    assert rectification.resolved_at == later
    assert rectification.decision == "deadline"
    assert rectification.events == [
        RectificationResolved(
            rectification_id=rectification.rectification_id,
            review_id="r-1",
            application_id="app-1",
            department_code=DEPARTMENT,
            resolved_by="u-clerk",
            resolved_at=later,
            round=1,
        )
    ]


def test_resolved_at_is_kept_in_utc(calendar):
    rectification = verified(calendar)

    rectification.resolve(DEPT_ADMIN, "Done.", now=datetime(2026, 11, 27, 10, 0, tzinfo=BEIJING))

    assert rectification.resolved_at == datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def test_a_rectification_is_verified_before_it_is_resolved(rectification):
    with pytest.raises(InvalidTransition) as caught:
        rectification.resolve(DEPT_ADMIN, "已改", now=OPENED)

    assert "verified" in caught.value.message
    assert rectification.state == "awaiting_verification"


def test_a_resolved_rectification_cannot_be_resolved_again(calendar):
    rectification = resolved(calendar)

    with pytest.raises(InvalidTransition):
        rectification.resolve(OPERATOR, "再次", now=OPENED)

    assert rectification.resolution_comment == "已补齐并培训窗口人员"
    assert rectification.events == []


@pytest.mark.parametrize(
    ("comment", "message"),
    [
        ("", "must not be empty"),
        ("   \n\t", "must not be empty"),
        (None, "must not be empty"),
        ("a" * 501, "must be at most 500 characters"),
        (7, "must be a string"),
    ],
    ids=["empty", "blank", "none", "too-long", "not-text"],
)
def test_the_fix_is_1_to_500_characters(calendar, comment, message):
    rectification = verified(calendar)

    with pytest.raises(ValidationFailed) as caught:
        rectification.resolve(DEPT_ADMIN, comment, now=OPENED)

    assert caught.value.fields == {"comment": message}
    assert rectification.state == "verified"


@pytest.mark.parametrize("comment", ["a", "a" * 500, " " + "a" * 500 + " "])
def test_fixes_at_the_limits_are_accepted(calendar, comment):
    rectification = verified(calendar)

    rectification.resolve(DEPT_ADMIN, comment, now=OPENED)

    assert rectification.resolution_comment == comment.strip()


@pytest.mark.parametrize("comment", [None, "", "  "])
def test_after_explain_the_explanation_is_the_answer(calendar, comment):
    rectification = verified(calendar, decision="explain")

    rectification.resolve(DEPT_ADMIN, comment, now=OPENED)

    assert rectification.state == "resolved"
    assert rectification.resolution_comment == "补齐一次性告知单"


def test_after_explain_a_comment_given_is_the_answer(calendar):
    rectification = verified(calendar, decision="explain")

    rectification.resolve(DEPT_ADMIN, "已当面解释", now=OPENED)

    assert rectification.resolution_comment == "已当面解释"


# --- return visits (回访) -----------------------------------------------------


def test_a_satisfied_citizen_closes_it(calendar):
    rectification = resolved(calendar)
    called = OPENED + timedelta(days=2)

    visit = rectification.record_return_visit(
        WINDOW_CLERK, True, True, " 表示满意 ", now=called, calendar=calendar
    )

    assert (visit.round, visit.reached, visit.satisfied, visit.comment) == (
        1,
        True,
        True,
        "表示满意",
    )
    assert visit.recorded_by == "u-clerk" and visit.recorded_at == called
    assert rectification.return_visits == [visit]
    assert rectification.state == "closed"
    assert rectification.outcome == "satisfied"
    assert rectification.closed_at == called
    assert not rectification.is_open
    assert rectification.events == [
        ReturnVisitRecorded(
            rectification_id=rectification.rectification_id,
            review_id="r-1",
            department_code=DEPARTMENT,
            reached=True,
            satisfied=True,
            reopened=False,
            recorded_at=called,
        ),
        RectificationClosed(
            rectification_id=rectification.rectification_id,
            review_id="r-1",
            department_code=DEPARTMENT,
            outcome="satisfied",
            closed_at=called,
        ),
    ]


def test_an_unsatisfied_citizen_reopens_it_once_as_round_2(calendar):
    rectification = resolved(calendar)
    # Friday 27 November: verify again by Monday.
    called = at(date(2026, 11, 27))

    rectification.record_return_visit(
        DEPT_ADMIN, True, False, "仍未解决", now=called, calendar=calendar
    )

    assert rectification.state == "awaiting_verification"
    assert rectification.round == 2
    assert rectification.verify_due == date(2026, 11, 30)
    assert rectification.is_open and rectification.outcome is None
    assert (rectification.decision, rectification.plan, rectification.due_date) == (
        None,
        None,
        None,
    )
    assert rectification.working_days is None and rectification.verified_at is None
    assert (rectification.resolved_at, rectification.resolution_comment) == (None, None)
    assert rectification.events == [
        ReturnVisitRecorded(
            rectification_id=rectification.rectification_id,
            review_id="r-1",
            department_code=DEPARTMENT,
            reached=True,
            satisfied=False,
            reopened=True,
            recorded_at=called,
        )
    ]

    rectification.events.clear()
    rectification.verify(DEPT_ADMIN, "deadline", "重新整改", 5, now=called, calendar=calendar)
    rectification.resolve(DEPT_ADMIN, "已重新整改", now=called)

    assert rectification.events[-1].round == 2
    assert rectification.state == "resolved"


def test_an_unsatisfied_citizen_in_round_2_closes_it(calendar):
    rectification = resolved(calendar)
    rectification.record_return_visit(DEPT_ADMIN, True, False, now=OPENED, calendar=calendar)
    rectification.verify(DEPT_ADMIN, "immediate", "当场再改", now=OPENED, calendar=calendar)
    rectification.events.clear()

    rectification.record_return_visit(
        DEPT_ADMIN, True, False, "仍不满意", now=OPENED, calendar=calendar
    )

    assert rectification.state == "closed"
    assert rectification.outcome == "closed_after_reopen"
    assert rectification.round == 2
    assert [event.reopened for event in rectification.events[:1]] == [False]
    assert rectification.events[-1].outcome == "closed_after_reopen"
    assert [visit.round for visit in rectification.return_visits] == [1, 2]


def test_a_citizen_not_reached_is_called_again_and_the_third_miss_closes_it(calendar):
    rectification = resolved(calendar)

    for attempt in (1, 2):
        rectification.record_return_visit(
            WINDOW_CLERK, False, None, f"第{attempt}次未接通", now=OPENED, calendar=calendar
        )
        assert rectification.state == "resolved"
        assert rectification.unreachable_calls == attempt
    rectification.record_return_visit(WINDOW_CLERK, False, now=OPENED, calendar=calendar)

    assert rectification.state == "closed"
    assert rectification.outcome == "unreachable"
    assert len(rectification.return_visits) == 3
    assert [type(event) for event in rectification.events] == [
        ReturnVisitRecorded,
        ReturnVisitRecorded,
        ReturnVisitRecorded,
        RectificationClosed,
    ]
    assert all(event.satisfied is None for event in rectification.events[:3])


def test_unreachable_calls_are_counted_per_round(calendar):
    rectification = resolved(calendar)
    for _ in range(2):
        rectification.record_return_visit(DEPT_ADMIN, False, now=OPENED, calendar=calendar)
    rectification.record_return_visit(DEPT_ADMIN, True, False, now=OPENED, calendar=calendar)
    rectification.verify(DEPT_ADMIN, "immediate", "再改", now=OPENED, calendar=calendar)

    for _ in range(2):
        rectification.record_return_visit(DEPT_ADMIN, False, now=OPENED, calendar=calendar)

    assert rectification.state == "resolved"
    assert rectification.unreachable_calls == 2


@pytest.mark.parametrize(
    ("reached", "satisfied", "comment", "fields"),
    [
        (None, None, "", {"reached": "must be true or false"}),
        ("yes", True, "", {"reached": "must be true or false"}),
        (1, True, "", {"reached": "must be true or false"}),
        (True, None, "", {"satisfied": "must be true or false when the citizen was reached"}),
        (True, "no", "", {"satisfied": "must be true or false when the citizen was reached"}),
        (False, True, "", {"satisfied": "must be null when the citizen was not reached"}),
        (False, False, "", {"satisfied": "must be null when the citizen was not reached"}),
        (True, True, "长" * 501, {"comment": "must be at most 500 characters"}),
        (
            None,
            None,
            7,
            {"reached": "must be true or false", "comment": "must be a string"},
        ),
    ],
    ids=[
        "no-reached",
        "reached-text",
        "reached-number",
        "reached-without-satisfied",
        "satisfied-text",
        "not-reached-but-satisfied",
        "not-reached-but-unsatisfied",
        "comment-too-long",
        "every-field-at-once",
    ],
)
def test_a_bad_return_visit_names_its_fields(calendar, reached, satisfied, comment, fields):
    rectification = resolved(calendar)

    with pytest.raises(ValidationFailed) as caught:
        rectification.record_return_visit(
            DEPT_ADMIN, reached, satisfied, comment, now=OPENED, calendar=calendar
        )

    assert caught.value.fields == fields
    assert rectification.return_visits == [] and rectification.events == []


@pytest.mark.parametrize("state", ["awaiting_verification", "verified", "closed"])
def test_a_return_visit_follows_the_resolution(calendar, state):
    rectification = {
        "awaiting_verification": lambda: opened(calendar),
        "verified": lambda: verified(calendar),
        "closed": lambda: _closed(calendar),
    }[state]()

    with pytest.raises(InvalidTransition):
        rectification.record_return_visit(DEPT_ADMIN, True, True, now=OPENED, calendar=calendar)


def _closed(calendar) -> Rectification:
    rectification = resolved(calendar)
    rectification.record_return_visit(DEPT_ADMIN, True, True, now=OPENED, calendar=calendar)
    return rectification


# --- an upheld appeal -------------------------------------------------------


@pytest.mark.parametrize("state", ["awaiting_verification", "verified", "resolved"])
def test_an_upheld_appeal_closes_it_from_any_open_state(calendar, state):
    rectification = {
        "awaiting_verification": lambda: opened(calendar),
        "verified": lambda: verified(calendar),
        "resolved": lambda: resolved(calendar),
    }[state]()
    decided = OPENED + timedelta(days=4)

    assert rectification.close_for_appeal(decided) is True

    assert rectification.state == "closed_for_appeal"
    assert rectification.outcome == "appeal_upheld"
    assert rectification.closed_at == decided
    assert rectification.events == [
        RectificationClosed(
            rectification_id=rectification.rectification_id,
            review_id="r-1",
            department_code=DEPARTMENT,
            outcome="appeal_upheld",
            closed_at=decided,
        )
    ]
    assert rectification.escalate(date(2026, 12, 31), calendar, now=decided) == []


def test_a_closed_rectification_stays_as_it_closed_when_an_appeal_is_upheld(calendar):
    rectification = _closed(calendar)
    rectification.events.clear()

    assert rectification.close_for_appeal(OPENED) is False

    assert (rectification.state, rectification.outcome) == ("closed", "satisfied")
    assert rectification.events == []


# --- lateness and escalation (督办) ---------------------------------------------


def test_late_is_a_working_day_after_the_due_date_began(calendar):
    friday = date(2026, 11, 27)

    assert not is_past(friday, friday, calendar)
    assert not is_past(friday, date(2026, 11, 28), calendar)  # the weekend nobody works
    assert not is_past(friday, date(2026, 11, 29), calendar)
    assert is_past(friday, date(2026, 11, 30), calendar)


def test_escalation_levels_follow_the_working_days(calendar):
    due = date(2026, 11, 26)  # Thursday

    assert escalation_levels(due, due, calendar) == []
    assert escalation_levels(due, date(2026, 11, 27), calendar) == ["dept_admin"]
    # Three working days later the due date would be Tuesday 1 December.
    assert escalation_levels(due, date(2026, 12, 1), calendar) == ["dept_admin"]
    assert escalation_levels(due, date(2026, 12, 2), calendar) == ["dept_admin", "operator"]
    assert escalation_levels(due, date(2026, 11, 30), calendar, operator_days=1) == [
        "dept_admin",
        "operator",
    ]


def test_a_late_verification_escalates_to_the_admin_then_the_operator(rectification, calendar):
    swept = at(date(2026, 11, 27), 9)

    assert rectification.escalate(date(2026, 11, 26), calendar, now=swept) == []
    [first] = rectification.escalate(date(2026, 11, 27), calendar, now=swept)
    assert rectification.escalate(date(2026, 11, 27), calendar, now=swept) == []
    assert rectification.escalate(date(2026, 12, 1), calendar, now=swept) == []
    [second] = rectification.escalate(date(2026, 12, 2), calendar, now=swept)

    assert (first.level, first.round, first.due_date) == ("dept_admin", 1, date(2026, 11, 26))
    assert (second.level, second.due_date) == ("operator", date(2026, 11, 26))
    assert rectification.escalations == [first, second]
    assert rectification.escalated_levels() == {"dept_admin", "operator"}
    assert rectification.escalate(date(2026, 12, 31), calendar, now=swept) == []
    assert rectification.events == [
        RectificationEscalated(
            rectification_id=rectification.rectification_id,
            review_id="r-1",
            department_code=DEPARTMENT,
            level="dept_admin",
            due_date=date(2026, 11, 26),
            escalated_at=swept,
        ),
        RectificationEscalated(
            rectification_id=rectification.rectification_id,
            review_id="r-1",
            department_code=DEPARTMENT,
            level="operator",
            due_date=date(2026, 11, 26),
            escalated_at=swept,
        ),
    ]


def test_a_sweep_that_was_down_escalates_to_both_levels_at_once(rectification, calendar):
    raised = rectification.escalate(date(2026, 12, 10), calendar, now=OPENED)

    assert [escalation.level for escalation in raised] == ["dept_admin", "operator"]


def test_the_operator_days_are_a_setting(rectification, calendar):
    raised = rectification.escalate(date(2026, 11, 30), calendar, now=OPENED, operator_days=1)

    assert [escalation.level for escalation in raised] == ["dept_admin", "operator"]


def test_a_late_fix_escalates_on_its_due_date(calendar):
    rectification = verified(calendar, working_days=2)  # due Friday 27 November

    assert rectification.is_late(date(2026, 11, 27), calendar) is False
    assert rectification.escalate(date(2026, 11, 29), calendar, now=OPENED) == []
    [raised] = rectification.escalate(date(2026, 11, 30), calendar, now=OPENED)

    assert rectification.is_late(date(2026, 11, 30), calendar) is True
    assert (raised.level, raised.due_date) == ("dept_admin", date(2026, 11, 27))


def test_escalations_are_once_per_round_and_level(calendar):
    rectification = opened(calendar)
    rectification.escalate(date(2026, 11, 27), calendar, now=OPENED)  # verification late
    rectification.verify(
        DEPT_ADMIN, "deadline", "计划", 1, now=at(date(2026, 11, 27)), calendar=calendar
    )  # due Monday 30 November

    # The fix is late too: the admin has it already this round; the operator
    # gets it three working days on.
    assert rectification.escalate(date(2026, 12, 1), calendar, now=OPENED) == []
    [operator] = rectification.escalate(date(2026, 12, 4), calendar, now=OPENED)
    assert (operator.level, operator.due_date) == ("operator", date(2026, 11, 30))

    rectification.resolve(DEPT_ADMIN, "已改", now=at(date(2026, 12, 4)))
    rectification.record_return_visit(
        DEPT_ADMIN, True, False, now=at(date(2026, 12, 4)), calendar=calendar
    )  # round 2, verify by Monday 7 December
    [again] = rectification.escalate(date(2026, 12, 8), calendar, now=OPENED)

    assert (again.level, again.round, again.due_date) == ("dept_admin", 2, date(2026, 12, 7))
    assert rectification.escalated_levels(1) == {"dept_admin", "operator"}
    assert rectification.escalated_levels() == {"dept_admin"}


@pytest.mark.parametrize("state", ["resolved", "closed"])
def test_a_rectification_owing_nothing_does_not_escalate(calendar, state):
    rectification = resolved(calendar) if state == "resolved" else _closed(calendar)

    assert rectification.current_due is None
    assert not rectification.is_late(date(2026, 12, 31), calendar)
    assert rectification.escalate(date(2026, 12, 31), calendar, now=OPENED) == []


# --- small rules and identity -----------------------------------------------


def test_china_day_is_the_date_in_nanjing():
    assert china_day(datetime(2026, 11, 25, 15, 59, tzinfo=UTC)) == date(2026, 11, 25)
    assert china_day(datetime(2026, 11, 25, 16, 0, tzinfo=UTC)) == date(2026, 11, 26)
    with pytest.raises(ValueError):
        china_day(datetime(2026, 11, 25))


def test_rectifications_are_the_same_entity_when_the_id_is(rectification, calendar):
    other = opened(calendar)

    assert dataclasses.replace(rectification, state="resolved") == rectification
    assert rectification != other
    assert len({rectification, dataclasses.replace(rectification, round=2)}) == 1
