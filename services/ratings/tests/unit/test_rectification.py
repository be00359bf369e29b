import dataclasses
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common.errors import Conflict, Forbidden
from services.ratings.domain.events import RectificationResolved
from services.ratings.domain.exceptions import InvalidTransition, ValidationFailed
from services.ratings.domain.model import (
    Rectification,
    may_resolve,
    rectification_due_date,
)

OPENED = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 10:00 in Nanjing
LATER = OPENED + timedelta(days=2)
DEPARTMENT = "320100-MSA"

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


@pytest.fixture
def rectification():
    return Rectification.open(
        review_id="r-1", application_id="app-1", department_code=DEPARTMENT, now=OPENED
    )


# --- due date ---------------------------------------------------------------


def test_a_rectification_is_due_five_calendar_days_after_it_opens(rectification):
    assert rectification.due_date == date(2026, 11, 30)


def test_weekends_and_holidays_count():
    # Opened Friday 2026-09-25 just before the National Day week: due Wednesday
    # 2026-09-30 even though the days in between include a weekend.
    assert rectification_due_date(datetime(2026, 9, 25, 1, 0, tzinfo=UTC)) == date(2026, 9, 30)


def test_the_opening_day_is_the_day_in_china_standard_time():
    # 15:59 UTC is 23:59 in Nanjing on the 25th; 16:00 UTC is already the 26th.
    assert rectification_due_date(datetime(2026, 11, 25, 15, 59, tzinfo=UTC)) == date(2026, 11, 30)
    assert rectification_due_date(datetime(2026, 11, 25, 16, 0, tzinfo=UTC)) == date(2026, 12, 1)


def test_due_dates_cross_month_and_year_ends():
    assert rectification_due_date(datetime(2026, 12, 29, 1, 0, tzinfo=UTC)) == date(2027, 1, 3)
    assert rectification_due_date(datetime(2028, 2, 26, 1, 0, tzinfo=UTC)) == date(2028, 3, 2)


@given(
    st.datetimes(
        timezones=st.just(UTC),
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2100, 1, 1),
    )
)
def test_the_due_date_is_always_five_local_days_after_opening(opened_at):
    local_day = opened_at.astimezone(timezone(timedelta(hours=8))).date()

    assert rectification_due_date(opened_at) - local_day == timedelta(days=5)


def test_overdue_only_after_the_due_date_while_open(rectification):
    # Due 2026-11-30 (Beijing): on time through 23:59 that day.
    assert not rectification.is_overdue(datetime(2026, 11, 30, 15, 59, tzinfo=UTC))
    assert rectification.is_overdue(datetime(2026, 11, 30, 16, 0, tzinfo=UTC))

    rectification.resolve(DEPT_ADMIN, "Called the applicant.", datetime(2026, 12, 2, tzinfo=UTC))

    assert not rectification.is_overdue(datetime(2026, 12, 3, tzinfo=UTC))


def test_opening_needs_an_aware_instant():
    with pytest.raises(ValueError):
        Rectification.open("r-1", "app-1", DEPARTMENT, datetime(2026, 11, 25, 8, 0))


# --- resolving --------------------------------------------------------------


@pytest.mark.parametrize(
    "actor",
    [
        DEPT_ADMIN,
        WINDOW_CLERK,
        OPERATOR,
        {**WINDOW_CLERK, "roles": ["approver", "window_clerk"]},
        {**OPERATOR, "department_code": "320200-MSA"},
    ],
    ids=[
        "dept-admin",
        "window-clerk",
        "operator",
        "clerk-among-roles",
        "operator-any-dept",
    ],
)
def test_department_staff_or_an_operator_resolves_it(rectification, actor):
    rectification.resolve(actor, "  Apologised and refunded the postage.  ", LATER)

    assert rectification.status == "resolved"
    assert not rectification.is_open
    assert rectification.resolved_at == LATER
    assert rectification.resolved_by == actor["user_id"]
    assert rectification.resolution_comment == "Apologised and refunded the postage."


