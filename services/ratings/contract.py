"""The ratings service's wire contract: its RPC requests and responses, and the
payloads of the events it publishes on ``ratings.events``.

The gateway's routes take their bodies, queries and answers from here, so the
HTTP API and the RPC agree by construction (conventions:
``services.common.schemas``). Each answer is exactly the HTTP answer. The
schemas check the shape of each field; the domain checks the rules again
(grade, comment, who may act) and names the field it refuses.
"""

from marshmallow import Schema, fields, pre_dump, validate

from services.common.schemas import (
    ActorSchema,
    Instant,
    PageQuery,
    page_of,
)
from services.ratings.domain.model import (
    CODE_MAX_LENGTH,
    GRADE_MESSAGE,
    ID_MAX_LENGTH,
    MAX_COMMENT_LENGTH,
    MAX_GRADE,
    MIN_GRADE,
    RECTIFICATION_OPEN,
    RECTIFICATION_RESOLVED,
    REGION_CODE_MAX_LENGTH,
)

NOT_BLANK = validate.Regexp(r"^\s*\S", error="must not be blank")

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


class SubmitReviewBody(Schema):
    """POST /api/v1/applications/{application_id}/review."""

    grade = Grade(required=True)
    comment = _comment(
        "办事很快", load_default="", validate=validate.Length(max=MAX_COMMENT_LENGTH)
    )


class SubmitReview(SubmitReviewBody):
    actor = fields.Nested(ActorSchema, required=True)
    application_id = _identifier()


class ListStoreReviewsQuery(PageQuery):
    """GET /api/v1/stores/{store_id}/reviews."""


class ListStoreReviews(ListStoreReviewsQuery):
    store_id = _identifier()


class StatsQuery(Schema):
    """GET /api/v1/stats/ratings. Each filter is optional; when given it is a
    code (``?region=`` is refused, not read as no filter)."""

    department = fields.String(
        validate=validate.Length(1, CODE_MAX_LENGTH), metadata={"example": "320100-MSA"}
    )
    region = fields.String(
        validate=validate.Length(1, REGION_CODE_MAX_LENGTH), metadata={"example": "320102"}
    )


class ListRectificationsQuery(PageQuery):
    """GET /api/v1/rectifications."""


class ListRectifications(ListRectificationsQuery):
    actor = fields.Nested(ActorSchema, required=True)


class ResolveRectificationBody(Schema):
    """POST /api/v1/rectifications/{rectification_id}/resolve."""

    comment = _comment(
        "已电话回访并致歉",
        required=True,
        validate=[validate.Length(1, MAX_COMMENT_LENGTH), NOT_BLANK],
    )


class ResolveRectification(ResolveRectificationBody):
    actor = fields.Nested(ActorSchema, required=True)
    rectification_id = _identifier()


# --- responses --------------------------------------------------------------


def masked_reviewer(review) -> str:
    """How a reviewer is shown in public: ratings knows no names, so "用户" and
    the last four characters of the user id."""
    return "用户" + str(review.reviewer_id)[-4:]


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


class PublicReview(Schema):
    """A review as anyone may see it: no reviewer id, no application id."""

    review_id = fields.String(required=True)
    reviewer = fields.Function(
        masked_reviewer,
        required=True,
        metadata={"type": "string", "description": "masked", "example": "用户0042"},
    )
    grade = Grade(required=True)
    comment = fields.String(required=True)
    item_id = fields.String(required=True)
    item_name = fields.String(required=True)
    submitted_at = Instant(required=True)


class StoreReviews(page_of(PublicReview)):
    """One page of a flagship store's reviews, newest first, and its summary."""

    summary = fields.Nested(Rating, required=True)


class StoreRating(Schema):
    store_id = fields.String(required=True)
    rating = fields.Nested(Rating, required=True)


class EscalationCounts(Schema):
    """How many times late work was escalated (督办), per level: to the
    department's admin, and later to the operator (workflow's
    ``case_escalated``)."""

    dept_admin = fields.Integer(required=True, validate=validate.Range(min=0))
    operator = fields.Integer(required=True, validate=validate.Range(min=0))


