"""The ratings domain: reviewable cases, reviews, visits, appeals.

Plain Python: no framework imports, so the rules can be tested with nothing running.

Rules in brief (evaluation: GB/T 39734, 国办发〔2019〕51号)
- An ended case (workflow's ``application_ended``, outcome completed, denied or
  rejected) becomes a ``ReviewableCase``.
  Its applicant, or whom it was applied for, may review it once within the
  review window (``REVIEW_WINDOW_DAYS`` calendar days after the day it ended),
  online (web or app), with a grade of 1..5, an optional comment of at most 500
  characters and optional online sub-grades.
- A window clerk records a ``Visit`` (一次一评); the citizen rates it once,
  anonymously, with its one-time token (the window's terminal or the SMS link),
  with the on-site sub-grades, until the token expires.
- The department that handled a review replies to it in public once, and its
  admin may appeal it to the operator once (``Appeal``); upheld, the review is
  excluded from every rate and from the public board, and kept.
- Grades 4 and 5 are praise. Grades 1 and 2 are bad reviews: each opens a
  ``Rectification`` for the department that handled it to verify, fix, call
  back and, when late, be escalated (``domain.rectification``).
- Aggregates record the domain events they cause in ``events``; the service layer
  writes them to the outbox in the same transaction.
- Escalations of late work (workflow's ``case_escalated``: 督办, to a department's
  admin and later to the operator) are counted per department and level, beside
  the published indicators (``domain.indicators``), as ``EscalationCounts``.

Instants passed in (``now``, ``ended_at``) must be timezone-aware; they are kept
in UTC. Days people see (the review window, a token's last day) are China
Standard Time.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from services.common.masking import mask
from services.common.working_calendar import WorkingCalendar

from .events import (
    AppealDecided,
    AppealFiled,
    BadReviewFlagged,
    Event,
    ReviewReplied,
    ReviewSubmitted,
    VisitRecorded,
)
from .exceptions import (
    AlreadyReplied,
    AlreadyReviewed,
    AppealAlreadyDecided,
    AppealPending,
    InvalidTransition,
    ItemNotRateable,
    NotPermitted,
    ReviewWindowClosed,
    TokenExpired,
    TokenUsed,
    ValidationFailed,
)
from .rectification import Rectification as Rectification  # the service layer's, re-exported

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

# Due dates are the dates people in Jiangsu see. China has one zone and no DST, so a
# fixed offset is exact and needs no tz database.
CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "CST")

DEPARTMENT_STAFF_ROLES = frozenset({"dept_admin", "window_clerk"})

GRADE_MESSAGE = f"must be an integer from {MIN_GRADE} to {MAX_GRADE}"

# Evaluation: how a review comes (a case online, a visit at the window or by
# the SMS link) and the sub-grades of each kind.
ONLINE_CHANNELS = ("web", "app")
VISIT_CHANNELS = ("window", "sms")
CHANNELS = ONLINE_CHANNELS + VISIT_CHANNELS
ONLINE_INDICATORS = ("overall", "efficiency", "guide_accuracy", "convenience", "usability")
ONSITE_INDICATORS = ("efficiency", "competence", "attitude")
INDICATORS = tuple(dict.fromkeys(ONLINE_INDICATORS + ONSITE_INDICATORS))
# How a case ended (workflow's application_ended); the first three may be reviewed.
OUTCOME_COMPLETED = "completed"
EVALUABLE_OUTCOMES = (OUTCOME_COMPLETED, "denied", "rejected")
ENDED_OUTCOMES = EVALUABLE_OUTCOMES + ("not_supplemented", "withdrawn")
# Calendar days after the day a case ended in which it may be reviewed, and
# days a visit's rating token is valid (defaults of the settings).
REVIEW_WINDOW_DAYS = 30
VISIT_TOKEN_DAYS = 7
# Identity's assurance level of a verified real name.
REAL_NAME_LEVEL = 2
ANONYMOUS = "匿名"
MAX_MASK_STARS = 3
REVIEWER_NAME_MAX_LENGTH = 1 + MAX_MASK_STARS
PHONE_PATTERN = r"1[3-9][0-9]{9}"
_MOBILE = re.compile(PHONE_PATTERN)
PHONE_MESSAGE = "must be a mainland mobile number: 11 digits, starting 13 to 19"
# Random bytes of a visit's token (192 bits: 32 URL-safe characters, short
# enough for the SMS); tokens longer than TOKEN_MAX_LENGTH are none of ours.
TOKEN_BYTES = 24
TOKEN_MAX_LENGTH = 128
SMS_ITEM_NAME_LENGTH = 20
ITEM_PUBLISHED = "published"
APPEAL_PENDING = "pending"
APPEAL_UPHELD = "upheld"
APPEAL_REJECTED = "rejected"
APPEAL_STATES = (APPEAL_PENDING, APPEAL_UPHELD, APPEAL_REJECTED)


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


# ---------------------------------------------------------------------------
# Rules of evaluation


def china_date(instant: datetime) -> date:
    """The day ``instant`` falls on in China Standard Time."""
    return _as_utc(instant, "instant").astimezone(CHINA_STANDARD_TIME).date()


def is_evaluable(outcome: Any) -> bool:
    """Whether a case that ended with ``outcome`` may be reviewed: completed,
    denied or rejected (the applicant got an answer); not a withdrawn case, nor
    one that ended for want of a supplement."""
    return outcome in EVALUABLE_OUTCOMES


def last_review_day(ended_at: datetime, window_days: int) -> date:
    """The last day (China Standard Time) a case that ended at ``ended_at`` may
    be reviewed: ``window_days`` calendar days after the day it ended."""
    return china_date(ended_at) + timedelta(days=window_days)


def mask_name(name: Any) -> str:
    """A reviewer's name as the public sees it: the first character, the rest
    as stars (张三 -> 张*, 欧阳娜娜 -> 欧***); no name is 匿名."""
    if not isinstance(name, str) or not name.strip():
        return ANONYMOUS
    cleaned = name.strip()
    return cleaned[0] + "*" * min(max(len(cleaned) - 1, 1), MAX_MASK_STARS)


def phone_error(phone: Any) -> str | None:
    """Why ``phone`` is not a mainland mobile number (11 digits, 13..19 first),
    or None when it is."""
    if not isinstance(phone, str) or not _MOBILE.fullmatch(phone):
        return PHONE_MESSAGE
    return None


def mask_phone(phone: str) -> str:
    """138****0001: the operator prefix and the last four digits."""
    return mask(phone, 3, 4)


def hash_token(token: str) -> str:
    """The SHA-256 of a visit's rating token (hex): what ratings keeps of it."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def indicator_errors(indicators: Any, names: tuple[str, ...]) -> tuple[dict[str, int], dict]:
    """The sub-grades ``indicators`` gives, in ``names`` order, and the errors
    for them keyed ``indicators.<name>``: a name not among ``names`` (the
    review's kind: online or on-site) or a sub-grade outside 1..5. None is no
    sub-grade."""
    if indicators is None:
        return {}, {}
    if not isinstance(indicators, Mapping):
        return {}, {"indicators": "must be an object of sub-grades by name"}
    errors = {}
    for name, grade in indicators.items():
        if name not in names:
            errors[f"indicators.{name}"] = f"not a sub-grade of this review: one of {names}"
        elif (message := grade_error(grade)) is not None:
            errors[f"indicators.{name}"] = message
    return {name: indicators[name] for name in names if name in indicators}, errors


