"""The nameko entrypoints, through worker_factory with a SQLite unit of work and
a fake EMS: arguments by name, loaded with the contract; errors as the shared
types."""

import pytest
from nameko.testing.services import worker_factory

from services.common.errors import Conflict, Invalid, NotFound
from services.courier.service import CourierService
from services.courier.service_layer.unit_of_work import CourierUnitOfWork

from .builders import APPLICANT_ADDRESS, CITIZEN, OPERATOR, application_submitted, licence_issued

DELIVERED = {"status": "delivered", "occurred_at": "2026-11-25T08:00:00Z"}


@pytest.fixture
def service(uow_factory, ems):
    return worker_factory(
        CourierService,
        uow=uow_factory(CourierUnitOfWork, source="courier"),
        ems=ems,
        config={},
    )


@pytest.fixture
def tracking_no(service):
    service.on_application_submitted(application_submitted("app-1"))
    service.place_orders()
    [shipment] = service.list_shipments(actor=CITIZEN, application_id="app-1")["items"]
    return shipment["tracking_no"]


def test_express_submission_makes_one_shipment_however_often_it_arrives(service, ems):
    envelope = application_submitted("app-1")
    for _ in range(3):
        service.on_application_submitted(envelope)
        service.place_orders()

    answer = service.list_shipments(actor=CITIZEN, application_id="app-1")

    assert set(answer) == {"items"}
    listed = answer["items"]
    assert len(listed) == 1
    assert len(ems.calls) == 1
    assert set(listed[0]) == {
        "shipment_id",
        "tracking_no",
        "application_id",
        "direction",
        "attempt",
        "status",
        "sender",
        "recipient",
        "created_at",
    }
    assert listed[0]["sender"] == APPLICANT_ADDRESS
    assert listed[0]["created_at"].endswith("Z")


def test_licence_issued_makes_the_result_shipment(service):
    service.on_application_submitted(application_submitted("app-1"))
    service.on_licence_issued(licence_issued("app-1"))

    listed = service.list_shipments(actor=OPERATOR, application_id="app-1")["items"]

    assert [s["direction"] for s in listed] == ["materials", "result"]


def test_fields_workflow_adds_later_are_ignored(service, ems):
    service.on_application_submitted(application_submitted("app-1", priority="high"))
    service.place_orders()

    assert len(ems.calls) == 1


def test_record_ems_event_then_get_shipment_shows_the_scan(service, tracking_no):
    recorded = service.record_ems_event(
        tracking_no=tracking_no,
        status="delivered",
        occurred_at="2026-11-25T08:00:00Z",
        location="南京市建邺区",
        description="已签收",
        reference="app-1",
    )
    shipment = service.get_shipment(actor=CITIZEN, tracking_no=tracking_no)

    assert recorded == {"tracking_no": tracking_no, "status": "delivered", "changed": True}
    assert shipment["status"] == "delivered"
    assert shipment["tracking"] == [
        {
            "status": "delivered",
            "occurred_at": "2026-11-25T08:00:00Z",
            "location": "南京市建邺区",
            "description": "已签收",
        }
    ]


