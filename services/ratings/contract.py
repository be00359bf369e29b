"""The ratings service's wire contract: its RPC requests and responses, and the
payloads of the events it publishes on ``ratings.events``.

The gateway's routes take their bodies, queries and answers from here, so the
HTTP API and the RPC agree by construction (conventions:
``services.common.schemas``). Each answer is exactly the HTTP answer. The
schemas check the shape of each field; the domain checks the rules again
(grade, comment, who may act) and names the field it refuses.
"""

from marshmallow import Schema, ValidationError, fields, pre_dump, validate, validates_schema

from services.common.schemas import (
    ActorSchema,
    Boolean,
    FullMatch,
    Instant,
    PageQuery,
    page_of,
)
from services.ratings.domain.model import (
    APPEAL_STATES,
    CHANNELS,
    CODE_MAX_LENGTH,
    GRADE_MESSAGE,
    ID_MAX_LENGTH,
    INDICATORS,
    MAX_COMMENT_LENGTH,
    MAX_GRADE,
    MIN_GRADE,
    ONLINE_CHANNELS,
    ONLINE_INDICATORS,
    ONSITE_INDICATORS,
    PHONE_MESSAGE,
    PHONE_PATTERN,
    REGION_CODE_MAX_LENGTH,
    TOKEN_MAX_LENGTH,
    VISIT_CHANNELS,
)
from services.ratings.domain.rectification import (
    DECISIONS,
    DEFAULT_DEADLINE_WORKING_DAYS,
    ESCALATION_LEVELS,
    LAST_ROUND,
    MAX_DEADLINE_WORKING_DAYS,
    MAX_TEXT_LENGTH,
    OUTCOMES,
    STATES,
)
from services.workflow import contract as workflow

NOT_BLANK = validate.Regexp(r"^\s*\S", error="must not be blank")
# Department codes as workflow names them (the case data counts its events).
DEPARTMENT_CODE_MAX_LENGTH = 64

# --- fields -----------------------------------------------------------------


class Grade(fields.Integer):
    """1..5 as a JSON integer: not "5", 4.5, 4.0 or true."""

    default_error_messages = {"invalid": GRADE_MESSAGE}

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "metadata", {"description": "1 (very dissatisfied) .. 5 (very satisfied)"}
        )
        super().__init__(
            strict=True,
            validate=validate.Range(MIN_GRADE, MAX_GRADE, error=GRADE_MESSAGE),
            **kwargs,
        )


def _identifier(**kwargs) -> fields.String:
    return fields.String(required=True, validate=validate.Length(1, ID_MAX_LENGTH), **kwargs)


def _comment(example: str, **kwargs) -> fields.String:
    """A comment, its length counted as sent (the domain then strips surrounding
    white space)."""
    return fields.String(metadata={"example": example}, **kwargs)


# --- requests ---------------------------------------------------------------


class Flag(fields.Boolean):
    """true or false: a JSON boolean, or that text in a query string; nothing
    else (marshmallow's own takes ``1`` and ``"yes"``)."""

    default_error_messages = {"invalid": "must be true or false"}

    def _deserialize(self, value, attr, data, **kwargs):
        if value in ("true", "false"):
            return value == "true"
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


def _sub_grades(class_name: str, names: tuple[str, ...], doc: str) -> type[Schema]:
    """A schema of sub-grades ``names``: each optional, 1..5; any other name is
    refused (``indicators.<name>``)."""
    return type(
        class_name,
        (Schema,),
        {"__module__": __name__, "__doc__": doc, **{name: Grade() for name in names}},
    )


OnlineIndicators = _sub_grades(
    "OnlineIndicators",
    ONLINE_INDICATORS,
    "Sub-grades of an online review of a case, each 1..5, any of them given.",
)
OnsiteIndicators = _sub_grades(
    "OnsiteIndicators",
    ONSITE_INDICATORS,
    "Sub-grades of the review of a window visit, each 1..5, any of them given.",
)


def _indicators(schema: type[Schema]) -> fields.Nested:
    return fields.Nested(schema, load_default=dict, allow_none=True)


def _text(example: str) -> fields.String:
    """A required text of 1..500 characters, not blank (the domain strips it)."""
    return fields.String(
        required=True,
        validate=[validate.Length(1, MAX_COMMENT_LENGTH), NOT_BLANK],
        metadata={"example": example},
    )


