"""Shipments per direction and state, as the scrape-time gauge reads them."""

from datetime import UTC, datetime

from services.courier.service_layer import use_cases
from services.courier.service_layer.gauges import gauges
from services.courier.service_layer.orders import PlacingSettings, place_pending_orders

from .builders import application_submitted, delivered, licence_issued

SCANNED_AT = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
STATES = (
    "pending",
    "created",
    "accepted",
    "picked_up",
    "in_transit",
    "out_for_delivery",
    "delivered",
    "failed",
)
NO_SHIPMENTS = {(direction, state): 0 for direction in ("materials", "result") for state in STATES}


def placed(uow, ems, shipment_id):
    place_pending_orders(uow, ems, settings=PlacingSettings(), clock=lambda: SCANNED_AT)
    with uow:
        return uow.shipments.get_by_id(shipment_id).tracking_no


def ship_materials(uow, ems, application_id):
    envelope = delivered(application_submitted(application_id))
    return placed(uow, ems, use_cases.ship_materials(uow, envelope, now=SCANNED_AT))


def ship_result(uow, ems, application_id):
    envelope = delivered(licence_issued(application_id))
    return placed(uow, ems, use_cases.ship_result(uow, envelope, now=SCANNED_AT))


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
    shipments, pending, oldest = gauges(lambda: uow, "courier")

    assert (shipments.name, shipments.labels) == (
        "tongban_courier_shipments",
        ("direction", "state"),
    )
    assert dict(shipments.read()) == {**NO_SHIPMENTS, ("materials", "created"): 1}
    assert (pending.name, pending.labels, list(pending.read())) == (
        "tongban_courier_pending_orders",
        (),
        [((), 0.0)],
    )
    assert oldest.name == "tongban_courier_oldest_pending_order_seconds"
    assert list(oldest.read()) == [((), 0.0)]


def test_the_pending_orders_gauge_counts_orders_ems_has_not_taken(uow, ems):
    ems.available = False
    ship_materials(uow, ems, "app-1")
    ship_result(uow, ems, "app-2")
    _, pending, oldest = gauges(lambda: uow, "courier")

    assert list(pending.read()) == [((), 2.0)]
    [((), waited)] = oldest.read()
    assert waited > 0
    assert use_cases.count_shipments(uow)[("materials", "pending")] == 1