def test_location_description_and_reference_may_be_left_out(service, tracking_no):
    service.record_ems_event(
        tracking_no=tracking_no, status="accepted", occurred_at="2026-11-25T16:00:00+08:00"
    )

    [entry] = service.get_shipment(actor=CITIZEN, tracking_no=tracking_no)["tracking"]

    assert entry == {
        "status": "accepted",
        "occurred_at": "2026-11-25T08:00:00Z",
        "location": "",
        "description": "",
    }


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"status": "created"}, "status"),
        ({"status": None}, "status"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"occurred_at": "2026-13-45T08:00:00Z"}, "occurred_at"),
        ({"occurred_at": "2026-11-25T08:00:00"}, "occurred_at"),
        ({"occurred_at": None}, "occurred_at"),
        ({"tracking_no": None}, "tracking_no"),
        ({"tracking_no": ""}, "tracking_no"),
        ({"tracking_no": "ea123456785cn"}, "tracking_no"),
        ({"tracking_no": "EA12345678CN"}, "tracking_no"),
        ({"location": "北" * 201}, "location"),
        ({"location": None}, "location"),
        ({"description": "签" * 501}, "description"),
        ({"reference": "r" * 129}, "reference"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_scan_names_the_field_and_changes_nothing(service, tracking_no, arguments, field):
    call = {"tracking_no": tracking_no, **DELIVERED, **arguments}

    with pytest.raises(Invalid) as raised:
        service.record_ems_event(**call)

    assert set(raised.value.fields) == {field}
    assert service.get_shipment(actor=CITIZEN, tracking_no=tracking_no)["status"] == "created"


def test_arguments_are_named_never_positional(service, tracking_no):
    with pytest.raises(TypeError):
        service.get_shipment(CITIZEN, tracking_no)


def test_a_scan_of_an_unknown_waybill_is_not_found(service):
    with pytest.raises(NotFound) as raised:
        service.record_ems_event(tracking_no="EA123456785CN", **DELIVERED)
    # The shared type leaves the service, with the domain's message.
    assert type(raised.value) is NotFound
    assert raised.value.message == "no shipment EA123456785CN"


def test_a_scan_contradicting_the_final_state_is_a_conflict(service, tracking_no):
    service.record_ems_event(tracking_no=tracking_no, **DELIVERED)

    with pytest.raises(Conflict) as raised:
        service.record_ems_event(
            tracking_no=tracking_no, status="failed", occurred_at="2026-11-25T09:00:00Z"
        )

    assert type(raised.value) is Conflict
    assert service.get_shipment(actor=CITIZEN, tracking_no=tracking_no)["status"] == "delivered"


@pytest.mark.parametrize(
    ("actor", "field"),
    [
        ({**CITIZEN, "kind": "robot"}, "actor.kind"),
        ({"kind": "citizen"}, "actor.user_id"),
        (None, "actor"),
    ],
)
def test_a_bad_actor_is_invalid(service, actor, field):
    with pytest.raises(Invalid) as raised:
        service.list_shipments(actor=actor, application_id="app-1")
    assert set(raised.value.fields) == {field}


@pytest.mark.parametrize(
    ("arguments", "fields"),
    [
        ({}, {"application_id"}),
        ({"application_id": None}, {"application_id"}),
        ({"application_id": ""}, {"application_id"}),
        ({"application_id": "a" * 65}, {"application_id"}),
        ({"application_id": "app-1", "page": 2}, {"page"}),
    ],
)
def test_a_bad_shipment_query_is_invalid(service, arguments, fields):
    with pytest.raises(Invalid) as raised:
        service.list_shipments(actor=CITIZEN, **arguments)
    assert set(raised.value.fields) == fields


@pytest.mark.parametrize(
    ("tracking_no", "error"),
    [("not-a-waybill", Invalid), ("EA123456785CN", NotFound)],
)
def test_get_shipment_refuses_a_malformed_number_and_does_not_find_an_unknown_one(
    service, tracking_no, error
):
    with pytest.raises(error):
        service.get_shipment(actor=OPERATOR, tracking_no=tracking_no)


def test_an_express_event_without_an_address_is_invalid(service, ems):
    envelope = application_submitted("app-1", delivery={"mode": "express", "address": None})

    with pytest.raises(Invalid) as raised:
        service.on_application_submitted(envelope)

    assert raised.value.fields == {"delivery.address": "required for express delivery"}
    assert ems.calls == []


def test_an_express_event_without_a_window_is_invalid(service, ems):
    with pytest.raises(Invalid) as raised:
        service.on_licence_issued(licence_issued("app-1", window=None))
    assert raised.value.fields == {"window": "required for express delivery"}
    assert ems.calls == []


def test_an_event_workflow_could_not_have_sent_is_invalid(service, ems):
    envelope = application_submitted("app-1", delivery={"mode": "express"})

    with pytest.raises(Invalid) as raised:
        service.on_application_submitted(envelope)

    assert set(raised.value.fields) == {"payload.delivery.address"}
    assert ems.calls == []


def test_ems_down_keeps_the_order_pending_and_the_handler_succeeds(service, ems):
    ems.available = False

    service.on_application_submitted(application_submitted("app-1"))
    service.place_orders()

    [shipment] = service.list_shipments(actor=CITIZEN, application_id="app-1")["items"]
    assert (shipment["status"], shipment["tracking_no"]) == ("pending", None)
    assert len(ems.calls) == 1


def test_a_bad_placing_setting_stops_the_timer_at_start():
    from services.courier.service import PlacingTimer

    timer = PlacingTimer(interval=1)
    timer.container = type("Container", (), {"config": {"EMS_ORDER_RETRY_HOURS": "soon"}})()
    with pytest.raises(ValueError, match="EMS_ORDER_RETRY_HOURS"):
        timer.setup()


def test_someone_elses_shipment_is_not_found(service, tracking_no):
    stranger = {**CITIZEN, "user_id": "u-stranger"}
    with pytest.raises(NotFound):
        service.get_shipment(actor=stranger, tracking_no=tracking_no)
    assert service.list_shipments(actor=stranger, application_id="app-1") == {"items": []}
