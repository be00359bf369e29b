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

from services.common import pii, rules
from services.common.masking import mask_id_number
from services.common.schemas import (
    ActorSchema,
    Boolean,
    FullMatch,
    Instant,
    PageQuery,
    collection_of,
    page_of,
)
from services.workflow.domain import delivery as failed_shipments
from services.workflow.domain import payment as payment_states
from services.workflow.domain import process as processes
from services.workflow.domain.model import (
    Decision,
    DeliveryMode,
    LicenceNumbers,
    Role,
    State,
)
from services.workflow.domain.progress import (
    SUSPENSION_KINDS,
    EscalationLevel,
    ExtensionState,
    StepState,
)

STATES = tuple(str(state) for state in State)
MODES = tuple(str(mode) for mode in DeliveryMode)
DECISIONS = tuple(str(decision) for decision in Decision)
ACTOR_ROLES = tuple(str(role) for role in Role) + ("dept_admin",)
PRINCIPAL_KINDS = ("enterprise", "person")
STEP_STATES = tuple(str(state) for state in StepState)
SIGNALS = ("green", "yellow", "red")
ESCALATION_LEVELS = tuple(str(level) for level in EscalationLevel)
SIGNAL = {
    "description": "green; yellow within 2 working days of the due date; red past it"
    " (measured as if a stopped clock restarted today); null once closed",
    "example": "green",
}
STEP_ID = FullMatch(r"^[a-z0-9][a-z0-9_-]{0,31}$", error="must be a step id of the process")
DEPARTMENT_CODE = {"validate": validate.Length(min=1, max=64), "metadata": {"example": "js-amr"}}

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
LICENCE_NO_EXAMPLE = "1.2.156.3005.2.320000JSSCJG001.11320000MB0123456K.K7Q2M9X4TB8W.001.4"


def _text(maximum: int, **kwargs) -> fields.String:
    """A non-empty string of at most ``maximum`` characters."""
    kwargs.setdefault("required", True)
    return fields.String(validate=validate.Length(min=1, max=maximum), **kwargs)


def _application_id() -> fields.String:
    return _text(64, metadata={"example": APPLICATION_ID_EXAMPLE})


# GB/T 36904: 1.2.156.3005.2.<type code>.<issuer USCC>.<serial>.<version>.<check>;
# or a number issued before: [<department code>.]JS<region><yyyymmdd><serial>.
# The check character (or the old number's date) must hold too
# (_well_formed_licence_no).
LICENCE_NO = FullMatch(
    r"^(?:1\.2\.156\.3005\.2\.[0-9A-Z]{2,20}\.[0-9A-HJ-NPQRTUWXY]{18}\.[0-9A-Z]{8,32}"
    r"\.[0-9]{3}\.[0-9A-Z]|(?:[a-z0-9][a-z0-9-]{0,23}\.)?JS[0-9]{20})$",
    error="must be a licence number: 1.2.156.3005.2.<type code>.<issuer USCC>.<serial>"
    ".<version, 3 digits>.<check character> (or an older JS<20 digits>)",
)


def _well_formed_licence_no(value: str) -> None:
    """The check character (an old number's date) must hold (LICENCE_NO checks the shape)."""
    shaped = isinstance(value, str) and LICENCE_NO.regex.fullmatch(value)
    if shaped and not LicenceNumbers.is_well_formed(value):
        raise ValidationError(
            "the check character (ISO 7064 MOD 37,36) does not match"
            if value.startswith("1.")
            else "must carry an issue date that exists (yyyymmdd)"
        )


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
    """One material the applicant sends (an uploaded file, or paper by post), or
    an electronic licence they hold (``licence_no``; its name is taken from the
    licence when not given): the licence must be valid and held by the
    applicant or the party applied for (422 naming ``materials.<i>.licence_no``)."""

    name = _text(200, required=False, metadata={"example": "营业执照"})
    licence_no = fields.String(
        validate=[LICENCE_NO, _well_formed_licence_no], metadata={"example": LICENCE_NO_EXAMPLE}
    )
    file_id = _text(128, required=False)
    copies = fields.Integer(strict=True, validate=validate.Range(min=1, max=99))
    original = fields.Boolean()
    note = _text(500, required=False)

    @validates_schema
    def _named_or_a_licence(self, data, **kwargs):
        if "name" not in data and "licence_no" not in data:
            raise ValidationError("is required (unless the material is a licence_no)", "name")


class Principal(Schema):
    """Whom an agent applies for: an enterprise ``{kind, uscc}`` or a person
    ``{kind, user_id}``. The agent needs a mandate in force for the item (or
    to be the enterprise's owner or member); identity names the principal."""

    kind = fields.String(required=True, validate=validate.OneOf(PRINCIPAL_KINDS))
    uscc = fields.String(
        validate=USCC,
        metadata={"description": "enterprise only", "example": "91320102MA1XYR1234"},
    )
    user_id = fields.String(
        validate=validate.Length(min=1, max=64),
        metadata={"description": "person only: the person's account"},
    )

    @validates_schema
    def _fields_of_the_kind(self, data, **kwargs):
        kind = data.get("kind")
        problems = {}
        if kind == "enterprise":
            if not data.get("uscc"):
                problems["uscc"] = "is required for an enterprise"
            if "user_id" in data:
                problems["user_id"] = "is for a person only"
        elif kind == "person":
            if not data.get("user_id"):
                problems["user_id"] = "is required for a person"
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
    # The gateway sends the client's Idempotency-Key, or one of its own per request.
    idempotency_key = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(min=1, max=128)
    )


class GetApplication(Schema):
    actor = fields.Nested(ActorSchema, required=True)
    application_id = _application_id()


class GetPrincipal(GetApplication):
    """The person a case was applied for, ID number in full (staff reviewing it)."""


class PrincipalIdentity(Schema):
    """The person an agent applied for, as a reviewer checks them against the
    materials: the ID number in full. Each answer with a number is recorded
    (identity's ``list_pii_access``)."""

    application_id = fields.String(required=True, metadata={"example": APPLICATION_ID_EXAMPLE})
    kind = fields.String(required=True, validate=validate.OneOf(("person",)))
    user_id = fields.String(
        required=True, allow_none=True, metadata={"description": "null: known by ID number only"}
    )
    name = fields.String(required=True, allow_none=True)
    id_number = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "in full; null: the person is not real-name verified"},
    )


