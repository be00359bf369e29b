"""Express cases whose EMS shipment failed: the applicant's choices, the window's
hand-over, the clock, and a way on from every state a failure can leave."""

from datetime import UTC, datetime, timedelta

import pytest

from services.workflow.domain.events import ApplicationCompleted, RedeliveryRequested
from services.workflow.domain.exceptions import Forbidden, InvalidTransition, ValidationFailed

from .conftest import (
    APPLICANT,
    APPROVER,
    CAL,
    CLERK,
    LATER,
    NOW,
    OTHER_CITIZEN,
    OUTSIDE_CLERK,
    TRACKING_NO,
    act,
    submit,
)

NEW_ADDRESS = {
    "name": "张三",
    "phone": "13800138001",
    "province": "江苏省",
    "city": "无锡市",
    "district": "梁溪区",
    "street": "中山路1号",
    "postcode": "214000",
}
# Thursday 8 October 2026 (after National Day), and the Monday after.
FAILED_AT = LATER
CHOSEN_AT = datetime(2026, 10, 12, 2, 0, tzinfo=UTC)


def failure(direction="materials", reason="refused", attempt=1, tracking_no=TRACKING_NO):
    return {
        "application_id": "ignored",
        "tracking_no": tracking_no,
        "direction": direction,
        "reason": reason,
        "description": "收件人拒收" if tracking_no else "",
        "failed_at": FAILED_AT,
        "attempt": attempt,
    }


def fail(app, direction="materials", reason="refused", attempt=1, at=FAILED_AT, **more):
    changed = app.shipment_failed(failure(direction, reason, attempt, **more), calendar=CAL, now=at)
    return changed


def choose(app, choice, address=None, actor=APPLICANT, at=CHOSEN_AT):
    app.choose_redelivery(actor, choice, address, calendar=CAL, now=at)
    return app


def approved():
    app = submit("express")
    act(app, CLERK, "accept")
    act(app, APPROVER, "approve")
    assert app.state == "approved"
    app.events.clear()
    return app


def names(app, actor):
    return [entry["action"] for entry in app.available_actions(actor)]


# --------------------------------------------------------- materials pickup


def test_a_failed_pickup_stops_the_clock_and_offers_the_applicant_two_ways():
    app = submit("express")
    app.events.clear()

    assert fail(app)

    assert app.state == "submitted"
    assert (app.clock.stopped_for, app.clock.stopped_on) == ("delivery", FAILED_AT.date())
    entry = app.timeline[-1]
    assert (entry.action, entry.actor_role, entry.actor_id) == ("shipment_failed", "system", None)
    assert entry.comment == f"materials: refused ({TRACKING_NO}) 收件人拒收"
    assert names(app, APPLICANT) == ["withdraw", "reship_materials", "bring_to_window"]
    # Nobody at the department owes anything meanwhile: the window may only reject.
    assert names(app, CLERK) == ["reject"]
    with pytest.raises(InvalidTransition):
        act(app, CLERK, "accept", now=CHOSEN_AT)
    assert not app.overdue(FAILED_AT.date() + timedelta(days=60), CAL)
    assert app.events == []


def test_reshipping_asks_the_courier_for_a_new_pickup_and_runs_the_clock_again():
    app = submit("express")
    due = app.due_date
    fail(app)
    app.events.clear()

    choose(app, "reship_materials", NEW_ADDRESS)

    assert app.events == [
        RedeliveryRequested(
            application_id=app.application_id,
            direction="materials",
            address=NEW_ADDRESS,
            attempt=2,
        )
    ]
    assert app.delivery["address"] == NEW_ADDRESS
    assert app.clock.running
    # 8 Oct to 12 Oct: Friday 9, the make-up Saturday 10 and Monday 12 stood still.
    assert CAL.working_days_between(FAILED_AT.date(), CHOSEN_AT.date()) == 3
    assert app.due_date == CAL.add_working_days(due, 3)
    entry = app.timeline[-1]
    assert (entry.action, entry.actor_id, entry.actor_role) == (
        "reship_materials",
        APPLICANT["user_id"],
        "applicant",
    )
    assert entry.comment == "materials shipment 2 to a new address"
    assert app.shipping.shown["choice"] == "reship_materials"
    # The new pickup is delivered: the case is accepted as usual.
    assert app.materials_received(calendar=CAL, now=CHOSEN_AT)
    assert app.state == "accepted"


