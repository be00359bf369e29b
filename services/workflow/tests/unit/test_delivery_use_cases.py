"""Failed EMS shipments through the use cases on a SQLite unit of work: the
notice once per event, the choice and the hand-over as commands, what is
stored and what goes to the outbox."""

from datetime import UTC, datetime

import pytest
from marshmallow import EXCLUDE

from services.common import errors
from services.common.schemas import load_payload
from services.common.testing import assert_documented, envelope, outbox
from services.courier import contract as courier
from services.workflow import contract
from services.workflow.service_layer import use_cases

from .conftest import APPLICANT, CLERK, EXPRESS, FORM, MATERIALS, OTHER_CITIZEN, item

NOW = datetime(2026, 9, 29, 2, 0, tzinfo=UTC)
LATER = datetime(2026, 10, 12, 2, 0, tzinfo=UTC)
NEW_ADDRESS = {**EXPRESS["address"], "city": "无锡市", "postcode": "214000"}


def shipment_failed(application_id, direction="materials", reason="refused", attempt=1):
    """courier's shipment_failed as the handler receives it (payload loaded)."""
    event = envelope(
        "courier",
        "shipment_failed",
        {
            "application_id": application_id,
            "tracking_no": "EA123456785CN",
            "direction": direction,
            "reason": reason,
            "description": "收件人拒收",
            "failed_at": "2026-10-08T02:00:00Z",
            "attempt": attempt,
        },
    )
    schema = courier.ShipmentFailed(unknown=EXCLUDE)
    return {**event, "payload": load_payload(schema, event)}


def submitted(uow):
    return use_cases.submit_application(
        uow, item(joint_departments=[]), APPLICANT, FORM, MATERIALS, EXPRESS, now=NOW
    ).application_id


def test_a_failure_is_kept_once_and_survives_the_store(uow):
    application_id = submitted(uow)
    notice = shipment_failed(application_id)

    assert use_cases.on_shipment_failed(uow, notice, now=LATER) is True
    assert use_cases.on_shipment_failed(uow, notice, now=LATER) is False

    view = use_cases.get_application(uow, APPLICANT, application_id)
    assert view.shipping.shown["reason"] == "refused"
    assert view.clock.stopped_for == "delivery"
    assert [a["action"] for a in view.available_actions] == [
        "withdraw",
        "reship_materials",
        "bring_to_window",
    ]
    dumped = contract.Application().dump(view)
    assert dumped["shipment_failure"]["failed_at"] == "2026-10-08T02:00:00Z"
    assert dumped["clock"]["stopped_for"] == "delivery"


def test_a_failure_of_a_case_this_instance_does_not_hold_is_ignored(uow):
    assert use_cases.on_shipment_failed(uow, shipment_failed("no-such-case"), now=LATER) is False


def test_the_choice_is_a_command_with_its_event_in_the_outbox(uow):
    application_id = submitted(uow)
    use_cases.on_shipment_failed(uow, shipment_failed(application_id), now=LATER)

    with pytest.raises(errors.NotFound):  # someone else's case is not found
        use_cases.choose_redelivery(uow, OTHER_CITIZEN, application_id, "reship_materials")
    view = use_cases.choose_redelivery(
        uow, APPLICANT, application_id, "reship_materials", NEW_ADDRESS, now=LATER
    )

    assert view.delivery["address"] == NEW_ADDRESS
    requested = outbox(uow)[-1]
    assert requested["type"] == "redelivery_requested"
    assert requested["payload"] == {
        "application_id": application_id,
        "direction": "materials",
        "address": NEW_ADDRESS,
        "attempt": 2,
    }
    assert_documented(contract.RedeliveryRequested, requested["payload"])
    stored = use_cases.get_application(uow, APPLICANT, application_id)
    assert stored.shipping.attempt("materials") == 2
    assert stored.clock.running


def test_the_window_hands_the_result_over_and_the_case_completes(uow):
    application_id = submitted(uow)
    use_cases.on_materials_received(
        uow,
        envelope(
            "courier",
            "materials_received",
            {
                "application_id": application_id,
                "tracking_no": "EA123456785CN",
                "received_at": "2026-09-30T02:00:00Z",
            },
        ),
        now=NOW,
    )
    approver = {**CLERK, "roles": ["approver"], "user_id": "u-approver"}
    use_cases.act(uow, approver, application_id, "approve", now=NOW)
    use_cases.on_shipment_failed(uow, shipment_failed(application_id, "result"), now=LATER)

    with pytest.raises(errors.Forbidden):
        use_cases.hand_over(uow, APPLICANT, application_id)
    done = use_cases.hand_over(uow, CLERK, application_id, "本人领取", now=LATER)

    assert done.state == "completed"
    types = [sent["type"] for sent in outbox(uow)]
    assert types[-2:] == ["application_completed", "application_ended"]
    with pytest.raises(errors.Conflict):
        use_cases.hand_over(uow, CLERK, application_id, now=LATER)