class ListApplicationsQuery(PageQuery):
    """A page of my applications, newest first."""


class ListApplications(ListApplicationsQuery):
    actor = fields.Nested(ActorSchema, required=True)


class WorklistQuery(PageQuery):
    """A page of my department's cases, in one state if given, with the
    department's open task green, yellow or red if given; newest first, or by
    the open task's due date, soonest first (``sort=due``)."""

    state = fields.String(validate=validate.OneOf(STATES))
    signal = fields.String(validate=validate.OneOf(SIGNALS))
    sort = fields.String(load_default="newest", validate=validate.OneOf(("newest", "due")))


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
    """A staff action at an open step of the case's process; ``step`` names the
    step when the caller has work in several. ``comment`` is required
    (non-blank) to reject, request a supplement or deny (the domain checks);
    a supplement request names every missing material at once (一次性告知)."""

    action = fields.String(required=True, validate=validate.OneOf(sorted(processes.STEP_ACTIONS)))
    comment = fields.String(load_default="", validate=validate.Length(max=COMMENT_MAX))
    step = fields.String(validate=STEP_ID, metadata={"example": "accept"})
    missing_materials = fields.List(
        fields.String(validate=validate.Length(min=1, max=200)),
        validate=validate.Length(max=50),
        metadata={"example": ["营业执照副本"]},
    )


class Act(ActBody):
    actor = fields.Nested(ActorSchema, required=True)
    application_id = _application_id()


class ListEscalationsQuery(PageQuery):
    """A page of open escalations (督办), newest first: a dept_admin's of their
    department at both levels, an operator's at level operator; ``level``
    narrows to one level (an operator sees the department admins' with
    ``level=dept_admin``)."""

    level = fields.String(validate=validate.OneOf(ESCALATION_LEVELS))


class ListEscalations(ListEscalationsQuery):
    actor = fields.Nested(ActorSchema, required=True)


class ListLicences(Schema):
    actor = fields.Nested(ActorSchema, required=True)


def _licence_no(**kwargs) -> fields.String:
    return fields.String(
        validate=[LICENCE_NO, _well_formed_licence_no],
        metadata={"example": LICENCE_NO_EXAMPLE},
        **kwargs,
    )


class VerifyLicence(Schema):
    licence_no = _licence_no(required=True)


class GetLicence(Schema):
    actor = fields.Nested(ActorSchema, required=True)
    licence_no = _licence_no(required=True)


class RevokeLicenceBody(Schema):
    """Why the issuing department revokes the licence (the dept_admin)."""

    reason = _text(COMMENT_MAX, metadata={"example": "经营场所已变更，许可条件不再具备"})


class RevokeLicence(RevokeLicenceBody):
    actor = fields.Nested(ActorSchema, required=True)
    licence_no = _licence_no(required=True)


class LicenceSignature(Schema):
    """Ed25519 (JOSE ``EdDSA``) over the canonical JSON (RFC 8785) of ``licence``;
    ``kid`` names the key in /api/v1/licences/jwks.json."""

    alg = fields.String(
        required=True, validate=validate.Length(min=1, max=16), metadata={"example": "EdDSA"}
    )
    kid = fields.String(required=True, validate=validate.Length(min=1, max=128))
    value = fields.String(
        required=True,
        validate=validate.Length(min=1, max=1024),
        metadata={"description": "the signature, base64url without padding"},
    )


class LicenceDocument(Schema):
    """A signed electronic licence: ``licence`` (licence_no, version,
    licence_type, holder, item, issuer, application_id, issued_on, valid_from,
    valid_to, content) and its ``signature``."""

    licence = fields.Dict(keys=fields.String(), required=True)
    signature = fields.Nested(LicenceSignature, required=True)

    @validates_schema
    def _numbered(self, data, **kwargs):
        licence_no = (data.get("licence") or {}).get("licence_no")
        if not isinstance(licence_no, str) or not 1 <= len(licence_no) <= 128:
            raise ValidationError({"licence_no": ["must be the licence number (text)"]}, "licence")


class VerifyDocumentBody(Schema):
    """A licence document someone presents, as GET /api/v1/licences/{licence_no}
    gave it (``document``)."""

    document = fields.Nested(LicenceDocument, required=True)


VerifyDocument = VerifyDocumentBody


class CheckHeldLicence(Schema):
    """Whether a licence of this instance is held (another instance's question)."""

    licence_no = fields.String(required=True, validate=validate.Length(min=1, max=128))
    holder_ids = fields.List(fields.String(), required=True)
    licence_type = fields.String(allow_none=True, load_default=None)
    on = fields.Date(allow_none=True, load_default=None)


class ExtensionBody(Schema):
    """An approver asks for more working days (延期)."""

    working_days = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=processes.MAX_DAYS)
    )
    reason = _text(COMMENT_MAX, metadata={"example": "需组织专家论证"})


class RequestExtension(ExtensionBody):
    actor = fields.Nested(ActorSchema, required=True)
    application_id = _application_id()


class ExtensionDecisionBody(Schema):
    """The department admin decides the waiting extension request."""

    approve = Boolean(required=True)
    comment = fields.String(load_default="", validate=validate.Length(max=COMMENT_MAX))


class DecideExtension(ExtensionDecisionBody):
    actor = fields.Nested(ActorSchema, required=True)
    application_id = _application_id()


class SuspensionBody(Schema):
    """A special procedure begins (特别程序); the clock stops."""

    kind = fields.String(required=True, validate=validate.OneOf(SUSPENSION_KINDS))
    reason = _text(COMMENT_MAX, metadata={"example": "申请人申请听证"})


class Suspend(SuspensionBody):
    actor = fields.Nested(ActorSchema, required=True)
    application_id = _application_id()


class EndSuspensionBody(Schema):
    result = _text(COMMENT_MAX, metadata={"example": "听证已举行，意见已记录"})


class EndSuspension(EndSuspensionBody):
    actor = fields.Nested(ActorSchema, required=True)
    application_id = _application_id()
    suspension_id = _text(64)


class RedeliveryBody(Schema):
    """The applicant's answer to a failed EMS shipment (the case's
    ``shipment_failure``): after a failed materials pickup ``reship_materials``
    (a new pickup) or ``bring_to_window``; after a failed result delivery
    ``redeliver_result`` or ``collect_at_window``. ``address`` (a new address,
    postcode included) only with reship_materials or redeliver_result."""

    choice = fields.String(required=True, validate=validate.OneOf(failed_shipments.ALL_CHOICES))
    address = fields.Nested(AddressBody, allow_none=True, load_default=None)