def test_the_new_pickup_may_fail_again_and_the_choices_come_back():
    app = submit("express")
    fail(app)
    choose(app, "reship_materials")
    assert not fail(app, attempt=1, reason="lost")  # the old attempt's news: nothing

    assert fail(app, attempt=2, reason="ems_unavailable", tracking_no=None)

    assert app.shipping.shown["attempt"] == 2
    assert app.timeline[-1].comment == "materials: ems_unavailable"
    assert names(app, APPLICANT) == ["withdraw", "reship_materials", "bring_to_window"]
    app.events.clear()
    choose(app, "reship_materials")
    assert app.events[-1].attempt == 3
    assert app.events[-1].address is None


def test_bringing_the_materials_lets_the_window_accept_as_for_a_window_case():
    app = submit("express")
    fail(app)
    app.events.clear()

    choose(app, "bring_to_window")

    assert app.events == []
    assert app.clock.running
    assert names(app, APPLICANT) == ["withdraw"]
    assert "accept" in names(app, CLERK)
    act(app, CLERK, "accept", now=CHOSEN_AT)
    assert app.state == "accepted"
    # The result still goes by EMS, to the address the case has.
    assert app.delivery["mode"] == "express"


def test_a_pickup_failure_after_the_window_took_the_case_changes_nothing():
    app = submit("express")
    act(app, CLERK, "accept")

    assert not fail(app)
    assert app.shipping.failure is None
    assert app.clock.running


def test_a_failure_while_materials_are_owed_keeps_the_supplement_clock():
    app = submit("express")
    act(app, CLERK, "request_supplement", "补交身份证", missing_materials=["身份证"])

    assert fail(app)

    assert app.clock.stopped_for == "supplement"
    choose(app, "bring_to_window")
    assert app.clock.stopped_for == "supplement"  # the supplement restarts it
    assert names(app, APPLICANT) == ["withdraw", "supplement"]


# --------------------------------------------------------- result delivery


def test_a_failed_result_delivery_offers_redelivery_or_the_window():
    app = approved()

    assert fail(app, "result", "undeliverable")

    assert app.state == "approved"
    assert names(app, APPLICANT) == ["redeliver_result", "collect_at_window"]
    # The applicant may come to the window without choosing first.
    assert names(app, CLERK) == ["hand_over"]
    assert names(app, OUTSIDE_CLERK) == []


def test_redelivery_is_a_new_result_shipment_and_completes_on_delivery():
    app = approved()
    fail(app, "result")

    choose(app, "redeliver_result", NEW_ADDRESS)

    [event] = app.events
    assert (event.direction, event.address, event.attempt) == ("result", NEW_ADDRESS, 2)
    # While the new delivery is on its way nobody hands the result over.
    assert names(app, CLERK) == []
    assert names(app, APPLICANT) == []
    with pytest.raises(InvalidTransition):
        app.hand_over(CLERK, now=CHOSEN_AT)
    assert app.result_delivered(now=CHOSEN_AT)
    assert app.state == "completed"


def test_collected_at_the_window_the_clerk_hands_it_over_and_the_case_completes():
    app = approved()
    fail(app, "result")
    choose(app, "collect_at_window")
    assert names(app, APPLICANT) == []
    assert names(app, CLERK) == ["hand_over"]
    app.events.clear()

    app.hand_over(CLERK, "申请人本人领取", now=CHOSEN_AT)

    assert app.state == "completed"
    assert [entry.action for entry in app.timeline[-3:]] == [
        "collect_at_window",
        "hand_over",
        "complete",
    ]
    assert (app.timeline[-2].actor_id, app.timeline[-2].comment) == (
        CLERK["user_id"],
        "申请人本人领取",
    )
    assert isinstance(app.events[0], ApplicationCompleted)
    assert app.events[-1].outcome == "completed"
    assert app.available_actions(CLERK) == []


