"""``application_ended``: once per case, after the event of its own ending, with
the department that handled it, whether it kept its promised due date and the
working days it took, the days its clock stood still left out."""

from datetime import date, timedelta

import pytest

from services.workflow.domain.events import ApplicationEnded

from .conftest import (
    APPLICANT,
    APPROVER,
    APPROVER_A,
    CAL,
    CLERK,
    JOINT_A,
    LATER,
    NOW,
    OWN,
    act,
    ended,
    submit,
)
from .test_clock import at


def ended_events(app) -> list[ApplicationEnded]:
    return [event for event in app.events if isinstance(event, ApplicationEnded)]


def end(outcome: str):
    """A case of ``make_item`` (reviewed jointly by JOINT_A) ended with
    ``outcome`` on 8 October, its events kept from its submission."""
    app = submit(joint=(JOINT_A,))
    if outcome == "withdrawn":
        app.withdraw(APPLICANT, now=LATER)
    elif outcome == "rejected":
        act(app, CLERK, "reject", "不属于本部门受理范围", now=LATER)
    elif outcome == "not_supplemented":
        act(app, CLERK, "request_supplement", "缺营业执照", now=NOW)
        app.expire_supplement(app.supplement_due + timedelta(days=1), now=LATER)
    else:
        act(app, CLERK, "accept", now=NOW)
        if outcome == "denied":
            act(app, APPROVER_A, "deny", "消防验收不合格", now=LATER)
        else:
            act(app, APPROVER_A, "approve", now=LATER)
            act(app, APPROVER, "approve", now=LATER)
    assert app.state == outcome
    return app


@pytest.mark.parametrize(
    ("outcome", "ending", "handled_by", "working_days"),
    [
        ("completed", "application_completed", OWN, 2),
        ("denied", "application_denied", JOINT_A, 2),
        ("rejected", "application_rejected", OWN, 2),
        ("not_supplemented", "application_not_supplemented", OWN, None),
        ("withdrawn", "application_withdrawn", OWN, None),
    ],
)
def test_every_ending_is_followed_by_one_application_ended(
    outcome, ending, handled_by, working_days
):
    app = end(outcome)
    # 30 September and 8 October are the working days from submission to
    # the decision; nobody decided a withdrawn or unsupplemented case.
    assert app.events[-2].type == ending
    assert app.events[-1] == ended(
        app,
        outcome,
        at=LATER,
        on_time=True,
        working_days=working_days,
        handled_by=handled_by,
    )
    assert len(ended_events(app)) == 1


def test_a_case_decided_after_its_due_date_is_late():
    on_the_day = submit()
    act(on_the_day, CLERK, "accept", now=NOW)
    # Due on Monday 12 October, the fifth working day.
    assert on_the_day.due_date == date(2026, 10, 12)
    act(on_the_day, APPROVER, "deny", "资质不符", now=at(date(2026, 10, 12), hour=17))
    assert on_the_day.events[-1].on_time is True
    assert on_the_day.events[-1].working_days == 5

    late = submit()
    act(late, CLERK, "accept", now=NOW)
    act(late, APPROVER, "approve", now=at(date(2026, 10, 13)))
    assert late.events[-1] == ended(
        late, "completed", at=at(date(2026, 10, 13)), on_time=False, working_days=6
    )


def test_an_undecided_case_ended_after_its_due_date_while_its_clock_ran_is_late():
    app = submit()
    app.withdraw(APPLICANT, now=at(date(2026, 10, 13)))
    assert app.events[-1] == ended(
        app, "withdrawn", at=at(date(2026, 10, 13)), on_time=False, working_days=None
    )


@pytest.mark.parametrize(
    ("decided_on", "working_days", "on_time"),
    [(date(2026, 10, 21), 5, True), (date(2026, 10, 22), 6, False)],
)
def test_the_days_waiting_for_materials_and_a_suspension_are_not_counted(
    decided_on, working_days, on_time
):
    app = submit()
    # Asked on Fri 9 October for materials supplied on Wed 14 October: 10
    # (a Saturday worked), 12, 13 and 14 October stood still.
    act(app, CLERK, "request_supplement", "缺营业执照", now=at(date(2026, 10, 9)))
    app.supplement(APPLICANT, [{"name": "营业执照"}], calendar=CAL, now=at(date(2026, 10, 14)))
    act(app, CLERK, "accept", now=at(date(2026, 10, 14)))
    # An inspection from Thu 15 to Tue 20 October: 16, 19 and 20 stood still.
    suspension = app.suspend(CLERK, "inspection", "现场核查", now=at(date(2026, 10, 15)))
    app.end_suspension(
        CLERK, suspension.suspension_id, "核查通过", calendar=CAL, now=at(date(2026, 10, 20))
    )
    assert app.clock.stood_still == 7
    # Due Mon 12 October, moved by the seven days to Wed 21 October.
    assert app.due_date == date(2026, 10, 21)
    act(app, APPROVER, "approve", now=at(decided_on))
    # 13 working days from 29 September to 21 October, 14 to the 22nd, less seven.
    assert app.events[-1] == ended(
        app, "completed", at=at(decided_on), on_time=on_time, working_days=working_days
    )


def test_a_rejection_while_materials_are_owed_counts_to_the_day_they_were_asked_for():
    app = submit()
    # Asked for on Fri 9 October, the third working day; rejected weeks later.
    act(app, CLERK, "request_supplement", "缺营业执照", now=at(date(2026, 10, 9)))
    act(app, CLERK, "reject", "逾期未补正且不符合受理条件", now=at(date(2026, 10, 27)))
    assert app.events[-1] == ended(
        app, "rejected", at=at(date(2026, 10, 27)), on_time=True, working_days=3
    )


@pytest.mark.parametrize(
    ("asked_on", "on_time"), [(date(2026, 10, 12), True), (date(2026, 10, 13), False)]
)
def test_a_case_not_supplemented_is_late_only_if_it_was_late_when_its_clock_stopped(
    asked_on, on_time
):
    app = submit()
    act(app, CLERK, "request_supplement", "缺营业执照", now=at(asked_on))
    # Due Mon 12 October; thirty calendar days to supply.
    closed_on = app.supplement_due + timedelta(days=1)
    app.expire_supplement(closed_on, now=at(closed_on))
    assert app.events[-1] == ended(
        app, "not_supplemented", at=at(closed_on), on_time=on_time, working_days=None
    )


def test_a_case_withdrawn_during_a_suspension_counts_to_the_day_it_began():
    app = submit()
    act(app, CLERK, "accept", now=NOW)
    app.suspend(CLERK, "expert_review", "专家评审", now=at(date(2026, 10, 9)))
    app.withdraw(APPLICANT, now=at(date(2026, 11, 2)))
    assert app.events[-1] == ended(
        app, "withdrawn", at=at(date(2026, 11, 2)), on_time=True, working_days=None
    )


def test_an_express_case_ends_at_the_delivery_counted_to_its_approval():
    app = submit("express")
    app.materials_received(calendar=CAL, now=NOW)
    act(app, APPROVER, "approve", now=at(date(2026, 10, 12)))
    assert app.state == "approved" and ended_events(app) == []
    # Delivered after the due date: the department decided on it.
    delivered_at = at(date(2026, 10, 15))
    app.result_delivered(now=delivered_at)
    assert [event.type for event in app.events[-2:]] == [
        "application_completed",
        "application_ended",
    ]
    assert app.events[-1] == ended(app, "completed", at=delivered_at, on_time=True, working_days=5)
    assert len(ended_events(app)) == 1
