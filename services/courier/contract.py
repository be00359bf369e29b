"""The courier service's wire contract: its RPC requests and responses, and the
payloads of the events it publishes on ``courier.events``.

The gateway's routes take their query strings, bodies and answers from here, so
the HTTP API and the RPC agree by construction (conventions:
``services.common.schemas``). The events the courier consumes are workflow's and
are read with workflow's own schemas (``services.workflow.contract``); what an
express application must carry is a rule of the courier's domain
(``services.courier.domain.express``).
"""

from marshmallow import Schema, fields, validate

from services.common.schemas import ActorSchema, FullMatch, Instant, OffsetInstant, collection_of
from services.courier.domain import tracking_numbers
from services.courier.domain.model import (
    ADDRESS_LIMITS,
    DIRECTIONS,
    EMS_FAILURE_REASONS,
    EMS_STATUSES,
    FAILURE_REASONS,
    LANDLINE,
    MOBILE,
    POSTCODE,
    STATUSES,
)

TRACKING_NO = FullMatch(
    rf"^{tracking_numbers.SHAPE}$",
    error="must be an EMS tracking number: 2 letters, 9 digits, CN",
)
LOCATION_MAX = 200  # the length of tracking_events.location
DESCRIPTION_MAX = 500  # the length of tracking_events.description
REFERENCE_MAX = 128


def _tracking_no(**kwargs) -> fields.String:
    return fields.String(
        required=True, validate=TRACKING_NO, metadata={"example": "EA123456785CN"}, **kwargs
    )


def _application_id() -> fields.String:
    return fields.String(
        required=True,
        validate=validate.Length(min=1, max=64),
        metadata={"example": "5b1e0c7a9d2f4e8b8c3a6f1d2e4b7a90"},
    )


# --- requests ---------------------------------------------------------------


class ShipmentQuery(Schema):
    """The query string of ``GET /api/v1/shipments``."""

    application_id = _application_id()


class ListShipments(ShipmentQuery):
    actor = fields.Nested(ActorSchema, required=True)


class GetShipment(Schema):
    """``GET /api/v1/shipments/{tracking_no}``: the path's tracking number."""

    actor = fields.Nested(ActorSchema, required=True)
    tracking_no = _tracking_no()


class EmsScanBody(Schema):
    """One tracking scan, as EMS posts it to ``POST /api/v1/webhooks/ems`` (after
    the gateway checked its signature)."""

    tracking_no = _tracking_no()
    status = fields.String(required=True, validate=validate.OneOf(EMS_STATUSES))
    occurred_at = OffsetInstant(required=True, metadata={"example": "2026-11-25T08:00:00Z"})
    location = fields.String(
        load_default="",
        validate=validate.Length(max=LOCATION_MAX),
        metadata={"example": "南京市建邺区"},
    )
    description = fields.String(
        load_default="",
        validate=validate.Length(max=DESCRIPTION_MAX),
        metadata={"example": "已签收"},
    )
    reason = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(EMS_FAILURE_REASONS),
        metadata={
            "description": "why a failed shipment failed (status failed only; other when absent)",
            "example": "refused",
        },
    )
    reference = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=REFERENCE_MAX),
        metadata={
            "description": "EMS's reference of the order (the application it was booked "
            "for); not recorded: the tracking number names the shipment",
            "example": "5b1e0c7a9d2f4e8b8c3a6f1d2e4b7a90",
        },
    )


class EmsScan(EmsScanBody):
    """``record_ems_event``'s arguments: the webhook's body, forwarded as it is."""


# --- responses --------------------------------------------------------------


def _address_text(name: str, example: str) -> fields.String:
    return fields.String(
        required=True,
        validate=validate.Length(min=1, max=ADDRESS_LIMITS[name]),
        metadata={"example": example},
    )


class WaybillAddress(Schema):
    """A party on an EMS waybill: the applicant, or the handling window."""

    name = _address_text("name", "张三")
    phone = fields.String(
        required=True,
        validate=FullMatch(rf"^(?:{MOBILE.pattern}|{LANDLINE.pattern})$"),
        metadata={"description": "mobile or landline", "example": "13800138000"},
    )
    province = _address_text("province", "江苏省")
    city = _address_text("city", "苏州市")
    district = _address_text("district", "姑苏区")
    street = _address_text("street", "人民路100号")
    postcode = fields.String(
        required=True,
        validate=FullMatch(rf"^{POSTCODE.pattern}$"),
        metadata={"example": "215000"},
    )


