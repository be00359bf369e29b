"""Escalation of late work (督办), in the domain: a task red with a running clock
goes to its department's admin, once; still red three working days on, to the
operator, once; nothing while the clock stands still; each escalation is
resolved when its task is done or the case ends."""

from datetime import UTC, date, datetime

import pytest

from services.workflow.domain.events import CaseEscalated
from services.workflow.domain.process import ProcessDefinition
from services.workflow.domain.progress import Clock, Escalation, escalation_levels

from .conftest import (
    APPLICANT,
    APPROVER,
    APPROVER_A,
    APPROVER_B,
    CAL,
    CLERK,
    JOINT_A,
    JOINT_B,
    NOW,
    OWN,
    act,
    make_item,
    submit,
)

# Accepted on Tuesday 29 September, the approve task of a five-day item is due
# Saturday 10 October (a make-up working day after National Day). It is red
# from Monday 12 October; three working days on (Wednesday 14th) it is due to
# the operator, from Thursday 15th.
APPROVE_DUE = date(2026, 10, 10)
FIRST_RED = date(2026, 10, 12)
OPERATOR_DAY = date(2026, 10, 15)


def at(day: date, hour: int = 10) -> datetime:
    """``hour`` o'clock in Nanjing on ``day``."""
    return datetime(day.year, day.month, day.day, hour - 8, tzinfo=UTC)


def accepted(**submitting):
    """A case of the item's department alone, accepted on 29 September."""
    app = submit(**submitting)
    act(app, CLERK, "accept", now=NOW)
    app.events.clear()
    return app


def escalate(app, day: date, **options):
    return app.escalate(day, CAL, now=at(day), **options)


def shown(escalations) -> list[tuple]:
    return [(e.step_id, e.department_code, e.level, e.due_date) for e in escalations]


# ------------------------------------------------------------- the rule itself


@pytest.mark.parametrize(
    ("today", "levels"),
    [
        (date(2026, 10, 9), []),
        (APPROVE_DUE, []),
        (date(2026, 10, 11), []),  # a Sunday after a Saturday due date: nobody works
        (FIRST_RED, ["dept_admin"]),
        (date(2026, 10, 14), ["dept_admin"]),
        (OPERATOR_DAY, ["dept_admin", "operator"]),
        (date(2026, 12, 1), ["dept_admin", "operator"]),
    ],
)
def test_a_task_reaches_the_admin_when_red_and_the_operator_three_working_days_on(today, levels):
    assert escalation_levels(APPROVE_DUE, today, CAL, Clock()) == levels


def test_a_stopped_clock_reaches_nobody():
    stopped = Clock(stopped_on=date(2026, 10, 9), stopped_for="suspension")
    assert escalation_levels(APPROVE_DUE, date(2026, 12, 1), CAL, stopped) == []


def test_the_operators_delay_is_a_setting():
    assert escalation_levels(APPROVE_DUE, OPERATOR_DAY, CAL, Clock(), operator_days=4) == [
        "dept_admin"
    ]
    assert escalation_levels(APPROVE_DUE, FIRST_RED, CAL, Clock(), operator_days=1) == [
        "dept_admin"
    ]
    assert escalation_levels(APPROVE_DUE, date(2026, 10, 13), CAL, Clock(), 1) == [
        "dept_admin",
        "operator",
    ]


# --------------------------------------------------------------- on a case


def test_a_red_task_goes_to_its_departments_admin_once():
    app = accepted()
    assert app.steps[1].tasks[0].due_date == APPROVE_DUE
    assert escalate(app, APPROVE_DUE) == []
    assert app.escalations == [] and app.events == []

    raised = escalate(app, FIRST_RED)
    assert shown(raised) == [("approve", OWN, "dept_admin", APPROVE_DUE)]
    (escalation,) = app.escalations
    assert (escalation.raised_at, escalation.resolved_at) == (at(FIRST_RED), None)
    assert app.events == [
        CaseEscalated(
            application_id=app.application_id,
            step_id="approve",
            department_code=OWN,
            level="dept_admin",
            due_date=APPROVE_DUE,
        )
    ]
    entry = app.timeline[-1]
    assert (entry.action, entry.state, entry.actor_id, entry.actor_role, entry.step) == (
        "escalate",
        "accepted",
        None,
        "system",
        "approve",
    )
    assert OWN in entry.comment and "2026-10-10" in entry.comment

    # Once: the next sweeps of the day, and the next days, raise nothing more.
    assert escalate(app, FIRST_RED) == []
    assert escalate(app, date(2026, 10, 14)) == []
    assert len(app.escalations) == 1 and len(app.events) == 1


