"""Every state change, allowed and refused, with its timeline entry and event.

The cases run the item's default process: the window accepts (or rejects, or
asks for missing materials), then the item's department approves.
"""

from datetime import date, timedelta

import pytest

from services.workflow.domain.events import (
    ApplicationAccepted,
    ApplicationRejected,
    ApplicationSupplemented,
    ApplicationWithdrawn,
    SupplementRequested,
)
from services.workflow.domain.exceptions import Forbidden, InvalidTransition, ValidationFailed
from services.workflow.domain.model import State

from .conftest import (
    APPLICANT,
    APPROVER,
    APPROVER_A,
    CAL,
    CLERK,
    CLERK_A,
    DEPT_ADMIN,
    LATER,
    NOW,
    OPERATOR,
    OTHER_CITIZEN,
    OUTSIDE_APPROVER,
    OUTSIDE_CLERK,
    OWN,
    act,
    ended,
    submit,
)


def case_in(state: str, mode: str = "express", **submitting):
    """An application brought to ``state`` through the public methods, events cleared."""
    app = submit(mode, **submitting)
    if state == "rejected":
        act(app, CLERK, "reject", "材料不全")
    elif state == "withdrawn":
        app.withdraw(APPLICANT, now=NOW)
    elif state in ("supplement_requested", "not_supplemented"):
        act(
            app, CLERK, "request_supplement", "补交身份证复印件", missing_materials=["身份证复印件"]
        )
        if state == "not_supplemented":
            app.expire_supplement(app.supplement_due + timedelta(days=1), now=NOW)
    elif state != "submitted":
        act(app, CLERK, "accept")
        if state == "denied":
            act(app, APPROVER, "deny", "不符合条件")
        elif state in ("approved", "completed"):
            act(app, APPROVER, "approve")
            if state == "completed":
                app.result_delivered(now=NOW)
    assert app.state == state
    app.events.clear()
    return app


def step_states(app) -> dict[str, str]:
    return {run.id: str(run.state) for run in app.steps}


ALL_STATES = [s.value for s in State]


def others(*allowed):
    return [s for s in ALL_STATES if s not in allowed]


# ---------------------------------------------------------------- accept


@pytest.mark.parametrize(
    "actor", [CLERK, APPROVER, dict(CLERK, roles=["window_clerk", "approver"])]
)
def test_window_staff_of_the_item_department_accept(actor):
    app = case_in("submitted")
    act(app, actor, "accept", "材料齐全", now=LATER)
    assert app.state == State.ACCEPTED
    assert app.events == [ApplicationAccepted(application_id=app.application_id, accepted_at=LATER)]
    # The accept step is done and the approval step open, due in its own days.
    assert step_states(app) == {"accept": "done", "approve": "active"}
    (task,) = app.steps[1].tasks
    assert (task.department_code, task.role, task.started_on) == (
        OWN,
        "approver",
        date(2026, 10, 8),
    )
    assert task.due_date == CAL.add_working_days(date(2026, 10, 8), 4)
    assert app.steps[0].tasks[0].decided_by == actor["user_id"]
    entry = app.timeline[-1]
    assert (entry.at, entry.state, entry.action, entry.actor_id, entry.comment) == (
        LATER,
        "accepted",
        "accept",
        actor["user_id"],
        "材料齐全",
    )
    assert entry.actor_role == ("window_clerk" if "window_clerk" in actor["roles"] else "approver")


@pytest.mark.parametrize(
    "actor",
    [APPLICANT, OPERATOR, DEPT_ADMIN, OUTSIDE_CLERK, OUTSIDE_APPROVER, CLERK_A, APPROVER_A],
    ids=[
        "applicant",
        "operator",
        "dept_admin",
        "other dept clerk",
        "other dept approver",
        "joint clerk",
        "joint approver",
    ],
)
@pytest.mark.parametrize("action", ["accept", "reject", "request_supplement"])
def test_window_actions_need_window_staff_of_the_item_department(actor, action):
    app = case_in("submitted")
    with pytest.raises(Forbidden):
        act(app, actor, action, "理由", now=LATER)
    assert app.events == []
    assert app.state == State.SUBMITTED