@pytest.mark.parametrize(
    ("actor", "error"),
    [(APPLICANT, Forbidden), (OUTSIDE_CLERK, Forbidden), (APPROVER, None)],
)
def test_only_the_departments_window_hands_over(actor, error):
    app = approved()
    fail(app, "result")
    if error is None:  # an approver may stand in at the window
        app.hand_over(actor, now=CHOSEN_AT)
        assert app.timeline[-2].actor_role == "approver"
        return
    with pytest.raises(error):
        app.hand_over(actor, now=CHOSEN_AT)


def test_a_result_failure_of_a_completed_case_changes_nothing():
    app = approved()
    app.result_delivered(now=NOW)
    assert not fail(app, "result")


# --------------------------------------------------------- refusals


def test_the_choice_must_fit_the_failure_and_come_from_the_applicant():
    app = submit("express")
    with pytest.raises(InvalidTransition):
        choose(app, "reship_materials")  # nothing failed
    fail(app)
    with pytest.raises(InvalidTransition):
        choose(app, "redeliver_result")
    with pytest.raises(ValidationFailed) as raised:
        choose(app, "teleport")
    assert set(raised.value.fields) == {"choice"}
    with pytest.raises(Forbidden):
        choose(app, "reship_materials", actor=OTHER_CITIZEN)
    with pytest.raises(ValidationFailed) as raised:
        choose(app, "bring_to_window", NEW_ADDRESS)
    assert set(raised.value.fields) == {"address"}
    with pytest.raises(ValidationFailed) as raised:
        choose(app, "reship_materials", {**NEW_ADDRESS, "postcode": None, "phone": "12"})
    assert set(raised.value.fields) == {"address.postcode", "address.phone"}
    choose(app, "reship_materials")
    with pytest.raises(InvalidTransition):
        choose(app, "bring_to_window")  # answered already


def test_a_repeated_failure_notice_changes_nothing():
    app = submit("express")
    assert fail(app)
    assert not fail(app)
    assert [entry.action for entry in app.timeline].count("shipment_failed") == 1


def test_the_recovery_survives_a_round_trip_through_its_stored_form():
    from services.workflow.domain.delivery import Shipping

    app = approved()
    fail(app, "result")
    choose(app, "redeliver_result")

    stored = Shipping.from_dict(app.shipping.to_dict())

    assert stored == app.shipping


# --------------------------------------------------------- a way on


def way_on(app) -> bool:
    """Someone can act on the case: the applicant, the window, an approver, or
    EMS has a shipment of it on its way (which ends delivered or failed)."""
    people = (APPLICANT, CLERK, APPROVER)
    if any(app.available_actions(actor) for actor in people):
        return True
    shipping = app.shipping
    in_flight = shipping.choice in ("reship_materials", "redeliver_result")
    return app.state == "approved" and in_flight


@pytest.mark.parametrize(
    "steps",
    [
        ["m:fail"],
        ["m:fail", "reship_materials"],
        ["m:fail", "reship_materials", "m:fail2"],
        ["m:fail", "bring_to_window"],
        ["r:fail"],
        ["r:fail", "redeliver_result"],
        ["r:fail", "redeliver_result", "r:fail2"],
        ["r:fail", "collect_at_window"],
    ],
)
def test_no_case_is_left_without_a_way_on(steps):
    app = approved() if steps[0].startswith("r:") else submit("express")
    for step in steps:
        if step.endswith("fail") or step.endswith("fail2"):
            direction = "materials" if step.startswith("m:") else "result"
            assert fail(app, direction, attempt=2 if step.endswith("2") else 1)
        else:
            choose(app, step)
        assert way_on(app), (steps, step, app.state)