def test_still_open_three_working_days_later_it_goes_to_the_operator_once():
    app = accepted()
    escalate(app, FIRST_RED)
    assert escalate(app, date(2026, 10, 14)) == []
    raised = escalate(app, OPERATOR_DAY)
    assert shown(raised) == [("approve", OWN, "operator", APPROVE_DUE)]
    assert [e.level for e in app.escalations] == ["dept_admin", "operator"]
    assert [event.level for event in app.events] == ["dept_admin", "operator"]
    assert escalate(app, date(2026, 10, 16)) == []
    assert escalate(app, date(2026, 12, 1)) == []
    assert len(app.escalations) == 2


def test_a_task_found_long_late_goes_to_both_at_once_the_admin_first():
    app = accepted()
    raised = escalate(app, date(2026, 11, 2))
    assert [e.level for e in raised] == ["dept_admin", "operator"]
    assert [entry.action for entry in app.timeline[-2:]] == ["escalate", "escalate"]


def test_the_operators_delay_is_given_by_the_caller():
    app = accepted()
    escalate(app, FIRST_RED, operator_days=5)
    assert escalate(app, OPERATOR_DAY, operator_days=5) == []
    # Five working days after Saturday 10 October is Friday 16th: from Monday 19th.
    assert [e.level for e in escalate(app, date(2026, 10, 19), operator_days=5)] == ["operator"]
    with pytest.raises(ValueError, match="operator_days"):
        escalate(app, FIRST_RED, operator_days=0)


def test_a_task_due_before_a_holiday_goes_up_on_the_first_working_day_after_it():
    app = submit(now=NOW)  # the window's accept task is due Wednesday 30 September
    assert escalate(app, date(2026, 10, 7)) == []  # National Day: nobody works
    assert shown(escalate(app, date(2026, 10, 8))) == [
        ("accept", OWN, "dept_admin", date(2026, 9, 30))
    ]


def test_each_late_branch_goes_to_its_own_departments_admin():
    app = accepted(item=make_item((JOINT_A, JOINT_B)))
    act(app, APPROVER_B, "approve", now=at(date(2026, 10, 9)))
    raised = escalate(app, FIRST_RED)
    assert shown(raised) == [
        ("joint", OWN, "dept_admin", APPROVE_DUE),
        ("joint", JOINT_A, "dept_admin", APPROVE_DUE),
    ]


def test_each_step_has_its_own_escalations():
    app = submit(now=NOW)
    escalate(app, date(2026, 10, 8))  # the window's task
    act(app, CLERK, "accept", now=at(date(2026, 10, 8)))
    (accept,) = app.escalations
    assert accept.resolved_at == at(date(2026, 10, 8))
    # The approve step started on 8 October, due four working days later.
    due = app.steps[1].tasks[0].due_date
    assert due == date(2026, 10, 13)
    raised = escalate(app, date(2026, 10, 14))
    assert shown(raised) == [("approve", OWN, "dept_admin", due)]


# ------------------------------------------------------- a clock standing still


def test_no_escalation_while_a_special_procedure_stops_the_clock():
    app = accepted()
    app.suspend(CLERK, "inspection", "现场核查", now=at(date(2026, 10, 9)))
    assert escalate(app, date(2026, 12, 1)) == []
    assert app.escalations == []
    # It restarts on Thursday 15 October: five working days waited (10, 12, 13,
    # 14 and 15 October), so the task is due Friday 16th, red from Monday 19th.
    suspension = app.suspensions[0]
    app.end_suspension(
        CLERK, suspension.suspension_id, "核查完毕", calendar=CAL, now=at(date(2026, 10, 15))
    )
    due = app.steps[1].tasks[0].due_date
    assert due == date(2026, 10, 16)
    assert escalate(app, date(2026, 10, 18)) == []
    assert shown(escalate(app, date(2026, 10, 19))) == [("approve", OWN, "dept_admin", due)]