class SubmitReviewBody(Schema):
    """POST /api/v1/applications/{application_id}/review: the applicant (or
    whom the case was for) reviews an ended case, online."""

    grade = Grade(required=True)
    comment = _comment(
        "办事很快", load_default="", validate=validate.Length(max=MAX_COMMENT_LENGTH)
    )
    channel = fields.String(
        load_default="web",
        validate=validate.OneOf(ONLINE_CHANNELS),
        metadata={"description": "web portal or mobile app"},
    )
    indicators = _indicators(OnlineIndicators)


class SubmitReview(SubmitReviewBody):
    actor = fields.Nested(ActorSchema, required=True)
    application_id = _identifier()


class RecordVisitBody(Schema):
    """POST /api/v1/visits: a window clerk records a citizen served at the
    window (一次一评); with ``phone`` the rating link is sent by SMS."""

    item_id = _identifier(metadata={"example": "320000-JSSCJG-001"})
    phone = fields.String(
        load_default=None,
        allow_none=True,
        validate=FullMatch(f"^{PHONE_PATTERN}$", error=PHONE_MESSAGE),
        metadata={"example": "13800000001", "description": "mainland mobile; kept masked"},
    )


class RecordVisit(RecordVisitBody):
    actor = fields.Nested(ActorSchema, required=True)


class ReviewVisitBody(Schema):
    """POST /api/v1/visits/review: the citizen rates a window visit with its
    one-time token, anonymously (at the window's terminal, or from the SMS link)."""

    token = fields.String(
        required=True,
        validate=validate.Length(1, TOKEN_MAX_LENGTH),
        metadata={"description": "the visit's one-time rating token"},
    )
    grade = Grade(required=True)
    comment = _comment(
        "窗口人员很耐心", load_default="", validate=validate.Length(max=MAX_COMMENT_LENGTH)
    )
    channel = fields.String(
        required=True,
        validate=validate.OneOf(VISIT_CHANNELS),
        metadata={"description": "window: the rating terminal; sms: the link sent by SMS"},
    )
    indicators = _indicators(OnsiteIndicators)


class ReviewVisit(ReviewVisitBody):
    """Anonymous: the token is the authority, no actor."""


class ListStoreReviewsQuery(PageQuery):
    """GET /api/v1/stores/{store_id}/reviews."""


class ListStoreReviews(ListStoreReviewsQuery):
    store_id = _identifier()


class ListReviewsQuery(PageQuery):
    """GET /api/v1/reviews?department=&appealed=: reviews for staff, newest
    first; staff see their department's, an operator all or ``department``'s."""

    department = fields.String(
        validate=validate.Length(1, CODE_MAX_LENGTH), metadata={"example": "320100-MSA"}
    )
    appealed = Flag(metadata={"description": "true: with an appeal; false: without"})


class ListReviews(ListReviewsQuery):
    actor = fields.Nested(ActorSchema, required=True)


class ReplyBody(Schema):
    """POST /api/v1/reviews/{review_id}/reply: the department's public answer, once."""

    reply = _text("感谢您的评价，我们已改进窗口引导")


class Reply(ReplyBody):
    actor = fields.Nested(ActorSchema, required=True)
    review_id = _identifier()


class AppealBody(Schema):
    """POST /api/v1/reviews/{review_id}/appeal: the department admin asks the
    operator to exclude a review (申诉), once per review."""

    reason = _text("评价内容与所办事项无关")


class FileAppeal(AppealBody):
    actor = fields.Nested(ActorSchema, required=True)
    review_id = _identifier()


class AppealDecisionBody(Schema):
    """POST /api/v1/appeals/{appeal_id}/decision: the operator upholds the
    appeal (the review is excluded) or rejects it (复核)."""

    uphold = Boolean(required=True)
    comment = _text("经核实，评价与办件无关，予以剔除")


class DecideAppeal(AppealDecisionBody):
    actor = fields.Nested(ActorSchema, required=True)
    appeal_id = _identifier()


class ListAppealsQuery(PageQuery):
    """GET /api/v1/appeals?state=: an operator's all, a department admin's their
    department's; pending first (oldest first), then decided (latest first)."""

    state = fields.String(validate=validate.OneOf(APPEAL_STATES))


class ListAppeals(ListAppealsQuery):
    actor = fields.Nested(ActorSchema, required=True)


class _Period(Schema):
    """``from`` and ``to``: China days, both inclusive, either left out for an
    open end; ``to`` may not be before ``from``."""

    from_ = fields.Date(
        data_key="from",
        metadata={"description": "first day (China Standard Time)", "example": "2026-11-01"},
    )
    to = fields.Date(
        metadata={"description": "last day (China Standard Time)", "example": "2026-11-30"}
    )

    @validates_schema
    def _to_not_before_from(self, data, **kwargs):
        if data.get("from_") and data.get("to") and data["to"] < data["from_"]:
            raise ValidationError("must not be before from", "to")


