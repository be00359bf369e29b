from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.courier.domain.events import (
    MaterialsReceived,
    ResultDelivered,
    ShipmentCreated,
    ShipmentFailed,
)
from services.courier.domain.exceptions import InvalidTransition, ValidationFailed
from services.courier.domain.model import Address, Shipment

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
APPLICANT = {
    "name": "张三",
    "phone": "13800138000",
    "province": "江苏省",
    "city": "苏州市",
    "district": "姑苏区",
    "street": "人民路100号",
    "postcode": "215000",
}
WINDOW = {
    "name": "南京市政务服务中心",
    "phone": "025-83456789",
    "province": "江苏省",
    "city": "南京市",
    "district": "建邺区",
    "street": "江东中路265号",
    "postcode": "210019",
}


def new_shipment(direction="materials"):
    return Shipment.create(
        shipment_id="shp-1",
        application_id="app-1",
        direction=direction,
        sender=APPLICANT if direction == "materials" else WINDOW,
        recipient=WINDOW if direction == "materials" else APPLICANT,
        tracking_no="EA123456785CN",
    )


def at(minutes):
    return T0 + timedelta(minutes=minutes)


def drive(shipment, *statuses):
    for minutes, status in enumerate(statuses):
        shipment.record(status, at(minutes), "南京市", status)


def test_create_records_shipment_created():
    shipment = new_shipment()
    assert shipment.status == "created"
    assert shipment.sender == Address(**APPLICANT)
    assert shipment.events == [
        ShipmentCreated(
            shipment_id="shp-1",
            tracking_no="EA123456785CN",
            application_id="app-1",
            direction="materials",
        )
    ]
    assert ShipmentCreated.type == "shipment_created"


def test_create_names_every_invalid_field():
    with pytest.raises(ValidationFailed) as raised:
        Shipment.create(
            shipment_id="shp-1",
            application_id="",
            direction="sideways",
            sender={**APPLICANT, "postcode": "21500", "phone": "12"},
            recipient={**WINDOW, "street": " "},
            tracking_no="EA123456784CN",
        )
    assert set(raised.value.fields) == {
        "application_id",
        "direction",
        "sender.postcode",
        "sender.phone",
        "recipient.street",
        "tracking_no",
    }


def test_materials_delivered_moves_forward_and_emits_materials_received():
    shipment = new_shipment("materials")
    shipment.events.clear()
    drive(shipment, "accepted", "picked_up", "in_transit", "out_for_delivery", "delivered")
    assert shipment.status == "delivered"
    assert [e.status for e in shipment.tracking] == [
        "accepted",
        "picked_up",
        "in_transit",
        "out_for_delivery",
        "delivered",
    ]
    assert shipment.events == [
        MaterialsReceived(application_id="app-1", tracking_no="EA123456785CN", received_at=at(4))
    ]
    assert MaterialsReceived.type == "materials_received"


def test_result_delivered_emits_result_delivered():
    shipment = new_shipment("result")
    shipment.events.clear()
    drive(shipment, "accepted", "delivered")  # EMS may skip scans
    assert shipment.events == [
        ResultDelivered(application_id="app-1", tracking_no="EA123456785CN", delivered_at=at(1))
    ]
    assert ResultDelivered.type == "result_delivered"


def test_exact_duplicate_is_ignored_and_emits_once():
    shipment = new_shipment()
    shipment.events.clear()
    assert shipment.record("delivered", at(5), "南京市建邺区", "已签收")
    assert not shipment.record("delivered", at(5), "南京市建邺区", "已签收")
    assert len(shipment.tracking) == 1
    assert len(shipment.events) == 1


def test_older_state_arriving_late_is_ignored():
    shipment = new_shipment()
    drive(shipment, "accepted", "picked_up", "in_transit")
    assert not shipment.record("accepted", at(-10), "苏州市", "late webhook")
    assert shipment.status == "in_transit"
    assert len(shipment.tracking) == 3


def test_another_scan_in_the_same_state_is_kept_in_time_order():
    shipment = new_shipment()
    drive(shipment, "accepted", "picked_up", "in_transit")
    assert shipment.record("in_transit", at(10), "南京邮区中心", "到达南京")
    assert shipment.record("in_transit", at(5), "无锡邮区中心", "经无锡")
    assert shipment.status == "in_transit"
    assert [e.location for e in shipment.tracking[-3:]] == [
        "南京市",
        "无锡邮区中心",
        "南京邮区中心",
    ]


def test_delivered_is_final():
    shipment = new_shipment()
    shipment.events.clear()
    drive(shipment, "accepted", "delivered")
    assert not shipment.record("out_for_delivery", at(9), "南京市", "late")
    assert not shipment.record("delivered", at(9), "南京市", "second signature")
    with pytest.raises(InvalidTransition):
        shipment.record("failed", at(9), "南京市", "refused")
    assert shipment.status == "delivered"
    assert len(shipment.events) == 1