class Redelivery(RedeliveryBody):
    actor = fields.Nested(ActorSchema, required=True)
    application_id = _application_id()


class HandOverBody(Schema):
    """A window clerk hands the result over at the window after its delivery
    failed; the case completes."""

    comment = fields.String(load_default="", validate=validate.Length(max=COMMENT_MAX))


class HandOver(HandOverBody):
    actor = fields.Nested(ActorSchema, required=True)
    application_id = _application_id()


# --- process definitions ----------------------------------------------------


class _Join(fields.Raw):
    """ "all", "any" or {"at_least": n}."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value in ("all", "any"):
            return value
        if (
            isinstance(value, dict)
            and set(value) == {"at_least"}
            and isinstance(value["at_least"], int)
            and not isinstance(value["at_least"], bool)
            and value["at_least"] >= 1
        ):
            return value
        raise ValidationError('must be "all", "any" or {"at_least": n} with n >= 1')


JOIN_SCHEMA = {
    "oneOf": [
        {"type": "string", "enum": ["all", "any"]},
        {
            "type": "object",
            "properties": {"at_least": {"type": "integer", "minimum": 1}},
            "required": ["at_least"],
            "additionalProperties": False,
        },
    ]
}


class _Rule(fields.Dict):
    """A rule (``services.common.rules``): {"fact", "op", "value"} or a group."""

    def _deserialize(self, value, attr, data, **kwargs):
        loaded = super()._deserialize(value, attr, data, **kwargs)
        problems = rules.check(loaded, "rules")
        if problems:
            raise ValidationError(next(iter(problems.values())))
        return loaded


RULE_DESCRIPTION = (
    'a condition {"fact", "op", "value"} or a group {"all": [...]} / {"any": [...]};'
    f" facts: {', '.join(sorted(rules.FACTS))}; ops: {', '.join(rules.OPERATORS)}"
)


class Branch(Schema):
    """Work for one department (the item's when no department_code is given)."""

    department_code = fields.String(**DEPARTMENT_CODE)
    role = fields.String(required=True, validate=validate.OneOf(processes.ROLES))
    days = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=0, max=processes.MAX_DAYS)
    )


class StepDefinition(Schema):
    """A step of a process: accept, review, approve, parallel (with branches
    and a join), auto (with rules, and who decides when facts are missing),
    assessment (assessment_kind) or licence (licence_type), met by the evidence
    found or else checked by its role, or payment (days: calendar days to pay)."""

    id = fields.String(required=True, validate=STEP_ID, metadata={"example": "accept"})
    kind = fields.String(required=True, validate=validate.OneOf(processes.KINDS))
    role = fields.String(validate=validate.OneOf(processes.ROLES))
    department_code = fields.String(**DEPARTMENT_CODE)
    days = fields.Integer(strict=True, validate=validate.Range(min=0, max=processes.MAX_DAYS))
    join = _Join(metadata=JOIN_SCHEMA)
    branches = fields.List(
        fields.Nested(Branch), validate=validate.Length(min=1, max=processes.MAX_BRANCHES)
    )
    rules = _Rule(metadata={"description": RULE_DESCRIPTION})
    fallback = fields.Nested(Branch)
    assessment_kind = fields.String(
        validate=validate.OneOf(processes.ASSESSMENT_KINDS),
        metadata={"description": "an assessment step's kind of report (区域评)"},
    )
    licence_type = fields.String(
        validate=FullMatch(r"^[0-9A-Z]{2,20}$", error="must be 2..20 digits or capital letters"),
        metadata={"description": "a licence step's licence type code", "example": "SPJY"},
    )


class Definition(Schema):
    """A process: steps run in order; when the last approves, the case is approved."""

    steps = fields.List(
        fields.Nested(StepDefinition),
        required=True,
        validate=validate.Length(min=1, max=processes.MAX_STEPS),
    )
    supplement_days = fields.Integer(
        strict=True,
        validate=validate.Range(min=1, max=processes.MAX_DAYS),
        metadata={"description": "calendar days the applicant has to supply (default 30)"},
    )
    extension_days = fields.Integer(
        strict=True,
        validate=validate.Range(min=0, max=processes.MAX_DAYS),
        metadata={"description": "working days an extension may add in all (default statutory)"},
    )


class ProcessBody(Schema):
    definition = fields.Nested(Definition, required=True)


class PublishProcess(ProcessBody):
    actor = fields.Nested(ActorSchema, required=True)
    item_id = _text(128)


class GetProcess(Schema):
    item_id = _text(128)
    version = fields.Integer(
        strict=False,
        validate=validate.Range(min=0, max=1_000_000),
        metadata={"description": "absent: the current version"},
    )


class ProcessVersion(Schema):
    """A version of an item's process (0: the default the item has until one
    is published)."""

    item_id = fields.String(required=True)
    version = fields.Integer(required=True)
    definition = fields.Nested(Definition, required=True)


# --- the working calendar ------------------------------------------------------


class CalendarYearBody(Schema):
    """A year's public holidays and make-up working days (weekend days worked)."""

    holidays = fields.List(
        fields.Date(), required=True, validate=validate.Length(max=366),
        metadata={"example": ["2027-01-01"]},
    )  # fmt: skip
    workdays = fields.List(fields.Date(), required=True, validate=validate.Length(max=366))
    source = fields.String(
        load_default="",
        validate=validate.Length(max=300),
        metadata={"example": "国务院办公厅关于2027年部分节假日安排的通知"},
    )


class YearRequest(Schema):
    year = fields.Integer(strict=False, required=True, validate=validate.Range(min=2000, max=2100))


class PutCalendarYear(CalendarYearBody, YearRequest):
    actor = fields.Nested(ActorSchema, required=True)


