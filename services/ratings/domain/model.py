"""The ratings domain: reviewable cases, reviews, rectifications, praise rates.

Plain Python: no framework imports, so the rules can be tested with nothing running.

Rules in brief
- A completed application (workflow's ``application_completed``) becomes a
  ``ReviewableCase``. Only its applicant may review it, once, with a grade of 1..5
  and an optional comment of at most 500 characters.
- Grades 4 and 5 are praise. Grades 1 and 2 are bad reviews: each opens a
  ``Rectification`` that staff of the case's department (or an operator) must
  resolve within five calendar days.
- Aggregates record the domain events they cause in ``events``; the service layer
  writes them to the outbox in the same transaction.
- Escalations of late work (workflow's ``case_escalated``: 督办, to a department's
  admin and later to the operator) are counted per department and level, beside
  the praise rates, as ``EscalationCounts``.

Instants passed in (``now``, ``completed_at``) must be timezone-aware; they are
kept in UTC.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from .events import BadReviewFlagged, Event, RectificationResolved, ReviewSubmitted
from .exceptions import AlreadyReviewed, InvalidTransition, NotPermitted, ValidationFailed

MIN_GRADE = 1
MAX_GRADE = 5
PRAISE_GRADES = frozenset({4, 5})
BAD_GRADES = frozenset({1, 2})
MAX_COMMENT_LENGTH = 500
# What ratings stores of a case: ids, department and region codes, item names.
ID_MAX_LENGTH = 64
CODE_MAX_LENGTH = 32
# Region codes are administrative division codes: 6 digits for a county, up to
# 12 below it (as the catalogue keeps them).
REGION_CODE_MAX_LENGTH = 12
ITEM_NAME_MAX_LENGTH = 200

# Calendar days, not working days: a rectification is a complaint to answer, not a
# case with a promised time limit, so the holiday calendar does not apply.
RECTIFICATION_DAYS = 5
# Due dates are the dates people in Jiangsu see. China has one zone and no DST, so a
# fixed offset is exact and needs no tz database.
CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "CST")

RECTIFICATION_OPEN = "open"
RECTIFICATION_RESOLVED = "resolved"
DEPARTMENT_STAFF_ROLES = frozenset({"dept_admin", "window_clerk"})

GRADE_MESSAGE = f"must be an integer from {MIN_GRADE} to {MAX_GRADE}"


# ---------------------------------------------------------------------------
# Small rules shared by the entities


def grade_error(grade: Any) -> str | None:
    """Why ``grade`` is not a valid grade, or None when it is.

    bool is an int subclass and 4.0 == 4, but neither is a grade a client should
    send, so both are refused.
    """
    if isinstance(grade, bool) or not isinstance(grade, int):
        return GRADE_MESSAGE
    if not MIN_GRADE <= grade <= MAX_GRADE:
        return GRADE_MESSAGE
    return None


def is_praise(grade: int) -> bool:
    return grade in PRAISE_GRADES


def is_bad(grade: int) -> bool:
    return grade in BAD_GRADES


def _clean_comment(comment: Any, *, required: bool) -> tuple[str, str | None]:
    """The stripped comment and the error for it (None when it is fine)."""
    if comment is None:
        comment = ""
    if not isinstance(comment, str):
        return "", "must be a string"
    cleaned = comment.strip()
    if required and not cleaned:
        return cleaned, "must not be empty"
    if len(cleaned) > MAX_COMMENT_LENGTH:
        return cleaned, f"must be at most {MAX_COMMENT_LENGTH} characters"
    return cleaned, None


def _as_utc(instant: datetime, name: str = "now") -> datetime:
    """A timezone-aware instant, in UTC. A naive one is a programming error."""
    if not isinstance(instant, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(instant).__name__}")
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return instant.astimezone(UTC)


def _actor_value(actor: Any, key: str) -> Any:
    return actor.get(key) if isinstance(actor, Mapping) else None


def _actor_roles(actor: Any) -> frozenset[str]:
    roles = _actor_value(actor, "roles")
    if not isinstance(roles, (list, tuple, set, frozenset)):
        return frozenset()
    return frozenset(role for role in roles if isinstance(role, str))


def _round_half_up(numerator: int, denominator: int, places: int) -> float:
    """numerator / denominator rounded half up to ``places`` decimals, exactly.

    Integer arithmetic, because float division then ``round`` rounds ties to even
    and misrounds some exact ties (1/32 = 0.03125 would show as 0.0312).
    """
    scale = 10**places
    return ((2 * numerator * scale + denominator) // (2 * denominator)) / scale


# ---------------------------------------------------------------------------
# Reviewable case


# Each text field of a case and its longest value.
_CASE_TEXT_FIELDS = {
    "application_id": ID_MAX_LENGTH,
    "applicant_id": ID_MAX_LENGTH,
    "item_id": ID_MAX_LENGTH,
    "item_name": ITEM_NAME_MAX_LENGTH,
    "department_code": CODE_MAX_LENGTH,
    "region_code": REGION_CODE_MAX_LENGTH,
    "store_id": ID_MAX_LENGTH,
}


@dataclass(eq=False)
class ReviewableCase:
    """A completed application its applicant may review once.

    Identity is ``application_id``. ``events`` holds the domain events recorded
    since the case was loaded; it is not persisted.
    """

    application_id: str
    applicant_id: str
    item_id: str
    item_name: str
    department_code: str
    region_code: str
    store_id: str
    completed_at: datetime
    reviewed: bool = False
    events: list[Event] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.completed_at = _as_utc(self.completed_at, "completed_at")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ReviewableCase):
            return NotImplemented
        return other.application_id == self.application_id

    def __hash__(self) -> int:
        return hash(self.application_id)

    @classmethod
    def from_application_completed(cls, payload: Mapping[str, Any]) -> ReviewableCase:
        """Build the case from workflow's ``application_completed`` payload.

        Takes the payload loaded (``completed_at`` an aware datetime) or as it
        arrives (an ISO 8601 string with an offset); unknown keys are ignored so
        workflow can add fields. Raises ValidationFailed naming every missing,
        empty or too long field, so such an event is dead-lettered at once
        rather than failing at the database on every retry.
        """
        errors: dict[str, str] = {}
        values: dict[str, Any] = {}
        for name, longest in _CASE_TEXT_FIELDS.items():
            value = payload.get(name)
            if not isinstance(value, str) or not value.strip():
                errors[name] = "must be a non-empty string"
            elif len(value) > longest:
                errors[name] = f"must be at most {longest} characters"
            else:
                values[name] = value
        completed_at = _parse_instant(payload.get("completed_at"))
        if completed_at is None:
            errors["completed_at"] = "must be an ISO 8601 instant with a timezone"
        if errors:
            raise ValidationFailed(errors)
        return cls(**values, completed_at=completed_at)

    def review(self, actor: Mapping[str, Any], grade: Any, comment: Any, now: datetime) -> Review:
        """The applicant's review of this case.

        Raises NotPermitted unless ``actor["user_id"]`` is the applicant,
        AlreadyReviewed (a Conflict) when the case has been reviewed, and
        ValidationFailed naming every bad field (grade, comment) at once.

        Records ReviewSubmitted and, for a bad review (grade 1 or 2), opens a
        rectification (``review.rectification``) and records BadReviewFlagged.
        """
        user_id = _actor_value(actor, "user_id")
        if not user_id or user_id != self.applicant_id:
            raise NotPermitted("only the applicant may review the case")
        if self.reviewed:
            raise AlreadyReviewed("the case has already been reviewed")

        errors: dict[str, str] = {}
        if (message := grade_error(grade)) is not None:
            errors["grade"] = message
        cleaned_comment, message = _clean_comment(comment, required=False)
        if message is not None:
            errors["comment"] = message
        if errors:
            raise ValidationFailed(errors)

        submitted_at = _as_utc(now)
        review_id = uuid.uuid4().hex
        rectification = None
        if is_bad(grade):
            rectification = Rectification.open(
                review_id=review_id,
                application_id=self.application_id,
                department_code=self.department_code,
                now=submitted_at,
            )
        review = Review(
            review_id=review_id,
            application_id=self.application_id,
            reviewer_id=user_id,
            grade=grade,
            comment=cleaned_comment,
            item_id=self.item_id,
            item_name=self.item_name,
            store_id=self.store_id,
            department_code=self.department_code,
            region_code=self.region_code,
            submitted_at=submitted_at,
            rectification=rectification,
        )
        self.reviewed = True
        self.events.append(
            ReviewSubmitted(
                review_id=review.review_id,
                application_id=review.application_id,
                store_id=review.store_id,
                department_code=review.department_code,
                region_code=review.region_code,
                item_id=review.item_id,
                grade=review.grade,
                submitted_at=review.submitted_at,
            )
        )
        if rectification is not None:
            self.events.append(
                BadReviewFlagged(
                    review_id=review.review_id,
                    rectification_id=rectification.rectification_id,
                    application_id=review.application_id,
                    department_code=review.department_code,
                    grade=review.grade,
                )
            )
        return review


def _parse_instant(value: Any) -> datetime | None:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime) or value.utcoffset() is None:
        return None
    return value.astimezone(UTC)


# ---------------------------------------------------------------------------
# Review


@dataclass(eq=False)
class Review:
    """A citizen's review of one completed case.

    Copies the case's store, department, region and item so praise rates can be
    counted per each without asking other services. ``rectification`` is the
    rectification a bad review opened (None otherwise); it is set when the review
    is made, for the service layer to store, and need not be loaded with it.
    """

    review_id: str
    application_id: str
    reviewer_id: str
    grade: int
    comment: str
    item_id: str
    item_name: str
    store_id: str
    department_code: str
    region_code: str
    submitted_at: datetime
    rectification: Rectification | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.submitted_at = _as_utc(self.submitted_at, "submitted_at")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Review):
            return NotImplemented
        return other.review_id == self.review_id

    def __hash__(self) -> int:
        return hash(self.review_id)

    @property
    def is_praise(self) -> bool:
        return is_praise(self.grade)

    @property
    def is_bad(self) -> bool:
        return is_bad(self.grade)


# ---------------------------------------------------------------------------
# Rectification


def rectification_due_date(opened_at: datetime) -> date:
    """The last day to resolve a rectification opened at ``opened_at``.

    Five calendar days after the day it was opened, that day counted in China
    Standard Time (opened 2026-11-25 at any hour Beijing time: due 2026-11-30).
    Weekends and holidays count.
    """
    local_day = _as_utc(opened_at, "opened_at").astimezone(CHINA_STANDARD_TIME).date()
    return local_day + timedelta(days=RECTIFICATION_DAYS)


def may_resolve(actor: Mapping[str, Any], department_code: str) -> bool:
    """Operators, and staff of ``department_code`` with role dept_admin or
    window_clerk, may resolve that department's rectifications."""
    if not _actor_value(actor, "user_id"):
        return False
    kind = _actor_value(actor, "kind")
    if kind == "operator":
        return True
    return (
        kind == "staff"
        and _actor_value(actor, "department_code") == department_code
        and bool(_actor_roles(actor) & DEPARTMENT_STAFF_ROLES)
    )