def _code_filter(longest: int, example: str) -> fields.String:
    return fields.String(validate=validate.Length(1, longest), metadata={"example": example})


class StatsQuery(_Period):
    """GET /api/v1/stats/ratings. Each filter is optional; when given it is a
    code (``?region=`` is refused, not read as no filter) or a day."""

    store = _code_filter(ID_MAX_LENGTH, "store-320100-msa")
    department = _code_filter(DEPARTMENT_CODE_MAX_LENGTH, "320100-MSA")
    region = _code_filter(REGION_CODE_MAX_LENGTH, "320102")
    item = _code_filter(ID_MAX_LENGTH, "item-food-licence")


class CaseStatsQuery(_Period):
    """GET /api/v1/stats/cases. Each filter is optional; when given it is a code
    or a day."""

    region = _code_filter(REGION_CODE_MAX_LENGTH, "320102")
    department = _code_filter(DEPARTMENT_CODE_MAX_LENGTH, "320100-MSA")
    item = _code_filter(ID_MAX_LENGTH, "item-food-licence")


# --- rectifications (差评整改) -----------------------------------------------


class ListRectificationsQuery(PageQuery):
    """GET /api/v1/rectifications?state=&level=: staff see their department's,
    an operator every department's. Open ones first, the earliest due first."""

    state = fields.String(
        validate=validate.OneOf(STATES), metadata={"example": "awaiting_verification"}
    )
    level = fields.String(
        validate=validate.OneOf(ESCALATION_LEVELS),
        metadata={
            "description": "only those escalated to this level in their current round",
            "example": "dept_admin",
        },
    )


class ListRectifications(ListRectificationsQuery):
    actor = fields.Nested(ActorSchema, required=True)


class GetRectification(Schema):
    """GET /api/v1/rectifications/{rectification_id}."""

    actor = fields.Nested(ActorSchema, required=True)
    rectification_id = _identifier()


class VerifyBody(Schema):
    """POST /api/v1/rectifications/{rectification_id}/verify: the department's
    verification (核实), within one working day of the bad review.
    ``immediate``: fixed at once (the plan says how), resolved with it;
    ``deadline``: a plan due ``working_days`` working days on;
    ``explain``: no basis in law or policy, the plan is the explanation."""

    decision = fields.String(
        required=True, validate=validate.OneOf(DECISIONS), metadata={"example": "deadline"}
    )
    plan = _comment(
        "三个工作日内补齐窗口指引并培训窗口人员",
        required=True,
        validate=[validate.Length(1, MAX_TEXT_LENGTH), NOT_BLANK],
    )
    working_days = fields.Integer(
        strict=True,
        allow_none=True,
        load_default=None,
        validate=validate.Range(1, MAX_DEADLINE_WORKING_DAYS),
        metadata={
            "description": (
                f"a deadline's working days ({DEFAULT_DEADLINE_WORKING_DAYS} when not given);"
                " only a deadline takes them"
            ),
            "example": 10,
        },
    )


class Verify(VerifyBody):
    actor = fields.Nested(ActorSchema, required=True)
    rectification_id = _identifier()


class ResolveBody(Schema):
    """POST /api/v1/rectifications/{rectification_id}/resolve: the fix of a
    verified rectification. Required, except after ``explain``: left out, the
    explanation is the answer."""

    comment = _comment(
        "已补齐窗口指引，窗口人员已培训",
        load_default=None,
        validate=[validate.Length(1, MAX_TEXT_LENGTH), NOT_BLANK],
    )


class Resolve(ResolveBody):
    actor = fields.Nested(ActorSchema, required=True)
    rectification_id = _identifier()


class ReturnVisitBody(Schema):
    """POST /api/v1/rectifications/{rectification_id}/return-visit: a call
    back to the citizen (回访) about a resolved rectification. Reached and
    satisfied closes it; reached and unsatisfied reopens it once (then closes
    it); the third unreachable call of a round closes it."""

    reached = Boolean(required=True)
    satisfied = Boolean(
        allow_none=True,
        load_default=None,
        metadata={"description": "true or false when reached; null when not"},
    )
    comment = _comment(
        "已电话回访，群众表示满意",
        load_default="",
        validate=validate.Length(max=MAX_TEXT_LENGTH),
    )