def may_speak_for(actor: Mapping[str, Any], department_code: str) -> bool:
    """Operators, and staff of ``department_code`` with role dept_admin or
    window_clerk, may answer for that department (reply to its reviews)."""
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


def review_scope(actor: Mapping[str, Any], department: str | None = None) -> str | None:
    """The department whose reviews the actor lists: an operator's choice
    (``department``, None for all), a staff member's own department (dept_admin
    or window_clerk). Raises NotPermitted for anyone else, and for staff asking
    for another department."""
    if _actor_value(actor, "user_id") and _actor_value(actor, "kind") == "operator":
        return department
    own = _actor_value(actor, "department_code")
    if (
        _actor_value(actor, "user_id")
        and _actor_value(actor, "kind") == "staff"
        and own
        and _actor_roles(actor) & DEPARTMENT_STAFF_ROLES
    ):
        if department is not None and department != own:
            raise NotPermitted("staff see the reviews of their own department only")
        return own
    raise NotPermitted("only department staff or an operator may list reviews")


def appeal_scope(actor: Mapping[str, Any]) -> str | None:
    """The department whose appeals the actor lists: None (all) for an operator,
    their own for a department admin. Raises NotPermitted for anyone else."""
    if _actor_value(actor, "user_id") and _actor_value(actor, "kind") == "operator":
        return None
    if _is_department_admin(actor):
        return _actor_value(actor, "department_code")
    raise NotPermitted("only a department admin or an operator may list appeals")


