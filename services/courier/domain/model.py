"""The shipment aggregate: one EMS waybill carrying an application's paper
materials to the handling window, or its result back to the applicant."""

from __future__ import annotations

import bisect
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from .events import (
    DomainEvent,
    MaterialsReceived,
    ResultDelivered,
    ShipmentCreated,
    ShipmentFailed,
)
from .exceptions import InvalidTransition, ValidationFailed
from .tracking_numbers import is_valid_tracking_number

MATERIALS = "materials"
RESULT = "result"
DIRECTIONS = (MATERIALS, RESULT)

# An order kept in courier's database until EMS takes it (no waybill yet).
PENDING = "pending"
CREATED = "created"
ACCEPTED = "accepted"
PICKED_UP = "picked_up"
IN_TRANSIT = "in_transit"
OUT_FOR_DELIVERY = "out_for_delivery"
DELIVERED = "delivered"
FAILED = "failed"

# The order a shipment moves through once EMS has it; FAILED can end it from
# any non-final state, PENDING comes before it all (EMS has not taken the order).
PROGRESSION = (CREATED, ACCEPTED, PICKED_UP, IN_TRANSIT, OUT_FOR_DELIVERY, DELIVERED)
STATUSES = (PENDING, *PROGRESSION, FAILED)
EMS_STATUSES = (*PROGRESSION[1:], FAILED)
FINAL_STATUSES = frozenset({DELIVERED, FAILED})
_RANK = {status: rank for rank, status in enumerate(PROGRESSION)}

# Why a shipment failed: what EMS reports on a failed scan (OTHER when it names
# nothing we know), or, for an order EMS never took, EMS_UNAVAILABLE (EMS could
# not be reached for the whole retry window) or EMS_REJECTED (EMS refused it).
UNDELIVERABLE = "undeliverable"
REFUSED = "refused"
LOST = "lost"
RETURNED = "returned"
OTHER = "other"
EMS_UNAVAILABLE = "ems_unavailable"
EMS_REJECTED = "ems_rejected"
EMS_FAILURE_REASONS = (UNDELIVERABLE, REFUSED, LOST, RETURNED, OTHER)
FAILURE_REASONS = (*EMS_FAILURE_REASONS, EMS_UNAVAILABLE, EMS_REJECTED)

# ASCII digits only ([0-9], not \d, which takes any Unicode digit): EMS prints
# them on the waybill, and the contract documents the same patterns.
MOBILE = re.compile(r"1[0-9]{10}")
LANDLINE = re.compile(r"0[0-9]{2,3}-?[0-9]{7,8}")
POSTCODE = re.compile(r"[0-9]{6}")
ADDRESS_LIMITS = {
    "name": 50,
    "province": 50,
    "city": 50,
    "district": 50,
    "street": 200,
}


@dataclass(frozen=True)
class Address:
    """A postal address as EMS needs it on the waybill."""

    name: str
    phone: str
    province: str
    city: str
    district: str
    street: str
    postcode: str

    @classmethod
    def from_dict(cls, data: object, path: str = "address") -> Address:
        """Validate a ``{name, phone, province, city, district, street, postcode}``
        mapping; problems are reported as ``<path>.<field>``."""
        if isinstance(data, Address):
            return data
        if not isinstance(data, dict):
            raise ValidationFailed({path: "must be an object"})
        problems: dict[str, str] = {}
        values: dict[str, str] = {}
        for name in (
            "name",
            "phone",
            "province",
            "city",
            "district",
            "street",
            "postcode",
        ):
            value = data.get(name)
            if not isinstance(value, str) or not value.strip():
                problems[f"{path}.{name}"] = "required"
                continue
            value = value.strip()
            limit = ADDRESS_LIMITS.get(name)
            if limit is not None and len(value) > limit:
                problems[f"{path}.{name}"] = f"at most {limit} characters"
            values[name] = value
        phone = values.get("phone")
        if phone is not None and not (MOBILE.fullmatch(phone) or LANDLINE.fullmatch(phone)):
            problems[f"{path}.phone"] = "not a mobile or landline number"
        postcode = values.get("postcode")
        if postcode is not None and not POSTCODE.fullmatch(postcode):
            problems[f"{path}.postcode"] = "must be 6 digits"
        if problems:
            raise ValidationFailed(problems)
        return cls(**values)

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class TrackingEntry:
    """One scan EMS reported for a waybill."""

    status: str
    occurred_at: datetime
    location: str
    description: str


