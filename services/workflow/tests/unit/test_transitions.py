"""Every state change, allowed and refused, with its timeline entry and event."""

from datetime import timedelta

import pytest

from services.workflow.domain.events import (
    ApplicationAccepted,
    ApplicationRejected,
    ApplicationWithdrawn,
    SupplementRequested,
)
from services.workflow.domain.exceptions import Forbidden, InvalidTransition, ValidationFailed
from services.workflow.domain.holidays_2026 import load_calendar_2026
from services.workflow.domain.model import State

from .conftest import (
    APPLICANT,
    APPROVER,
    APPROVER_A,
    CLERK,
    CLERK_A,
    DEPT_ADMIN,
    LATER,
    NOW,
    OPERATOR,
    OTHER_CITIZEN,
    OUTSIDE_APPROVER,
    OUTSIDE_CLERK,
    licence_numbers,
    submit,
)

CAL = load_calendar_2026()


def case_in(state: str, mode: str = "express"):
    """An application brought to ``state`` through the public methods, events cleared."""
    app = submit(mode)
    if state == "rejected":
        app.reject(CLERK, "材料不全", now=NOW)
    elif state == "withdrawn":
        app.withdraw(APPLICANT, now=NOW)
    elif state != "submitted":
        app.accept(CLERK, now=NOW)
        if state == "supplement_requested":
            app.request_supplement(CLERK, "补交身份证复印件", now=NOW)
        elif state == "denied":
            app.deny(APPROVER, "不符合条件", now=NOW)
        elif state in ("approved", "completed"):
            app.approve(APPROVER, licence_numbers=licence_numbers(), now=NOW)
            if state == "completed":
                app.result_delivered(now=NOW)
    assert app.state == state
    app.events.clear()
    return app


ALL_STATES = [s.value for s in State]


def others(*allowed):
    return [s for s in ALL_STATES if s not in allowed]


# ---------------------------------------------------------------- accept


@pytest.mark.parametrize(
    "actor", [CLERK, APPROVER, dict(CLERK, roles=["window_clerk", "approver"])]
)
def test_window_staff_of_the_item_department_accept(actor):
    app = case_in("submitted")
    app.accept(actor, "材料齐全", now=LATER)
    assert app.state == State.ACCEPTED
    assert app.events == [ApplicationAccepted(application_id=app.application_id, accepted_at=LATER)]
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
    app = case_in("submitted" if action != "request_supplement" else "accepted")
    with pytest.raises(Forbidden):
        getattr(app, action)(actor, "理由", now=LATER)
    assert app.events == []


@pytest.mark.parametrize("state", others("submitted"))
def test_accept_only_from_submitted(state):
    with pytest.raises(InvalidTransition):
        case_in(state).accept(CLERK, now=LATER)


# ---------------------------------------------------------------- reject


def test_reject_from_submitted():
    app = case_in("submitted")
    app.reject(CLERK, " 不属于本部门受理范围 ", now=LATER)
    assert app.state == State.REJECTED
    assert app.events == [
        ApplicationRejected(
            application_id=app.application_id,
            applicant_id=APPLICANT["user_id"],
            comment="不属于本部门受理范围",
        )
    ]
    assert app.timeline[-1].action == "reject"


@pytest.mark.parametrize("state", others("submitted"))
def test_reject_only_from_submitted(state):
    with pytest.raises(InvalidTransition):
        case_in(state).reject(CLERK, "理由", now=LATER)


@pytest.mark.parametrize("action", ["reject", "request_supplement"])
@pytest.mark.parametrize("comment", ["", "   ", None])
def test_reasons_are_required(action, comment):
    app = case_in("submitted" if action == "reject" else "accepted")
    with pytest.raises(ValidationFailed) as caught:
        getattr(app, action)(CLERK, comment, now=LATER)
    assert set(caught.value.fields) == {"comment"}


# ------------------------------------------------------- request_supplement


def test_request_supplement_from_accepted():
    app = case_in("accepted")
    app.request_supplement(CLERK, "补交身份证复印件", now=LATER)
    assert app.state == State.SUPPLEMENT_REQUESTED
    assert app.events == [
        SupplementRequested(application_id=app.application_id, comment="补交身份证复印件")
    ]
    assert app.timeline[-1].state == "supplement_requested"