ESCALATIONS_BY_REGION = "null when the region filter is given: an escalation names no region"


class DepartmentRating(Schema):
    department_code = fields.String(required=True)
    rating = fields.Nested(Rating, required=True)
    escalations = fields.Nested(
        EscalationCounts,
        required=True,
        allow_none=True,
        metadata={"description": ESCALATIONS_BY_REGION},
    )


class ItemRating(Schema):
    item_id = fields.String(required=True)
    item_name = fields.String(required=True)
    rating = fields.Nested(Rating, required=True)


class RegionRating(Schema):
    region_code = fields.String(required=True)
    rating = fields.Nested(Rating, required=True)


class RatingStats(Schema):
    """Praise rates overall and per store, department, item and region, of the
    reviews the filters select (null: not filtered), and how often late work
    was escalated, overall and per department (the department filter
    applies; with the region filter they are null). Without the region
    filter, ``departments`` lists every department with a review or an
    escalation."""

    department = fields.String(required=True, allow_none=True)
    region = fields.String(required=True, allow_none=True)
    overall = fields.Nested(Rating, required=True)
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


class Rectification(Schema):
    """A department's duty to answer a bad review, due five calendar days after
    it was opened."""

    rectification_id = fields.String(required=True)
    review_id = fields.String(required=True)
    application_id = fields.String(required=True)
    department_code = fields.String(required=True)
    status = fields.String(
        required=True, validate=validate.OneOf([RECTIFICATION_OPEN, RECTIFICATION_RESOLVED])
    )
    opened_at = Instant(required=True)
    due_date = fields.Date(required=True, metadata={"description": "China Standard Time"})
    resolved_at = Instant(required=True, allow_none=True)
    resolved_by = fields.String(required=True, allow_none=True)
    resolution_comment = fields.String(required=True, allow_none=True)


class ReviewForStaff(Schema):
    """The review behind a rectification, for the department answering it."""

    review_id = fields.String(required=True)
    grade = Grade(required=True)
    comment = fields.String(required=True)
    item_id = fields.String(required=True)
    item_name = fields.String(required=True)
    store_id = fields.String(required=True)
    submitted_at = Instant(required=True)


class RectificationEntry(Rectification):
    """A rectification in staff's list: with its review, and whether it is
    still open after its due date."""

    overdue = fields.Boolean(required=True)
    review = fields.Nested(ReviewForStaff, required=True)

    @pre_dump
    def _flatten(self, entry, **kwargs):
        rectification = entry["rectification"]
        flat = {name: getattr(rectification, name) for name in Rectification._declared_fields}
        return {**flat, "overdue": entry["overdue"], "review": entry["review"]}


RectificationPage = page_of(RectificationEntry)


# --- events -----------------------------------------------------------------


class ReviewSubmitted(Schema):
    """Payload of ``ratings.review_submitted``; catalog folds it into the store."""

    review_id = fields.String(required=True)
    application_id = fields.String(required=True)
    store_id = fields.String(required=True)
    department_code = fields.String(required=True)
    region_code = fields.String(required=True)
    item_id = fields.String(required=True)
    grade = Grade(required=True)
    submitted_at = Instant(required=True)


class BadReviewFlagged(Schema):
    """Payload of ``ratings.bad_review_flagged`` (grade 1 or 2)."""

    review_id = fields.String(required=True)
    rectification_id = fields.String(required=True)
    application_id = fields.String(required=True)
    department_code = fields.String(required=True)
    grade = Grade(required=True)


class RectificationResolved(Schema):
    """Payload of ``ratings.rectification_resolved``."""

    rectification_id = fields.String(required=True)
    review_id = fields.String(required=True)
    application_id = fields.String(required=True)
    department_code = fields.String(required=True)
    resolved_by = fields.String(required=True)
    resolved_at = Instant(required=True)


EVENTS = {
    "review_submitted": ReviewSubmitted,
    "bad_review_flagged": BadReviewFlagged,
    "rectification_resolved": RectificationResolved,
}