class CalendarYear(Schema):
    year = fields.Integer(required=True)
    holidays = fields.List(fields.Date(), required=True)
    workdays = fields.List(fields.Date(), required=True)
    source = fields.String(required=True)
    updated_by = fields.String(
        required=True, allow_none=True, metadata={"description": "null: shipped with the code"}
    )
    updated_at = Instant(required=True, allow_none=True)


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
            " deny, withdraw, materials_received, auto_approve, auto_deny, auto_unavailable,"
            " request_extension, extend, refuse_extension, suspend, resume, not_supplemented,"
            " issue_licence, complete, overdue or escalate; after a failed EMS shipment"
            " shipment_failed, reship_materials, bring_to_window, redeliver_result,"
            " collect_at_window, hand_over; evidence steps evidence_covered,"
            " evidence_not_covered, evidence_unavailable; payments request_payment, pay,"
            " waive_payment, not_paid, payment_late, refund"
        },
    )
    actor_id = fields.String(
        required=True, allow_none=True, metadata={"description": "null for the system"}
    )
    actor_role = fields.String(required=True, validate=validate.OneOf(ACTOR_ROLES))
    comment = fields.String(required=True, metadata={"description": "empty when none"})
    step = fields.String(
        required=True, allow_none=True, metadata={"description": "the step acted at, if one"}
    )
    on_behalf_of = fields.Nested(
        "MaskedPrincipal",
        required=True,
        allow_none=True,
        metadata={"description": "whom the applicant's side acted for; null otherwise"},
    )


class ReusedLicence(Schema):
    """The licence a material reuses, as it was checked at submission."""

    licence_no = fields.String(required=True, metadata={"example": LICENCE_NO_EXAMPLE})
    licence_type_code = fields.String(required=True, allow_none=True)
    name = fields.String(required=True)
    holder_id = fields.String(required=True)
    valid_to = fields.String(
        required=True, allow_none=True, metadata={"description": "ISO day; null: no end"}
    )


class Material(Schema):
    """A material of the case, as the applicant sent it."""

    name = fields.String(required=True)
    licence_no = fields.String(metadata={"description": "a reused electronic licence"})
    licence = fields.Nested(ReusedLicence)
    file_id = fields.String()
    copies = fields.Integer()
    original = fields.Boolean()
    note = fields.String()


class MaskedPrincipal(Schema):
    """The party an agent applied for: an enterprise ``{kind, uscc, name}`` or a
    person ``{kind, user_id, name}`` (cases from before persons had accounts
    name them by ``id_number``, masked)."""

    kind = fields.String(required=True, validate=validate.OneOf(PRINCIPAL_KINDS))
    name = fields.String(
        required=True, allow_none=True, metadata={"description": "null: not given"}
    )
    uscc = fields.String(metadata={"description": "enterprise only"})
    user_id = fields.String(metadata={"description": "person only"})
    id_number = fields.String(
        metadata={"description": "older cases' person, masked", "example": "3201**********1234"}
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
    legal_due_date = fields.Date(
        required=True,
        metadata={"description": "the legal limit (法定时限); due_date is the promised one"},
    )
    process_version = fields.Integer(
        required=True, metadata={"description": "the process version the case runs (0: default)"}
    )
    signal = fields.String(
        required=True, allow_none=True, validate=validate.OneOf(SIGNALS), metadata=SIGNAL
    )
    calendar_provisional = fields.Boolean(
        required=True,
        metadata={
            "description": "a due date counted on weekdays only: its year's calendar is not loaded"
        },
    )


class DepartmentTask(Schema):
    """On a worklist: the department's open work on the case."""

    step = fields.String(required=True)
    role = fields.String(required=True)
    due_date = fields.Date(required=True)
    signal = fields.String(required=True, validate=validate.OneOf(SIGNALS), metadata=SIGNAL)


class WorkItem(ApplicationSummary):
    """A case in a list; on a department's worklist with the department's open task."""

    task = fields.Nested(
        DepartmentTask,
        required=True,
        allow_none=True,
        metadata={"description": "null: no open work of the department (or a citizen's list)"},
    )


class StepBranch(Schema):
    department_code = fields.String(required=True)
    role = fields.String(required=True)
    state = fields.String(required=True, validate=validate.OneOf(STEP_STATES))
    due_date = fields.Date(required=True, allow_none=True)
    signal = fields.String(
        required=True, allow_none=True, validate=validate.OneOf(SIGNALS), metadata=SIGNAL
    )
    decided_by = fields.String(required=True, allow_none=True)
    comment = fields.String(required=True, allow_none=True)


class AutoOutcome(Schema):
    outcome = fields.String(
        required=True, validate=validate.OneOf(("approved", "denied", "unavailable"))
    )
    failures = fields.List(
        fields.String(), required=True, metadata={"description": "each rule that did not hold"}
    )
    source = fields.String(metadata={"description": "the source that could not answer"})


class EvidenceOutcome(Schema):
    outcome = fields.String(
        required=True, validate=validate.OneOf(("covered", "not_covered", "unavailable"))
    )
    reason = fields.String(
        required=True, metadata={"description": "why a person checks; empty when covered"}
    )


class CoveredBy(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(("assessment", "licence")))
    id = fields.String(
        required=True, metadata={"description": "the assessment id or the licence number"}
    )
    title = fields.String(required=True)


class Step(Schema):
    """A step of the case's process as it runs: its state, department, due
    date and signal; a parallel step's branches; an auto step's outcome."""

    id = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(processes.KINDS))
    state = fields.String(required=True, validate=validate.OneOf(STEP_STATES))
    department_code = fields.String(required=True, allow_none=True)
    role = fields.String(required=True, allow_none=True)
    days = fields.Integer(required=True)
    started_on = fields.Date(required=True, allow_none=True)
    due_date = fields.Date(required=True, allow_none=True)
    finished_at = Instant(required=True, allow_none=True)
    signal = fields.String(
        required=True, allow_none=True, validate=validate.OneOf(SIGNALS), metadata=SIGNAL
    )
    join = fields.Raw(
        required=True,
        allow_none=True,
        # Null for a step that is not parallel; a Raw field's oneOf must say so.
        metadata={
            "oneOf": [*JOIN_SCHEMA["oneOf"], {"type": "null"}],
            "description": "a parallel step's join; null for any other step",
        },
    )
    branches = fields.List(fields.Nested(StepBranch), required=True)
    decided_by = fields.String(required=True, allow_none=True)
    comment = fields.String(required=True, allow_none=True)
    auto = fields.Nested(AutoOutcome, required=True, allow_none=True)
    evidence = fields.Nested(
        EvidenceOutcome,
        required=True,
        allow_none=True,
        metadata={"description": "an evidence step's lookup (null: none yet, or not one)"},
    )
    covered_by = fields.Nested(
        CoveredBy,
        required=True,
        allow_none=True,
        metadata={"description": "the report or licence that met an evidence step"},
    )