def _is_department_admin(actor: Mapping[str, Any], department_code: str | None = None) -> bool:
    own = _actor_value(actor, "department_code")
    return bool(
        _actor_value(actor, "user_id")
        and _actor_value(actor, "kind") == "staff"
        and own
        and "dept_admin" in _actor_roles(actor)
        and (department_code is None or own == department_code)
    )


def _is_operator(actor: Mapping[str, Any]) -> bool:
    return bool(_actor_value(actor, "user_id")) and _actor_value(actor, "kind") == "operator"


def may_decide_appeal(actor: Mapping[str, Any]) -> bool:
    """Operators decide appeals."""
    return _is_operator(actor)


def _required_text(value: Any, longest: int = MAX_COMMENT_LENGTH) -> tuple[str, str | None]:
    """The stripped text and the error for it: required, at most ``longest``."""
    if not isinstance(value, str):
        return "", "must be a string"
    cleaned = value.strip()
    if not cleaned:
        return cleaned, "must not be empty"
    if len(cleaned) > longest:
        return cleaned, f"must be at most {longest} characters"
    return cleaned, None


def _text_errors(values: Mapping[str, Any], longest: Mapping[str, int]) -> dict[str, str]:
    errors = {}
    for name, limit in longest.items():
        value = values.get(name)
        if not isinstance(value, str) or not value.strip():
            errors[name] = "must be a non-empty string"
        elif len(value) > limit:
            errors[name] = f"must be at most {limit} characters"
    return errors