@pytest.mark.parametrize("state", others("submitted"))
def test_accept_only_from_submitted(state):
    app = case_in(state)
    with pytest.raises(InvalidTransition):
        act(app, CLERK, "accept", now=LATER)
    assert app.state == state


# ---------------------------------------------------------------- reject


@pytest.mark.parametrize("state", ["submitted", "supplement_requested"])
def test_the_window_rejects_a_case_it_has_not_taken_on(state):
    app = case_in(state)
    act(app, CLERK, "reject", " 不属于本部门受理范围 ", now=LATER)
    assert app.state == State.REJECTED
    # Two working days since submission (30 September, 8 October), none of
    # them counted while the window waited for materials asked for at once.
    working_days = {"submitted": 2, "supplement_requested": 0}[state]
    assert app.events == [
        ApplicationRejected(
            application_id=app.application_id,
            applicant_id=APPLICANT["user_id"],
            comment="不属于本部门受理范围",
        ),
        ended(app, "rejected", at=LATER, on_time=True, working_days=working_days),
    ]
    entry = app.timeline[-1]
    assert (entry.action, entry.state, entry.comment) == (
        "reject",
        "rejected",
        "不属于本部门受理范围",
    )
    # The work left is closed with the case.
    assert step_states(app) == {"accept": "denied", "approve": "closed"}


@pytest.mark.parametrize("state", others("submitted", "supplement_requested"))
def test_reject_only_before_acceptance(state):
    app = case_in(state)
    with pytest.raises(InvalidTransition):
        act(app, CLERK, "reject", "理由", now=LATER)
    assert app.state == state


@pytest.mark.parametrize("action", ["reject", "request_supplement"])
@pytest.mark.parametrize("comment", ["", "   ", None])
def test_reasons_are_required(action, comment):
    app = case_in("submitted")
    with pytest.raises(ValidationFailed) as caught:
        act(app, CLERK, action, comment, now=LATER)
    assert set(caught.value.fields) == {"comment"}
    assert app.state == State.SUBMITTED and app.events == []


# ------------------------------------------------------- request_supplement


def test_request_supplement_at_the_accept_step_stops_the_clock():
    app = case_in("submitted")
    act(
        app,
        CLERK,
        "request_supplement",
        "补交身份证复印件",
        missing_materials=[" 身份证复印件 ", "营业执照副本"],
        now=LATER,
    )
    assert app.state == State.SUPPLEMENT_REQUESTED
    # Thirty calendar days from Thu 8 Oct (the process's supplement_days).
    assert app.supplement_due == date(2026, 11, 7)
    assert app.missing_materials == ["身份证复印件", "营业执照副本"]
    assert app.events == [
        SupplementRequested(
            application_id=app.application_id,
            comment="补交身份证复印件",
            missing_materials=["身份证复印件", "营业执照副本"],
            supplement_due=date(2026, 11, 7),
        )
    ]
    assert (app.clock.running, app.clock.stopped_on, app.clock.stopped_for) == (
        False,
        date(2026, 10, 8),
        "supplement",
    )
    entry = app.timeline[-1]
    assert (entry.state, entry.action, entry.actor_role) == (
        "supplement_requested",
        "request_supplement",
        "window_clerk",
    )
    # The window has not taken the case on: its step stays open.
    assert step_states(app) == {"accept": "active", "approve": "pending"}


def test_the_missing_materials_are_named_by_position():
    app = case_in("submitted")
    with pytest.raises(ValidationFailed) as caught:
        act(app, CLERK, "request_supplement", "补交", missing_materials=["身份证", " ", 3])
    assert set(caught.value.fields) == {"missing_materials.1", "missing_materials.2"}
    with pytest.raises(ValidationFailed) as caught:
        act(app, CLERK, "request_supplement", "补交", missing_materials="身份证")
    assert set(caught.value.fields) == {"missing_materials"}
    assert app.state == State.SUBMITTED and app.clock.running