def test_resolving_records_rectification_resolved(rectification):
    rectification.resolve(WINDOW_CLERK, "Done.", LATER)

    assert rectification.events == [
        RectificationResolved(
            rectification_id=rectification.rectification_id,
            review_id="r-1",
            application_id="app-1",
            department_code=DEPARTMENT,
            resolved_by="u-clerk",
            resolved_at=LATER,
        )
    ]


def test_resolved_at_is_kept_in_utc(rectification):
    beijing = timezone(timedelta(hours=8))

    rectification.resolve(DEPT_ADMIN, "Done.", datetime(2026, 11, 27, 10, 0, tzinfo=beijing))

    assert rectification.resolved_at == datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "actor",
    [
        {
            "user_id": "u-applicant",
            "kind": "citizen",
            "roles": [],
            "department_code": None,
        },
        {**DEPT_ADMIN, "department_code": "320200-MSA"},
        {**DEPT_ADMIN, "department_code": None},
        {**DEPT_ADMIN, "roles": ["approver"]},
        {**DEPT_ADMIN, "roles": []},
        {**DEPT_ADMIN, "roles": None},
        {**DEPT_ADMIN, "roles": "dept_admin"},
        {**DEPT_ADMIN, "kind": "citizen"},
        {**DEPT_ADMIN, "user_id": None},
        {key: value for key, value in OPERATOR.items() if key != "user_id"},
        {},
        None,
    ],
    ids=[
        "citizen",
        "staff-other-dept",
        "staff-no-dept",
        "approver-only",
        "no-roles",
        "null-roles",
        "roles-not-a-list",
        "citizen-with-staff-claims",
        "staff-no-user-id",
        "operator-no-user-id",
        "empty",
        "none",
    ],
)
def test_no_one_else_may_resolve_it(rectification, actor):
    with pytest.raises(Forbidden):
        rectification.resolve(actor, "Done.", LATER)

    assert rectification.is_open
    assert rectification.events == []


def test_may_resolve_names_the_same_rule():
    assert may_resolve(DEPT_ADMIN, DEPARTMENT)
    assert may_resolve(OPERATOR, DEPARTMENT)
    assert not may_resolve(DEPT_ADMIN, "320200-MSA")


def test_a_resolved_rectification_cannot_be_resolved_again(rectification):
    rectification.resolve(DEPT_ADMIN, "Done.", LATER)

    with pytest.raises(InvalidTransition) as caught:
        rectification.resolve(OPERATOR, "Again.", LATER + timedelta(hours=1))

    assert isinstance(caught.value, Conflict)
    assert rectification.resolved_by == "u-admin"
    assert rectification.resolution_comment == "Done."
    assert len(rectification.events) == 1


def test_forbidden_comes_before_invalid_transition(rectification):
    rectification.resolve(DEPT_ADMIN, "Done.", LATER)

    with pytest.raises(Forbidden):
        rectification.resolve({**DEPT_ADMIN, "department_code": "320200-MSA"}, "x", LATER)


def test_invalid_transition_comes_before_validation(rectification):
    rectification.resolve(DEPT_ADMIN, "Done.", LATER)

    with pytest.raises(InvalidTransition):
        rectification.resolve(DEPT_ADMIN, "", LATER)


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
def test_the_resolution_comment_is_1_to_500_characters(rectification, comment, message):
    with pytest.raises(ValidationFailed) as caught:
        rectification.resolve(DEPT_ADMIN, comment, LATER)

    assert caught.value.fields == {"comment": message}
    assert rectification.is_open
    assert rectification.events == []


@pytest.mark.parametrize("comment", ["a", "a" * 500, " " + "a" * 500 + " "])
def test_resolution_comments_at_the_limits_are_accepted(rectification, comment):
    rectification.resolve(DEPT_ADMIN, comment, LATER)

    assert rectification.resolution_comment == comment.strip()


def test_rectifications_are_the_same_entity_when_the_id_is(rectification):
    other = Rectification.open("r-1", "app-1", DEPARTMENT, OPENED)

    assert dataclasses.replace(rectification, status="resolved") == rectification
    assert rectification != other