class AvailableAction(Schema):
    action = fields.String(
        required=True,
        validate=validate.OneOf(
            sorted(processes.STEP_ACTIONS)
            + [
                "withdraw",
                "supplement",
                "request_extension",
                "decide_extension",
                "suspend",
                "end_suspension",
                # The applicant pays at the cashier (the case's payment.pay_url).
                "pay",
            ]
            # After a failed EMS shipment (domain.delivery).
            + list(failed_shipments.ACTIONS)
        ),
    )
    step = fields.String(
        required=True, allow_none=True, metadata={"description": "null: the whole case"}
    )


class ClockState(Schema):
    running = fields.Boolean(required=True)
    stopped_on = fields.Date(required=True, allow_none=True)
    stopped_for = fields.String(
        required=True,
        allow_none=True,
        validate=validate.OneOf(
            ("supplement", "suspension", "payment", failed_shipments.CLOCK_STOPPED_FOR)
        ),
        metadata={
            "description": "payment: waiting for the applicant to pay; delivery: waiting"
            " for the applicant's choice after a failed materials pickup"
        },
    )


class ExtensionView(Schema):
    extension_id = fields.String(required=True)
    working_days = fields.Integer(required=True)
    reason = fields.String(required=True)
    state = fields.String(
        required=True, validate=validate.OneOf([str(state) for state in ExtensionState])
    )
    requested_by = fields.String(required=True)
    requested_at = Instant(required=True)
    decided_by = fields.String(required=True, allow_none=True)
    decided_at = Instant(required=True, allow_none=True)
    comment = fields.String(required=True)


class SuspensionView(Schema):
    suspension_id = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(SUSPENSION_KINDS))
    reason = fields.String(required=True)
    started_by = fields.String(required=True)
    started_at = Instant(required=True)
    ended_by = fields.String(required=True, allow_none=True)
    ended_at = Instant(required=True, allow_none=True)
    result = fields.String(required=True)
    working_days = fields.Integer(
        required=True, allow_none=True, metadata={"description": "the clock stood still so long"}
    )


class EscalationView(Schema):
    """Late work escalated (督办): the task of ``department_code`` at step
    ``step_id`` missed ``due_date`` and went to ``level``; open until the task
    is done or the case ends."""

    escalation_id = fields.String(required=True)
    step_id = fields.String(required=True)
    department_code = fields.String(required=True)
    level = fields.String(required=True, validate=validate.OneOf(ESCALATION_LEVELS))
    raised_at = Instant(required=True)
    due_date = fields.Date(required=True, metadata={"description": "the due date missed"})
    resolved_at = Instant(
        required=True,
        allow_none=True,
        metadata={"description": "null while the task is open and the case runs"},
    )


class ShipmentFailure(Schema):
    """The last EMS shipment of the case that failed, and what the applicant
    chose (null while the choice is awaited)."""

    direction = fields.String(required=True, validate=validate.OneOf(failed_shipments.DIRECTIONS))
    reason = fields.String(
        required=True,
        metadata={
            "description": "undeliverable, refused, lost, returned, other; ems_unavailable"
            " or ems_rejected when the order was never placed",
            "example": "refused",
        },
    )
    tracking_no = fields.String(
        required=True, allow_none=True, metadata={"description": "null: never placed"}
    )
    description = fields.String(required=True, metadata={"description": "EMS's own words"})
    failed_at = Instant(required=True)
    attempt = fields.Integer(required=True)
    choice = fields.String(
        required=True, allow_none=True, validate=validate.OneOf(failed_shipments.ALL_CHOICES)
    )


class Fee(Schema):
    name = fields.String(required=True)
    amount_fen = fields.Integer(required=True, metadata={"description": "fen (分), exact"})
    standard = fields.String(required=True)
    legal_basis = fields.String(required=True)
    waivable = fields.Boolean(required=True)


class FeeWaiverApplied(Schema):
    description = fields.String(required=True)
    waived_fen = fields.Integer(required=True)


class PaymentView(Schema):
    """The case's payment (网上支付): what is due and where to pay it.

    ordering: the order is being made; pending: pay at ``pay_url`` by
    ``due_on`` (the clock stands still meanwhile; unpaid by then, the case ends
    as withdrawn); paid; waived (nothing left to pay after the fee waiver);
    cancelling/cancelled: the case ended unpaid; refunding/refunded: the case
    ended without approval after it was paid."""

    state = fields.String(required=True, validate=validate.OneOf(payment_states.STATES))
    amount_fen = fields.Integer(
        required=True, metadata={"description": "fen (分) to pay, after any waiver"}
    )
    fees = fields.List(fields.Nested(Fee), required=True)
    waiver = fields.Nested(FeeWaiverApplied, required=True, allow_none=True)
    order_id = fields.String(required=True, allow_none=True)
    pay_url = fields.String(
        required=True, allow_none=True, metadata={"description": "the cashier's page"}
    )
    due_on = fields.Date(required=True, metadata={"description": "the last day to pay"})
    paid_at = Instant(required=True, allow_none=True)
    refunded_at = Instant(required=True, allow_none=True)


class PaymentNoticeBody(Schema):
    """The payment platform's notice that an order changed (HMAC-signed)."""

    event = fields.String(required=True, validate=validate.Length(min=1, max=64))
    order_id = _text(64)
    reference = _application_id()
    state = fields.String(required=True, validate=validate.Length(min=1, max=32))
    amount_fen = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=0, max=10**12)
    )
    occurred_at = fields.String(required=True, validate=validate.Length(max=64))


class RecordPayment(PaymentNoticeBody):
    """The notice as the gateway forwards it to the instance the reference names."""


class PaymentNoticeAnswer(Schema):
    status = fields.String(required=True, validate=validate.OneOf(("ok", "repeated", "ignored")))


