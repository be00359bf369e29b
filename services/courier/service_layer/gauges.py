"""Courier figures read from its database when Prometheus scrapes."""

from collections.abc import Callable

from services.common.metrics import Reading
from services.courier.service_layer import use_cases
from services.courier.service_layer.unit_of_work import CourierUnitOfWork


def gauges(new_uow: Callable[[], CourierUnitOfWork], service: str) -> list[Reading]:
    """Shipments by direction and state, and the EMS orders waiting to be
    placed; one courier serves every workflow
    instance, so there is no per-instance label."""

    def shipments():
        counted = use_cases.count_shipments(new_uow())
        return [((direction, state), count) for (direction, state), count in counted.items()]

    def pending_orders():
        return [((), use_cases.count_pending_orders(new_uow())["pending"])]

    def oldest_pending_order():
        return [((), use_cases.count_pending_orders(new_uow())["oldest_seconds"])]

    return [
        Reading(
            "tongban_courier_shipments",
            "EMS shipments per direction (materials, result) and current state.",
            ("direction", "state"),
            shipments,
        ),
        Reading(
            "tongban_courier_pending_orders",
            "EMS orders kept and not yet placed with EMS (retried with backoff).",
            (),
            pending_orders,
        ),
        Reading(
            "tongban_courier_oldest_pending_order_seconds",
            "How long the oldest EMS order not yet placed has waited (0: none waits).",
            (),
            oldest_pending_order,
        ),
    ]
