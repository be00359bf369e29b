"""Domain events of the ratings service.

Each is a frozen dataclass whose class attribute ``type`` is the event name
published on the ``ratings.events`` exchange. Instants are timezone-aware
``datetime`` values; the wire format (ISO 8601 UTC strings) is the schemas' job.
"""

from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass, field
from datetime import date, datetime
from typing import ClassVar


@dataclass(frozen=True)
class Event:
    """Base of ratings domain events."""

    type: ClassVar[str] = ""


@dataclass(frozen=True)
class ReviewSubmitted(Event):
    """A citizen reviewed an ended case (``application_id``) or a window visit
    (``visit_id``); the indicators count it (and announce the store's new
    rating, ``store_rating_changed``).

    ``department_code`` is the item's department; ``channel`` web, app (a case,
    online) or window, sms (a visit); ``real_name`` whether the reviewer is
    known (real name verified, or the visit's phone given); ``indicators`` the
    sub-grades given, by name. Keyword-only: the fields added for visits and
    sub-grades default to what a review before them was (an online review of a
    case, reviewer not known, no sub-grades).
    """

    type: ClassVar[str] = "review_submitted"

    _: KW_ONLY
    review_id: str
    application_id: str | None
    visit_id: str | None = None
    store_id: str
    department_code: str
    region_code: str
    item_id: str
    item_name: str = ""
    grade: int
    channel: str = "web"
    real_name: bool = False
    indicators: Mapping[str, int] = field(default_factory=dict)
    submitted_at: datetime


@dataclass(frozen=True)
class BadReviewFlagged(Event):
    """A review of grade 1 or 2 opened a rectification that ``department_code``
    (the department that handled it) must verify by ``verify_due``.
    ``application_id`` is None for a review of a window visit."""

    type: ClassVar[str] = "bad_review_flagged"

    review_id: str
    rectification_id: str
    application_id: str | None
    department_code: str
    grade: int
    verify_due: date


@dataclass(frozen=True)
class RectificationResolved(Event):
    """A department resolved the rectification opened by a bad review, in
    ``round`` 1, or 2 after the citizen's dissatisfaction reopened it.
    ``application_id`` is None for a review of a window visit."""

    type: ClassVar[str] = "rectification_resolved"

    rectification_id: str
    review_id: str
    application_id: str | None
    department_code: str
    resolved_by: str
    resolved_at: datetime
    round: int


@dataclass(frozen=True)
class VisitRecorded(Event):
    """A window clerk recorded a visit (一次一评): one more service that may be
    rated. No phone and no token: personal data and credentials stay in ratings."""

    type: ClassVar[str] = "visit_recorded"

    visit_id: str
    store_id: str
    department_code: str
    region_code: str
    item_id: str
    item_name: str
    recorded_at: datetime


@dataclass(frozen=True)
class ReviewReplied(Event):
    """The department (``department_code``: the one that handled the review)
    answered a review in public, once."""

    type: ClassVar[str] = "review_replied"

    review_id: str
    store_id: str
    department_code: str
    replied_at: datetime


@dataclass(frozen=True)
class AppealFiled(Event):
    """The department that handled a review appealed it (申诉) to the operator."""

    type: ClassVar[str] = "appeal_filed"

    appeal_id: str
    review_id: str
    department_code: str
    filed_at: datetime


@dataclass(frozen=True)
class AppealDecided(Event):
    """The operator decided an appeal (复核). Upheld: the review is excluded from
    every rate and from the public board, and kept in the record."""

    type: ClassVar[str] = "appeal_decided"

    appeal_id: str
    review_id: str
    upheld: bool
    decided_at: datetime


@dataclass(frozen=True)
class CaseStatsChanged(Event):
    """The live case data changed: the province's totals of ``day`` (today, China
    Standard Time) and of all time, each ``{submitted, accepted, completed,
    completed_on_time, overdue, denied, rejected, ems}``. The gateway keeps the
    newest for its live feed."""

    type: ClassVar[str] = "case_stats_changed"

    day: date
    today: Mapping[str, int]
    all_time: Mapping[str, int]


@dataclass(frozen=True)
class StoreRatingChanged(Event):
    """A count of the published indicators changed in one bucket of a store: a
    review counted, rectified, called back or excluded by an upheld appeal, or
    one more case or visit that may be rated. ``department_code``,
    ``region_code`` and ``item_id`` are that bucket's (what cached figures it
    touched); ``reviews``, ``praise_rate`` and ``average_grade`` are the
    store's rating over all time as the transaction that made the change saw
    it (rates None when no review counts). Changes of one store are recorded
    one after the other, so the newest by the envelope's ``occurred_at``
    holds every earlier one: catalog keeps that as the store's rating."""

    type: ClassVar[str] = "store_rating_changed"

    store_id: str
    department_code: str
    region_code: str
    item_id: str
    reviews: int
    praise_rate: float | None
    average_grade: float | None


@dataclass(frozen=True)
class RectificationVerified(Event):
    """The department verified a bad review (核实) and decided how it answers:
    ``immediate`` (fixed at once), ``deadline`` (a plan) or ``explain`` (no
    basis in law or policy), due by ``due_date``."""

    type: ClassVar[str] = "rectification_verified"

    rectification_id: str
    review_id: str
    department_code: str
    decision: str
    due_date: date
    verified_at: datetime


@dataclass(frozen=True)
class ReturnVisitRecorded(Event):
    """The department called the citizen back about the fix (回访): whether
    they were ``reached``, whether ``satisfied`` (None when not reached), and
    whether their dissatisfaction ``reopened`` the rectification."""

    type: ClassVar[str] = "return_visit_recorded"

    rectification_id: str
    review_id: str
    department_code: str
    reached: bool
    satisfied: bool | None
    reopened: bool
    recorded_at: datetime


@dataclass(frozen=True)
class RectificationEscalated(Event):
    """A rectification missed ``due_date`` (its verification or its fix) and
    was brought to ``level`` (督办): the department's admin, later the operator."""

    type: ClassVar[str] = "rectification_escalated"

    rectification_id: str
    review_id: str
    department_code: str
    level: str
    due_date: date
    escalated_at: datetime


@dataclass(frozen=True)
class RectificationClosed(Event):
    """A rectification closed with ``outcome``: ``satisfied``,
    ``closed_after_reopen``, ``unreachable`` or ``appeal_upheld``."""

    type: ClassVar[str] = "rectification_closed"

    rectification_id: str
    review_id: str
    department_code: str
    outcome: str
    closed_at: datetime