@dataclass(frozen=True)
class EvaluationPolicy:
    """The time limits of evaluation: days after a case ended in which it may
    be reviewed, days a visit's rating token stays valid. Each 1..365."""

    review_window_days: int = REVIEW_WINDOW_DAYS
    visit_token_days: int = VISIT_TOKEN_DAYS

    def __post_init__(self) -> None:
        for name in ("review_window_days", "visit_token_days"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 365:
                raise ValueError(f"{name} must be a whole number of days, 1..365; got {value!r}")


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
    """An ended case (completed, denied or rejected) its applicant, or the
    person or enterprise it was applied for (``principal_id``), may review
    once, within the review window after ``ended_at``.

    ``department_code`` is the item's department; ``handled_by`` the department
    that decided the case (the denying branch's in a joint review), which
    answers for a bad review. Identity is ``application_id``. ``events`` holds
    the domain events recorded since the case was loaded; it is not persisted.
    """

    application_id: str
    applicant_id: str
    item_id: str
    item_name: str
    department_code: str
    region_code: str
    store_id: str
    ended_at: datetime
    handled_by: str = ""
    principal_id: str | None = None
    outcome: str = OUTCOME_COMPLETED
    reviewed: bool = False
    events: list[Event] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.ended_at = _as_utc(self.ended_at, "ended_at")
        if not self.handled_by:
            self.handled_by = self.department_code

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ReviewableCase):
            return NotImplemented
        return other.application_id == self.application_id

    def __hash__(self) -> int:
        return hash(self.application_id)

    @classmethod
    def from_application_ended(cls, payload: Mapping[str, Any]) -> ReviewableCase:
        """Build the case from workflow's ``application_ended`` payload.

        Takes the payload loaded (``ended_at`` an aware datetime) or as it
        arrives (an ISO 8601 string with an offset); unknown keys are ignored.
        Raises ValidationFailed naming every missing, empty or too long field,
        and an outcome that may not be reviewed (see ``is_evaluable``).
        """
        errors = _text_errors(payload, {**_CASE_TEXT_FIELDS, "handled_by": CODE_MAX_LENGTH})
        principal_id = payload.get("principal_id")
        if principal_id is not None and (
            not isinstance(principal_id, str)
            or not principal_id.strip()
            or len(principal_id) > ID_MAX_LENGTH
        ):
            errors["principal_id"] = f"must be null or a string of 1..{ID_MAX_LENGTH} characters"
        if not is_evaluable(payload.get("outcome")):
            errors["outcome"] = f"must be one of {EVALUABLE_OUTCOMES}"
        ended_at = _parse_instant(payload.get("ended_at"))
        if ended_at is None:
            errors["ended_at"] = "must be an ISO 8601 instant with a timezone"
        if errors:
            raise ValidationFailed(errors)
        return cls(
            **{name: payload[name] for name in _CASE_TEXT_FIELDS},
            handled_by=payload["handled_by"],
            principal_id=principal_id,
            outcome=payload["outcome"],
            ended_at=ended_at,
        )

    def learn(self, other: ReviewableCase) -> bool:
        """Take from ``other`` (the same case, told by another event) what this
        record lacks: the principal, which only ``application_ended`` names (a
        case recorded from ``application_completed``, as ratings did before,
        has none). Returns whether anything changed."""
        if self.principal_id is None and other.principal_id is not None:
            self.principal_id = other.principal_id
            return True
        return False

    def may_be_reviewed_by(self, actor: Mapping[str, Any]) -> bool:
        user_id = _actor_value(actor, "user_id")
        return bool(user_id) and user_id in (self.applicant_id, self.principal_id)

    def review(
        self,
        actor: Mapping[str, Any],
        grade: Any,
        comment: Any,
        now: datetime,
        *,
        channel: Any = "web",
        indicators: Any = None,
        window_days: int = REVIEW_WINDOW_DAYS,
    ) -> Review:
        """The review of this case by its applicant or its principal.

        Raises NotPermitted for anyone else, AlreadyReviewed (a Conflict) when
        the case has been reviewed, ReviewWindowClosed (a Conflict) after
        ``last_review_day``, ValidationFailed naming every bad field at once
        (grade, comment, channel: web or app, indicators: the online
        sub-grades, each 1..5).

        The reviewer's name is kept masked (``mask_name`` of ``actor["name"]``);
        the review is real-name when the actor's assurance level is 2 or more.
        The review records ReviewSubmitted.
        """
        if not self.may_be_reviewed_by(actor):
            raise NotPermitted("only the applicant, or whom the case was for, may review it")
        if self.reviewed:
            raise AlreadyReviewed("the case has already been reviewed")
        submitted_at = _as_utc(now)
        last_day = last_review_day(self.ended_at, window_days)
        if china_date(submitted_at) > last_day:
            raise ReviewWindowClosed(
                f"the case could be reviewed until {last_day.isoformat()}",
                {"application_id": "the review window has closed"},
            )
        errors = {}
        if channel not in ONLINE_CHANNELS:
            errors["channel"] = f"a case is reviewed online: one of {ONLINE_CHANNELS}"
        review = _new_review(
            errors,
            grade=grade,
            comment=comment,
            indicators=indicators,
            indicator_names=ONLINE_INDICATORS,
            application_id=self.application_id,
            visit_id=None,
            reviewer_id=_actor_value(actor, "user_id"),
            reviewer_name=mask_name(_actor_value(actor, "name")),
            real_name=_actor_level(actor) >= REAL_NAME_LEVEL,
            channel=channel,
            item_id=self.item_id,
            item_name=self.item_name,
            store_id=self.store_id,
            department_code=self.department_code,
            handled_by=self.handled_by,
            region_code=self.region_code,
            submitted_at=submitted_at,
        )
        self.reviewed = True
        return review