@dataclass(eq=False)
class Rectification:
    """The department's duty to answer a bad review.

    ``status`` goes open -> resolved, once. ``due_date`` is five calendar days after
    opening (see ``rectification_due_date``). ``events`` holds the domain events
    recorded since it was loaded; it is not persisted.
    """

    rectification_id: str
    review_id: str
    application_id: str
    department_code: str
    opened_at: datetime
    due_date: date
    status: str = RECTIFICATION_OPEN
    resolved_at: datetime | None = None
    resolution_comment: str | None = None
    resolved_by: str | None = None
    events: list[Event] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.opened_at = _as_utc(self.opened_at, "opened_at")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Rectification):
            return NotImplemented
        return other.rectification_id == self.rectification_id

    def __hash__(self) -> int:
        return hash(self.rectification_id)

    @classmethod
    def open(
        cls, review_id: str, application_id: str, department_code: str, now: datetime
    ) -> Rectification:
        """A new open rectification for a bad review."""
        opened_at = _as_utc(now)
        return cls(
            rectification_id=uuid.uuid4().hex,
            review_id=review_id,
            application_id=application_id,
            department_code=department_code,
            opened_at=opened_at,
            due_date=rectification_due_date(opened_at),
        )

    @property
    def is_open(self) -> bool:
        return self.status == RECTIFICATION_OPEN

    def is_overdue(self, now: datetime) -> bool:
        """Still open after its due date (by the date in China Standard Time)."""
        today = _as_utc(now).astimezone(CHINA_STANDARD_TIME).date()
        return self.is_open and today > self.due_date

    def resolve(self, actor: Mapping[str, Any], comment: Any, now: datetime) -> None:
        """Close the rectification with the department's answer.

        Raises NotPermitted unless the actor is an operator or staff of this
        department with role dept_admin or window_clerk; InvalidTransition (a
        Conflict) unless it is open; ValidationFailed unless the stripped comment
        is 1..500 characters. Records RectificationResolved.
        """
        if not may_resolve(actor, self.department_code):
            raise NotPermitted("only the department's staff or an operator may resolve it")
        if not self.is_open:
            raise InvalidTransition(f"the rectification is {self.status}, not open")
        cleaned_comment, message = _clean_comment(comment, required=True)
        if message is not None:
            raise ValidationFailed({"comment": message})

        self.status = RECTIFICATION_RESOLVED
        self.resolved_at = _as_utc(now)
        self.resolution_comment = cleaned_comment
        self.resolved_by = _actor_value(actor, "user_id")
        self.events.append(
            RectificationResolved(
                rectification_id=self.rectification_id,
                review_id=self.review_id,
                application_id=self.application_id,
                department_code=self.department_code,
                resolved_by=self.resolved_by,
                resolved_at=self.resolved_at,
            )
        )


