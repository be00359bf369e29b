"""The courier's use cases: book EMS shipments for express applications, apply
EMS tracking scans, and show shipments to those who may see them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

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
from services.courier.service_layer.unit_of_work import CourierUnitOfWork

ON_APPLICATION_SUBMITTED = "courier.on_application_submitted"
ON_LICENCE_ISSUED = "courier.on_licence_issued"


@dataclass(frozen=True)
class ShipmentOrder:
    """What an EMS order needs, and who may see the shipment it makes."""

    application_id: str
    applicant_id: str
    department_code: str
    direction: str
    sender: Address
    recipient: Address

    @property
    def idempotency_key(self) -> str:
        # EMS returns the existing waybill for a key it has seen.
        return f"{self.application_id}:{self.direction}"


def ship_materials(uow: CourierUnitOfWork, ems, event: dict) -> str | None:
    """workflow.application_submitted (``event``: its envelope, payload loaded):
    for express delivery, book the EMS pickup of the applicant's paper materials
    to the handling window and emit shipment_created. Returns the tracking
    number, or None when nothing is shipped (another mode, or this event was
    handled before). An express application without a usable address or window
    is Invalid (ValidationFailed), before EMS is called."""
    submitted = event["payload"]
    parties = express_parties(submitted["delivery"], submitted["window"])
    if parties is None:
        _record_handled(uow, event, ON_APPLICATION_SUBMITTED)
        return None
    order = ShipmentOrder(
        application_id=submitted["application_id"],
        applicant_id=submitted["applicant_id"],
        department_code=submitted["department_code"],
        direction=MATERIALS,
        sender=parties.applicant,
        recipient=parties.window,
    )
    return _ship(uow, ems, event, ON_APPLICATION_SUBMITTED, order)


def ship_result(uow: CourierUnitOfWork, ems, event: dict) -> str | None:
    """workflow.licence_issued (``event``: its envelope, payload loaded): for
    express delivery, book the EMS delivery of the result from the handling
    window to the applicant and emit shipment_created."""
    issued = event["payload"]
    parties = express_parties(issued["delivery"], issued["window"])
    if parties is None:
        _record_handled(uow, event, ON_LICENCE_ISSUED)
        return None
    order = ShipmentOrder(
        application_id=issued["application_id"],
        applicant_id=issued["applicant_id"],
        department_code=issued["department_code"],
        direction=RESULT,
        sender=parties.window,
        recipient=parties.applicant,
    )
    return _ship(uow, ems, event, ON_LICENCE_ISSUED, order)


def _record_handled(uow: CourierUnitOfWork, envelope: dict, consumer: str) -> None:
    with uow:
        if uow.first_delivery(envelope, consumer):
            uow.commit()


def _ship(
    uow: CourierUnitOfWork, ems, envelope: dict, consumer: str, order: ShipmentOrder
) -> str | None:
    # Look first, so a repeat does not even reach EMS. Leaving the block
    # without commit rolls back the record first_delivery made.
    with uow:
        if not uow.first_delivery(envelope, consumer):
            return None
        existing = uow.shipments.find(order.application_id, order.direction)
        if existing is not None:
            uow.commit()
            return existing.tracking_no
    # Outside any transaction: EMS may take seconds, and a retry of this
    # event calls again with the same key and gets the same waybill.
    booked = ems.create_order(
        idempotency_key=order.idempotency_key,
        sender=order.sender.as_dict(),
        recipient=order.recipient.as_dict(),
        reference=order.application_id,
        kind=order.direction,
    )
    with uow:
        # A concurrent delivery of the same event may have won meanwhile;
        # if both get here, the loser fails at commit and, retried, skips.
        if not uow.first_delivery(envelope, consumer):
            return None
        existing = uow.shipments.find(order.application_id, order.direction)
        if existing is not None:
            uow.commit()
            return existing.tracking_no
        shipment = Shipment.create(
            shipment_id=uuid.uuid4().hex,
            application_id=order.application_id,
            direction=order.direction,
            sender=order.sender,
            recipient=order.recipient,
            tracking_no=booked["tracking_no"],
        )
        uow.shipments.add(
            shipment,
            applicant_id=order.applicant_id,
            department_code=order.department_code,
            created_at=utcnow(),
        )
        uow.collect(shipment)
        uow.commit()
    metrics.SHIPMENTS_CREATED.labels(order.direction).inc()
    return shipment.tracking_no


def record_ems_event(
    uow: CourierUnitOfWork,
    tracking_no: str,
    status: str,
    occurred_at: datetime,
    location: str = "",
    description: str = "",
    reference: str | None = None,
) -> dict:
    """Apply one EMS tracking scan (from the verified webhook) to its shipment.

    A repeated or stale scan is accepted and changes nothing; delivery emits
    materials_received or result_delivered, failure shipment_failed, in the
    same transaction. NotFound for an unknown tracking number, Conflict when
    the scan contradicts the shipment's final state. ``reference`` (EMS's
    reference of the order, the application it was booked for) is taken and
    not recorded: the tracking number already names the shipment.
    """
    with uow:
        shipment = uow.shipments.get(tracking_no, for_update=True)
        if shipment is None:
            raise ShipmentNotFound(tracking_no)
        changed = shipment.record(status, occurred_at, location, description)
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