def _actor_level(actor: Any) -> int:
    level = _actor_value(actor, "level")
    return level if isinstance(level, int) and not isinstance(level, bool) else 0


def _parse_instant(value: Any) -> datetime | None:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime) or value.utcoffset() is None:
        return None
    return value.astimezone(UTC)


def _new_review(errors: dict[str, str], **values: Any) -> Review:
    """A new review from ``values``, checked (grade, comment, sub-grades of
    ``indicator_names``; ``errors`` already found are raised with these), with
    ReviewSubmitted recorded."""
    if (message := grade_error(values["grade"])) is not None:
        errors["grade"] = message
    values["comment"], message = _clean_comment(values["comment"], required=False)
    if message is not None:
        errors["comment"] = message
    values["indicators"], indicator_problems = indicator_errors(
        values["indicators"], values.pop("indicator_names")
    )
    errors.update(indicator_problems)
    if errors:
        raise ValidationFailed(errors)
    review = Review(review_id=uuid.uuid4().hex, **values)
    review.events.append(
        ReviewSubmitted(
            review_id=review.review_id,
            application_id=review.application_id,
            visit_id=review.visit_id,
            store_id=review.store_id,
            department_code=review.department_code,
            region_code=review.region_code,
            item_id=review.item_id,
            item_name=review.item_name,
            grade=review.grade,
            channel=review.channel,
            real_name=review.real_name,
            indicators=dict(review.indicators),
            submitted_at=review.submitted_at,
        )
    )
    return review


# ---------------------------------------------------------------------------
# Review


