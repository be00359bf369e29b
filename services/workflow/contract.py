"""The workflow service's wire contract: its RPC requests and responses, and the
payloads of the events it publishes on ``workflow.events``.

The gateway's routes take their bodies, queries and answers from here, and
forwards the answers untouched, so the HTTP API and the RPC agree by
construction (conventions: ``services.common.schemas``). A ``<Name>Body`` is
exactly what the HTTP body of the route carries; the RPC request ``<Name>`` adds
the actor and the path parameters. The schemas check the shape of each field;
the domain checks its rules again (the item's delivery modes, blank names, ...)
and names the field it refuses.

Dates are ISO 8601 days (``2026-10-12``, Jiangsu calendar days); instants are
UTC with a ``Z``.
"""

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    pre_dump,
    validate,
    validates_schema,
)

from services.common.masking import mask_id_number
from services.common.schemas import (
    ActorSchema,
    FullMatch,
    Instant,
    PageQuery,
    collection_of,
    page_of,
)
from services.workflow.adapters.repository import CALENDAR_KINDS
from services.workflow.domain.model import (
    ACTIONS,
    Decision,
    DeliveryMode,
    LicenceNumbers,
    Role,
    State,
)

STATES = tuple(str(state) for state in State)
MODES = tuple(str(mode) for mode in DeliveryMode)
DECISIONS = tuple(str(decision) for decision in Decision)
ACTOR_ROLES = tuple(str(role) for role in Role)
PRINCIPAL_KINDS = ("enterprise", "person")

PHONE = FullMatch(r"^1[0-9]{10}$", error="must be 11 digits starting with 1")
POSTCODE = FullMatch(r"^[0-9]{6}$", error="must be 6 digits")
USCC = FullMatch(
    r"^[0-9A-HJ-NPQRTUWXY]{18}$", error="must be 18 characters of the GB 32100 alphabet"
)
# The domain's rule: 17 digits and a digit or a capital X.
ID_NUMBER = FullMatch(
    r"^[0-9]{17}[0-9X]$", error="must be 18 characters: 17 digits and a digit or X"
)
NAME_MAX = 50
ENTERPRISE_NAME_MAX = 200
COMMENT_MAX = 1000

APPLICATION_ID_EXAMPLE = "3f2a9c4e5b6d4e7f8a9b0c1d2e3f4a5b"
LICENCE_NO_EXAMPLE = "JS32010220261012000001"


def _text(maximum: int, **kwargs) -> fields.String:
    """A non-empty string of at most ``maximum`` characters."""
    kwargs.setdefault("required", True)
    return fields.String(validate=validate.Length(min=1, max=maximum), **kwargs)


def _application_id() -> fields.String:
    return _text(64, metadata={"example": APPLICATION_ID_EXAMPLE})


# The shape of [<department code>.]JS<region, 6 digits><yyyymmdd><serial, 6 digits>;
# the date must exist too (_well_formed_licence_no).
LICENCE_NO = FullMatch(
    r"^(?:[a-z0-9][a-z0-9-]{0,23}\.)?JS[0-9]{20}$",
    error="must look like [<department code>.]JS<region, 6 digits><yyyymmdd><serial, 6 digits>",
)


def _well_formed_licence_no(value: str) -> None:
    """The date in a number of the right shape must exist (LICENCE_NO checks the shape)."""
    shaped = isinstance(value, str) and LICENCE_NO.regex.fullmatch(value)
    if shaped and not LicenceNumbers.is_well_formed(value):
        raise ValidationError("must carry an issue date that exists (yyyymmdd)")


# --- shapes the requests, the answers and the events share -------------------


class Address(Schema):
    """A postal address as the case keeps it (trimmed; postcode null when none
    was given)."""

    name = fields.String(required=True)
    phone = fields.String(required=True)
    province = fields.String(required=True)
    city = fields.String(required=True)
    district = fields.String(required=True)
    street = fields.String(required=True)
    postcode = fields.String(required=True, allow_none=True)


class Delivery(Schema):
    """How the applicant sends materials and gets the result; the address only for
    express delivery (null otherwise)."""

    mode = fields.String(required=True, validate=validate.OneOf(MODES))
    address = fields.Nested(Address, required=True, allow_none=True)


class Window(Schema):
    """The catalogue window that handles the item, as the case copied it."""

    name = fields.String(required=True)
    address = fields.String(required=True)
    phone = fields.String(required=True)
    postcode = fields.String(required=True)


# --- requests -----------------------------------------------------------------