@pytest.mark.parametrize("state", others("accepted"))
def test_request_supplement_only_from_accepted(state):
    with pytest.raises(InvalidTransition):
        case_in(state).request_supplement(CLERK, "补交", now=LATER)


# ---------------------------------------------------------------- supplement


def test_supplement_accepts_again_and_adds_materials():
    app = case_in("supplement_requested")
    app.supplement(APPLICANT, [{"name": "身份证复印件", "file_id": "f2"}], calendar=CAL, now=NOW)
    assert app.state == State.ACCEPTED
    assert app.materials[-1] == {"name": "身份证复印件", "file_id": "f2"}
    assert len(app.materials) == 2
    assert app.events == [ApplicationAccepted(application_id=app.application_id, accepted_at=NOW)]
    assert (app.timeline[-1].action, app.timeline[-1].actor_role) == ("supplement", "applicant")


def test_waiting_for_a_supplement_moves_the_due_date():
    app = case_in("supplement_requested")  # requested on Tue 29 Sep, due Mon 12 Oct
    # Answered on Thu 8 Oct: the clock stood still on 30 Sep and 8 Oct and
    # restarts the day after the supplement, so the due date moves two working days.
    app.supplement(APPLICANT, [{"name": "身份证复印件"}], calendar=CAL, now=LATER)
    assert app.due_date.isoformat() == "2026-10-14"


@pytest.mark.parametrize("actor", [OTHER_CITIZEN, CLERK, OPERATOR])
def test_only_the_applicant_supplements(actor):
    with pytest.raises(Forbidden):
        case_in("supplement_requested").supplement(actor, [{"name": "x"}], calendar=CAL)


@pytest.mark.parametrize("state", others("supplement_requested"))
def test_supplement_only_when_requested(state):
    with pytest.raises(InvalidTransition):
        case_in(state).supplement(APPLICANT, [{"name": "x"}], calendar=CAL, now=LATER)


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
    assert app.events == [ApplicationWithdrawn(application_id=app.application_id)]
    assert (app.timeline[-1].action, app.timeline[-1].comment) == ("withdraw", "不办了")


@pytest.mark.parametrize("state", others("submitted", "accepted", "supplement_requested"))
def test_decided_cases_cannot_be_withdrawn(state):
    with pytest.raises(InvalidTransition):
        case_in(state).withdraw(APPLICANT, now=LATER)


@pytest.mark.parametrize("actor", [OTHER_CITIZEN, CLERK, APPROVER, OPERATOR])
def test_only_the_applicant_withdraws(actor):
    app = case_in("submitted")
    with pytest.raises(Forbidden):
        app.withdraw(actor, now=LATER)
    assert app.state == State.SUBMITTED


# ---------------------------------------------------------- courier notices


def test_materials_received_accepts_an_express_case():
    app = case_in("submitted")
    assert app.materials_received(now=LATER) is True
    assert app.state == State.ACCEPTED
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
    assert app.materials_received(now=LATER) is False
    assert app.state == state
    assert app.timeline == timeline
    assert app.events == []


@pytest.mark.parametrize("mode", ["online", "window"])
def test_materials_received_only_for_express(mode):
    with pytest.raises(InvalidTransition):
        case_in("submitted", mode).materials_received(now=LATER)


def test_result_delivered_completes_an_approved_express_case():
    app = case_in("approved")
    assert app.result_delivered(now=LATER) is True
    assert app.state == State.COMPLETED
    assert [e.type for e in app.events] == ["application_completed"]
    assert app.events[0].completed_at == LATER


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
        ("accepted", "request_supplement", CLERK, "supplement_requested"),
        ("accepted", "approve", APPROVER, "approved"),
        ("accepted", "deny", APPROVER, "denied"),
    ],
)
def test_act_dispatches_by_name(start, action, actor, end):
    app = case_in(start)
    app.act(actor, action, "理由", licence_numbers=licence_numbers(), now=LATER)
    assert app.state == end


def test_act_refuses_unknown_actions():
    with pytest.raises(ValidationFailed) as caught:
        case_in("submitted").act(CLERK, "archive", now=LATER)
    assert set(caught.value.fields) == {"action"}


def test_forbidden_is_checked_before_state():
    # An outsider learns nothing about the case's state.
    with pytest.raises(Forbidden):
        case_in("completed").accept(OUTSIDE_CLERK, now=LATER)