@dataclass(eq=False)
class Review:
    """A citizen's review of one ended case (``application_id``) or one window
    visit (``visit_id``): exactly one of the two is set.

    Copies the store, department, region and item so figures can be counted per
    each without asking other services. ``department_code`` is the item's
    department, ``handled_by`` the department that answers for the review (it
    replies, appeals, rectifies). The reviewer is kept as ``reviewer_name``,
    masked (匿名 for a visit); ``reviewer_id`` is the account (None for a visit).
    ``excluded``: an upheld appeal took the review out of every rate and off
    the public board; it stays in the record. ``appeal_state`` is None, or the
    state of its one appeal.
    """

    review_id: str
    application_id: str | None
    visit_id: str | None
    reviewer_id: str | None
    reviewer_name: str
    real_name: bool
    grade: int
    comment: str
    channel: str
    indicators: dict[str, int]
    item_id: str
    item_name: str
    store_id: str
    department_code: str
    handled_by: str
    region_code: str
    submitted_at: datetime
    excluded: bool = False
    reply: str | None = None
    replied_at: datetime | None = None
    replied_by: str | None = None
    appeal_state: str | None = None
    events: list[Event] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.submitted_at = _as_utc(self.submitted_at, "submitted_at")
        if self.replied_at is not None:
            self.replied_at = _as_utc(self.replied_at, "replied_at")

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

    @property
    def is_public(self) -> bool:
        """Shown on the public board and counted in the rates."""
        return not self.excluded

    def open_rectification(self, now: datetime, calendar: WorkingCalendar) -> Rectification:
        """The rectification a bad review (grade 1 or 2) opens for the department
        that answers for it (``handled_by``), to be verified by the next working
        day of ``calendar``; records BadReviewFlagged with that ``verify_due``.
        ValueError for a review that is not bad."""
        if not self.is_bad:
            raise ValueError(f"review {self.review_id} of grade {self.grade} is not bad")
        rectification = Rectification.open(
            review_id=self.review_id,
            department_code=self.handled_by,
            now=now,
            calendar=calendar,
            application_id=self.application_id,
            visit_id=self.visit_id,
        )
        self.events.append(
            BadReviewFlagged(
                review_id=self.review_id,
                rectification_id=rectification.rectification_id,
                application_id=self.application_id,
                department_code=rectification.department_code,
                grade=self.grade,
                verify_due=rectification.verify_due,
            )
        )
        return rectification

    def answer(self, actor: Mapping[str, Any], reply: Any, now: datetime) -> None:
        """The department's public reply, once.

        Raises NotPermitted unless the actor is an operator or staff (dept_admin
        or window_clerk) of ``handled_by``; AlreadyReplied (a Conflict) when it
        has a reply; ValidationFailed unless the stripped reply is 1..500
        characters. Records ReviewReplied.
        """
        if not may_speak_for(actor, self.handled_by):
            raise NotPermitted("only the department's staff or an operator may reply")
        if self.reply is not None:
            raise AlreadyReplied()
        cleaned, message = _required_text(reply)
        if message is not None:
            raise ValidationFailed({"reply": message})
        self.reply = cleaned
        self.replied_at = _as_utc(now)
        self.replied_by = _actor_value(actor, "user_id")
        self.events.append(
            ReviewReplied(
                review_id=self.review_id,
                store_id=self.store_id,
                department_code=self.handled_by,
                replied_at=self.replied_at,
            )
        )

    def appeal(self, actor: Mapping[str, Any], reason: Any, now: datetime) -> Appeal:
        """The department admin of ``handled_by`` appeals the review (申诉) to
        the operator, with a reason; a review is appealed once.

        Raises NotPermitted for anyone else; AppealPending or
        AppealAlreadyDecided (both Conflicts) when it was appealed already;
        ValidationFailed unless the stripped reason is 1..500 characters. The
        appeal records AppealFiled.
        """
        if not _is_department_admin(actor, self.handled_by):
            raise NotPermitted("only the admin of the department that handled it may appeal")
        if self.appeal_state == APPEAL_PENDING:
            raise AppealPending()
        if self.appeal_state is not None:
            raise AppealAlreadyDecided()
        cleaned, message = _required_text(reason)
        if message is not None:
            raise ValidationFailed({"reason": message})
        appeal = Appeal(
            appeal_id=uuid.uuid4().hex,
            review_id=self.review_id,
            department_code=self.handled_by,
            reason=cleaned,
            filed_by=_actor_value(actor, "user_id"),
            filed_at=_as_utc(now),
        )
        appeal.events.append(
            AppealFiled(
                appeal_id=appeal.appeal_id,
                review_id=appeal.review_id,
                department_code=appeal.department_code,
                filed_at=appeal.filed_at,
            )
        )
        self.appeal_state = APPEAL_PENDING
        return appeal

    def settle(self, appeal: Appeal) -> None:
        """Take the decision of this review's appeal: upheld, the review is
        excluded."""
        if appeal.review_id != self.review_id:
            raise ValueError(f"appeal {appeal.appeal_id} is not of review {self.review_id}")
        self.appeal_state = appeal.state
        self.excluded = appeal.state == APPEAL_UPHELD


# ---------------------------------------------------------------------------
# Window visit (一次一评)


# What a visit keeps of the catalogue's item, and its longest value.
_VISIT_ITEM_FIELDS = {
    "item_id": ID_MAX_LENGTH,
    "name": ITEM_NAME_MAX_LENGTH,
    "department_code": CODE_MAX_LENGTH,
    "region_code": REGION_CODE_MAX_LENGTH,
}


def may_record_visit(actor: Mapping[str, Any]) -> bool:
    """Window clerks (staff with role window_clerk and a department) record visits."""
    return bool(
        _actor_value(actor, "user_id")
        and _actor_value(actor, "kind") == "staff"
        and _actor_value(actor, "department_code")
        and "window_clerk" in _actor_roles(actor)
    )