class TrackingEntry(Schema):
    """One scan EMS reported for a waybill."""

    status = fields.String(required=True, validate=validate.OneOf(EMS_STATUSES))
    occurred_at = Instant(required=True, metadata={"example": "2026-11-25T08:00:00Z"})
    location = fields.String(
        required=True,
        validate=validate.Length(max=LOCATION_MAX),
        metadata={"description": "empty when EMS named none", "example": "南京市建邺区"},
    )
    description = fields.String(
        required=True,
        validate=validate.Length(max=DESCRIPTION_MAX),
        metadata={"description": "empty when EMS gave none", "example": "已签收"},
    )


class ShipmentSummary(Schema):
    """A shipment as ``list_shipments`` lists it (no tracking history)."""

    shipment_id = fields.String(required=True)
    tracking_no = _tracking_no(
        allow_none=True,
    )
    application_id = _application_id()
    direction = fields.String(
        required=True,
        validate=validate.OneOf(DIRECTIONS),
        metadata={"description": "materials: applicant to window; result: window to applicant"},
    )
    attempt = fields.Integer(
        required=True,
        metadata={
            "description": "1 for the first shipment in this direction, 2... for each one"
            " asked for after a failure"
        },
    )
    status = fields.String(
        required=True,
        validate=validate.OneOf(STATUSES),
        metadata={
            "description": "pending: the order waits to be placed with EMS (tracking_no"
            " null until it is)"
        },
    )
    sender = fields.Nested(WaybillAddress, required=True)
    recipient = fields.Nested(WaybillAddress, required=True)
    created_at = Instant(required=True)


class Shipment(ShipmentSummary):
    """A shipment with its tracking history, as ``get_shipment`` returns it."""

    tracking = fields.List(
        fields.Nested(TrackingEntry), required=True, metadata={"description": "oldest first"}
    )


ShipmentList = collection_of(ShipmentSummary)


class RecordedScan(Schema):
    """What a scan did: the shipment's status after it, and whether it changed
    anything (a repeated or stale scan does not)."""

    tracking_no = _tracking_no()
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    changed = fields.Boolean(required=True)


# --- events -----------------------------------------------------------------


class ShipmentCreated(Schema):
    """``courier.shipment_created``: an EMS waybill exists for an application's
    materials or result."""

    shipment_id = fields.String(required=True)
    tracking_no = _tracking_no()
    application_id = fields.String(required=True)
    direction = fields.String(required=True, validate=validate.OneOf(DIRECTIONS))
    attempt = fields.Integer(load_default=1, metadata={"description": "1, 2, ..."})


class MaterialsReceived(Schema):
    """``courier.materials_received``: EMS delivered the paper materials to the
    handling window."""

    application_id = fields.String(required=True)
    tracking_no = _tracking_no()
    received_at = Instant(required=True)


class ResultDelivered(Schema):
    """``courier.result_delivered``: EMS delivered the result to the applicant."""

    application_id = fields.String(required=True)
    tracking_no = _tracking_no()
    delivered_at = Instant(required=True)


class ShipmentFailed(Schema):
    """``courier.shipment_failed``: EMS gave up on a shipment (``reason``
    undeliverable, refused, lost, returned or other), or its order could never
    be placed (ems_unavailable: EMS did not answer for EMS_ORDER_RETRY_HOURS;
    ems_rejected: EMS refused the order); ``tracking_no`` is null then."""

    application_id = fields.String(required=True)
    tracking_no = _tracking_no(allow_none=True)
    direction = fields.String(required=True, validate=validate.OneOf(DIRECTIONS))
    reason = fields.String(required=True, validate=validate.OneOf(FAILURE_REASONS))
    description = fields.String(
        load_default="", metadata={"description": "EMS's own words; empty when none"}
    )
    failed_at = Instant(required=True)
    attempt = fields.Integer(load_default=1, metadata={"description": "1, 2, ..."})


EVENTS = {
    "shipment_created": ShipmentCreated,
    "materials_received": MaterialsReceived,
    "result_delivered": ResultDelivered,
    "shipment_failed": ShipmentFailed,
}