def test_no_escalation_while_the_applicant_owes_materials():
    app = submit(now=NOW)
    act(app, CLERK, "request_supplement", "缺营业执照", now=NOW)
    assert escalate(app, date(2026, 10, 20)) == []
    # Supplied on Thursday 8 October: the window's task (due 30 September)
    # moved by the two working days waited (30 September, 8 October).
    app.supplement(APPLICANT, [{"name": "营业执照"}], calendar=CAL, now=at(date(2026, 10, 8)))
    due = app.steps[0].tasks[0].due_date
    assert due == date(2026, 10, 9)
    assert escalate(app, due) == []
    assert [e.level for e in escalate(app, date(2026, 10, 10))] == ["dept_admin"]


def test_an_escalated_task_stays_escalated_while_the_clock_stands_still():
    app = accepted()
    escalate(app, FIRST_RED)
    app.suspend(CLERK, "hearing", "听证", now=at(FIRST_RED, 15))
    assert escalate(app, date(2026, 12, 1)) == []
    (escalation,) = app.escalations
    assert escalation.open


# ------------------------------------------------------------------ resolved


def test_resolved_when_the_task_is_done():
    app = accepted()
    escalate(app, OPERATOR_DAY)
    assert all(e.open for e in app.escalations)
    act(app, APPROVER, "approve", now=at(date(2026, 10, 16)))
    assert [e.resolved_at for e in app.escalations] == [at(date(2026, 10, 16))] * 2


def test_a_branch_is_resolved_by_its_own_decision_not_another_branchs():
    app = accepted(item=make_item((JOINT_A,)))
    escalate(app, FIRST_RED)
    assert [e.department_code for e in app.escalations] == [OWN, JOINT_A]
    act(app, APPROVER_A, "approve", now=at(date(2026, 10, 13)))
    own, joint = app.escalations
    assert own.open and joint.resolved_at == at(date(2026, 10, 13))
    act(app, APPROVER, "approve", now=at(date(2026, 10, 14)))
    assert own.resolved_at == at(date(2026, 10, 14))


def test_a_branch_left_when_its_join_was_met_is_resolved():
    any_of = ProcessDefinition.parse(
        {
            "steps": [
                {"id": "accept", "kind": "accept", "role": "window_clerk", "days": 1},
                {
                    "id": "joint",
                    "kind": "parallel",
                    "join": "any",
                    "branches": [
                        {"department_code": OWN, "role": "approver", "days": 4},
                        {"department_code": JOINT_A, "role": "approver", "days": 4},
                    ],
                },
            ]
        }
    )
    app = accepted(process=any_of, process_version=1)
    escalate(app, FIRST_RED)
    act(app, APPROVER, "approve", now=at(date(2026, 10, 13)))
    assert app.state == "completed"
    assert [e.resolved_at for e in app.escalations] == [at(date(2026, 10, 13))] * 2


@pytest.mark.parametrize("ending", ["withdraw", "deny"])
def test_resolved_when_the_case_ends(ending):
    app = accepted()
    escalate(app, OPERATOR_DAY)
    then = at(date(2026, 10, 16))
    if ending == "withdraw":
        app.withdraw(APPLICANT, now=then)
    else:
        act(app, APPROVER, "deny", "不符合条件", now=then)
    assert [e.resolved_at for e in app.escalations] == [then, then]
    # An ended case escalates nothing more.
    assert escalate(app, date(2026, 12, 1)) == []


def test_an_escalation_keeps_to_and_from_its_json():
    escalation = Escalation(
        escalation_id="e-1",
        step_id="approve",
        department_code=OWN,
        level="operator",
        raised_at=at(OPERATOR_DAY),
        due_date=APPROVE_DUE,
        resolved_at=at(date(2026, 10, 16)),
    )
    stored = escalation.to_dict()
    assert stored == {
        "escalation_id": "e-1",
        "step_id": "approve",
        "department_code": OWN,
        "level": "operator",
        "raised_at": "2026-10-15T02:00:00+00:00",
        "due_date": "2026-10-10",
        "resolved_at": "2026-10-16T02:00:00+00:00",
    }
    assert Escalation.from_dict(stored) == escalation