@dataclass(eq=False)
class Visit:
    """A citizen served at a window, who may rate that service once, anonymously,
    with the visit's one-time token (on the window's terminal, or by the link
    sent by SMS to ``phone_masked``'s phone), until ``expires_at``.

    Ratings keeps the SHA-256 of the token (``token_hash``), never the token,
    and the phone only masked. ``review_id`` is set once the visit is rated.
    """

    visit_id: str
    token_hash: str
    item_id: str
    item_name: str
    store_id: str
    department_code: str
    region_code: str
    recorded_by: str
    recorded_at: datetime
    expires_at: datetime
    phone_masked: str | None = None
    review_id: str | None = None
    events: list[Event] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.recorded_at = _as_utc(self.recorded_at, "recorded_at")
        self.expires_at = _as_utc(self.expires_at, "expires_at")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Visit):
            return NotImplemented
        return other.visit_id == self.visit_id

    def __hash__(self) -> int:
        return hash(self.visit_id)

    @classmethod
    def record(
        cls,
        actor: Mapping[str, Any],
        item: Mapping[str, Any],
        phone: Any,
        now: datetime,
        token_days: int = VISIT_TOKEN_DAYS,
    ) -> tuple[Visit, str]:
        """A window clerk records that a citizen was served for ``item`` (the
        catalogue's guide of it); returns the visit and its rating token.

        Raises NotPermitted unless the actor is a window clerk of the item's
        department, ValidationFailed
        naming ``phone`` unless it is None or a mainland mobile number,
        ItemNotRateable (a Conflict naming ``item_id``) for an item not
        published or without a flagship store. Records VisitRecorded.
        """
        if not may_record_visit(actor):
            raise NotPermitted("only a window clerk may record a visit")
        if _actor_value(actor, "department_code") != item.get("department_code"):
            # Another department's clerk would hand out ratings of a store not theirs.
            raise NotPermitted("a window clerk records visits for their own department's items")
        if phone is not None and (message := phone_error(phone)) is not None:
            raise ValidationFailed({"phone": message})
        if item.get("status") != ITEM_PUBLISHED:
            raise ItemNotRateable("the item is not published", {"item_id": "not published"})
        if not item.get("store_id"):
            raise ItemNotRateable(
                "the item has no flagship store to rate", {"item_id": "has no flagship store"}
            )
        problems = _text_errors(item, {**_VISIT_ITEM_FIELDS, "store_id": ID_MAX_LENGTH})
        if problems:
            raise ItemNotRateable(
                "the catalogue's item cannot be rated",
                {f"item.{name}": message for name, message in problems.items()},
            )
        recorded_at = _as_utc(now)
        token = secrets.token_urlsafe(TOKEN_BYTES)
        visit = cls(
            visit_id=uuid.uuid4().hex,
            token_hash=hash_token(token),
            item_id=item["item_id"],
            item_name=item["name"],
            store_id=item["store_id"],
            department_code=item["department_code"],
            region_code=item["region_code"],
            recorded_by=_actor_value(actor, "user_id"),
            recorded_at=recorded_at,
            expires_at=recorded_at + timedelta(days=token_days),
            phone_masked=None if phone is None else mask_phone(phone),
        )
        visit.events.append(
            VisitRecorded(
                visit_id=visit.visit_id,
                store_id=visit.store_id,
                department_code=visit.department_code,
                region_code=visit.region_code,
                item_id=visit.item_id,
                item_name=visit.item_name,
                recorded_at=visit.recorded_at,
            )
        )
        return visit, token

    def invitation(self, token: str, portal_url: str) -> str:
        """The SMS inviting the citizen to rate: the item, the link with the
        token, and the last day (China Standard Time) it works."""
        name = self.item_name
        if len(name) > SMS_ITEM_NAME_LENGTH:
            name = name[: SMS_ITEM_NAME_LENGTH - 1] + "…"
        until = self.expires_at.astimezone(CHINA_STANDARD_TIME)
        return (
            f"【一网通办】请为您办理的“{name}”评价："
            f"{portal_url.rstrip('/')}/rate?token={token} "
            f"（{until.month}月{until.day}日{until:%H:%M}前有效）"
        )

    def review(
        self,
        grade: Any,
        comment: Any,
        now: datetime,
        *,
        channel: Any = "window",
        indicators: Any = None,
    ) -> Review:
        """The anonymous review of this visit, once.

        Raises TokenUsed when the visit was rated, TokenExpired from
        ``expires_at`` on (both Conflicts), ValidationFailed naming every bad
        field (grade, comment, channel: window or sms, indicators: the on-site
        sub-grades, each 1..5). The review is real-name when the visit's phone
        is known. Records ReviewSubmitted on the review.
        """
        if self.review_id is not None:
            raise TokenUsed()
        submitted_at = _as_utc(now)
        if submitted_at >= self.expires_at:
            raise TokenExpired()
        errors = {}
        if channel not in VISIT_CHANNELS:
            errors["channel"] = f"a visit is rated at the window or by SMS: one of {VISIT_CHANNELS}"
        review = _new_review(
            errors,
            grade=grade,
            comment=comment,
            indicators=indicators,
            indicator_names=ONSITE_INDICATORS,
            application_id=None,
            visit_id=self.visit_id,
            reviewer_id=None,
            reviewer_name=ANONYMOUS,
            real_name=self.phone_masked is not None,
            channel=channel,
            item_id=self.item_id,
            item_name=self.item_name,
            store_id=self.store_id,
            department_code=self.department_code,
            handled_by=self.department_code,
            region_code=self.region_code,
            submitted_at=submitted_at,
        )
        self.review_id = review.review_id
        return review


