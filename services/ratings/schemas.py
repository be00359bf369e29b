"""Wire formats of the ratings service: RPC arguments and results, and events.

``load(schema, data)`` turns marshmallow's errors into ``Invalid`` naming every
bad field (nested fields by dotted path: ``actor.user_id``), so a caller never
sees a crash for bad input.
"""

import re

from marshmallow import (
    EXCLUDE,
    Schema,
    fields,
    pre_dump,
    pre_load,
    validate,
)

from services.common.schemas import (  # noqa: F401
    ActorSchema,  # noqa: F401
    Instant,
    field_errors,
    load,
)
from services.ratings.domain.model import (
    GRADE_MESSAGE,
    MAX_COMMENT_LENGTH,
    MAX_GRADE,
    MIN_GRADE,
)

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
MAX_PAGE = 10_000  # deeper pages are a scraper, not a reader


# --- fields -----------------------------------------------------------------


class Text(fields.String):
    """A string with surrounding white space removed before it is checked."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


class Grade(fields.Integer):
    """1..5 as a JSON integer: not "5", 4.5, 4.0 or true."""

    default_error_messages = {"invalid": GRADE_MESSAGE}

    def __init__(self, **kwargs):
        super().__init__(
            strict=True,
            validate=validate.Range(MIN_GRADE, MAX_GRADE, error=GRADE_MESSAGE),
            **kwargs,
        )


_DIGITS = re.compile(r"[0-9]{1,9}")


class WholeNumber(fields.Integer):
    """A positive integer, also as a decimal string (query parameters arrive as
    text); never a bool, a fraction or a float."""

    default_error_messages = {"invalid": "must be a whole number"}

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
            value = int(value.strip())
        return super()._deserialize(value, attr, data, **kwargs)


def _identifier(**kwargs):
    return fields.String(validate=validate.Length(1, 64), **kwargs)


def _code(**kwargs):
    return fields.String(validate=validate.Length(1, 32), **kwargs)


# --- RPC arguments ----------------------------------------------------------


class PageSchema(Schema):
    """``page`` from 1, ``page_size`` 1..100; None means the default."""

    page = WholeNumber(load_default=1, validate=validate.Range(1, MAX_PAGE))
    page_size = WholeNumber(
        load_default=DEFAULT_PAGE_SIZE, validate=validate.Range(1, MAX_PAGE_SIZE)
    )

    @pre_load
    def _none_is_the_default(self, data, **kwargs):
        if isinstance(data, dict):
            return {
                key: value
                for key, value in data.items()
                if not (key in ("page", "page_size") and value is None)
            }
        return data


class SubmitReviewSchema(Schema):
    actor = fields.Nested(ActorSchema, required=True)
    application_id = _identifier(required=True)
    grade = Grade(required=True)
    comment = Text(
        allow_none=True,
        load_default=None,
        validate=validate.Length(max=MAX_COMMENT_LENGTH),
    )


class StoreReviewsQuerySchema(PageSchema):
    store_id = _identifier(required=True)


class StatsQuerySchema(Schema):
    """Both filters optional; an empty one (``?department=``) means no filter."""

    department = _code(allow_none=True, load_default=None)
    region = _code(allow_none=True, load_default=None)

    @pre_load
    def _blank_is_none(self, data, **kwargs):
        if isinstance(data, dict):
            return {
                key: None if isinstance(value, str) and not value.strip() else value
                for key, value in data.items()
            }
        return data


class ListRectificationsSchema(PageSchema):
    actor = fields.Nested(ActorSchema, required=True)


class ResolveRectificationSchema(Schema):
    actor = fields.Nested(ActorSchema, required=True)
    rectification_id = _identifier(required=True)
    comment = Text(required=True, validate=validate.Length(1, MAX_COMMENT_LENGTH))


# --- RPC results ------------------------------------------------------------


def masked_reviewer(review) -> str:
    """How a reviewer is shown in public: ratings knows no names, so "用户" and
    the last four characters of the user id."""
    return "用户" + str(review.reviewer_id)[-4:]


class ReviewIdSchema(Schema):
    review_id = fields.String()


class RatingSchema(Schema):
    """A summary: ``praise_rate`` 0..1 and ``average_grade`` 1..5, both None
    when there are no reviews."""

    reviews = fields.Integer()
    praise_rate = fields.Float(allow_none=True)
    average_grade = fields.Float(allow_none=True)


class PublicReviewSchema(Schema):
    """A review as anyone may see it: no reviewer id, no application id."""

    review_id = fields.String()
    reviewer = fields.Function(masked_reviewer)
    grade = fields.Integer()
    comment = fields.String()
    item_id = fields.String()
    item_name = fields.String()
    submitted_at = Instant()


class StoreReviewsSchema(Schema):
    reviews = fields.List(fields.Nested(PublicReviewSchema))
    page = fields.Integer()
    page_size = fields.Integer()
    total = fields.Integer()
    summary = fields.Nested(RatingSchema)


class StoreRatingSchema(Schema):
    store_id = fields.String()
    rating = fields.Nested(RatingSchema)


class DepartmentRatingSchema(Schema):
    department_code = fields.String()
    rating = fields.Nested(RatingSchema)


class ItemRatingSchema(Schema):
    item_id = fields.String()
    item_name = fields.String()
    rating = fields.Nested(RatingSchema)


class RegionRatingSchema(Schema):
    region_code = fields.String()
    rating = fields.Nested(RatingSchema)


class StatsSchema(Schema):
    department = fields.String(allow_none=True)
    region = fields.String(allow_none=True)
    overall = fields.Nested(RatingSchema)
    stores = fields.List(fields.Nested(StoreRatingSchema))
    departments = fields.List(fields.Nested(DepartmentRatingSchema))
    items = fields.List(fields.Nested(ItemRatingSchema))
    regions = fields.List(fields.Nested(RegionRatingSchema))


class RectificationSchema(Schema):
    rectification_id = fields.String()
    review_id = fields.String()
    application_id = fields.String()
    department_code = fields.String()
    status = fields.String()
    opened_at = Instant()
    due_date = fields.Date()
    resolved_at = Instant(allow_none=True)
    resolved_by = fields.String(allow_none=True)
    resolution_comment = fields.String(allow_none=True)


class ReviewForStaffSchema(Schema):
    """The review behind a rectification, for the department answering it."""

    review_id = fields.String()
    grade = fields.Integer()
    comment = fields.String()
    item_id = fields.String()
    item_name = fields.String()
    store_id = fields.String()
    submitted_at = Instant()


class RectificationEntrySchema(RectificationSchema):
    overdue = fields.Boolean()
    review = fields.Nested(ReviewForStaffSchema)

    @pre_dump
    def _flatten(self, entry, **kwargs):
        rectification = entry["rectification"]
        flat = {name: getattr(rectification, name) for name in RectificationSchema._declared_fields}
        return {**flat, "overdue": entry["overdue"], "review": entry["review"]}


class RectificationPageSchema(Schema):
    rectifications = fields.List(fields.Nested(RectificationEntrySchema))
    page = fields.Integer()
    page_size = fields.Integer()
    total = fields.Integer()


# --- events -----------------------------------------------------------------


class ApplicationCompletedSchema(Schema):
    """workflow's ``application_completed`` payload, as ratings needs it.

    Fields workflow may add later are ignored.
    """

    class Meta:
        unknown = EXCLUDE

    application_id = _identifier(required=True)
    applicant_id = _identifier(required=True)
    item_id = _identifier(required=True)
    item_name = fields.String(required=True, validate=validate.Length(1, 200))
    department_code = _code(required=True)
    region_code = _code(required=True)
    store_id = _identifier(required=True)
    completed_at = Instant(required=True)


class ApplicationCompletedEnvelopeSchema(Schema):
    """The envelope around ``application_completed`` (see messaging.envelope)."""

    class Meta:
        unknown = EXCLUDE

    id = fields.String(required=True, validate=validate.Length(1, 64))
    type = fields.String(required=True, validate=validate.Equal("application_completed"))
    source = fields.String(required=True)
    occurred_at = fields.String(load_default=None, allow_none=True)
    correlation_id = fields.String(load_default=None, allow_none=True)
    schema_version = fields.Integer(load_default=1)
    payload = fields.Nested(ApplicationCompletedSchema, required=True)


class ReviewSubmittedSchema(Schema):
    """Payload of ``ratings.review_submitted``; catalog folds it into the store."""

    review_id = fields.String(required=True)
    application_id = fields.String(required=True)
    store_id = fields.String(required=True)
    department_code = fields.String(required=True)
    region_code = fields.String(required=True)
    item_id = fields.String(required=True)
    grade = Grade(required=True)
    submitted_at = Instant(required=True)


class BadReviewFlaggedSchema(Schema):
    """Payload of ``ratings.bad_review_flagged`` (grade 1 or 2)."""

    review_id = fields.String(required=True)
    rectification_id = fields.String(required=True)
    application_id = fields.String(required=True)
    department_code = fields.String(required=True)
    grade = Grade(required=True)


class RectificationResolvedSchema(Schema):
    """Payload of ``ratings.rectification_resolved``."""

    rectification_id = fields.String(required=True)
    review_id = fields.String(required=True)
    application_id = fields.String(required=True)
    department_code = fields.String(required=True)
    resolved_by = fields.String(required=True)
    resolved_at = Instant(required=True)


EVENT_PAYLOADS = {
    "review_submitted": ReviewSubmittedSchema,
    "bad_review_flagged": BadReviewFlaggedSchema,
    "rectification_resolved": RectificationResolvedSchema,
}