@dataclass
class Shipment:
    """An EMS shipment for one application: one attempt at carrying its
    materials or its result (a failed shipment may be followed by another
    attempt, ``attempt`` 2, 3, ...).

    A shipment starts ``pending``: the order is kept in courier's database and
    placed with EMS by a timer (``service_layer.orders``); it has a tracking
    number from then on. ``tracking`` is the waybill's scan history, oldest
    first. ``events`` holds the domain events raised since the shipment was
    loaded; the unit of work moves them to the outbox in the same transaction.
    """

    shipment_id: str
    application_id: str
    direction: str
    sender: Address
    recipient: Address
    tracking_no: str | None
    status: str = CREATED
    attempt: int = 1
    tracking: list[TrackingEntry] = field(default_factory=list)
    events: list[DomainEvent] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def order(
        cls,
        *,
        shipment_id: str,
        application_id: str,
        direction: str,
        sender: Address | dict,
        recipient: Address | dict,
        attempt: int = 1,
    ) -> Shipment:
        """A pending shipment: the order is to be placed with EMS. No event yet:
        shipment_created is recorded when EMS takes it (:meth:`place`)."""
        problems: dict[str, str] = {}
        if direction not in DIRECTIONS:
            problems["direction"] = f"must be one of {', '.join(DIRECTIONS)}"
        for name, value in (
            ("shipment_id", shipment_id),
            ("application_id", application_id),
        ):
            if not isinstance(value, str) or not value:
                problems[name] = "required"
        if not isinstance(attempt, int) or attempt < 1:
            problems["attempt"] = "must be a whole number from 1"
        addresses = {}
        for path, value in (("sender", sender), ("recipient", recipient)):
            try:
                addresses[path] = Address.from_dict(value, path)
            except ValidationFailed as error:
                problems.update(error.fields)
        if problems:
            raise ValidationFailed(problems)
        return cls(
            shipment_id=shipment_id,
            application_id=application_id,
            direction=direction,
            sender=addresses["sender"],
            recipient=addresses["recipient"],
            tracking_no=None,
            status=PENDING,
            attempt=attempt,
        )

    @classmethod
    def create(
        cls,
        *,
        shipment_id: str,
        application_id: str,
        direction: str,
        sender: Address | dict,
        recipient: Address | dict,
        tracking_no: str,
        attempt: int = 1,
    ) -> Shipment:
        """A new shipment for an order EMS has accepted; records ShipmentCreated."""
        problems: dict[str, str] = {}
        if not is_valid_tracking_number(tracking_no):
            problems["tracking_no"] = "not a valid S10 tracking number"
        try:
            shipment = cls.order(
                shipment_id=shipment_id,
                application_id=application_id,
                direction=direction,
                sender=sender,
                recipient=recipient,
                attempt=attempt,
            )
        except ValidationFailed as error:
            raise ValidationFailed({**error.fields, **problems}) from None
        if problems:
            raise ValidationFailed(problems)
        shipment.place(tracking_no)
        return shipment

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def pending(self) -> bool:
        return self.status == PENDING

    def place(self, tracking_no: str) -> None:
        """EMS took the order and issued ``tracking_no``: records ShipmentCreated."""
        if not self.pending:
            raise InvalidTransition(f"shipment {self.shipment_id} is {self.status}, not pending")
        if not is_valid_tracking_number(tracking_no):
            raise ValidationFailed({"tracking_no": "not a valid S10 tracking number"})
        self.tracking_no = tracking_no
        self.status = CREATED
        self.events.append(
            ShipmentCreated(
                shipment_id=self.shipment_id,
                tracking_no=tracking_no,
                application_id=self.application_id,
                direction=self.direction,
                attempt=self.attempt,
            )
        )

    def give_up(self, reason: str, at: datetime, description: str = "") -> None:
        """The order was never placed (EMS unreachable for the whole retry
        window, or it refused the order): the shipment fails without a
        waybill, recording ShipmentFailed."""
        if not self.pending:
            raise InvalidTransition(f"shipment {self.shipment_id} is {self.status}, not pending")
        if reason not in (EMS_UNAVAILABLE, EMS_REJECTED):
            raise ValueError(f"an order that was never placed fails as {EMS_UNAVAILABLE}")
        self.status = FAILED
        self.events.append(self._failed_event(reason, description, at))

    def record(
        self,
        status: str,
        occurred_at: datetime,
        location: str,
        description: str,
        reason: str | None = None,
    ) -> bool:
        """Apply a status update from EMS; True when it changed the shipment.

        EMS delivers webhooks at least once and not necessarily in order, so an
        exact repeat and a scan older than the current status are ignored. A
        further scan in the current status (another hub on the way) is added to
        the history without an event. Delivered and failed are final: later scans
        are ignored, but the other final status raises InvalidTransition because
        the two cannot both be true. A failed scan's ``reason`` is one of
        ``EMS_FAILURE_REASONS`` (``other`` when EMS names none).
        """
        entry = self._entry(status, occurred_at, location, description)
        if reason is not None and reason not in EMS_FAILURE_REASONS:
            raise ValidationFailed({"reason": f"must be one of {', '.join(EMS_FAILURE_REASONS)}"})
        if self.pending:
            raise InvalidTransition(f"shipment {self.shipment_id} has no waybill yet")
        if entry in self.tracking:
            return False
        if self.is_final:
            if status in FINAL_STATUSES and status != self.status:
                raise InvalidTransition(
                    f"shipment {self.tracking_no} is already {self.status}, "
                    f"EMS now reports {status}"
                )
            return False
        if status != FAILED and _RANK[status] < _RANK[self.status]:
            return False
        self._add(entry)
        if status == self.status:
            return True
        self.status = status
        if status == DELIVERED:
            self.events.append(self._delivered_event(entry.occurred_at))
        elif status == FAILED:
            self.events.append(
                self._failed_event(reason or OTHER, entry.description, entry.occurred_at)
            )
        return True

    def _failed_event(self, reason: str, description: str, at: datetime) -> ShipmentFailed:
        return ShipmentFailed(
            application_id=self.application_id,
            tracking_no=self.tracking_no,
            direction=self.direction,
            reason=reason,
            description=description,
            failed_at=at.astimezone(UTC),
            attempt=self.attempt,
        )

    def _delivered_event(self, at: datetime) -> DomainEvent:
        if self.direction == MATERIALS:
            return MaterialsReceived(
                application_id=self.application_id,
                tracking_no=self.tracking_no,
                received_at=at,
            )
        return ResultDelivered(
            application_id=self.application_id,
            tracking_no=self.tracking_no,
            delivered_at=at,
        )

    def _add(self, entry: TrackingEntry) -> None:
        # Keep the history in time order even when scans arrive out of order.
        position = bisect.bisect_right([e.occurred_at for e in self.tracking], entry.occurred_at)
        self.tracking.insert(position, entry)

    @staticmethod
    def _entry(
        status: str, occurred_at: datetime, location: str, description: str
    ) -> TrackingEntry:
        problems: dict[str, str] = {}
        if status not in EMS_STATUSES:
            problems["status"] = f"must be one of {', '.join(EMS_STATUSES)}"
        if not isinstance(occurred_at, datetime) or occurred_at.utcoffset() is None:
            problems["occurred_at"] = "must be a timezone-aware datetime"
        if not isinstance(location, str):
            problems["location"] = "must be a string"
        if not isinstance(description, str):
            problems["description"] = "must be a string"
        if problems:
            raise ValidationFailed(problems)
        return TrackingEntry(
            status=status,
            occurred_at=occurred_at.astimezone(UTC),
            location=location,
            description=description,
        )
