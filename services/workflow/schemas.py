"""Wire formats of the workflow service: RPC arguments and results, and the
payloads of the events it emits and consumes.

Dates are ISO 8601 (``2026-11-25``); instants are UTC with a ``Z``.
"""

from __future__ import annotations

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, pre_load, validate

from services.common.masking import mask_id_number
from services.common.schemas import (  # noqa: F401  (used by service.py)
    ActorSchema,  # noqa: F401
    load,
    load_payload,
)
from services.common.schemas import Instant as UtcDateTime
from services.workflow.adapters.repository import CALENDAR_KINDS
from services.workflow.domain.model import ACTIONS, LicenceNumbers, State

MAX_PAGE_SIZE = 100


# ------------------------------------------------------------------ RPC inputs


class _Request(Schema):
    class Meta:
        unknown = RAISE

    actor = fields.Nested(ActorSchema, required=True)


_APPLICATION_ID = {"required": True, "validate": validate.Length(min=1, max=64)}


class SubmitApplicationRequest(_Request):
    # The shapes are checked here; the rules (delivery.address for express,
    # materials.N.name, on_behalf_of.uscc, ...) are the domain's.
    item_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    form = fields.Dict(required=True)
    materials = fields.List(fields.Dict(), required=True)
    delivery = fields.Dict(required=True)
    on_behalf_of = fields.Dict(allow_none=True, load_default=None)


class ApplicationRequest(_Request):
    application_id = fields.String(**_APPLICATION_ID)


class PageRequest(_Request):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))

    @pre_load
    def _absent_is_default(self, data, **kwargs):
        # The gateway passes None for a query parameter the client left out.
        return {key: value for key, value in data.items() if value is not None or key == "actor"}


class WorklistRequest(PageRequest):
    state = fields.String(
        allow_none=True, load_default=None, validate=validate.OneOf([str(s) for s in State])
    )


class SupplementRequest(_Request):
    application_id = fields.String(**_APPLICATION_ID)
    materials = fields.List(fields.Dict(), required=True)


class ActRequest(_Request):
    application_id = fields.String(**_APPLICATION_ID)
    action = fields.String(required=True, validate=validate.OneOf(ACTIONS))
    comment = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=2000))


class ActorRequest(_Request):
    pass


def _well_formed_licence_no(value: str) -> None:
    if not LicenceNumbers.is_well_formed(value):
        raise ValidationError(
            "must look like [<department code>.]JS<region, 6 digits><yyyymmdd><serial, 6 digits>"
        )


class VerifyLicenceRequest(Schema):
    licence_no = fields.String(required=True, validate=_well_formed_licence_no)


class CalendarDayRequest(_Request):
    day = fields.Date(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(CALENDAR_KINDS))


# ----------------------------------------------------------------- RPC results


class SubmittedSchema(Schema):
    application_id = fields.String()
    state = fields.String()
    due_date = fields.Date()


class TimelineEntrySchema(Schema):
    at = UtcDateTime()
    state = fields.String()
    action = fields.String()
    actor_id = fields.String(allow_none=True)
    actor_role = fields.String()
    comment = fields.String()


def _reviews(application) -> list[dict]:
    return [
        {"department_code": code, "decision": str(decision)}
        for code, decision in application.reviews.items()
    ]


def _principal(application) -> dict | None:
    principal = application.on_behalf_of
    if not principal:
        return None
    shown = dict(principal)
    if shown.get("id_number"):
        shown["id_number"] = mask_id_number(shown["id_number"])
    return shown


class ApplicationSummarySchema(Schema):
    """A case in a list."""

    application_id = fields.String()
    item_id = fields.String()
    item_name = fields.String()
    department_code = fields.String()
    region_code = fields.String()
    store_id = fields.String()
    applicant_id = fields.String()
    state = fields.String()
    due_date = fields.Date()
    submitted_at = UtcDateTime()
    delivery_mode = fields.Function(lambda application: application.delivery["mode"])
    licence_no = fields.String(allow_none=True)
    overdue = fields.Boolean(attribute="overdue_reported")
    reviews = fields.Function(_reviews)


class ApplicationSchema(ApplicationSummarySchema):
    """A case with everything the applicant sent, its reviews by department and
    its timeline. The principal's ID number is masked."""

    joint_departments = fields.List(fields.String())
    on_behalf_of = fields.Function(_principal)
    form = fields.Dict()
    materials = fields.List(fields.Dict())
    delivery = fields.Dict()
    window = fields.Dict()
    timeline = fields.List(fields.Nested(TimelineEntrySchema))


def dump_page(items, total: int, page: int, page_size: int) -> dict:
    return {
        "items": ApplicationSummarySchema(many=True).dump(items),
        "page": page,
        "page_size": page_size,
        "total": total,
    }