class Application(ApplicationSummary):
    """A case with everything the applicant sent, its process as it runs, what
    the caller may do now, and its timeline."""

    joint_departments = fields.List(fields.String(), required=True)
    on_behalf_of = fields.Nested(MaskedPrincipal, required=True, allow_none=True)
    mandate_id = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "the mandate the agent applied under; null: none was needed"},
    )
    form = fields.Dict(keys=fields.String(), required=True)
    materials = fields.List(fields.Nested(Material), required=True)
    delivery = fields.Nested(Delivery, required=True)
    window = fields.Nested(
        Window, required=True, allow_none=True, metadata={"description": "null: the item has none"}
    )
    steps = fields.List(fields.Nested(Step), required=True)
    available_actions = fields.List(fields.Nested(AvailableAction), required=True)
    clock = fields.Nested(ClockState, required=True)
    missing_materials = fields.List(
        fields.String(), required=True, metadata={"description": "while a supplement is due"}
    )
    supplement_due = fields.Date(
        required=True, allow_none=True, metadata={"description": "the last day to supply"}
    )
    extensions = fields.List(fields.Nested(ExtensionView), required=True)
    suspensions = fields.List(fields.Nested(SuspensionView), required=True)
    escalations = fields.List(fields.Nested(EscalationView), required=True)
    timeline = fields.List(fields.Nested(TimelineEntry), required=True)
    payment = fields.Nested(
        PaymentView,
        required=True,
        allow_none=True,
        metadata={"description": "the payment of the item's fees (null: none is due)"},
    )
    shipment_failure = fields.Nested(
        ShipmentFailure,
        required=True,
        allow_none=True,
        attribute="shipping.shown",
        metadata={"description": "the last failed EMS shipment (null: none failed)"},
    )


class SuspensionStarted(Schema):
    """The suspension's id, and the case with its clock stopped."""

    suspension_id = fields.String(required=True)
    application = fields.Nested(Application, required=True)


# One page of cases (list_applications, worklist).
WorkItemPage = page_of(WorkItem)


class EscalationEntry(Schema):
    """An open escalation in a list: the case and its item, the late task
    (step and department), the level it went to and when, the due date it
    missed, and the task's signal today (measured on its due date as it
    stands, a stopped clock counted as restarting today)."""

    application_id = fields.String(required=True, metadata={"example": APPLICATION_ID_EXAMPLE})
    item_name = fields.String(required=True)
    step_id = fields.String(required=True)
    department_code = fields.String(required=True)
    level = fields.String(required=True, validate=validate.OneOf(ESCALATION_LEVELS))
    raised_at = Instant(required=True)
    due_date = fields.Date(required=True, metadata={"description": "the due date missed"})
    signal = fields.String(
        required=True,
        validate=validate.OneOf(SIGNALS),
        metadata={
            "description": "the task's today, on its due date as it stands (an extension may"
            " have moved it): green; yellow within 2 working days of it; red past it",
            "example": "red",
        },
    )


# One page of open escalations (list_escalations).
EscalationPage = page_of(EscalationEntry)


class Licence(Schema):
    """An electronic licence issued on one of my cases, or held by me."""

    licence_no = fields.String(required=True, metadata={"example": LICENCE_NO_EXAMPLE})
    application_id = fields.String(required=True)
    item_id = fields.String(required=True)
    item_name = fields.String(required=True)
    holder_masked = fields.String(required=True)
    issued_at = Instant(required=True)
    valid = fields.Boolean(required=True, metadata={"description": "false once revoked"})
    licence_type_code = fields.String(
        required=True, allow_none=True, metadata={"description": "null: issued before types"}
    )
    valid_from = fields.Date(required=True, allow_none=True)
    valid_to = fields.Date(required=True, allow_none=True, metadata={"description": "null: no end"})
    revoked_at = Instant(required=True, allow_none=True)


# Every licence of mine (list_licences).
LicenceList = collection_of(Licence)


CHECKS = ("signature", "register", "period", "revocation")


class LicenceChecks(Schema):
    """Each check's finding; the passing ones are valid, found, current and
    not_revoked."""

    signature = fields.String(
        required=True,
        validate=validate.OneOf(("valid", "invalid", "unknown_key")),
        metadata={"description": "invalid: the document was altered (or not signed by us)"},
    )
    register = fields.String(
        required=True,
        validate=validate.OneOf(("found", "unknown", "differs")),
        metadata={"description": "the issuer's register has the number (and this document)"},
    )
    period = fields.String(
        required=True, validate=validate.OneOf(("current", "not_yet_valid", "expired", "unknown"))
    )
    revocation = fields.String(
        required=True, validate=validate.OneOf(("not_revoked", "revoked", "unknown"))
    )


class LicenceTypeRef(Schema):
    code = fields.String(required=True, metadata={"example": "320000JSSCJG001"})
    name = fields.String(required=True)


class LicenceCheck(Schema):
    """Whether a licence is genuine and valid now: ``failed`` names each check
    that did not pass (signature, register, period, revocation); the register's
    particulars (holder masked) when the issuer knows the number, else null
    (null too when an older ``JS`` number, whose serial counted up, is checked
    by the number alone: the signed document shows them)."""

    licence_no = fields.String(required=True, metadata={"example": LICENCE_NO_EXAMPLE})
    valid = fields.Boolean(required=True)
    failed = fields.List(fields.String(validate=validate.OneOf(CHECKS)), required=True)
    checks = fields.Nested(LicenceChecks, required=True)
    holder_masked = fields.String(required=True, allow_none=True)
    item_name = fields.String(required=True, allow_none=True)
    licence_type = fields.Nested(LicenceTypeRef, required=True, allow_none=True)
    issuer_uscc = fields.String(required=True, allow_none=True)
    issued_at = Instant(required=True, allow_none=True)
    valid_from = fields.Date(required=True, allow_none=True)
    valid_to = fields.Date(required=True, allow_none=True, metadata={"description": "null: no end"})
    revoked_at = Instant(required=True, allow_none=True)
    revocation_reason = fields.String(required=True, allow_none=True)


class LicenceView(Schema):
    """A licence for its holder, the issuing department or an operator: the
    signed document and what its QR code holds (the public verify URL of the
    number: scanning it shows the issuer's answer as it stands)."""

    licence_no = fields.String(required=True, metadata={"example": LICENCE_NO_EXAMPLE})
    document = fields.Nested(LicenceDocument, required=True)
    qr_payload = fields.String(
        required=True,
        metadata={
            "example": "https://www.jszwfw.gov.cn/api/v1/licences/" + LICENCE_NO_EXAMPLE + "/verify"
        },
    )
    valid = fields.Boolean(required=True, metadata={"description": "false once revoked"})
    revoked_at = Instant(required=True, allow_none=True)
    revocation_reason = fields.String(required=True, allow_none=True)


