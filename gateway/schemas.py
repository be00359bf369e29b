"""Wire format of the gateway API (v1): request and response schemas.

Requests are loaded strictly: unknown fields are rejected, types are not coerced
where the contract says integer (``grade`` refuses ``"5"``, ``5.0`` and ``true``).
Responses are dumped through these schemas, so a route answers only the fields
the contract names. The OpenAPI document is generated from the same classes.
"""

import datetime as dt

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_dump,
    pre_load,
    validate,
    validates_schema,
)

PHONE = validate.Regexp(r"^1[0-9]{10}$", error="must be 11 digits starting with 1")
PASSWORD = validate.Length(min=8, max=128)
NAME = validate.Length(min=1, max=50)
ID_NUMBER = validate.Regexp(
    r"^[0-9]{17}[0-9Xx]$", error="must be 18 characters: 17 digits and a digit or X"
)
USCC = validate.Regexp(
    r"^[0-9A-HJ-NPQRTUWXY]{18}$", error="must be 18 characters of the GB 32100 alphabet"
)
POSTCODE = validate.Regexp(r"^[0-9]{6}$", error="must be 6 digits")
ROLES = ("window_clerk", "approver", "dept_admin")
LEVELS = ("province", "city", "county")
MODES = ("online", "express", "window")
ACTIONS = ("accept", "reject", "request_supplement", "approve", "deny")
STATES = (
    "submitted",
    "accepted",
    "supplement_requested",
    "approved",
    "denied",
    "completed",
    "withdrawn",
    "rejected",
)
EMS_STATUSES = ("accepted", "picked_up", "in_transit", "out_for_delivery", "delivered", "failed")


def _instant(value: str) -> None:
    """An ISO 8601 instant with its offset (UTC ``Z`` or ``+08:00``)."""
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError("must be an ISO 8601 instant") from None
    if moment.tzinfo is None:
        raise ValidationError("must carry a UTC offset")


def _text(max_length: int, required: bool = True, **kwargs) -> fields.String:
    return fields.String(
        required=required, validate=validate.Length(min=1, max=max_length), **kwargs
    )


class Strict(Schema):
    class Meta:
        unknown = RAISE


class Open(Schema):
    """A response whose shape the owning service may extend: the fields named
    here are documented and typed, anything else it sends is passed through."""

    @post_dump(pass_original=True)
    def keep_the_rest(self, data, original, **kwargs):
        if isinstance(original, dict):
            for key, value in original.items():
                data.setdefault(key, value)
        return data


class QuerySchema(Strict):
    """Query strings: an empty parameter (``?q=``) counts as not given."""

    @pre_load
    def drop_empty(self, data, **kwargs):
        return {key: value for key, value in data.items() if value != ""}


# ------------------------------------------------------------------ shared


class ErrorDetail(Schema):
    code = fields.String(required=True, metadata={"example": "invalid"})
    message = fields.String(required=True)
    field_reasons = fields.Dict(
        data_key="fields",
        keys=fields.String(),
        values=fields.String(),
        metadata={"description": "reason per bad field (dotted path for nested fields)"},
    )


class Error(Schema):
    error = fields.Nested(ErrorDetail, required=True)


