"""The courier's use cases: keep the EMS orders of express applications (placed
by ``service_layer.orders``), apply EMS tracking scans, and show shipments to
those who may see them."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.common import clock
from services.common.messaging.envelope import utcnow
from services.courier import metrics
from services.courier.domain.audience import Audience
from services.courier.domain.exceptions import ShipmentNotFound
from services.courier.domain.express import express_parties
from services.courier.domain.model import (
    DELIVERED,
    DIRECTIONS,
    FAILED,
    MATERIALS,
    RESULT,
    STATUSES,
    Address,
    Shipment,
)
from services.courier.domain.orders import RETRY_WINDOW, PendingOrder, idempotency_key
from services.courier.service_layer.unit_of_work import CourierUnitOfWork

log = logging.getLogger(__name__)

ON_APPLICATION_SUBMITTED = "courier.on_application_submitted"
ON_LICENCE_ISSUED = "courier.on_licence_issued"
ON_REDELIVERY_REQUESTED = "courier.on_redelivery_requested"


@dataclass(frozen=True)
class ShipmentOrder:
    """What an EMS order needs, and who may see the shipment it makes."""

    application_id: str
    applicant_id: str
    department_code: str | None
    direction: str
    sender: Address
    recipient: Address
    attempt: int = 1

    @property
    def idempotency_key(self) -> str:
        # EMS returns the existing waybill for a key it has seen.
        return idempotency_key(self.application_id, self.direction, self.attempt)


def ship_materials(
    uow: CourierUnitOfWork,
    event: dict,
    *,
    retry_window: timedelta = RETRY_WINDOW,
    now: datetime | None = None,
) -> str | None:
    """workflow.application_submitted (``event``: its envelope, payload loaded):
    for express delivery, keep the EMS pickup order of the applicant's paper
    materials to the handling window (a pending shipment, placed with EMS by
    the timer, which emits shipment_created). Returns the shipment id, or None
    when nothing is shipped (another mode, or this event was handled before).
    An express application without a usable address or window is Invalid
    (ValidationFailed), and nothing is kept."""
    submitted = event["payload"]
    parties = express_parties(submitted["delivery"], submitted["window"])
    if parties is None:
        # Nothing to ship: nothing to record either (a delivery again finds
        # the same nothing to do), and no transaction for every online case.
        return None
    order = ShipmentOrder(
        application_id=submitted["application_id"],
        applicant_id=submitted["applicant_id"],
        department_code=submitted["department_code"],
        direction=MATERIALS,
        sender=parties.applicant,
        recipient=parties.window,
    )
    return _keep(uow, event, ON_APPLICATION_SUBMITTED, order, retry_window, now)


def ship_result(
    uow: CourierUnitOfWork,
    event: dict,
    *,
    retry_window: timedelta = RETRY_WINDOW,
    now: datetime | None = None,
) -> str | None:
    """workflow.licence_issued (``event``: its envelope, payload loaded): for
    express delivery, keep the EMS delivery order of the result from the
    handling window to the applicant."""
    issued = event["payload"]
    parties = express_parties(issued["delivery"], issued["window"])
    if parties is None:
        return None  # nothing to ship, nothing to record (as above)
    order = ShipmentOrder(
        application_id=issued["application_id"],
        applicant_id=issued["applicant_id"],
        department_code=issued["department_code"],
        direction=RESULT,
        sender=parties.window,
        recipient=parties.applicant,
    )
    return _keep(uow, event, ON_LICENCE_ISSUED, order, retry_window, now)


def ship_again(
    uow: CourierUnitOfWork,
    event: dict,
    *,
    retry_window: timedelta = RETRY_WINDOW,
    now: datetime | None = None,
) -> str | None:
    """workflow.redelivery_requested: after a failed shipment the applicant asked
    for another (``attempt``), from or to a new ``address`` when given. Kept
    like the first, between the same window and the applicant (the new address
    replaces the applicant's end). Returns the shipment id; None for a repeat,
    or when there is no earlier shipment to ship again (logged: nothing to
    retry can help)."""
    requested = event["payload"]
    application_id, direction = requested["application_id"], requested["direction"]
    attempt = requested["attempt"]
    with uow:
        earlier = uow.shipments.find(application_id, direction)
        owner = uow.shipments.owner_of(earlier.shipment_id) if earlier is not None else None
    if earlier is None:
        log.warning(
            "redelivery requested for an application with no shipment; ignored",
            extra={"application_id": application_id, "direction": direction},
        )
        _record_handled(uow, event, ON_REDELIVERY_REQUESTED)
        return None
    # The latest shipment: the failed one, or (a repeated event) the new one.
    sender, recipient = earlier.sender, earlier.recipient
    if requested.get("address"):
        new = Address.from_dict(requested["address"], "address")
        if direction == MATERIALS:
            sender = new
        else:
            recipient = new
    order = ShipmentOrder(
        application_id=application_id,
        applicant_id=owner[0],
        department_code=owner[1],
        direction=direction,
        sender=sender,
        recipient=recipient,
        attempt=attempt,
    )
    return _keep(uow, event, ON_REDELIVERY_REQUESTED, order, retry_window, now)


def _record_handled(uow: CourierUnitOfWork, envelope: dict, consumer: str) -> None:
    with uow:
        if uow.first_delivery(envelope, consumer):
            uow.commit()


def _keep(
    uow: CourierUnitOfWork,
    envelope: dict,
    consumer: str,
    order: ShipmentOrder,
    retry_window: timedelta,
    now: datetime | None,
) -> str | None:
    """Keep ``order`` as a pending shipment and its EMS order, in the
    transaction that records the event as handled: EMS is not called here, so
    an EMS outage never fails the event. Once per event; an application's
    order in a direction and attempt is kept once whatever event asks again."""
    now = now or clock.now()
    with uow:
        if not uow.first_delivery(envelope, consumer):
            return None
        existing = uow.shipments.find(order.application_id, order.direction, order.attempt)
        if existing is not None:
            uow.commit()
            return existing.shipment_id
        shipment = Shipment.order(
            shipment_id=uuid.uuid4().hex,
            application_id=order.application_id,
            direction=order.direction,
            sender=order.sender,
            recipient=order.recipient,
            attempt=order.attempt,
        )
        uow.shipments.add(
            shipment,
            applicant_id=order.applicant_id,
            department_code=order.department_code,
            created_at=utcnow(),
        )
        uow.orders.add(
            PendingOrder.queue(
                shipment.shipment_id,
                order.idempotency_key,
                now,
                retry_window,
                correlation_id=envelope.get("correlation_id"),
            )
        )
        uow.commit()
    return shipment.shipment_id


def record_ems_event(
    uow: CourierUnitOfWork,
    tracking_no: str,
    status: str,
    occurred_at: datetime,
    location: str = "",
    description: str = "",
    reference: str | None = None,
    reason: str | None = None,
) -> dict:
    """Apply one EMS tracking scan (from the verified webhook) to its shipment.

    A repeated or stale scan is accepted and changes nothing; delivery emits
    materials_received or result_delivered, failure shipment_failed, in the
    same transaction. NotFound for an unknown tracking number, Conflict when
    the scan contradicts the shipment's final state. ``reference`` (EMS's
    reference of the order, the application it was booked for) is taken and
    not recorded: the tracking number already names the shipment. ``reason``
    is a failed scan's reason (undeliverable, refused, lost, returned).
    """
    with uow:
        shipment = uow.shipments.get(tracking_no, for_update=True)
        if shipment is None:
            raise ShipmentNotFound(tracking_no)
        changed = shipment.record(status, occurred_at, location, description, reason)
        if changed:
            uow.shipments.save(shipment)
            uow.collect(shipment)
            uow.commit()
    # A final status never changes again, so a change into one happens once.
    if changed and shipment.status == DELIVERED:
        metrics.SHIPMENTS_DELIVERED.labels(shipment.direction).inc()
    elif changed and shipment.status == FAILED:
        metrics.SHIPMENTS_FAILED.labels(shipment.direction).inc()
    return {"tracking_no": shipment.tracking_no, "status": shipment.status, "changed": changed}


def list_shipments(uow: CourierUnitOfWork, actor: dict, application_id: str) -> dict:
    """``{"items": [...]}``: the shipments of an application the actor may see,
    oldest first, without tracking (none for anyone else)."""
    audience = Audience.of(actor["kind"], actor["user_id"], actor.get("department_code"))
    with uow:
        return {"items": uow.shipments.visible(audience, application_id=application_id)}


def get_shipment(uow: CourierUnitOfWork, actor: dict, tracking_no: str) -> dict:
    """One shipment with its tracking history; NotFound unless the actor may see it."""
    audience = Audience.of(actor["kind"], actor["user_id"], actor.get("department_code"))
    with uow:
        found = uow.shipments.visible(audience, tracking_no=tracking_no, with_tracking=True)
    if not found:
        raise ShipmentNotFound(tracking_no)
    return found[0]


def count_shipments(uow: CourierUnitOfWork) -> dict[tuple[str, str], int]:
    """Shipments per (direction, current status), every pair named (0 when none)."""
    with uow:
        counted = uow.shipments.count_by_direction_and_status()
    every = {(direction, status): 0 for direction in DIRECTIONS for status in STATUSES}
    return {**every, **counted}


def count_pending_orders(uow: CourierUnitOfWork, now: datetime | None = None) -> dict[str, float]:
    """``{"pending": n, "oldest_seconds": s}``: EMS orders waiting to be placed,
    and how long the oldest has waited (0 when none)."""
    now = now or clock.now()
    with uow:
        pending = uow.orders.count()
        oldest = uow.orders.oldest_queued_at()
    waited = 0.0 if oldest is None else max((now - oldest).total_seconds(), 0.0)
    return {"pending": float(pending), "oldest_seconds": waited}
