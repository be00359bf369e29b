"""Domain events a shipment records; published on the ``courier.events`` exchange
under each class's ``type``. Instants are timezone-aware UTC datetimes; on the
wire they are ISO 8601 strings, as ``services.courier.contract.EVENTS`` documents."""

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar


@dataclass(frozen=True)
class DomainEvent:
    type: ClassVar[str]


@dataclass(frozen=True)
class ShipmentCreated(DomainEvent):
    """An EMS order exists for an application's materials or result."""

    type: ClassVar[str] = "shipment_created"
    shipment_id: str
    tracking_no: str
    application_id: str
    direction: str
    # 1 for the first shipment of the application in this direction, 2... for
    # each one the applicant asked for after a failure.
    attempt: int = 1


@dataclass(frozen=True)
class MaterialsReceived(DomainEvent):
    """EMS delivered the applicant's paper materials to the handling window."""

    type: ClassVar[str] = "materials_received"
    application_id: str
    tracking_no: str
    received_at: datetime


@dataclass(frozen=True)
class ResultDelivered(DomainEvent):
    """EMS delivered the result (licence, decision) to the applicant."""

    type: ClassVar[str] = "result_delivered"
    application_id: str
    tracking_no: str
    delivered_at: datetime


@dataclass(frozen=True)
class ShipmentFailed(DomainEvent):
    """EMS gave up on a shipment (undeliverable, refused, lost, returned), or
    the order could never be placed (``ems_unavailable``, ``ems_rejected``:
    no tracking number then)."""

    type: ClassVar[str] = "shipment_failed"
    application_id: str
    tracking_no: str | None
    direction: str
    reason: str
    # EMS's own words on the failed scan; empty when it gave none.
    description: str
    failed_at: datetime
    attempt: int = 1