class ReturnVisit(ReturnVisitBody):
    actor = fields.Nested(ActorSchema, required=True)
    rectification_id = _identifier()


# --- responses --------------------------------------------------------------


class ReviewId(Schema):
    review_id = fields.String(required=True)


class Rating(Schema):
    """A summary; ``praise_rate`` and ``average_grade`` are null when there are
    no reviews (no rate is not a rate of 0)."""

    reviews = fields.Integer(required=True, validate=validate.Range(min=0))
    praise_rate = fields.Float(
        required=True,
        allow_none=True,
        validate=validate.Range(0, 1),
        metadata={"description": "share of grades 4 and 5, 0..1", "example": 0.6667},
    )
    average_grade = fields.Float(
        required=True,
        allow_none=True,
        validate=validate.Range(MIN_GRADE, MAX_GRADE),
        metadata={"example": 4.25},
    )


def _sub_grades_view() -> fields.Dict:
    return fields.Dict(
        keys=fields.String(validate=validate.OneOf(INDICATORS)),
        values=Grade(),
        required=True,
        metadata={"description": "sub-grades given, by name", "example": {"efficiency": 5}},
    )


def _reviewer() -> fields.String:
    return fields.String(
        required=True,
        attribute="reviewer_name",
        metadata={"description": "masked (张*); 匿名 for a window visit", "example": "张*"},
    )