class PageQuery(QuerySchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class Empty(Strict):
    """No body (or ``{}``)."""


class Status(Schema):
    status = fields.String(required=True)


# ------------------------------------------------------------------ identity


class RegisterRequest(Strict):
    phone = fields.String(required=True, validate=PHONE)
    password = fields.String(required=True, validate=PASSWORD, load_only=True)
    name = fields.String(required=True, validate=NAME)


class UserId(Schema):
    user_id = fields.String(required=True)


class LoginRequest(Strict):
    phone = fields.String(required=True, validate=PHONE)
    password = fields.String(required=True, validate=validate.Length(min=1, max=128))


class RefreshRequest(Strict):
    refresh_token = fields.String(required=True, validate=validate.Length(min=1, max=4096))


class TokenPair(Schema):
    access_token = fields.String(required=True)
    refresh_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(required=True, metadata={"description": "seconds"})


class Jwk(Schema):
    kty = fields.String()
    kid = fields.String()
    use = fields.String()
    alg = fields.String()
    n = fields.String()
    e = fields.String()


class Jwks(Schema):
    keys = fields.List(fields.Nested(Jwk), required=True)


class Profile(Open):
    user_id = fields.String(required=True)
    phone = fields.String(metadata={"description": "masked, 138****8000"})
    name = fields.String()
    kind = fields.String(validate=validate.OneOf(("citizen", "staff", "operator")))
    assurance_level = fields.Integer(metadata={"description": "1 registered, 2 real-name"})
    id_number_masked = fields.String(allow_none=True, metadata={"example": "3201**********1234"})
    roles = fields.List(fields.String())
    department_code = fields.String(allow_none=True)
    created_at = fields.String()


class RealNameRequest(Strict):
    name = fields.String(required=True, validate=NAME)
    id_number = fields.String(required=True, validate=ID_NUMBER, load_only=True)


class AssuranceLevel(Schema):
    level = fields.Integer(required=True)


class EnterpriseRequest(Strict):
    name = _text(200)
    uscc = fields.String(required=True, validate=USCC)
    legal_representative = fields.String(required=True, validate=NAME)


class Enterprise(Open):
    enterprise_id = fields.String()
    uscc = fields.String()
    name = fields.String()
    legal_representative = fields.String()


class StaffRequest(Strict):
    phone = fields.String(required=True, validate=PHONE)
    password = fields.String(required=True, validate=PASSWORD, load_only=True)
    name = fields.String(required=True, validate=NAME)
    department_code = _text(64)
    roles = fields.List(
        fields.String(validate=validate.OneOf(ROLES)),
        required=True,
        validate=validate.Length(min=1),
    )


# ------------------------------------------------------------------ catalog


class Region(Schema):
    code = fields.String()
    name = fields.String()
    level = fields.String(validate=validate.OneOf(LEVELS))
    parent_code = fields.String(allow_none=True)


class DepartmentQuery(QuerySchema):
    region = _text(12, required=False)


class Department(Schema):
    code = fields.String()
    name = fields.String()
    region_code = fields.String()
    level = fields.String()
    store_id = fields.String(allow_none=True)


class ItemSearchQuery(PageQuery):
    q = _text(100, required=False)
    region = _text(12, required=False)
    department = _text(64, required=False)
    level = fields.String(validate=validate.OneOf(LEVELS))
    mode = fields.String(validate=validate.OneOf(MODES))


class ItemSummary(Schema):
    item_id = fields.String()
    code = fields.String()
    name = fields.String()
    department_code = fields.String()
    department_name = fields.String()
    region_code = fields.String()
    level = fields.String()
    modes = fields.List(fields.String())
    promised_days = fields.Integer()
    status = fields.String()


class ItemPage(Schema):
    items = fields.List(fields.Nested(ItemSummary))
    page = fields.Integer()
    page_size = fields.Integer()
    total = fields.Integer()


class GuideMaterial(Strict):
    name = _text(200)
    copies = fields.Integer(strict=True, validate=validate.Range(min=1, max=99))
    original = fields.Boolean()
    note = _text(500, required=False)


class Window(Strict):
    name = _text(200)
    address = _text(300)
    phone = _text(30)
    postcode = fields.String(required=True, validate=POSTCODE)


class ItemGuide(Open, ItemSummary):
    name_en = fields.String()
    description = fields.String()
    conditions = fields.List(fields.String())
    materials = fields.List(fields.Nested(GuideMaterial))
    fees = fields.String()
    legal_basis = fields.List(fields.String())
    statutory_days = fields.Integer()
    joint_departments = fields.List(fields.String())
    window = fields.Nested(Window, allow_none=True)
    handled_by = fields.String(metadata={"example": "workflow"})
    store_id = fields.String(allow_none=True)


class ItemUpdateRequest(Strict):
    """The editable guide fields; give only those that change."""

    name = _text(200, required=False)
    name_en = fields.String(validate=validate.Length(max=300))
    modes = fields.List(fields.String(validate=validate.OneOf(MODES)))
    promised_days = fields.Integer(strict=True, validate=validate.Range(min=0, max=3650))
    statutory_days = fields.Integer(strict=True, validate=validate.Range(min=0, max=3650))
    description = fields.String(validate=validate.Length(max=4000))
    conditions = fields.List(fields.String(validate=validate.Length(max=500)))
    materials = fields.List(fields.Nested(GuideMaterial))
    fees = fields.String(validate=validate.Length(max=200))
    legal_basis = fields.List(fields.String(validate=validate.Length(max=500)))
    joint_departments = fields.List(_text(64))
    handled_by = fields.String(
        validate=validate.Regexp(
            r"^workflow(-.+)?$", error='must be "workflow" or "workflow-<department code>"'
        )
    )


class ItemCreateRequest(ItemUpdateRequest):
    code = _text(64)
    name = _text(200)
    department_code = _text(64)
    region_code = _text(12)
    level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    store_id = _text(64, required=False, allow_none=True)
    window = fields.Nested(Window, allow_none=True)


class Rating(Schema):
    reviews = fields.Integer()
    praise_rate = fields.Float(metadata={"description": "share of grades 4 and 5, 0..1"})
    average_grade = fields.Float(allow_none=True)


class Store(Open):
    store_id = fields.String()
    name = fields.String()
    department_code = fields.String()
    region_code = fields.String()
    rating = fields.Nested(Rating)


# ------------------------------------------------------------------ workflow


class Address(Strict):
    name = fields.String(required=True, validate=NAME)
    phone = fields.String(required=True, validate=PHONE)
    province = _text(50)
    city = _text(50)
    district = _text(50)
    street = _text(200)
    postcode = fields.String(required=True, validate=POSTCODE)


class Delivery(Strict):
    mode = fields.String(required=True, validate=validate.OneOf(MODES))
    address = fields.Nested(Address, allow_none=True)

    @validates_schema
    def address_for_express(self, data, **kwargs):
        if data.get("mode") == "express" and not data.get("address"):
            raise ValidationError("required for express delivery", "address")


class MaterialRef(Strict):
    name = _text(200)
    file_id = _text(128, required=False)
    copies = fields.Integer(strict=True, validate=validate.Range(min=1, max=99))
    original = fields.Boolean()
    note = _text(500, required=False)


class SubmitApplicationRequest(Strict):
    item_id = _text(64)
    on_behalf_of = fields.String(
        validate=USCC, allow_none=True, metadata={"description": "USCC of the enterprise"}
    )
    form = fields.Dict(keys=fields.String(), load_default=dict)
    materials = fields.List(fields.Nested(MaterialRef), load_default=list)
    delivery = fields.Nested(Delivery, required=True)


class Submitted(Schema):
    application_id = fields.String()
    state = fields.String(validate=validate.OneOf(STATES))
    due_date = fields.String(metadata={"format": "date"})


class Application(Open):
    application_id = fields.String()
    item_id = fields.String()
    item_name = fields.String()
    applicant_id = fields.String()
    on_behalf_of = fields.String(allow_none=True)
    department_code = fields.String()
    region_code = fields.String()
    store_id = fields.String(allow_none=True)
    state = fields.String()
    submitted_at = fields.String()
    due_date = fields.String()
    form = fields.Dict()
    materials = fields.List(fields.Dict())
    delivery = fields.Dict()
    licence_no = fields.String(allow_none=True)
    timeline = fields.List(fields.Dict())


class ApplicationPage(Open):
    items = fields.List(fields.Nested(Application))
    page = fields.Integer()
    page_size = fields.Integer()
    total = fields.Integer()


class WorklistQuery(PageQuery):
    state = fields.String(validate=validate.OneOf(STATES))


class SupplementRequest(Strict):
    materials = fields.List(
        fields.Nested(MaterialRef), required=True, validate=validate.Length(min=1)
    )


class ActionRequest(Strict):
    action = fields.String(required=True, validate=validate.OneOf(ACTIONS))
    comment = fields.String(load_default="", validate=validate.Length(max=1000))


class Licence(Open):
    licence_no = fields.String()
    application_id = fields.String()
    item_id = fields.String()
    item_name = fields.String()
    holder_masked = fields.String()
    issued_at = fields.String()
    valid = fields.Boolean()


class LicenceCheck(Open):
    licence_no = fields.String()
    valid = fields.Boolean()
    holder_masked = fields.String()
    item_name = fields.String()
    issued_at = fields.String(allow_none=True)


# ------------------------------------------------------------------ courier


class ShipmentQuery(QuerySchema):
    application_id = _text(64)


class TrackingEvent(Open):
    status = fields.String()
    occurred_at = fields.String()
    location = fields.String()
    description = fields.String()


class Shipment(Open):
    shipment_id = fields.String()
    tracking_no = fields.String()
    application_id = fields.String()
    direction = fields.String(validate=validate.OneOf(("materials", "result")))
    status = fields.String()
    created_at = fields.String()
    events = fields.List(fields.Nested(TrackingEvent))


class EmsEvent(Strict):
    tracking_no = _text(64)
    status = fields.String(required=True, validate=validate.OneOf(EMS_STATUSES))
    occurred_at = fields.String(
        required=True, validate=_instant, metadata={"example": "2026-11-25T08:00:00Z"}
    )
    location = fields.String(load_default="", validate=validate.Length(max=200))
    description = fields.String(load_default="", validate=validate.Length(max=500))
    reference = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=128))