class LicenceSchema(Schema):
    licence_no = fields.String()
    application_id = fields.String()
    item_id = fields.String()
    item_name = fields.String()
    holder_masked = fields.String()
    issued_at = UtcDateTime()
    valid = fields.Boolean()


class LicenceVerificationSchema(Schema):
    licence_no = fields.String()
    valid = fields.Boolean()
    holder_masked = fields.String()
    item_name = fields.String()
    issued_at = UtcDateTime()


class CalendarDaySchema(Schema):
    day = fields.Date()
    kind = fields.String()


# ------------------------------------------------------------- consumed events


class _Consumed(Schema):
    # Producers may add fields; a consumer takes what it knows.
    class Meta:
        unknown = EXCLUDE


class MaterialsReceivedPayload(_Consumed):
    """courier.materials_received"""

    application_id = fields.String(required=True, validate=validate.Length(min=1))
    tracking_no = fields.String(allow_none=True, load_default=None)
    received_at = UtcDateTime(allow_none=True, load_default=None)


class ResultDeliveredPayload(_Consumed):
    """courier.result_delivered"""

    application_id = fields.String(required=True, validate=validate.Length(min=1))
    tracking_no = fields.String(allow_none=True, load_default=None)
    delivered_at = UtcDateTime(allow_none=True, load_default=None)


# -------------------------------------------------------------- emitted events


class AddressSchema(Schema):
    name = fields.String(required=True)
    phone = fields.String(required=True)
    province = fields.String(required=True)
    city = fields.String(required=True)
    district = fields.String(required=True)
    street = fields.String(required=True)
    postcode = fields.String(allow_none=True)


class DeliverySchema(Schema):
    mode = fields.String(required=True, validate=validate.OneOf(["online", "express", "window"]))
    address = fields.Nested(AddressSchema, allow_none=True, required=True)


class ApplicationSubmittedPayload(Schema):
    application_id = fields.String(required=True)
    item_id = fields.String(required=True)
    item_name = fields.String(required=True)
    applicant_id = fields.String(required=True)
    department_code = fields.String(required=True)
    region_code = fields.String(required=True)
    store_id = fields.String(required=True)
    delivery = fields.Nested(DeliverySchema, required=True)
    window = fields.Dict(required=True)
    due_date = fields.Date(required=True)


class ApplicationAcceptedPayload(Schema):
    application_id = fields.String(required=True)
    accepted_at = UtcDateTime(required=True)


class ApplicationRejectedPayload(Schema):
    application_id = fields.String(required=True)
    applicant_id = fields.String(required=True)
    comment = fields.String(required=True)


class SupplementRequestedPayload(Schema):
    application_id = fields.String(required=True)
    comment = fields.String(required=True)


class ApplicationApprovedPayload(Schema):
    application_id = fields.String(required=True)
    applicant_id = fields.String(required=True)
    item_id = fields.String(required=True)
    delivery = fields.Nested(DeliverySchema, required=True)
    approved_at = UtcDateTime(required=True)


class ApplicationDeniedPayload(Schema):
    application_id = fields.String(required=True)
    applicant_id = fields.String(required=True)
    comment = fields.String(required=True)


class LicenceIssuedPayload(Schema):
    licence_no = fields.String(required=True)
    application_id = fields.String(required=True)
    applicant_id = fields.String(required=True)
    item_id = fields.String(required=True)
    department_code = fields.String(required=True)
    delivery = fields.Nested(DeliverySchema, required=True)
    window = fields.Dict(required=True)


class ApplicationCompletedPayload(Schema):
    application_id = fields.String(required=True)
    applicant_id = fields.String(required=True)
    item_id = fields.String(required=True)
    item_name = fields.String(required=True)
    department_code = fields.String(required=True)
    region_code = fields.String(required=True)
    store_id = fields.String(required=True)
    completed_at = UtcDateTime(required=True)


class ApplicationWithdrawnPayload(Schema):
    application_id = fields.String(required=True)


class CaseOverduePayload(Schema):
    application_id = fields.String(required=True)
    due_date = fields.Date(required=True)


EMITTED = {
    "application_submitted": ApplicationSubmittedPayload,
    "application_accepted": ApplicationAcceptedPayload,
    "application_rejected": ApplicationRejectedPayload,
    "supplement_requested": SupplementRequestedPayload,
    "application_approved": ApplicationApprovedPayload,
    "application_denied": ApplicationDeniedPayload,
    "licence_issued": LicenceIssuedPayload,
    "application_completed": ApplicationCompletedPayload,
    "application_withdrawn": ApplicationWithdrawnPayload,
    "case_overdue": CaseOverduePayload,
}