# ---------------------------------------------------------------------------
# Rating summary


@dataclass
class RatingSummary:
    """Counts behind a praise rate, for one store, department, item or region.

    Kept as counts, not as a rate, so summaries add up exactly (a region's is the
    sum of its stores') and a new review is one ``add``.
    """

    reviews: int = 0
    praise: int = 0
    grade_sum: int = 0

    def __post_init__(self) -> None:
        if not (
            0 <= self.praise <= self.reviews
            and MIN_GRADE * self.reviews <= self.grade_sum <= MAX_GRADE * self.reviews
        ):
            raise ValueError(
                f"inconsistent summary: reviews={self.reviews} praise={self.praise} "
                f"grade_sum={self.grade_sum}"
            )

    @classmethod
    def of(cls, grades: Iterable[int]) -> RatingSummary:
        summary = cls()
        for grade in grades:
            summary.add(grade)
        return summary

    def add(self, grade: int) -> None:
        """Count one review. Raises ValidationFailed for a grade outside 1..5."""
        if (message := grade_error(grade)) is not None:
            raise ValidationFailed({"grade": message})
        self.reviews += 1
        self.grade_sum += grade
        if is_praise(grade):
            self.praise += 1

    def __add__(self, other: RatingSummary) -> RatingSummary:
        if not isinstance(other, RatingSummary):
            return NotImplemented
        return RatingSummary(
            reviews=self.reviews + other.reviews,
            praise=self.praise + other.praise,
            grade_sum=self.grade_sum + other.grade_sum,
        )

    @property
    def praise_rate(self) -> float | None:
        """Share of reviews graded 4 or 5, 0..1, rounded half up to 4 places;
        None when there are no reviews (no rate is not a rate of 0)."""
        if self.reviews == 0:
            return None
        return _round_half_up(self.praise, self.reviews, 4)

    @property
    def average_grade(self) -> float | None:
        """Mean grade, 1..5, rounded half up to 2 places; None when no reviews."""
        if self.reviews == 0:
            return None
        return _round_half_up(self.grade_sum, self.reviews, 2)


# ---------------------------------------------------------------------------
# Escalations of late work

ESCALATION_LEVELS = ("dept_admin", "operator")


@dataclass
class EscalationCounts:
    """How many times late work was escalated (督办), per level: to the
    department's admin, and later to the operator."""

    dept_admin: int = 0
    operator: int = 0

    def __post_init__(self) -> None:
        if self.dept_admin < 0 or self.operator < 0:
            raise ValueError(f"negative escalation counts: {self}")

    @classmethod
    def of(cls, counted: Mapping[str, int]) -> EscalationCounts:
        """From ``{level: count}``; a level not named counts 0."""
        unknown = set(counted) - set(ESCALATION_LEVELS)
        if unknown:
            raise ValueError(f"unknown escalation levels: {sorted(unknown)}")
        return cls(**{level: int(counted.get(level, 0)) for level in ESCALATION_LEVELS})

    def __add__(self, other: EscalationCounts) -> EscalationCounts:
        if not isinstance(other, EscalationCounts):
            return NotImplemented
        return EscalationCounts(
            dept_admin=self.dept_admin + other.dept_admin,
            operator=self.operator + other.operator,
        )