class AddressBody(Schema):
    """A postal address the applicant sends (express delivery)."""

    name = _text(NAME_MAX, metadata={"example": "张三"})
    phone = fields.String(required=True, validate=PHONE, metadata={"example": "13800138000"})
    province = _text(50, metadata={"example": "江苏省"})
    city = _text(50, metadata={"example": "南京市"})
    district = _text(50, metadata={"example": "玄武区"})
    street = _text(200, metadata={"example": "北京东路2号"})
    postcode = fields.String(required=True, validate=POSTCODE, metadata={"example": "210000"})


class DeliveryBody(Schema):
    """The delivery mode the applicant picks; ``address`` is required for express
    and ignored otherwise. The item must offer the mode (the domain checks)."""

    mode = fields.String(required=True, validate=validate.OneOf(MODES))
    address = fields.Nested(AddressBody, allow_none=True)

    @validates_schema
    def _address_for_express(self, data, **kwargs):
        if data.get("mode") == DeliveryMode.EXPRESS and not data.get("address"):
            raise ValidationError("is required for express delivery", "address")


class MaterialRef(Schema):
    """One material the applicant sends (an uploaded file, or paper by post)."""

    name = _text(200, metadata={"example": "营业执照"})
    file_id = _text(128, required=False)
    copies = fields.Integer(strict=True, validate=validate.Range(min=1, max=99))
    original = fields.Boolean()
    note = _text(500, required=False)


class Principal(Schema):
    """The party an agent applies for: an enterprise ``{kind, uscc, name?}`` or a
    person ``{kind, name, id_number}``."""

    kind = fields.String(required=True, validate=validate.OneOf(PRINCIPAL_KINDS))
    uscc = fields.String(
        validate=USCC,
        metadata={"description": "enterprise only", "example": "91320102MA1XYR1234"},
    )
    name = fields.String(
        allow_none=True,
        validate=validate.Length(min=1, max=ENTERPRISE_NAME_MAX),
        metadata={"description": "required for a person, optional for an enterprise"},
    )
    id_number = fields.String(
        validate=ID_NUMBER,
        metadata={"description": "person only", "example": "320102199001011234"},
    )

    @validates_schema
    def _fields_of_the_kind(self, data, **kwargs):
        kind = data.get("kind")
        problems = {}
        if kind == "enterprise":
            if not data.get("uscc"):
                problems["uscc"] = "is required for an enterprise"
            if "id_number" in data:
                problems["id_number"] = "is for a person only"
        elif kind == "person":
            if not data.get("name"):
                problems["name"] = "is required for a person"
            elif len(data["name"]) > NAME_MAX:
                problems["name"] = f"must be at most {NAME_MAX} characters"
            if not data.get("id_number"):
                problems["id_number"] = "is required for a person"
            if "uscc" in data:
                problems["uscc"] = "is for an enterprise only"
        if problems:
            raise ValidationError(problems)


class SubmitApplicationBody(Schema):
    item_id = _text(64, metadata={"example": "item-food-licence"})
    on_behalf_of = fields.Nested(
        Principal,
        allow_none=True,
        load_default=None,
        metadata={"description": "the party an agent applies for; null: the applicant"},
    )
    form = fields.Dict(keys=fields.String(), load_default=dict)
    materials = fields.List(fields.Nested(MaterialRef), load_default=list)
    delivery = fields.Nested(DeliveryBody, required=True)


class SubmitApplication(SubmitApplicationBody):
    actor = fields.Nested(ActorSchema, required=True)


class GetApplication(Schema):
    actor = fields.Nested(ActorSchema, required=True)
    application_id = _application_id()


class ListApplicationsQuery(PageQuery):
    """A page of my applications, newest first."""


class ListApplications(ListApplicationsQuery):
    actor = fields.Nested(ActorSchema, required=True)


class WorklistQuery(PageQuery):
    """A page of my department's cases, newest first, in one state if given."""

    state = fields.String(validate=validate.OneOf(STATES))


class Worklist(WorklistQuery):
    actor = fields.Nested(ActorSchema, required=True)


class WithdrawBody(Schema):
    """No body (or ``{}``)."""


class Withdraw(WithdrawBody):
    actor = fields.Nested(ActorSchema, required=True)
    application_id = _application_id()


class SupplementBody(Schema):
    materials = fields.List(
        fields.Nested(MaterialRef), required=True, validate=validate.Length(min=1)
    )


class Supplement(SupplementBody):
    actor = fields.Nested(ActorSchema, required=True)
    application_id = _application_id()


class ActBody(Schema):
    """A staff action; ``comment`` is required (non-blank) to reject, request a
    supplement or deny (the domain checks)."""

    action = fields.String(required=True, validate=validate.OneOf(ACTIONS))
    comment = fields.String(load_default="", validate=validate.Length(max=COMMENT_MAX))


class Act(ActBody):
    actor = fields.Nested(ActorSchema, required=True)
    application_id = _application_id()