class LicenceJwk(Schema):
    """A public licence key (RFC 8037 OKP, Ed25519)."""

    kty = fields.String(required=True, metadata={"example": "OKP"})
    crv = fields.String(required=True, metadata={"example": "Ed25519"})
    x = fields.String(required=True)
    kid = fields.String(required=True)
    use = fields.String(required=True, metadata={"example": "sig"})
    alg = fields.String(required=True, metadata={"example": "EdDSA"})


class LicenceJwks(Schema):
    """The keys that sign licences, of every workflow instance."""

    keys = fields.List(fields.Nested(LicenceJwk), required=True)


class HeldLicence(Schema):
    licence_no = fields.String(required=True)
    licence_type_code = fields.String(required=True, allow_none=True)
    name = fields.String(required=True)
    holder_id = fields.String(required=True)
    valid_to = fields.Date(required=True, allow_none=True)


class HeldLicenceAnswer(Schema):
    """The licence when it is valid and held, else null and why not."""

    licence = fields.Nested(HeldLicence, required=True, allow_none=True)
    problem = fields.String(required=True, allow_none=True)


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
    # Added later: an event sent before it (queued, or replayed from a dead
    # letter) has none, and its consumers must still take it.
    submitted_at = Instant(
        metadata={"description": "always sent now; absent from events sent before it was added"}
    )


class ApplicationAccepted(Schema):
    """``workflow.application_accepted``: the window took the case on (a clerk, or
    EMS delivering the materials); a supplement returns the case to the window,
    it does not accept it (``application_supplemented``)."""

    application_id = fields.String(required=True)
    accepted_at = Instant(required=True)


class ApplicationRejected(Schema):
    """``workflow.application_rejected``: the window refused the case (不予受理)."""

    application_id = fields.String(required=True)
    applicant_id = fields.String(required=True)
    comment = fields.String(required=True, validate=validate.Length(min=1))


class SupplementRequested(Schema):
    """``workflow.supplement_requested``: the applicant must add the materials
    named (``missing_materials`` and the ``comment``) by ``supplement_due``; the
    clock stands still meanwhile."""

    application_id = fields.String(required=True)
    comment = fields.String(required=True, validate=validate.Length(min=1))
    missing_materials = fields.List(fields.String(), required=True)
    supplement_due = fields.Date(required=True)


class ProcessPublished(Schema):
    """``workflow.process_published``: a new version of an item's process;
    applications from now on run it (open cases keep theirs)."""

    item_id = fields.String(required=True)
    version = fields.Integer(required=True)
    department_code = fields.String(required=True)


class ApplicationSupplemented(Schema):
    """``workflow.application_supplemented``: the applicant supplied the missing
    materials; the clock runs again, the promised due date now ``due_date``."""

    application_id = fields.String(required=True)
    supplied_at = Instant(required=True)
    due_date = fields.Date(required=True)


class ApplicationNotSupplemented(Schema):
    """``workflow.application_not_supplemented``: the applicant did not supply
    the missing materials by ``supplement_due``; the case ended."""

    application_id = fields.String(required=True)
    applicant_id = fields.String(required=True)
    supplement_due = fields.Date(required=True)


class AutoStepStarted(Schema):
    """``workflow.auto_step_started``: an auto step (即办) opened; the instance
    that owns the case decides it by its rules (workflow consumes this itself)."""

    application_id = fields.String(required=True)
    step_id = fields.String(required=True)


class ExtensionRequested(Schema):
    """``workflow.extension_requested``: an approver asked for more working days;
    the department admin of ``department_code`` decides."""

    application_id = fields.String(required=True)
    extension_id = fields.String(required=True)
    department_code = fields.String(required=True)
    working_days = fields.Integer(required=True)
    reason = fields.String(required=True)


class ExtensionDecided(Schema):
    """``workflow.extension_decided``: approved, the due dates moved to
    ``due_date`` and ``legal_due_date``; refused, they stay."""

    application_id = fields.String(required=True)
    extension_id = fields.String(required=True)
    approved = fields.Boolean(required=True)
    working_days = fields.Integer(required=True)
    due_date = fields.Date(required=True)
    legal_due_date = fields.Date(required=True)


class ApplicationSuspended(Schema):
    """``workflow.application_suspended``: a special procedure began; the clock stopped."""

    application_id = fields.String(required=True)
    suspension_id = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(SUSPENSION_KINDS))


class ApplicationResumed(Schema):
    """``workflow.application_resumed``: the special procedure ended; the due
    dates moved by the ``working_days`` it took."""

    application_id = fields.String(required=True)
    suspension_id = fields.String(required=True)
    working_days = fields.Integer(required=True)
    due_date = fields.Date(required=True)


class ApplicationApproved(Schema):
    """``workflow.application_approved``: the last step of the case's process approved."""

    application_id = fields.String(required=True)
    applicant_id = fields.String(required=True)
    item_id = fields.String(required=True)
    delivery = fields.Nested(Delivery, required=True)
    approved_at = Instant(required=True)


class ApplicationDenied(Schema):
    """``workflow.application_denied``: a step denied the case (a department, a
    join that can no longer be met, an instant decision's rules, each named in
    ``comment``); the case is closed."""

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


class LicenceRevoked(Schema):
    """``workflow.licence_revoked``: the issuing department revoked the licence;
    it fails verification from now on."""

    licence_no = fields.String(required=True)
    reason = fields.String(required=True)
    application_id = fields.String(required=True)
    department_code = fields.String(required=True, allow_none=True)
    revoked_at = Instant(required=True)


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


OUTCOMES = ("completed", "denied", "rejected", "not_supplemented", "withdrawn")


