"""The nameko entrypoints, through worker_factory with a SQLite unit of work."""

import pytest
from nameko.testing.services import worker_factory

from services.common.errors import Invalid, NotFound
from services.courier.service import CourierService
from services.courier.service_layer.unit_of_work import CourierUnitOfWork

from .builders import CITIZEN, OPERATOR, application_submitted, licence_issued


@pytest.fixture
def service(uow_factory, ems):
    return worker_factory(
        CourierService, uow=uow_factory(CourierUnitOfWork, source="courier"), ems=ems
    )


@pytest.fixture
def tracking_no(service):
    service.on_application_submitted(application_submitted("app-1"))
    [shipment] = service.list_shipments(CITIZEN, "app-1")
    return shipment["tracking_no"]


def test_express_submission_makes_one_shipment_however_often_it_arrives(service, ems):
    envelope = application_submitted("app-1")
    for _ in range(3):
        service.on_application_submitted(envelope)

    listed = service.list_shipments(CITIZEN, "app-1")

    assert len(listed) == 1
    assert len(ems.calls) == 1
    assert set(listed[0]) == {
        "shipment_id",
        "tracking_no",
        "application_id",
        "direction",
        "status",
        "sender",
        "recipient",
        "created_at",
    }
    assert listed[0]["created_at"].endswith("Z")


def test_licence_issued_makes_the_result_shipment(service):
    service.on_application_submitted(application_submitted("app-1"))
    service.on_licence_issued(licence_issued("app-1"))

    listed = service.list_shipments(OPERATOR, "app-1")

    assert [s["direction"] for s in listed] == ["materials", "result"]


def test_record_ems_event_then_get_shipment_shows_the_scan(service, tracking_no):
    recorded = service.record_ems_event(
        tracking_no, "delivered", "2026-11-25T08:00:00Z", "南京市建邺区", "已签收"
    )
    shipment = service.get_shipment(CITIZEN, tracking_no)

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


def test_location_and_description_may_be_left_out(service, tracking_no):
    service.record_ems_event(tracking_no, "accepted", "2026-11-25T16:00:00+08:00")

    [entry] = service.get_shipment(CITIZEN, tracking_no)["tracking"]

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
        ({"status": None}, "status"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"occurred_at": "2026-13-45T08:00:00Z"}, "occurred_at"),
        ({"occurred_at": None}, "occurred_at"),
        ({"tracking_no": None}, "tracking_no"),
        ({"tracking_no": ""}, "tracking_no"),
        ({"location": "北" * 201}, "location"),
    ],
)
def test_a_bad_scan_names_the_field_and_changes_nothing(service, tracking_no, arguments, field):
    call = {
        "tracking_no": tracking_no,
        "status": "delivered",
        "occurred_at": "2026-11-25T08:00:00Z",
        **arguments,
    }

    with pytest.raises(Invalid) as raised:
        service.record_ems_event(**call)

    assert field in raised.value.fields
    assert service.get_shipment(CITIZEN, tracking_no)["status"] == "created"


def test_a_scan_of_an_unknown_waybill_is_not_found(service):
    with pytest.raises(NotFound):
        service.record_ems_event("EA123456785CN", "delivered", "2026-11-25T08:00:00Z")


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
        service.list_shipments(actor, "app-1")
    assert field in raised.value.fields


def test_a_missing_application_id_is_invalid(service):
    with pytest.raises(Invalid) as raised:
        service.list_shipments(CITIZEN, None)
    assert "application_id" in raised.value.fields


def test_an_express_event_without_an_address_is_invalid(service, ems):
    envelope = application_submitted("app-1", delivery={"mode": "express"})

    with pytest.raises(Invalid) as raised:
        service.on_application_submitted(envelope)

    assert raised.value.fields == {"delivery.address": "required for express delivery"}
    assert ems.calls == []


def test_an_express_event_without_a_window_is_invalid(service):
    with pytest.raises(Invalid) as raised:
        service.on_application_submitted(application_submitted("app-1", window=None))
    assert "window" in raised.value.fields


def test_someone_elses_shipment_is_not_found(service, tracking_no):
    stranger = {**CITIZEN, "user_id": "u-stranger"}
    with pytest.raises(NotFound):
        service.get_shipment(stranger, tracking_no)
    assert service.list_shipments(stranger, "app-1") == []
