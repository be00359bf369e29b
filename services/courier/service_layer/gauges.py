"""Courier figures read from its database when Prometheus scrapes."""

from collections.abc import Callable

from services.common.metrics import Reading
from services.courier.service_layer import use_cases
from services.courier.service_layer.unit_of_work import CourierUnitOfWork


def gauges(new_uow: Callable[[], CourierUnitOfWork], service: str) -> list[Reading]:
    """Shipments by direction and state; one courier serves every workflow
    instance, so there is no per-instance label."""

    def shipments():
        counted = use_cases.count_shipments(new_uow())
        return [((direction, state), count) for (direction, state), count in counted.items()]

    return [
        Reading(
            "tongban_courier_shipments",
            "EMS shipments per direction (materials, result) and current state.",
            ("direction", "state"),
            shipments,
        )
    ]
