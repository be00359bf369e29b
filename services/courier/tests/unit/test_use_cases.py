"""The courier's use cases on a SQLite unit of work with a fake EMS."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from services.common.errors import Conflict, Invalid, NotFound
from services.common.testing import assert_documented, outbox
from services.courier import contract, metrics
from services.courier.adapters.orm import metadata
from services.courier.domain.tracking_numbers import is_valid_tracking_number
from services.courier.service_layer import use_cases
from services.courier.service_layer.orders import PlacingSettings, place_pending_orders

from .builders import (
    APPLICANT_ADDRESS,
    CITIZEN,
    CLERK,
    OPERATOR,
    OTHER_CITIZEN,
    OTHER_CLERK,
    WINDOW,
    application_submitted,
    delivered,
    licence_issued,
)

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
WINDOW_ADDRESS = {
    "name": "南京市民中心综合窗口",
    "phone": "025-83456789",
    "province": "江苏省",
    "city": "南京市",
    "district": "建邺区",
    "street": "江东中路265号南京市民中心一楼",
    "postcode": "210019",
}


SETTINGS = PlacingSettings(retry_window=timedelta(hours=48), retry_seconds=5.0)


class Clock:
    """The instant the placing pass reads; tests move it."""

    def __init__(self, now=T0):
        self.now = now

    def __call__(self):
        return self.now


def place(uow, ems, clock=None):
    return place_pending_orders(uow, ems, settings=SETTINGS, clock=clock or Clock())


def tracking_of(uow, shipment_id):
    if shipment_id is None:
        return None
    with uow:
        return uow.shipments.get_by_id(shipment_id).tracking_no


def submit(uow, ems, envelope):
    """The handler keeps the order, the timer places it: the tracking number."""
    shipment_id = use_cases.ship_materials(uow, delivered(envelope), now=T0)
    place(uow, ems)
    return tracking_of(uow, shipment_id)


def issue(uow, ems, envelope):
    shipment_id = use_cases.ship_result(uow, delivered(envelope), now=T0)
    place(uow, ems)
    return tracking_of(uow, shipment_id)


def rows(uow, table):
    with uow:
        return [dict(r) for r in uow.session.execute(sa.select(metadata.tables[table])).mappings()]


def counter(metric, direction):
    return metric.labels(direction)._value.get()


def test_express_submission_books_a_pickup_from_the_applicant_to_the_window(uow, ems):
    created_before = counter(metrics.SHIPMENTS_CREATED, "materials")

    tracking_no = submit(uow, ems, application_submitted("app-1"))

    assert is_valid_tracking_number(tracking_no)
    [call] = ems.calls
    assert call == {
        "idempotency_key": "app-1:materials",
        "sender": APPLICANT_ADDRESS,
        "recipient": WINDOW_ADDRESS,
        "reference": "app-1",
        "kind": "materials",
    }
    [shipment] = rows(uow, "shipments")
    assert shipment["tracking_no"] == tracking_no
    assert shipment["direction"] == "materials"
    assert shipment["status"] == "created"
    assert shipment["applicant_id"] == CITIZEN["user_id"]
    assert shipment["department_code"] == CLERK["department_code"]
    [event] = outbox(uow)
    assert event["type"] == "shipment_created"
    assert event["source"] == "courier"
    assert event["payload"] == {
        "shipment_id": shipment["shipment_id"],
        "tracking_no": tracking_no,
        "application_id": "app-1",
        "direction": "materials",
        "attempt": 1,
    }
    assert_documented(contract.ShipmentCreated, event["payload"])
    assert counter(metrics.SHIPMENTS_CREATED, "materials") == created_before + 1


def test_a_repeated_event_creates_nothing_and_does_not_call_ems_again(uow, ems):
    envelope = application_submitted("app-1")
    first = submit(uow, ems, envelope)

    assert submit(uow, ems, envelope) is None

    assert len(ems.calls) == 1
    assert [s["tracking_no"] for s in rows(uow, "shipments")] == [first]
    assert len(outbox(uow)) == 1
    assert len(rows(uow, "handled_events")) == 1


def test_another_event_for_the_same_application_reuses_its_shipment(uow, ems):
    first = submit(uow, ems, application_submitted("app-1"))

    # Same application, new event id (say, workflow re-emitted it).
    assert submit(uow, ems, application_submitted("app-1")) == first

    assert len(ems.calls) == 1
    assert len(rows(uow, "shipments")) == 1
    assert len(outbox(uow)) == 1
    assert len(rows(uow, "handled_events")) == 2


@pytest.mark.parametrize("mode", ["online", "window"])
def test_other_modes_ship_nothing_and_write_nothing(uow, ems, mode):
    envelope = application_submitted("app-1", mode=mode)

    assert submit(uow, ems, envelope) is None
    assert submit(uow, ems, envelope) is None

    assert ems.calls == []
    assert rows(uow, "shipments") == []
    assert outbox(uow) == []
    # Nothing happened, so nothing is kept to make it happen once.
    assert rows(uow, "handled_events") == []


def test_ems_unavailable_keeps_the_order_pending_and_the_event_handled(uow, ems):
    envelope = application_submitted("app-1")
    ems.available = False

    assert submit(uow, ems, envelope) is None

    [shipment] = rows(uow, "shipments")
    assert (shipment["status"], shipment["tracking_no"]) == ("pending", None)
    [order] = rows(uow, "pending_orders")
    assert order["attempts"] == 1
    assert order["last_error"].startswith("EMS POST /api/orders failed")
    assert len(rows(uow, "handled_events")) == 1
    assert outbox(uow) == []
    [listed] = use_cases.list_shipments(uow, CITIZEN, "app-1")["items"]
    assert (listed["status"], listed["tracking_no"]) == ("pending", None)
    assert_documented(contract.ShipmentSummary, contract.ShipmentSummary().dump(listed))


def test_a_window_address_that_cannot_be_split_is_invalid_before_ems(uow, ems):
    envelope = application_submitted(
        "app-1",
        window={"name": "窗口", "address": "某处", "phone": "025-83456789", "postcode": "210019"},
    )

    with pytest.raises(Invalid) as raised:
        submit(uow, ems, envelope)

    assert "window.address" in raised.value.fields
    assert ems.calls == []
    assert rows(uow, "handled_events") == []


def test_a_bad_applicant_address_is_invalid_before_ems(uow, ems):
    envelope = application_submitted(
        "app-1", delivery={"mode": "express", "address": {**APPLICANT_ADDRESS, "phone": "12"}}
    )

    with pytest.raises(Invalid) as raised:
        submit(uow, ems, envelope)

    assert raised.value.fields == {"delivery.address.phone": "not a mobile or landline number"}
    assert ems.calls == []


def test_licence_issued_ships_the_result_from_the_window_to_the_applicant(uow, ems):
    submit(uow, ems, application_submitted("app-1"))

    tracking_no = issue(uow, ems, licence_issued("app-1"))

    call = ems.calls[-1]
    assert call["idempotency_key"] == "app-1:result"
    assert call["sender"] == WINDOW_ADDRESS
    assert call["recipient"] == APPLICANT_ADDRESS
    assert call["kind"] == "result"
    result = next(s for s in rows(uow, "shipments") if s["direction"] == "result")
    assert result["tracking_no"] == tracking_no
    assert result["department_code"] == CLERK["department_code"]
    assert [e["type"] for e in outbox(uow)] == ["shipment_created", "shipment_created"]
    assert outbox(uow)[-1]["payload"]["direction"] == "result"


def test_the_result_shipment_is_seen_by_the_licence_department(uow, ems):
    issue(uow, ems, licence_issued("app-9", department_code=OTHER_CLERK["department_code"]))

    [result] = rows(uow, "shipments")
    assert result["department_code"] == OTHER_CLERK["department_code"]
    assert [
        s["direction"] for s in use_cases.list_shipments(uow, OTHER_CLERK, "app-9")["items"]
    ] == ["result"]
    assert use_cases.list_shipments(uow, CLERK, "app-9") == {"items": []}


@pytest.mark.parametrize("handle", [submit, issue])
@pytest.mark.parametrize(
    ("changes", "problems"),
    [
        (
            {"delivery": {"mode": "express", "address": None}},
            {"delivery.address": "required for express delivery"},
        ),
        ({"window": None}, {"window": "required for express delivery"}),
        (
            {"delivery": {"mode": "express", "address": None}, "window": None},
            {
                "delivery.address": "required for express delivery",
                "window": "required for express delivery",
            },
        ),
        (
            {
                "delivery": {"mode": "express", "address": {**APPLICANT_ADDRESS, "phone": "12"}},
                "window": {**WINDOW, "address": "某处"},
            },
            {
                "delivery.address.phone": "not a mobile or landline number",
                "window.address": "must start with the city, such as 南京市",
            },
        ),
    ],
    ids=["no-address", "no-window", "neither", "both-bad"],
)
def test_express_needs_an_address_and_a_window_before_ems(uow, ems, handle, changes, problems):
    builder = application_submitted if handle is submit else licence_issued

    with pytest.raises(Invalid) as raised:
        handle(uow, ems, builder("app-1", **changes))

    assert raised.value.fields == problems
    assert ems.calls == []
    assert rows(uow, "handled_events") == []
    assert rows(uow, "shipments") == []


@pytest.mark.parametrize("mode", ["online", "window"])
def test_other_modes_need_no_address_nor_window(uow, ems, mode):
    envelope = application_submitted("app-1", mode=mode, window=None)

    assert submit(uow, ems, envelope) is None

    assert ems.calls == []
    assert rows(uow, "handled_events") == []


def test_licence_issued_without_express_ships_nothing(uow, ems):
    assert issue(uow, ems, licence_issued("app-1", mode="online")) is None
    assert ems.calls == []
    assert rows(uow, "handled_events") == []


def scan(uow, tracking_no, status, at, location="南京市建邺区", description="scan"):
    return use_cases.record_ems_event(uow, tracking_no, status, at, location, description)


def test_delivery_of_the_materials_emits_materials_received(uow, ems):
    tracking_no = submit(uow, ems, application_submitted("app-1"))
    delivered_before = counter(metrics.SHIPMENTS_DELIVERED, "materials")

    scan(uow, tracking_no, "accepted", T0)
    scan(uow, tracking_no, "picked_up", T0 + timedelta(hours=1))
    recorded = scan(uow, tracking_no, "delivered", T0 + timedelta(days=1), description="已签收")

    assert recorded == {"tracking_no": tracking_no, "status": "delivered", "changed": True}
    events = outbox(uow)
    assert [e["type"] for e in events] == ["shipment_created", "materials_received"]
    assert events[-1]["payload"] == {
        "application_id": "app-1",
        "tracking_no": tracking_no,
        "received_at": "2026-11-26T08:00:00Z",
    }
    assert_documented(contract.MaterialsReceived, events[-1]["payload"])
    assert [r["status"] for r in rows(uow, "tracking_events")] == [
        "accepted",
        "picked_up",
        "delivered",
    ]
    assert counter(metrics.SHIPMENTS_DELIVERED, "materials") == delivered_before + 1


def test_delivery_of_the_result_emits_result_delivered(uow, ems):
    submit(uow, ems, application_submitted("app-1"))
    tracking_no = issue(uow, ems, licence_issued("app-1"))

    scan(uow, tracking_no, "delivered", T0)

    assert outbox(uow)[-1]["type"] == "result_delivered"
    assert outbox(uow)[-1]["payload"]["delivered_at"] == "2026-11-25T08:00:00Z"


def test_failure_emits_shipment_failed(uow, ems):
    tracking_no = submit(uow, ems, application_submitted("app-1"))
    failed_before = counter(metrics.SHIPMENTS_FAILED, "materials")

    use_cases.record_ems_event(
        uow, tracking_no, "failed", T0, "苏州市", "收件人拒收", reason="refused"
    )

    event = outbox(uow)[-1]
    assert event["type"] == "shipment_failed"
    assert event["payload"] == {
        "application_id": "app-1",
        "tracking_no": tracking_no,
        "direction": "materials",
        "reason": "refused",
        "description": "收件人拒收",
        "failed_at": "2026-11-25T08:00:00Z",
        "attempt": 1,
    }
    assert_documented(contract.ShipmentFailed, event["payload"])
    assert counter(metrics.SHIPMENTS_FAILED, "materials") == failed_before + 1


def test_a_repeated_or_stale_scan_is_accepted_and_changes_nothing(uow, ems):
    tracking_no = submit(uow, ems, application_submitted("app-1"))
    scan(uow, tracking_no, "in_transit", T0 + timedelta(hours=2))

    repeat = scan(uow, tracking_no, "in_transit", T0 + timedelta(hours=2))
    stale = scan(uow, tracking_no, "accepted", T0)

    assert repeat == {"tracking_no": tracking_no, "status": "in_transit", "changed": False}
    assert stale["changed"] is False
    assert len(rows(uow, "tracking_events")) == 1
    assert [e["type"] for e in outbox(uow)] == ["shipment_created"]


def test_a_repeated_delivery_scan_emits_one_event(uow, ems):
    tracking_no = submit(uow, ems, application_submitted("app-1"))

    scan(uow, tracking_no, "delivered", T0)
    scan(uow, tracking_no, "delivered", T0)

    assert [e["type"] for e in outbox(uow)] == ["shipment_created", "materials_received"]


def test_failure_after_delivery_is_a_conflict_and_changes_nothing(uow, ems):
    tracking_no = submit(uow, ems, application_submitted("app-1"))
    scan(uow, tracking_no, "delivered", T0)

    with pytest.raises(Conflict):
        scan(uow, tracking_no, "failed", T0 + timedelta(hours=1))

    assert [r["status"] for r in rows(uow, "shipments")] == ["delivered"]
    assert len(rows(uow, "tracking_events")) == 1


def test_a_scan_for_an_unknown_tracking_number_is_not_found(uow):
    with pytest.raises(NotFound):
        scan(uow, "EA123456785CN", "delivered", T0)


def test_the_reference_ems_echoes_is_not_recorded(uow, ems):
    tracking_no = submit(uow, ems, application_submitted("app-1"))

    recorded = use_cases.record_ems_event(
        uow, tracking_no, "accepted", T0, "苏州市", "已受理", reference="app-1"
    )

    assert recorded == {"tracking_no": tracking_no, "status": "accepted", "changed": True}
    [entry] = rows(uow, "tracking_events")
    assert "app-1" not in entry.values()
    assert "reference" not in entry


def test_a_naive_time_is_invalid(uow, ems):
    tracking_no = submit(uow, ems, application_submitted("app-1"))
    with pytest.raises(Invalid) as raised:
        scan(uow, tracking_no, "delivered", datetime(2026, 11, 25, 8, 0))
    assert "occurred_at" in raised.value.fields


@pytest.fixture
def two_applications(uow, ems):
    mine = submit(uow, ems, application_submitted("app-1"))
    scan(uow, mine, "accepted", T0, location="苏州市姑苏区", description="已受理")
    scan(uow, mine, "picked_up", T0 + timedelta(hours=1), description="已揽收")
    other = submit(
        uow,
        ems,
        application_submitted("app-2", applicant_id="u-other", department_code="js-amr"),
    )
    return mine, other


@pytest.mark.parametrize(
    ("actor", "application_id", "visible"),
    [
        (CITIZEN, "app-1", True),
        (CITIZEN, "app-2", False),
        (OTHER_CITIZEN, "app-2", True),
        (CLERK, "app-1", True),
        (CLERK, "app-2", False),
        (OTHER_CLERK, "app-2", True),
        (OPERATOR, "app-1", True),
        (OPERATOR, "app-2", True),
        ({**CLERK, "department_code": None}, "app-1", False),
    ],
)
def test_who_sees_which_shipments(uow, two_applications, actor, application_id, visible):
    listed = use_cases.list_shipments(uow, actor, application_id)["items"]

    assert [s["application_id"] for s in listed] == ([application_id] if visible else [])
    tracking_no = two_applications[0] if application_id == "app-1" else two_applications[1]
    if visible:
        assert use_cases.get_shipment(uow, actor, tracking_no)["tracking_no"] == tracking_no
    else:
        with pytest.raises(NotFound):
            use_cases.get_shipment(uow, actor, tracking_no)


def test_a_shipment_comes_with_its_tracking_history_oldest_first(uow, two_applications):
    mine, _ = two_applications

    shipment = use_cases.get_shipment(uow, CITIZEN, mine)

    assert shipment["status"] == "picked_up"
    assert shipment["sender"] == APPLICANT_ADDRESS
    assert shipment["recipient"] == WINDOW_ADDRESS
    assert shipment["created_at"].tzinfo is not None
    assert shipment["tracking"] == [
        {
            "status": "accepted",
            "occurred_at": T0,
            "location": "苏州市姑苏区",
            "description": "已受理",
        },
        {
            "status": "picked_up",
            "occurred_at": T0 + timedelta(hours=1),
            "location": "南京市建邺区",
            "description": "已揽收",
        },
    ]


def test_an_unknown_tracking_number_is_not_found(uow):
    with pytest.raises(NotFound):
        use_cases.get_shipment(uow, OPERATOR, "EA123456785CN")