class ListLicences(Schema):
    actor = fields.Nested(ActorSchema, required=True)


class VerifyLicence(Schema):
    licence_no = fields.String(
        required=True,
        validate=[LICENCE_NO, _well_formed_licence_no],
        metadata={"example": LICENCE_NO_EXAMPLE},
    )


class SetCalendarDay(Schema):
    actor = fields.Nested(ActorSchema, required=True)
    day = fields.Date(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(CALENDAR_KINDS))


# --- responses ----------------------------------------------------------------


class Submitted(Schema):
    application_id = fields.String(
        required=True,
        metadata={
            "description": "'<department code>.' first on a department's own instance",
            "example": APPLICATION_ID_EXAMPLE,
        },
    )
    state = fields.String(required=True, validate=validate.OneOf(STATES))
    due_date = fields.Date(required=True)


class DepartmentReview(Schema):
    """One reviewing department's decision (the owner first, then the joint
    departments)."""

    department_code = fields.String(required=True)
    decision = fields.String(required=True, validate=validate.OneOf(DECISIONS))


class _ReviewsByDepartment(fields.List):
    """The aggregate's ``{department_code: decision}`` as a list, in review order."""

    def _serialize(self, value, attr, obj, **kwargs):
        rows = [
            {"department_code": code, "decision": str(decision)}
            for code, decision in (value or {}).items()
        ]
        return super()._serialize(rows, attr, obj, **kwargs)


class TimelineEntry(Schema):
    at = Instant(required=True)
    state = fields.String(
        required=True,
        validate=validate.OneOf(STATES),
        metadata={"description": "the state after the action"},
    )
    action = fields.String(
        required=True,
        metadata={
            "description": "submit, accept, reject, request_supplement, supplement, approve,"
            " deny, withdraw, materials_received, issue_licence, complete or overdue"
        },
    )
    actor_id = fields.String(
        required=True, allow_none=True, metadata={"description": "null for the system"}
    )
    actor_role = fields.String(required=True, validate=validate.OneOf(ACTOR_ROLES))
    comment = fields.String(required=True, metadata={"description": "empty when none"})


class Material(Schema):
    """A material of the case, as the applicant sent it."""

    name = fields.String(required=True)
    file_id = fields.String()
    copies = fields.Integer()
    original = fields.Boolean()
    note = fields.String()


class MaskedPrincipal(Schema):
    """The party an agent applied for; a person's ID number masked."""

    kind = fields.String(required=True, validate=validate.OneOf(PRINCIPAL_KINDS))
    name = fields.String(
        required=True, allow_none=True, metadata={"description": "null: not given"}
    )
    uscc = fields.String(metadata={"description": "enterprise only"})
    id_number = fields.String(
        metadata={"description": "person only, masked", "example": "3201**********1234"}
    )

    @pre_dump
    def _mask(self, principal, **kwargs):
        if principal.get("id_number"):
            return {**principal, "id_number": mask_id_number(principal["id_number"])}
        return principal


class ApplicationSummary(Schema):
    """A case in a list."""

    application_id = fields.String(required=True, metadata={"example": APPLICATION_ID_EXAMPLE})
    item_id = fields.String(required=True)
    item_name = fields.String(required=True)
    department_code = fields.String(required=True)
    region_code = fields.String(required=True)
    store_id = fields.String(required=True)
    applicant_id = fields.String(required=True)
    state = fields.String(required=True, validate=validate.OneOf(STATES))
    due_date = fields.Date(required=True)
    submitted_at = Instant(required=True)
    delivery_mode = fields.String(
        required=True, attribute="delivery.mode", validate=validate.OneOf(MODES)
    )
    licence_no = fields.String(
        required=True, allow_none=True, metadata={"example": LICENCE_NO_EXAMPLE}
    )
    overdue = fields.Boolean(
        required=True,
        attribute="overdue_reported",
        metadata={"description": "reported late (once a working day past the due date)"},
    )
    reviews = _ReviewsByDepartment(fields.Nested(DepartmentReview), required=True)


class Application(ApplicationSummary):
    """A case with everything the applicant sent, its reviews by department and
    its timeline."""

    joint_departments = fields.List(fields.String(), required=True)
    on_behalf_of = fields.Nested(MaskedPrincipal, required=True, allow_none=True)
    form = fields.Dict(keys=fields.String(), required=True)
    materials = fields.List(fields.Nested(Material), required=True)
    delivery = fields.Nested(Delivery, required=True)
    window = fields.Nested(
        Window, required=True, allow_none=True, metadata={"description": "null: the item has none"}
    )
    timeline = fields.List(fields.Nested(TimelineEntry), required=True)