def test_failed_ends_the_shipment_and_emits_shipment_failed():
    shipment = new_shipment("result")
    shipment.events.clear()
    drive(shipment, "accepted", "out_for_delivery")
    assert shipment.record("failed", at(5), "苏州市姑苏区", "收件人拒收", "refused")
    assert not shipment.record("failed", at(5), "苏州市姑苏区", "收件人拒收", "refused")
    assert not shipment.record("in_transit", at(6), "苏州市", "late")
    with pytest.raises(InvalidTransition):
        shipment.record("delivered", at(7), "苏州市", "delivered after all")
    assert shipment.status == "failed"
    assert shipment.events == [
        ShipmentFailed(
            application_id="app-1",
            tracking_no="EA123456785CN",
            direction="result",
            reason="refused",
            description="收件人拒收",
            failed_at=at(5),
            attempt=1,
        )
    ]
    assert ShipmentFailed.type == "shipment_failed"


def test_a_failure_without_a_reason_is_other_and_an_unknown_reason_is_invalid():
    shipment = new_shipment()
    with pytest.raises(ValidationFailed) as raised:
        shipment.record("failed", at(1), "南京市", "?", "stolen")
    assert set(raised.value.fields) == {"reason"}
    assert shipment.record("failed", at(1), "南京市", "")
    assert shipment.events[-1].reason == "other"


def test_an_order_is_pending_until_placed_then_records_shipment_created():
    shipment = Shipment.order(
        shipment_id="shp-2",
        application_id="app-1",
        direction="materials",
        sender=APPLICANT,
        recipient=WINDOW,
        attempt=2,
    )
    assert (shipment.status, shipment.tracking_no, shipment.events) == ("pending", None, [])
    with pytest.raises(InvalidTransition):
        shipment.record("accepted", at(0), "南京市", "no waybill yet")

    shipment.place("EA123456785CN")

    assert shipment.status == "created"
    assert shipment.events == [
        ShipmentCreated(
            shipment_id="shp-2",
            tracking_no="EA123456785CN",
            application_id="app-1",
            direction="materials",
            attempt=2,
        )
    ]
    with pytest.raises(InvalidTransition):
        shipment.place("EA123456785CN")


def test_an_order_never_placed_fails_without_a_tracking_number():
    shipment = Shipment.order(
        shipment_id="shp-3",
        application_id="app-1",
        direction="result",
        sender=WINDOW,
        recipient=APPLICANT,
    )

    shipment.give_up("ems_unavailable", at(3), "EMS could not be reached")

    assert shipment.status == "failed"
    assert shipment.events == [
        ShipmentFailed(
            application_id="app-1",
            tracking_no=None,
            direction="result",
            reason="ems_unavailable",
            description="EMS could not be reached",
            failed_at=at(3),
            attempt=1,
        )
    ]
    with pytest.raises(InvalidTransition):
        shipment.give_up("ems_unavailable", at(4))


def test_an_order_names_a_bad_attempt():
    with pytest.raises(ValidationFailed) as raised:
        Shipment.order(
            shipment_id="shp-3",
            application_id="app-1",
            direction="result",
            sender=WINDOW,
            recipient=APPLICANT,
            attempt=0,
        )
    assert set(raised.value.fields) == {"attempt"}


def test_times_are_stored_in_utc_and_duplicates_match_across_zones():
    shipment = new_shipment()
    beijing = timezone(timedelta(hours=8))
    assert shipment.record("accepted", at(0).astimezone(beijing), "苏州市", "受理")
    assert shipment.tracking[0].occurred_at.tzinfo == UTC
    assert not shipment.record("accepted", at(0), "苏州市", "受理")


@pytest.mark.parametrize(
    "status, occurred_at, field",
    [
        ("created", T0, "status"),
        ("teleported", T0, "status"),
        ("accepted", datetime(2026, 11, 25, 8, 0), "occurred_at"),
        ("accepted", "2026-11-25T08:00:00Z", "occurred_at"),
    ],
)
def test_record_rejects_bad_input(status, occurred_at, field):
    shipment = new_shipment()
    with pytest.raises(ValidationFailed) as raised:
        shipment.record(status, occurred_at, "南京市", "")
    assert field in raised.value.fields


def test_events_are_frozen():
    event = new_shipment().events[0]
    with pytest.raises(AttributeError):
        event.tracking_no = "EA000000005CN"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"phone": "１３８００１３８０００"}, "sender.phone"),
        ({"postcode": "２１５０００"}, "sender.postcode"),
    ],
)
def test_an_address_takes_ascii_digits_only(changes, field):
    with pytest.raises(ValidationFailed) as raised:
        Address.from_dict({**APPLICANT, **changes}, "sender")
    assert set(raised.value.fields) == {field}