def test_while_materials_are_owed_the_window_can_only_reject():
    app = case_in("supplement_requested")
    for action in ("accept", "request_supplement"):
        with pytest.raises(InvalidTransition, match="the case allows reject "):
            act(app, CLERK, action, "理由", now=LATER)
    assert app.state == State.SUPPLEMENT_REQUESTED


@pytest.mark.parametrize("state", others("submitted"))
def test_request_supplement_only_before_acceptance(state):
    app = case_in(state)
    with pytest.raises(InvalidTransition):
        act(app, CLERK, "request_supplement", "补交", now=LATER)
    assert app.state == state


# ---------------------------------------------------------------- supplement


def test_supplement_returns_the_case_to_the_window_with_the_materials():
    app = case_in("supplement_requested")
    app.supplement(APPLICANT, [{"name": "身份证复印件", "file_id": "f2"}], calendar=CAL, now=NOW)
    assert app.state == State.SUBMITTED
    assert app.materials[-1] == {"name": "身份证复印件", "file_id": "f2"}
    assert len(app.materials) == 2
    assert (app.missing_materials, app.supplement_due, app.clock.running) == ([], None, True)
    assert app.events == [
        ApplicationSupplemented(
            application_id=app.application_id, supplied_at=NOW, due_date=app.due_date
        )
    ]
    assert (app.timeline[-1].action, app.timeline[-1].actor_role) == ("supplement", "applicant")
    assert app.timeline[-1].state == "submitted"
    # The accept step is still open: the window now accepts (or asks again).
    assert step_states(app) == {"accept": "active", "approve": "pending"}
    act(app, CLERK, "accept", now=LATER)
    assert app.state == State.ACCEPTED


def test_waiting_for_a_supplement_moves_the_due_date():
    app = case_in("supplement_requested")  # requested on Tue 29 Sep, due Mon 12 Oct
    # Answered on Thu 8 Oct: the clock stood still on 30 Sep and 8 Oct and
    # restarts the day after the supplement, so the due date moves two working days.
    app.supplement(APPLICANT, [{"name": "身份证复印件"}], calendar=CAL, now=LATER)
    assert app.due_date.isoformat() == "2026-10-14"


@pytest.mark.parametrize("actor", [OTHER_CITIZEN, CLERK, OPERATOR])
def test_only_the_applicant_supplements(actor):
    app = case_in("supplement_requested")
    with pytest.raises(Forbidden):
        app.supplement(actor, [{"name": "x"}], calendar=CAL)
    assert app.state == State.SUPPLEMENT_REQUESTED and not app.clock.running


@pytest.mark.parametrize("state", others("supplement_requested"))
def test_supplement_only_when_requested(state):
    app = case_in(state)
    with pytest.raises(InvalidTransition):
        app.supplement(APPLICANT, [{"name": "x"}], calendar=CAL, now=LATER)
    assert len(app.materials) == 1


@pytest.mark.parametrize(
    ("materials", "fields"),
    [([], {"materials"}), ("身份证", {"materials"}), ([{"file_id": "f"}], {"materials.0.name"})],
)
def test_supplement_materials_are_validated(materials, fields):
    app = case_in("supplement_requested")
    with pytest.raises(ValidationFailed) as caught:
        app.supplement(APPLICANT, materials, calendar=CAL, now=LATER)
    assert set(caught.value.fields) == fields
    assert app.state == State.SUPPLEMENT_REQUESTED


# ---------------------------------------------------------------- withdraw


@pytest.mark.parametrize("state", ["submitted", "accepted", "supplement_requested"])
def test_applicant_withdraws_an_undecided_case(state):
    app = case_in(state)
    app.withdraw(APPLICANT, "不办了", now=LATER)
    assert app.state == State.WITHDRAWN
    assert app.events == [
        ApplicationWithdrawn(application_id=app.application_id),
        ended(app, "withdrawn", at=LATER, on_time=True, working_days=None),
    ]
    assert (app.timeline[-1].action, app.timeline[-1].comment) == ("withdraw", "不办了")


@pytest.mark.parametrize("state", others("submitted", "accepted", "supplement_requested"))
def test_decided_cases_cannot_be_withdrawn(state):
    app = case_in(state)
    with pytest.raises(InvalidTransition):
        app.withdraw(APPLICANT, now=LATER)
    assert app.state == state