# ------------------------------------------------------------------ ratings


class ReviewRequest(Strict):
    grade = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, max=5),
        metadata={"description": "1 (very dissatisfied) .. 5 (very satisfied)"},
    )
    comment = fields.String(load_default="", validate=validate.Length(max=1000))


class ReviewId(Schema):
    review_id = fields.String()


class Review(Open):
    review_id = fields.String()
    reviewer = fields.String(metadata={"description": "masked"})
    item_id = fields.String()
    item_name = fields.String()
    grade = fields.Integer()
    comment = fields.String()
    submitted_at = fields.String()


class ReviewPage(Open):
    items = fields.List(fields.Nested(Review))
    summary = fields.Nested(Rating)
    page = fields.Integer()
    page_size = fields.Integer()
    total = fields.Integer()


class RatingStatsQuery(QuerySchema):
    department = _text(64, required=False)
    region = _text(12, required=False)


class Rectification(Open):
    rectification_id = fields.String()
    review_id = fields.String()
    application_id = fields.String()
    department_code = fields.String()
    grade = fields.Integer()
    status = fields.String()
    due_date = fields.String()
    resolved_by = fields.String(allow_none=True)
    resolution_comment = fields.String(allow_none=True)


class RectificationPage(Open):
    items = fields.List(fields.Nested(Rectification))
    page = fields.Integer()
    page_size = fields.Integer()
    total = fields.Integer()


class ResolveRequest(Strict):
    comment = fields.String(required=True, validate=validate.Length(min=1, max=1000))


_collections: dict[type, type] = {}


def collection(item_schema: type[Schema]) -> Schema:
    """``{"items": [...]}``: the shape of every collection the API returns."""
    if item_schema not in _collections:
        _collections[item_schema] = type(
            f"{item_schema.__name__}List",
            (Schema,),
            {"items": fields.List(fields.Nested(item_schema), required=True)},
        )
    return _collections[item_schema]()
