"""When a case is late, and who sees it."""

from datetime import date

import pytest

from services.workflow.domain.events import CaseOverdue
from services.workflow.domain.process import ProcessDefinition

from .conftest import (
    APPLICANT,
    APPROVER,
    APPROVER_A,
    CAL,
    CLERK,
    CLERK_A,
    DEPT_ADMIN,
    JOINT_A,
    JOINT_B,
    NOW,
    OPERATOR,
    OTHER_CITIZEN,
    OUTSIDE_APPROVER,
    OUTSIDE_CLERK,
    act,
    staff,
    submit,
)
from .test_transitions import case_in

# ----------------------------------------------------------------- overdue


@pytest.mark.parametrize(
    ("today", "late"),
    [
        (date(2026, 10, 9), False),
        (date(2026, 10, 12), False),  # the due date itself
        (date(2026, 10, 13), True),
        (date(2026, 12, 1), True),
    ],
)
def test_open_case_is_late_after_its_due_date(today, late):
    app = submit()  # due Mon 12 Oct
    assert app.overdue(today, CAL) is late


def test_a_case_due_on_friday_is_late_on_monday_not_the_weekend():
    app = submit(now=NOW)
    app.due_date = date(2026, 10, 16)  # a Friday
    assert not app.overdue(date(2026, 10, 17), CAL)
    assert not app.overdue(date(2026, 10, 18), CAL)
    assert app.overdue(date(2026, 10, 19), CAL)


@pytest.mark.parametrize(
    "state",
    [
        "supplement_requested",
        "approved",
        "completed",
        "denied",
        "rejected",
        "withdrawn",
        "not_supplemented",
    ],
)
def test_only_a_running_clock_makes_a_case_late(state):
    assert not case_in(state).overdue(date(2026, 12, 1), CAL)


def test_a_suspended_case_is_not_late():
    app = case_in("accepted")
    app.suspend(CLERK, "inspection", "现场核查", now=NOW)
    assert not app.overdue(date(2026, 12, 1), CAL)
    assert app.mark_overdue(date(2026, 12, 1), CAL, now=NOW) is False


@pytest.mark.parametrize("state", ["submitted", "accepted"])
def test_running_states_can_be_late(state):
    assert case_in(state).overdue(date(2026, 12, 1), CAL)


def test_case_overdue_is_recorded_once():
    app = case_in("accepted")
    assert app.mark_overdue(date(2026, 10, 13), CAL, now=NOW) is True
    assert app.events == [
        CaseOverdue(application_id=app.application_id, due_date=date(2026, 10, 12))
    ]
    assert app.overdue_reported
    assert (app.timeline[-1].action, app.timeline[-1].state, app.timeline[-1].actor_role) == (
        "overdue",
        "accepted",
        "system",
    )
    assert app.mark_overdue(date(2026, 10, 14), CAL, now=NOW) is False
    assert len(app.events) == 1


def test_case_on_time_records_nothing():
    app = case_in("accepted")
    assert app.mark_overdue(date(2026, 10, 12), CAL, now=NOW) is False
    assert app.events == []
    assert not app.overdue_reported


# -------------------------------------------------------------- visibility


@pytest.mark.parametrize(
    ("actor", "visible"),
    [
        (APPLICANT, True),
        (OTHER_CITIZEN, False),
        (CLERK, True),
        (APPROVER, True),
        (DEPT_ADMIN, True),
        (CLERK_A, True),
        (APPROVER_A, True),
        (OUTSIDE_CLERK, False),
        (OUTSIDE_APPROVER, False),
        (staff("u-nodept", None, "window_clerk"), False),
        (OPERATOR, True),
        ({"user_id": APPLICANT["user_id"], "kind": "robot"}, False),
        (
            {
                "user_id": APPLICANT["user_id"],
                "kind": "staff",
                "roles": [],
                "department_code": None,
            },
            False,
        ),
    ],
    ids=[
        "applicant",
        "other citizen",
        "own clerk",
        "own approver",
        "own admin",
        "joint clerk",
        "joint approver",
        "outside clerk",
        "outside approver",
        "staff without department",
        "operator",
        "unknown kind",
        "staff with the applicant's id",
    ],
)
def test_visible_to(actor, visible):
    app = submit(joint=(JOINT_A,))
    assert app.visible_to(actor) is visible


def test_agent_sees_the_case_filed_for_an_enterprise():
    app = submit(
        on_behalf_of={"kind": "enterprise", "uscc": "91320102MA1XYR1234", "name": "某公司"}
    )
    assert app.visible_to(APPLICANT)
    assert not app.visible_to(OTHER_CITIZEN)


def test_visibility_does_not_depend_on_state():
    app = submit("online", joint=(JOINT_A,))
    act(app, CLERK, "accept")
    act(app, APPROVER, "approve")
    act(app, APPROVER_A, "approve")
    assert app.state == "completed"
    assert app.visible_to(APPLICANT) and app.visible_to(APPROVER_A)
    assert not app.visible_to(OUTSIDE_CLERK)


def test_a_department_with_a_step_of_its_own_sees_the_case_before_its_step():
    process = ProcessDefinition.parse(
        {
            "steps": [
                {"id": "accept", "kind": "accept", "role": "window_clerk", "days": 1},
                {"id": "fire", "kind": "review", "role": "approver", "department_code": JOINT_B,
                 "days": 2},
                {"id": "decide", "kind": "approve", "role": "approver", "days": 2},
            ]
        }
    )  # fmt: skip
    app = submit(process=process)
    assert app.reviewing_departments == [app.department_code, JOINT_B]
    assert app.visible_to(staff("u-wj", JOINT_B, "approver"))
    assert not app.visible_to(APPROVER_A)