@pytest.mark.parametrize("actor", [OTHER_CITIZEN, CLERK, APPROVER, OPERATOR])
def test_only_the_applicant_withdraws(actor):
    app = case_in("submitted")
    with pytest.raises(Forbidden):
        app.withdraw(actor, now=LATER)
    assert app.state == State.SUBMITTED


# ---------------------------------------------------------- courier notices


def test_materials_received_accepts_an_express_case():
    app = case_in("submitted")
    assert app.materials_received(calendar=CAL, now=LATER) is True
    assert app.state == State.ACCEPTED
    assert step_states(app) == {"accept": "done", "approve": "active"}
    assert app.events == [ApplicationAccepted(application_id=app.application_id, accepted_at=LATER)]
    entry = app.timeline[-1]
    assert (entry.action, entry.actor_id, entry.actor_role) == (
        "materials_received",
        None,
        "system",
    )


@pytest.mark.parametrize("state", others("submitted"))
def test_late_materials_notice_changes_nothing(state):
    app = case_in(state)
    timeline = list(app.timeline)
    assert app.materials_received(calendar=CAL, now=LATER) is False
    assert app.state == state
    assert app.timeline == timeline
    assert app.events == []


@pytest.mark.parametrize("mode", ["online", "window"])
def test_materials_received_only_for_express(mode):
    with pytest.raises(InvalidTransition):
        case_in("submitted", mode).materials_received(calendar=CAL, now=LATER)


def test_result_delivered_completes_an_approved_express_case():
    app = case_in("approved")
    assert app.result_delivered(now=LATER) is True
    assert app.state == State.COMPLETED
    assert [e.type for e in app.events] == ["application_completed", "application_ended"]
    assert app.events[0].completed_at == LATER
    # Approved the day it was submitted.
    assert app.events[1] == ended(app, "completed", at=LATER, on_time=True, working_days=0)


def test_repeated_delivery_notice_changes_nothing():
    app = case_in("completed")
    assert app.result_delivered(now=LATER + timedelta(hours=1)) is False
    assert app.events == []


@pytest.mark.parametrize("state", others("approved", "completed"))
def test_result_delivered_only_after_approval(state):
    with pytest.raises(InvalidTransition):
        case_in(state).result_delivered(now=LATER)


def test_result_delivered_only_for_express():
    app = submit("window")
    with pytest.raises(InvalidTransition):
        app.result_delivered(now=LATER)


# ------------------------------------------------------------------ act


@pytest.mark.parametrize(
    ("start", "action", "actor", "end"),
    [
        ("submitted", "accept", CLERK, "accepted"),
        ("submitted", "reject", CLERK, "rejected"),
        ("submitted", "request_supplement", CLERK, "supplement_requested"),
        ("accepted", "approve", APPROVER, "approved"),
        ("accepted", "deny", APPROVER, "denied"),
    ],
)
def test_act_dispatches_by_name(start, action, actor, end):
    app = case_in(start)
    act(app, actor, action, "理由", now=LATER)
    assert app.state == end


def test_act_refuses_unknown_actions():
    app = case_in("submitted")
    with pytest.raises(ValidationFailed) as caught:
        act(app, CLERK, "archive", now=LATER)
    assert set(caught.value.fields) == {"action"}


@pytest.mark.parametrize("actor", [CLERK, OUTSIDE_CLERK], ids=["own clerk", "outsider"])
def test_a_closed_case_has_no_open_step_for_anybody(actor):
    # 409 whoever asks: no step is open. An outsider never learns even that:
    # the use cases answer a case the actor may not see as not found
    # (test_use_cases.test_cases_are_visible_only_to_their_applicant_and_departments).
    with pytest.raises(InvalidTransition):
        act(case_in("completed"), actor, "accept", now=LATER)


def test_an_open_step_refuses_an_outsider_before_anything_else():
    app = case_in("submitted")
    with pytest.raises(Forbidden, match="window_clerk of ks-xzsp"):
        act(app, OUTSIDE_CLERK, "reject", "", now=LATER)