# ---------------------------------------------------------------------------
# Appeal (申诉复核)


@dataclass(eq=False)
class Appeal:
    """A department's request that the operator exclude a review it holds unfair.

    ``state`` goes pending -> upheld or rejected, once (see ``decide``).
    """

    appeal_id: str
    review_id: str
    department_code: str
    reason: str
    filed_by: str
    filed_at: datetime
    state: str = APPEAL_PENDING
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_comment: str | None = None
    events: list[Event] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.filed_at = _as_utc(self.filed_at, "filed_at")
        if self.decided_at is not None:
            self.decided_at = _as_utc(self.decided_at, "decided_at")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Appeal):
            return NotImplemented
        return other.appeal_id == self.appeal_id

    def __hash__(self) -> int:
        return hash(self.appeal_id)

    @property
    def upheld(self) -> bool:
        return self.state == APPEAL_UPHELD

    def decide(self, actor: Mapping[str, Any], uphold: Any, comment: Any, now: datetime) -> None:
        """The operator's decision (复核): upheld (the review is excluded) or
        rejected, with a comment.

        Raises NotPermitted unless the actor is an operator, InvalidTransition
        (a Conflict) unless the appeal is pending, ValidationFailed naming
        ``uphold`` (true or false) and ``comment`` (1..500 characters once
        stripped). Records AppealDecided.
        """
        if not _is_operator(actor):
            raise NotPermitted("only an operator decides appeals")
        if self.state != APPEAL_PENDING:
            raise InvalidTransition(f"the appeal is {self.state}, not pending")
        errors = {}
        if not isinstance(uphold, bool):
            errors["uphold"] = "must be true or false"
        cleaned, message = _required_text(comment)
        if message is not None:
            errors["comment"] = message
        if errors:
            raise ValidationFailed(errors)
        self.state = APPEAL_UPHELD if uphold else APPEAL_REJECTED
        self.decided_by = _actor_value(actor, "user_id")
        self.decided_at = _as_utc(now)
        self.decision_comment = cleaned
        self.events.append(
            AppealDecided(
                appeal_id=self.appeal_id,
                review_id=self.review_id,
                upheld=uphold,
                decided_at=self.decided_at,
            )
        )


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
