"""Shipments per direction and state, as the scrape-time gauge reads them."""

from datetime import UTC, datetime

from services.courier.service_layer import use_cases
from services.courier.service_layer.gauges import gauges

from .builders import application_submitted, delivered, licence_issued

SCANNED_AT = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
STATES = (
    "created",
    "accepted",
    "picked_up",
    "in_transit",
    "out_for_delivery",
    "delivered",
    "failed",
)
NO_SHIPMENTS = {(direction, state): 0 for direction in ("materials", "result") for state in STATES}


def ship_materials(uow, ems, application_id):
    return use_cases.ship_materials(uow, ems, delivered(application_submitted(application_id)))


def ship_result(uow, ems, application_id):
    return use_cases.ship_result(uow, ems, delivered(licence_issued(application_id)))


def scan(uow, tracking_no, status):
    use_cases.record_ems_event(uow, tracking_no, status, SCANNED_AT, "南京", status)


def test_no_shipment_yet_counts_zero_for_every_direction_and_state(uow):
    assert use_cases.count_shipments(uow) == NO_SHIPMENTS


def test_shipments_are_counted_by_direction_and_current_state(uow, ems):
    delivered = ship_materials(uow, ems, "app-1")
    scan(uow, delivered, "in_transit")
    scan(uow, delivered, "delivered")
    scan(uow, ship_materials(uow, ems, "app-2"), "in_transit")
    ship_materials(uow, ems, "app-3")
    ship_materials(uow, ems, "app-4")
    scan(uow, ship_result(uow, ems, "app-1"), "failed")
    ship_result(uow, ems, "app-5")

    assert use_cases.count_shipments(uow) == {
        **NO_SHIPMENTS,
        ("materials", "delivered"): 1,
        ("materials", "in_transit"): 1,
        ("materials", "created"): 2,
        ("result", "failed"): 1,
        ("result", "created"): 1,
    }


def test_the_gauge_reads_direction_and_state(uow, ems):
    ship_materials(uow, ems, "app-1")
    [shipments] = gauges(lambda: uow, "courier")

    assert (shipments.name, shipments.labels) == (
        "tongban_courier_shipments",
        ("direction", "state"),
    )
    assert dict(shipments.read()) == {**NO_SHIPMENTS, ("materials", "created"): 1}