# One page of cases (list_applications, worklist).
ApplicationSummaryPage = page_of(ApplicationSummary)


class Licence(Schema):
    """An electronic licence issued on one of my cases."""

    licence_no = fields.String(required=True, metadata={"example": LICENCE_NO_EXAMPLE})
    application_id = fields.String(required=True)
    item_id = fields.String(required=True)
    item_name = fields.String(required=True)
    holder_masked = fields.String(required=True)
    issued_at = Instant(required=True)
    valid = fields.Boolean(required=True)


# Every licence of mine (list_licences).
LicenceList = collection_of(Licence)


class LicenceCheck(Schema):
    """Whether a licence number is genuine and valid, and whose it is (masked)."""

    licence_no = fields.String(required=True, metadata={"example": LICENCE_NO_EXAMPLE})
    valid = fields.Boolean(required=True)
    holder_masked = fields.String(required=True)
    item_name = fields.String(required=True)
    issued_at = Instant(required=True)


class CalendarDay(Schema):
    day = fields.Date(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(CALENDAR_KINDS))


# --- events -------------------------------------------------------------------


class ApplicationSubmitted(Schema):
    """``workflow.application_submitted``: a case was opened; the courier books a
    pickup when delivery is express."""

    application_id = fields.String(required=True)
    item_id = fields.String(required=True)
    item_name = fields.String(required=True)
    applicant_id = fields.String(required=True)
    department_code = fields.String(required=True)
    region_code = fields.String(required=True)
    store_id = fields.String(required=True)
    delivery = fields.Nested(Delivery, required=True)
    window = fields.Nested(Window, required=True, allow_none=True)
    due_date = fields.Date(required=True)


class ApplicationAccepted(Schema):
    """``workflow.application_accepted``: the window took the case on (a clerk, EMS
    delivering the materials, or a supplement answering a request)."""

    application_id = fields.String(required=True)
    accepted_at = Instant(required=True)


class ApplicationRejected(Schema):
    """``workflow.application_rejected``: the window refused the case (不予受理)."""

    application_id = fields.String(required=True)
    applicant_id = fields.String(required=True)
    comment = fields.String(required=True, validate=validate.Length(min=1))


class SupplementRequested(Schema):
    """``workflow.supplement_requested``: the applicant must add the materials
    ``comment`` names."""

    application_id = fields.String(required=True)
    comment = fields.String(required=True, validate=validate.Length(min=1))


class ApplicationApproved(Schema):
    """``workflow.application_approved``: every reviewing department approved."""

    application_id = fields.String(required=True)
    applicant_id = fields.String(required=True)
    item_id = fields.String(required=True)
    delivery = fields.Nested(Delivery, required=True)
    approved_at = Instant(required=True)


class ApplicationDenied(Schema):
    """``workflow.application_denied``: a reviewing department denied; the case is
    closed."""

    application_id = fields.String(required=True)
    applicant_id = fields.String(required=True)
    comment = fields.String(required=True, validate=validate.Length(min=1))


class LicenceIssued(Schema):
    """``workflow.licence_issued``: the electronic licence exists; the courier ships
    the paper result when delivery is express."""

    licence_no = fields.String(required=True)
    application_id = fields.String(required=True)
    applicant_id = fields.String(required=True)
    item_id = fields.String(required=True)
    department_code = fields.String(required=True)
    delivery = fields.Nested(Delivery, required=True)
    window = fields.Nested(Window, required=True, allow_none=True)


class ApplicationCompleted(Schema):
    """``workflow.application_completed``: the applicant has the result; the case
    can now be reviewed."""

    application_id = fields.String(required=True)
    applicant_id = fields.String(required=True)
    item_id = fields.String(required=True)
    item_name = fields.String(required=True)
    department_code = fields.String(required=True)
    region_code = fields.String(required=True)
    store_id = fields.String(required=True)
    completed_at = Instant(required=True)


class ApplicationWithdrawn(Schema):
    """``workflow.application_withdrawn``: the applicant withdrew the case."""

    application_id = fields.String(required=True)


class CaseOverdue(Schema):
    """``workflow.case_overdue``: the case passed its due date unfinished
    (recorded once per case)."""

    application_id = fields.String(required=True)
    due_date = fields.Date(required=True)


EVENTS = {
    "application_submitted": ApplicationSubmitted,
    "application_accepted": ApplicationAccepted,
    "application_rejected": ApplicationRejected,
    "supplement_requested": SupplementRequested,
    "application_approved": ApplicationApproved,
    "application_denied": ApplicationDenied,
    "licence_issued": LicenceIssued,
    "application_completed": ApplicationCompleted,
    "application_withdrawn": ApplicationWithdrawn,
    "case_overdue": CaseOverdue,
}
