"""Wire formats of the courier: RPC arguments and results, and the payloads of
the events it consumes (from workflow) and emits (on courier.events)."""

from __future__ import annotations

from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from services.common.schemas import (  # noqa: F401
    ActorSchema,  # noqa: F401
    Instant,
    load,
)
from services.courier.domain.model import DIRECTIONS, EMS_STATUSES, STATUSES

DELIVERY_MODES = ("online", "express", "window")


class _Lenient(Schema):
    """Events and actors may carry more than the courier uses."""

    class Meta:
        unknown = EXCLUDE


def _text(max_length: int, **kwargs):
    return fields.String(validate=validate.Length(min=1, max=max_length), **kwargs)


# RPC


class ListShipmentsSchema(Schema):
    actor = fields.Nested(ActorSchema, required=True)
    application_id = _text(64, required=True)


class GetShipmentSchema(Schema):
    actor = fields.Nested(ActorSchema, required=True)
    tracking_no = _text(32, required=True)


class EmsScanSchema(Schema):
    """record_ems_event's arguments: one scan from EMS's verified webhook."""

    tracking_no = _text(32, required=True)
    status = fields.String(required=True, validate=validate.OneOf(EMS_STATUSES))
    occurred_at = Instant(required=True)
    location = fields.String(allow_none=True, load_default="", validate=validate.Length(max=200))
    description = fields.String(allow_none=True, load_default="", validate=validate.Length(max=500))

    @post_load
    def _blank_when_absent(self, data, **kwargs):
        # None and absent mean the same: EMS said nothing.
        data["location"] = data.get("location") or ""
        data["description"] = data.get("description") or ""
        return data


class RecordedScanSchema(Schema):
    tracking_no = fields.String()
    status = fields.String(validate=validate.OneOf(STATUSES))
    changed = fields.Boolean()


class AddressSchema(_Lenient):
    name = _text(50, required=True)
    phone = _text(20, required=True)
    province = _text(50, required=True)
    city = _text(50, required=True)
    district = _text(50, required=True)
    street = _text(200, required=True)
    postcode = _text(6, required=True)


class TrackingEntrySchema(Schema):
    status = fields.String(validate=validate.OneOf(STATUSES))
    occurred_at = Instant()
    location = fields.String()
    description = fields.String()


class ShipmentSchema(Schema):
    """A shipment as list_shipments and get_shipment return it; ``tracking``
    (oldest scan first) only from get_shipment."""

    shipment_id = fields.String()
    tracking_no = fields.String()
    application_id = fields.String()
    direction = fields.String(validate=validate.OneOf(DIRECTIONS))
    status = fields.String(validate=validate.OneOf(STATUSES))
    sender = fields.Nested(AddressSchema)
    recipient = fields.Nested(AddressSchema)
    created_at = Instant()
    tracking = fields.List(fields.Nested(TrackingEntrySchema))


# Consumed events (workflow.events)


class WindowSchema(_Lenient):
    name = _text(100, required=True)
    address = _text(200, required=True)
    phone = _text(20, required=True)
    postcode = _text(6, required=True)


class DeliverySchema(_Lenient):
    mode = fields.String(required=True, validate=validate.OneOf(DELIVERY_MODES))
    # Checked field by field by the domain, which names what is wrong.
    address = fields.Dict(allow_none=True, load_default=None)

    @validates_schema
    def _express_needs_address(self, data, **kwargs):
        if data.get("mode") == "express" and not data.get("address"):
            raise ValidationError("required for express delivery", "address")


class _ShipmentRequestSchema(_Lenient):
    application_id = _text(64, required=True)
    applicant_id = _text(64, required=True)
    delivery = fields.Nested(DeliverySchema, required=True)
    window = fields.Nested(WindowSchema, allow_none=True, load_default=None)

    @validates_schema
    def _express_needs_window(self, data, **kwargs):
        delivery = data.get("delivery") or {}
        if delivery.get("mode") == "express" and not data.get("window"):
            raise ValidationError("required for express delivery", "window")


class ApplicationSubmittedSchema(_ShipmentRequestSchema):
    """workflow.application_submitted, the fields the courier uses."""

    department_code = fields.String(allow_none=True, load_default=None)


class LicenceIssuedSchema(_ShipmentRequestSchema):
    """workflow.licence_issued, the fields the courier uses. ``department_code``
    is not in the contract yet; without it the materials shipment's is used."""

    licence_no = _text(64, required=True)
    department_code = fields.String(allow_none=True, load_default=None)


# Emitted events (courier.events)


class ShipmentCreatedSchema(Schema):
    shipment_id = fields.String(required=True)
    tracking_no = fields.String(required=True)
    application_id = fields.String(required=True)
    direction = fields.String(required=True, validate=validate.OneOf(DIRECTIONS))


class MaterialsReceivedSchema(Schema):
    application_id = fields.String(required=True)
    tracking_no = fields.String(required=True)
    received_at = Instant(required=True)


class ResultDeliveredSchema(Schema):
    application_id = fields.String(required=True)
    tracking_no = fields.String(required=True)
    delivered_at = Instant(required=True)


class ShipmentFailedSchema(Schema):
    application_id = fields.String(required=True)
    tracking_no = fields.String(required=True)
    direction = fields.String(required=True, validate=validate.OneOf(DIRECTIONS))
    reason = fields.String(required=True)


EVENT_SCHEMAS = {
    "shipment_created": ShipmentCreatedSchema,
    "materials_received": MaterialsReceivedSchema,
    "result_delivered": ResultDeliveredSchema,
    "shipment_failed": ShipmentFailedSchema,
}