class PublicReview(Schema):
    """A review as anyone may see it, with the department's public reply: the
    reviewer masked, no account, no case or visit."""

    review_id = fields.String(required=True)
    reviewer = _reviewer()
    grade = Grade(required=True)
    comment = fields.String(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    indicators = _sub_grades_view()
    item_id = fields.String(required=True)
    item_name = fields.String(required=True)
    submitted_at = Instant(required=True)
    reply = fields.String(required=True, allow_none=True)
    replied_at = Instant(required=True, allow_none=True)


class ReviewView(Schema):
    """A review as the department's staff and the operator see it: the whole
    record, excluded or not, with its reply and the state of its appeal."""

    review_id = fields.String(required=True)
    application_id = fields.String(required=True, allow_none=True)
    visit_id = fields.String(required=True, allow_none=True)
    store_id = fields.String(required=True)
    department_code = fields.String(required=True, metadata={"description": "the item's"})
    handled_by = fields.String(
        required=True, metadata={"description": "the department that answers for it"}
    )
    region_code = fields.String(required=True)
    item_id = fields.String(required=True)
    item_name = fields.String(required=True)
    reviewer = _reviewer()
    real_name = fields.Boolean(required=True)
    grade = Grade(required=True)
    comment = fields.String(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    indicators = _sub_grades_view()
    submitted_at = Instant(required=True)
    excluded = fields.Boolean(
        required=True, metadata={"description": "an upheld appeal took it out of every rate"}
    )
    reply = fields.String(required=True, allow_none=True)
    replied_at = Instant(required=True, allow_none=True)
    replied_by = fields.String(required=True, allow_none=True)
    appeal_state = fields.String(
        required=True,
        allow_none=True,
        validate=validate.OneOf(APPEAL_STATES),
        metadata={"description": "null: never appealed"},
    )


ReviewPage = page_of(ReviewView)


class VisitRecorded(Schema):
    """A recorded visit: its one-time rating token, for the window's terminal
    (shown once, never again), valid until ``expires_at``."""

    visit_id = fields.String(required=True)
    token = fields.String(required=True)
    expires_at = Instant(required=True)


class AppealId(Schema):
    appeal_id = fields.String(required=True)


class Appeal(Schema):
    """A department's appeal of a review (申诉) and the operator's decision
    (复核), with the review."""

    appeal_id = fields.String(required=True)
    review_id = fields.String(required=True)
    department_code = fields.String(required=True)
    reason = fields.String(required=True)
    state = fields.String(required=True, validate=validate.OneOf(APPEAL_STATES))
    filed_by = fields.String(required=True)
    filed_at = Instant(required=True)
    decided_by = fields.String(required=True, allow_none=True)
    decided_at = Instant(required=True, allow_none=True)
    decision_comment = fields.String(required=True, allow_none=True)
    review = fields.Nested(ReviewView, required=True)

    @pre_dump
    def _flatten(self, view, **kwargs):
        appeal = view.appeal
        flat = {name: getattr(appeal, name) for name in self.fields if name != "review"}
        return {**flat, "review": view.review}


AppealPage = page_of(Appeal)


def _share(description: str, example: float | None = None, **kwargs) -> fields.Float:
    """A rate 0..1 (4 places, rounded half up); null when its denominator is 0."""
    metadata = {"description": description}
    if example is not None:
        metadata["example"] = example
    return fields.Float(required=True, allow_none=True, metadata=metadata, **kwargs)


def _count(description: str) -> fields.Integer:
    return fields.Integer(
        required=True, validate=validate.Range(min=0), metadata={"description": description}
    )


class Indicators(Rating):
    """The published indicators (GB/T 39735) of the reviews and evaluable
    services selected: counts, and the rates made of them (null when their
    denominator is 0; shares 0..1 to 4 places, averages to 2, rounded half up).
    A review excluded by an upheld appeal counts nowhere."""

    evaluable = _count(
        "cases that ended completed, denied or rejected, and window visits: each may be rated"
    )
    praise = _count("reviews graded 4 or 5")
    bad = _count("reviews graded 1 or 2")
    rectified = _count("bad reviews whose rectification was resolved")
    real_name_bad = _count("bad reviews whose reviewer's real name is known")
    called_back = _count("real-name bad reviews whose reviewer a return visit reached")
    evaluation_rate = _share(
        "reviews / evaluable; reviews count on the day they were made and cases on the"
        " day they ended, so over a short period it may pass 1",
        0.4321,
        validate=validate.Range(min=0),
    )
    bad_rate = _share("bad / reviews", 0.0123, validate=validate.Range(0, 1))
    rectification_rate = _share("rectified / bad", 0.95, validate=validate.Range(0, 1))
    callback_rate = _share("called_back / real_name_bad", 0.9, validate=validate.Range(0, 1))
    sub_grades = fields.Dict(
        keys=fields.String(),
        values=fields.Float(validate=validate.Range(MIN_GRADE, MAX_GRADE)),
        required=True,
        metadata={
            "description": "the average of each sub-grade given (efficiency, attitude, ...)",
            "example": {"efficiency": 4.5, "attitude": 4.75},
        },
    )


class StoreReviews(page_of(PublicReview)):
    """One page of a flagship store's public board, newest first (reviews
    excluded by an upheld appeal left out), and the store's published
    indicators over all time."""

    summary = fields.Nested(Indicators, required=True)


class StoreRating(Schema):
    store_id = fields.String(required=True)
    rating = fields.Nested(Indicators, required=True)


class EscalationCounts(Schema):
    """How many times late work was escalated (督办), per level: to the
    department's admin, and later to the operator (workflow's
    ``case_escalated``)."""

    dept_admin = fields.Integer(required=True, validate=validate.Range(min=0))
    operator = fields.Integer(required=True, validate=validate.Range(min=0))


ESCALATIONS_BY_REGION = (
    "null when a filter other than department is given (store, region, item, from, to):"
    " an escalation names only a department, and no day"
)


class DepartmentRating(Schema):
    department_code = fields.String(required=True)
    rating = fields.Nested(Indicators, required=True)
    escalations = fields.Nested(
        EscalationCounts,
        required=True,
        allow_none=True,
        metadata={"description": ESCALATIONS_BY_REGION},
    )


class ItemRating(Schema):
    item_id = fields.String(required=True)
    item_name = fields.String(required=True)
    rating = fields.Nested(Indicators, required=True)


class RegionRating(Schema):
    region_code = fields.String(required=True)
    rating = fields.Nested(Indicators, required=True)


class RatingStats(Schema):
    """The published indicators overall and per store, department, item and
    region, of the reviews and evaluable services the filters select (each
    echoed; null: not filtered), and how often late work was escalated,
    overall and per department (the department filter applies; with any other
    filter they are null). Without such a filter, ``departments`` lists every
    department with a count or an escalation."""

    store = fields.String(required=True, allow_none=True)
    department = fields.String(required=True, allow_none=True)
    region = fields.String(required=True, allow_none=True)
    item = fields.String(required=True, allow_none=True)
    from_ = fields.Date(data_key="from", required=True, allow_none=True)
    to = fields.Date(required=True, allow_none=True)
    overall = fields.Nested(Indicators, required=True)
    escalations = fields.Nested(
        EscalationCounts,
        required=True,
        allow_none=True,
        metadata={"description": ESCALATIONS_BY_REGION},
    )
    stores = fields.List(fields.Nested(StoreRating), required=True)
    departments = fields.List(fields.Nested(DepartmentRating), required=True)
    items = fields.List(fields.Nested(ItemRating), required=True)
    regions = fields.List(fields.Nested(RegionRating), required=True)


class CaseStats(Schema):
    """The live case data of the cases the filters select (each echoed; null:
    not filtered), counted on the day each fact happened: submitted, accepted,
    ended (completed, denied, rejected, not supplemented, withdrawn), found
    overdue, sent by EMS. Rates are null when their denominator is 0."""

    region = fields.String(required=True, allow_none=True)
    department = fields.String(required=True, allow_none=True)
    item = fields.String(required=True, allow_none=True)
    from_ = fields.Date(data_key="from", required=True, allow_none=True)
    to = fields.Date(required=True, allow_none=True)
    submitted = _count("cases submitted")
    accepted = _count("cases the window accepted")
    completed = _count("cases completed (the applicant has the result)")
    completed_on_time = _count("completed cases decided by their promised due date")
    on_time_rate = _share("completed_on_time / completed", 0.9876, validate=validate.Range(0, 1))
    denied = _count("cases denied (不予许可)")
    rejected = _count("cases the window refused (不予受理)")
    not_supplemented = _count("cases that ended because the materials were not supplemented")
    withdrawn = _count("cases the applicant withdrew")
    overdue = _count("cases found past their due date unfinished")
    ems = _count("cases whose materials or result went by EMS")
    by_mode = fields.Dict(
        keys=fields.String(validate=validate.OneOf(workflow.MODES)),
        values=fields.Integer(validate=validate.Range(min=0)),
        required=True,
        metadata={
            "description": "cases submitted per delivery mode (every mode named)",
            "example": {"online": 120, "express": 30, "window": 50},
        },
    )
    ems_share = _share("ems / submitted", 0.15, validate=validate.Range(min=0))
    average_working_days = fields.Float(
        required=True,
        allow_none=True,
        validate=validate.Range(min=0),
        metadata={
            "description": "working days a completed case took, on average (clock stops"
            " excluded); null when none was completed",
            "example": 3.25,
        },
    )

    @pre_dump
    def _every_mode(self, stats, **kwargs):
        by_mode = dict.fromkeys(workflow.MODES, 0)
        by_mode.update(stats.get("by_mode") or {})
        return {**stats, "by_mode": by_mode}


class LiveCaseTotals(Schema):
    """The province's case measures the live feed shows."""

    submitted = fields.Integer(required=True, validate=validate.Range(min=0))
    accepted = fields.Integer(required=True, validate=validate.Range(min=0))
    completed = fields.Integer(required=True, validate=validate.Range(min=0))
    completed_on_time = fields.Integer(required=True, validate=validate.Range(min=0))
    overdue = fields.Integer(required=True, validate=validate.Range(min=0))
    denied = fields.Integer(required=True, validate=validate.Range(min=0))
    rejected = fields.Integer(required=True, validate=validate.Range(min=0))
    ems = fields.Integer(required=True, validate=validate.Range(min=0))


class ReturnVisitEntry(Schema):
    """One call back to the citizen (回访), in ``round``."""

    round = fields.Integer(required=True, validate=validate.Range(1, LAST_ROUND))
    reached = fields.Boolean(required=True)
    satisfied = fields.Boolean(required=True, allow_none=True)
    comment = fields.String(required=True)
    recorded_at = Instant(required=True)


class RectificationEscalation(Schema):
    """Late work of ``round`` brought to ``level`` (督办): ``due_date`` was missed."""

    level = fields.String(required=True, validate=validate.OneOf(ESCALATION_LEVELS))
    round = fields.Integer(required=True, validate=validate.Range(1, LAST_ROUND))
    due_date = fields.Date(required=True, metadata={"description": "China Standard Time"})
    escalated_at = Instant(required=True)


CST = {"description": "China Standard Time"}


class Rectification(Schema):
    """A department's duty to answer a bad review (差评整改), with the review.

    ``state``: awaiting_verification (due ``verify_due``, a working day after
    it opened or was reopened) -> verified (due ``due_date``) -> resolved ->
    closed after the return visit (``outcome`` satisfied, closed_after_reopen or
    unreachable), or back to awaiting_verification as ``round`` 2 when the
    citizen is not satisfied; closed_for_appeal (outcome appeal_upheld) from
    any open state. The decision, plan, due date, verification and resolution
    are the current round's. ``overdue``: a working day after its current due
    date has begun. ``application_id`` or ``visit_id``: what was reviewed."""

    rectification_id = fields.String(required=True)
    review_id = fields.String(required=True)
    application_id = fields.String(required=True, allow_none=True)
    visit_id = fields.String(required=True, allow_none=True)
    department_code = fields.String(
        required=True, metadata={"description": "the department that handled it"}
    )
    grade = Grade(required=True)
    review_comment = fields.String(required=True)
    item_id = fields.String(required=True)
    item_name = fields.String(required=True)
    store_id = fields.String(required=True)
    submitted_at = Instant(required=True, metadata={"description": "when the review was made"})
    state = fields.String(required=True, validate=validate.OneOf(STATES))
    round = fields.Integer(required=True, validate=validate.Range(1, LAST_ROUND))
    opened_at = Instant(required=True)
    verify_due = fields.Date(required=True, metadata=CST)
    decision = fields.String(required=True, allow_none=True, validate=validate.OneOf(DECISIONS))
    plan = fields.String(required=True, allow_none=True)
    working_days = fields.Integer(
        required=True, allow_none=True, validate=validate.Range(1, MAX_DEADLINE_WORKING_DAYS)
    )
    due_date = fields.Date(required=True, allow_none=True, metadata=CST)
    verified_at = Instant(required=True, allow_none=True)
    verified_by = fields.String(required=True, allow_none=True)
    resolved_at = Instant(required=True, allow_none=True)
    resolved_by = fields.String(required=True, allow_none=True)
    resolution_comment = fields.String(required=True, allow_none=True)
    overdue = fields.Boolean(required=True)
    return_visits = fields.List(fields.Nested(ReturnVisitEntry), required=True)
    escalations = fields.List(fields.Nested(RectificationEscalation), required=True)
    closed_at = Instant(required=True, allow_none=True)
    outcome = fields.String(required=True, allow_none=True, validate=validate.OneOf(OUTCOMES))


RectificationPage = page_of(Rectification)


# --- events -----------------------------------------------------------------


_SINCE_VISITS = "always sent; absent only from events sent before visits were rated"


class ReviewSubmitted(Schema):
    """Payload of ``ratings.review_submitted``: a review of an ended case
    (``application_id``) or of a window visit (``visit_id``); the indicators
    count it. ``department_code`` is the item's department."""

    review_id = fields.String(required=True)
    application_id = fields.String(required=True, allow_none=True)
    visit_id = fields.String(
        load_default=None, allow_none=True, metadata={"description": _SINCE_VISITS}
    )
    store_id = fields.String(required=True)
    department_code = fields.String(required=True)
    region_code = fields.String(required=True)
    item_id = fields.String(required=True)
    item_name = fields.String(load_default="", metadata={"description": _SINCE_VISITS})
    grade = Grade(required=True)
    channel = fields.String(
        load_default="web",
        validate=validate.OneOf(CHANNELS),
        metadata={"description": _SINCE_VISITS},
    )
    real_name = fields.Boolean(
        load_default=False,
        metadata={
            "description": "the reviewer's real name is verified, or the visit's phone"
            " is known; " + _SINCE_VISITS
        },
    )
    indicators = fields.Dict(
        keys=fields.String(validate=validate.OneOf(INDICATORS)),
        values=Grade(),
        load_default=dict,
        metadata={"description": "sub-grades by name, maybe none; " + _SINCE_VISITS},
    )
    submitted_at = Instant(required=True)


class VisitRecordedEvent(Schema):
    """Payload of ``ratings.visit_recorded``: a window visit that may be rated
    (一次一评). No phone, no token."""

    visit_id = fields.String(required=True)
    store_id = fields.String(required=True)
    department_code = fields.String(required=True)
    region_code = fields.String(required=True)
    item_id = fields.String(required=True)
    item_name = fields.String(required=True)
    recorded_at = Instant(required=True)


class ReviewReplied(Schema):
    """Payload of ``ratings.review_replied``: the department that handled the
    review answered it in public."""

    review_id = fields.String(required=True)
    store_id = fields.String(required=True, metadata={"description": "whose board shows the reply"})
    department_code = fields.String(required=True)
    replied_at = Instant(required=True)


class AppealFiled(Schema):
    """Payload of ``ratings.appeal_filed``: the department that handled the
    review appealed it to the operator."""

    appeal_id = fields.String(required=True)
    review_id = fields.String(required=True)
    department_code = fields.String(required=True)
    filed_at = Instant(required=True)


class AppealDecided(Schema):
    """Payload of ``ratings.appeal_decided``. Upheld: the review is excluded
    from every rate (kept in the record)."""

    appeal_id = fields.String(required=True)
    review_id = fields.String(required=True)
    upheld = fields.Boolean(required=True)
    decided_at = Instant(required=True)


class BadReviewFlagged(Schema):
    """Payload of ``ratings.bad_review_flagged`` (grade 1 or 2): a rectification
    opened for ``department_code`` (the department that handled the case or
    the visit) to verify by ``verify_due``; ``application_id`` null for a
    review of a window visit."""

    review_id = fields.String(required=True)
    rectification_id = fields.String(required=True)
    application_id = fields.String(required=True, allow_none=True)
    department_code = fields.String(required=True)
    grade = Grade(required=True)
    verify_due = fields.Date(required=True, metadata=CST)


class RectificationVerified(Schema):
    """Payload of ``ratings.rectification_verified``: the department verified
    the bad review and answers it by ``due_date``."""

    rectification_id = fields.String(required=True)
    review_id = fields.String(required=True)
    department_code = fields.String(required=True)
    decision = fields.String(required=True, validate=validate.OneOf(DECISIONS))
    due_date = fields.Date(required=True, metadata=CST)
    verified_at = Instant(required=True)


class RectificationResolved(Schema):
    """Payload of ``ratings.rectification_resolved``: in ``round`` 1, or 2
    after a reopening; ``application_id`` null for a review of a window visit."""

    rectification_id = fields.String(required=True)
    review_id = fields.String(required=True)
    application_id = fields.String(required=True, allow_none=True)
    department_code = fields.String(required=True)
    resolved_by = fields.String(required=True)
    resolved_at = Instant(required=True)
    round = fields.Integer(required=True, validate=validate.Range(1, LAST_ROUND))


class ReturnVisitRecorded(Schema):
    """Payload of ``ratings.return_visit_recorded``: a call back to the citizen
    (回访); ``satisfied`` null when not reached; ``reopened`` when it sent the
    rectification back to the department (round 2)."""

    rectification_id = fields.String(required=True)
    review_id = fields.String(required=True)
    department_code = fields.String(required=True)
    reached = fields.Boolean(required=True)
    satisfied = fields.Boolean(required=True, allow_none=True)
    reopened = fields.Boolean(required=True)
    recorded_at = Instant(required=True)


class RectificationEscalated(Schema):
    """Payload of ``ratings.rectification_escalated``: ``due_date`` (of the
    verification or of the fix) was missed and the rectification went to
    ``level`` (督办)."""

    rectification_id = fields.String(required=True)
    review_id = fields.String(required=True)
    department_code = fields.String(required=True)
    level = fields.String(required=True, validate=validate.OneOf(ESCALATION_LEVELS))
    due_date = fields.Date(required=True, metadata=CST)
    escalated_at = Instant(required=True)


class RectificationClosed(Schema):
    """Payload of ``ratings.rectification_closed``."""

    rectification_id = fields.String(required=True)
    review_id = fields.String(required=True)
    department_code = fields.String(required=True)
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    closed_at = Instant(required=True)


class CaseStatsChanged(Schema):
    """Payload of ``ratings.case_stats_changed``: the live case data changed;
    the province's totals of ``day`` (today, China Standard Time) and of all
    time. Also the answer of ``live_case_stats``."""

    day = fields.Date(required=True, metadata={"description": "China Standard Time"})
    today = fields.Nested(LiveCaseTotals, required=True)
    all_time = fields.Nested(LiveCaseTotals, required=True)


class StoreRatingChanged(Rating):
    """Payload of ``ratings.store_rating_changed``: a count of the published
    indicators changed in one bucket of ``store_id`` (a review counted,
    rectified, called back or excluded by an upheld appeal; a case or visit
    that may be rated). ``department_code``, ``region_code`` and ``item_id`` are
    that bucket's; ``reviews``, ``praise_rate`` and ``average_grade`` the
    store's rating over all time as the change left it. One store's changes are
    recorded one after the other: the newest by the envelope's ``occurred_at``
    holds every earlier one."""

    store_id = fields.String(required=True)
    department_code = fields.String(required=True)
    region_code = fields.String(required=True)
    item_id = fields.String(required=True)


EVENTS = {
    "review_submitted": ReviewSubmitted,
    "visit_recorded": VisitRecordedEvent,
    "review_replied": ReviewReplied,
    "appeal_filed": AppealFiled,
    "appeal_decided": AppealDecided,
    "bad_review_flagged": BadReviewFlagged,
    "rectification_resolved": RectificationResolved,
    "rectification_verified": RectificationVerified,
    "return_visit_recorded": ReturnVisitRecorded,
    "rectification_escalated": RectificationEscalated,
    "rectification_closed": RectificationClosed,
    "case_stats_changed": CaseStatsChanged,
    "store_rating_changed": StoreRatingChanged,
}