class ApplicationEnded(Schema):
    """``workflow.application_ended``: the case ended, whatever the ``outcome``;
    what evaluation (好差评) and the published case figures need of it.
    ``handled_by`` is the department that decided it (the denying department of
    a joint review, else the item's); ``on_time`` whether it was decided (or
    ended undecided) by its promised ``due_date``, a case whose clock stands
    still measured to the day it stopped; ``working_days`` the working
    days from submission to the decision, the days its clock stood still left
    out (null when nobody decided it: withdrawn, not supplemented)."""

    application_id = fields.String(required=True)
    applicant_id = fields.String(required=True)
    item_id = fields.String(required=True)
    item_name = fields.String(required=True)
    department_code = fields.String(required=True)
    handled_by = fields.String(required=True)
    region_code = fields.String(required=True)
    store_id = fields.String(required=True)
    mode = fields.String(required=True, validate=validate.OneOf(MODES))
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    submitted_at = Instant(required=True)
    ended_at = Instant(required=True)
    due_date = fields.Date(required=True)
    on_time = fields.Boolean(required=True)
    working_days = fields.Integer(required=True, allow_none=True, validate=validate.Range(min=0))
    principal_id = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "the person an agent applied for (may review it); else null"},
    )


class RedeliveryRequested(Schema):
    """``workflow.redelivery_requested``: after a failed EMS shipment the
    applicant asked for another; the courier books attempt ``attempt`` in
    ``direction``, from (materials) or to (result) ``address`` when given, else
    between the same ends as the failed one."""

    application_id = fields.String(required=True)
    direction = fields.String(required=True, validate=validate.OneOf(failed_shipments.DIRECTIONS))
    address = fields.Nested(Address, required=True, allow_none=True)
    attempt = fields.Integer(required=True, validate=validate.Range(min=2))


class CalendarLoaded(Schema):
    """``workflow.calendar_loaded``: an operator loaded or corrected ``year``
    of the working calendar (its public holidays and make-up working days);
    services that count working days keep their copy with it."""

    year = fields.Integer(required=True)
    holidays = fields.List(fields.Date(), required=True)
    workdays = fields.List(fields.Date(), required=True)


class ApplicationWithdrawn(Schema):
    """``workflow.application_withdrawn``: the applicant withdrew the case."""

    application_id = fields.String(required=True)


class CaseOverdue(Schema):
    """``workflow.case_overdue``: the case passed its due date unfinished
    (recorded once per case)."""

    application_id = fields.String(required=True)
    due_date = fields.Date(required=True)


class CaseEscalated(Schema):
    """``workflow.case_escalated``: late work was escalated (督办): the task of
    ``department_code`` at step ``step_id``, due ``due_date``, went to
    ``level`` (``dept_admin``: the department's admin, once a working day after
    the due date has begun with the clock running; ``operator``: still open
    ``ESCALATE_TO_OPERATOR_DAYS`` working days on). Once per task and level."""

    application_id = fields.String(required=True)
    step_id = fields.String(required=True)
    department_code = fields.String(required=True)
    level = fields.String(required=True, validate=validate.OneOf(ESCALATION_LEVELS))
    due_date = fields.Date(required=True)


class EvidenceStepStarted(Schema):
    """``workflow.evidence_step_started``: an assessment or licence step opened;
    the instance that owns the case looks for the evidence (workflow consumes
    this itself)."""

    application_id = fields.String(required=True)
    step_id = fields.String(required=True)


class PaymentStepStarted(Schema):
    """``workflow.payment_step_started``: a payment step opened; the instance
    that owns the case applies the fee waiver and orders the payment (workflow
    consumes this itself)."""

    application_id = fields.String(required=True)
    step_id = fields.String(required=True)


class PaymentSettlementDue(Schema):
    """``workflow.payment_settlement_due``: a case ended with an order to cancel
    or a payment to refund (workflow consumes this itself)."""

    application_id = fields.String(required=True)
    action = fields.String(required=True, validate=validate.OneOf(("cancel", "refund")))


class PaymentRequested(Schema):
    """``workflow.payment_requested``: the applicant is to pay ``amount_fen`` fen
    (after any fee waiver) for order ``order_id``."""

    application_id = fields.String(required=True)
    order_id = fields.String(required=True)
    amount_fen = fields.Integer(required=True)


class PaymentReceived(Schema):
    """``workflow.payment_received``: the payment platform reported the order paid."""

    application_id = fields.String(required=True)
    order_id = fields.String(required=True)
    amount_fen = fields.Integer(required=True)


class PaymentRefunded(Schema):
    """``workflow.payment_refunded``: a case that ended without approval (denied,
    rejected, withdrawn) after it was paid was refunded."""

    application_id = fields.String(required=True)
    order_id = fields.String(required=True)
    amount_fen = fields.Integer(required=True)


class PiiAccessed(Schema):
    """``workflow.pii_accessed``: a full ID number was read by someone other
    than its owner (a reviewer looking at a case's principal, an automatic
    decision on it). identity keeps the trail (``list_pii_access``)."""

    accessor_id = fields.String(required=True)
    accessor_kind = fields.String(required=True, validate=validate.OneOf(pii.ACCESSOR_KINDS))
    subject_id = fields.String(required=True)
    subject_kind = fields.String(required=True, validate=validate.OneOf(pii.SUBJECT_KINDS))
    purpose = fields.String(required=True, validate=validate.OneOf(pii.PURPOSES))
    service = fields.String(required=True)
    at = Instant(required=True)


EVENTS = {
    "application_submitted": ApplicationSubmitted,
    "application_accepted": ApplicationAccepted,
    "application_rejected": ApplicationRejected,
    "supplement_requested": SupplementRequested,
    "process_published": ProcessPublished,
    "application_supplemented": ApplicationSupplemented,
    "application_not_supplemented": ApplicationNotSupplemented,
    "auto_step_started": AutoStepStarted,
    "extension_requested": ExtensionRequested,
    "extension_decided": ExtensionDecided,
    "application_suspended": ApplicationSuspended,
    "application_resumed": ApplicationResumed,
    "application_approved": ApplicationApproved,
    "application_denied": ApplicationDenied,
    "licence_issued": LicenceIssued,
    "licence_revoked": LicenceRevoked,
    "application_completed": ApplicationCompleted,
    "application_ended": ApplicationEnded,
    "application_withdrawn": ApplicationWithdrawn,
    "case_overdue": CaseOverdue,
    "case_escalated": CaseEscalated,
    "calendar_loaded": CalendarLoaded,
    "evidence_step_started": EvidenceStepStarted,
    "payment_step_started": PaymentStepStarted,
    "payment_settlement_due": PaymentSettlementDue,
    "payment_requested": PaymentRequested,
    "payment_received": PaymentReceived,
    "payment_refunded": PaymentRefunded,
    "redelivery_requested": RedeliveryRequested,
    "pii_accessed": PiiAccessed,
}
