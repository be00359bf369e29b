"""Published indicators (GB/T 39735) and live case data: the counting rules.

Plain Python. Both are read models kept by events, as counts per day bucket, so
a figure for any period is a sum and never a scan of reviews or cases.

Rating indicators
- A bucket is (day in China Standard Time, store, department, region, item).
- ``evaluable``: cases that ended completed, denied or rejected (workflow's
  ``application_ended``, on the day they ended) and window visits (ratings'
  ``visit_recorded``, on the day recorded): each may be reviewed once.
- A review counts on the day it was submitted: ``reviews``, ``grade_sum``,
  ``praise`` (4 and 5), ``bad`` (1 and 2), ``real_name_bad`` (a bad review by a
  reviewer whose real name is known), each sub-grade's sum and count.
- Later facts about a review count in the review's bucket, once each:
  ``rectified`` (a bad review whose rectification was resolved, at its first
  resolution) and ``called_back`` (a real-name bad review whose return visit
  reached the reviewer, at the first such visit).
- An upheld appeal excludes the review from every count of its bucket, once;
  the case or visit stays evaluable.
- Facts about a review may arrive before the review itself (each event has its
  own queue). ``ReviewFacts`` keeps what is known of a review and counts it from
  the moment its grade and bucket are known; every change is the difference of
  what the review counts before and after, so any order gives the same totals.
- Every change to a bucket is announced with the store's rating over all time
  (``store_rating_changed``): catalog keeps it as the store's rating, the
  gateway drops the store's cached board and stats.

Case statistics
- A bucket is (day, region, department, item, delivery mode).
- ``submitted`` counts on the day submitted, ``accepted`` on the day accepted,
  ``completed`` (and ``completed_on_time``, ``working_days_sum``), ``denied``,
  ``rejected``, ``not_supplemented`` and ``withdrawn`` on the day the case
  ended, ``overdue`` on the day workflow found it overdue, ``ems`` on the day the
  first EMS shipment of the case was booked. Each once per case.
- ``accepted``, ``overdue`` and ``ems`` events name only the case: its bucket
  comes from what ``application_submitted`` (or ``application_ended``) said of
  it. Until one of those arrives the fact is kept pending on the case
  (``TrackedCase``) and counted when the case's dimensions become known.

Rates are None when their denominator is 0 (no rate is not a rate of 0) and are
rounded half up: shares to 4 places, averages to 2.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from .events import CaseStatsChanged, Event, StoreRatingChanged
from .exceptions import ValidationFailed
from .model import CHINA_STANDARD_TIME

PRAISE_GRADES = frozenset({4, 5})
BAD_GRADES = frozenset({1, 2})
# Outcomes of an ended case that its applicant may review.
EVALUABLE_OUTCOMES = frozenset({"completed", "denied", "rejected"})
CASE_OUTCOMES = ("completed", "denied", "rejected", "not_supplemented", "withdrawn")
# Places of a share (0.6667) and of an average (4.25).
SHARE_PLACES = 4
AVERAGE_PLACES = 2


def china_day(instant: datetime) -> date:
    """The calendar day of ``instant`` in China Standard Time. A naive instant
    is a programming error."""
    if not isinstance(instant, datetime):
        raise TypeError(f"expected a datetime, got {type(instant).__name__}")
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("the instant must be timezone-aware")
    return instant.astimezone(UTC).astimezone(CHINA_STANDARD_TIME).date()


def check_period(day_from: date | None, day_to: date | None) -> None:
    """A period of China days, both ends inclusive, either open. Raises
    ValidationFailed naming ``to`` when it ends before it begins."""
    if day_from is not None and day_to is not None and day_to < day_from:
        raise ValidationFailed({"to": "must not be before from"})


def round_half_up(numerator: int, denominator: int, places: int) -> float:
    """numerator / denominator rounded half up to ``places`` decimals, exactly.

    Integer arithmetic, because float division then ``round`` rounds ties to even
    and misrounds some exact ties (1/32 = 0.03125 would show as 0.0312).
    Negative values do not occur: every count is a count.
    """
    scale = 10**places
    return ((2 * numerator * scale + denominator) // (2 * denominator)) / scale


def share(numerator: int, denominator: int) -> float | None:
    """A rate 0..1 (4 places); None when there is nothing to divide by."""
    return None if denominator == 0 else round_half_up(numerator, denominator, SHARE_PLACES)


def average(total: int, count: int) -> float | None:
    """A mean (2 places); None when nothing was counted."""
    return None if count == 0 else round_half_up(total, count, AVERAGE_PLACES)


# ---------------------------------------------------------------------------
# Rating indicators


@dataclass(frozen=True)
class SubGrade:
    """The sum and the number of one sub-grade (efficiency, attitude, ...)."""

    total: int = 0
    count: int = 0

    def __add__(self, other: SubGrade) -> SubGrade:
        return SubGrade(self.total + other.total, self.count + other.count)

    def __neg__(self) -> SubGrade:
        return SubGrade(-self.total, -self.count)

    @property
    def average(self) -> float | None:
        return average(self.total, self.count)


# The plain counters of a rating bucket, in table order.
RATING_COUNTERS = (
    "evaluable",
    "reviews",
    "grade_sum",
    "praise",
    "bad",
    "rectified",
    "real_name_bad",
    "called_back",
)


@dataclass(frozen=True)
class RatingCounts:
    """The counts of a rating bucket, or of any sum of buckets; also the change
    one fact makes to a bucket (then a count may be negative).

    ``sub_grades`` maps a sub-grade's name to its ``SubGrade``.
    """

    evaluable: int = 0
    reviews: int = 0
    grade_sum: int = 0
    praise: int = 0
    bad: int = 0
    rectified: int = 0
    real_name_bad: int = 0
    called_back: int = 0
    sub_grades: Mapping[str, SubGrade] = field(default_factory=dict)

    def __add__(self, other: RatingCounts) -> RatingCounts:
        if not isinstance(other, RatingCounts):
            return NotImplemented
        merged = dict(self.sub_grades)
        for name, grade in other.sub_grades.items():
            merged[name] = merged.get(name, SubGrade()) + grade
        return RatingCounts(
            **{name: getattr(self, name) + getattr(other, name) for name in RATING_COUNTERS},
            sub_grades={name: grade for name, grade in merged.items() if grade != SubGrade()},
        )

    def __neg__(self) -> RatingCounts:
        return RatingCounts(
            **{name: -getattr(self, name) for name in RATING_COUNTERS},
            sub_grades={name: -grade for name, grade in self.sub_grades.items()},
        )

    def __sub__(self, other: RatingCounts) -> RatingCounts:
        if not isinstance(other, RatingCounts):
            return NotImplemented
        return self + -other

    @property
    def is_zero(self) -> bool:
        return not self.sub_grades and all(getattr(self, name) == 0 for name in RATING_COUNTERS)

    @classmethod
    def total(cls, counts: Iterable[RatingCounts]) -> RatingCounts:
        return sum(counts, cls())


@dataclass(frozen=True)
class IndicatorSummary:
    """The published indicators of a set of buckets (a store's, a department's,
    the province's, within a period): the counts and the rates made of them."""

    counts: RatingCounts = field(default_factory=RatingCounts)

    @property
    def evaluable(self) -> int:
        return self.counts.evaluable

    @property
    def reviews(self) -> int:
        return self.counts.reviews

    @property
    def praise(self) -> int:
        return self.counts.praise

    @property
    def bad(self) -> int:
        return self.counts.bad

    @property
    def rectified(self) -> int:
        return self.counts.rectified

    @property
    def real_name_bad(self) -> int:
        return self.counts.real_name_bad

    @property
    def called_back(self) -> int:
        return self.counts.called_back

    @property
    def evaluation_rate(self) -> float | None:
        """Reviews per evaluable case or visit. Reviews count on the day they were
        made and cases on the day they ended, so over a short period the rate
        may pass 1 (reviews of cases that ended before it)."""
        return share(self.counts.reviews, self.counts.evaluable)

    @property
    def praise_rate(self) -> float | None:
        """Share of reviews graded 4 or 5."""
        return share(self.counts.praise, self.counts.reviews)

    @property
    def bad_rate(self) -> float | None:
        """Share of reviews graded 1 or 2."""
        return share(self.counts.bad, self.counts.reviews)

    @property
    def rectification_rate(self) -> float | None:
        """Share of bad reviews whose rectification was resolved."""
        return share(self.counts.rectified, self.counts.bad)

    @property
    def callback_rate(self) -> float | None:
        """Share of real-name bad reviews whose reviewer a return visit reached."""
        return share(self.counts.called_back, self.counts.real_name_bad)

    @property
    def average_grade(self) -> float | None:
        return average(self.counts.grade_sum, self.counts.reviews)

    @property
    def sub_grades(self) -> dict[str, float]:
        """Each sub-grade's average, by name (those never given are absent)."""
        return {
            name: grade.average
            for name, grade in sorted(self.counts.sub_grades.items())
            if grade.count > 0
        }


@dataclass(frozen=True)
class RatingBucket:
    """Where a fact is counted: a China day and the dimensions of the case or
    visit. ``item_name`` is a label, not part of the key."""

    day: date
    store_id: str
    department_code: str
    region_code: str
    item_id: str
    item_name: str = field(default="", compare=False)

    @classmethod
    def of(cls, payload: Mapping[str, Any], instant: datetime) -> RatingBucket:
        """The bucket of an event payload naming store, department, region and
        item, on the China day of ``instant``."""
        return cls(
            day=china_day(instant),
            store_id=payload["store_id"],
            department_code=payload["department_code"],
            region_code=payload["region_code"],
            item_id=payload["item_id"],
            item_name=payload.get("item_name") or "",
        )


@dataclass(frozen=True, order=True)
class AnnouncedBucket:
    """A bucket without its day: what ``store_rating_changed`` names, and the key
    under which a change marks its store's rating due to be announced (ordered
    by store first)."""

    store_id: str
    department_code: str
    region_code: str
    item_id: str

    @classmethod
    def of(cls, bucket: RatingBucket) -> AnnouncedBucket:
        return cls(bucket.store_id, bucket.department_code, bucket.region_code, bucket.item_id)


def store_rating_changed(
    bucket: RatingBucket | AnnouncedBucket, store: IndicatorSummary
) -> StoreRatingChanged:
    """The announcement of a change to ``bucket``: its dimensions, and ``store``,
    the indicators of the bucket's store over all time."""
    return StoreRatingChanged(
        store_id=bucket.store_id,
        department_code=bucket.department_code,
        region_code=bucket.region_code,
        item_id=bucket.item_id,
        reviews=store.reviews,
        praise_rate=store.praise_rate,
        average_grade=store.average_grade,
    )


def evaluable(count: int = 1) -> RatingCounts:
    """The counts of ``count`` evaluable cases or visits."""
    return RatingCounts(evaluable=count)


def is_evaluable_outcome(outcome: str) -> bool:
    return outcome in EVALUABLE_OUTCOMES


@dataclass
class ReviewFacts:
    """What the indicators know of one review: its bucket, grade, whether the
    reviewer's real name is known and its sub-grades (from ``review_submitted``,
    None until then), and the later facts about it (which may come first).

    Each ``record_*`` method returns the change to add to the review's bucket
    (``bucket``), zero when nothing changes: a fact already known, or a review
    not yet submitted (the fact is kept and counted when it is).
    """

    review_id: str
    bucket: RatingBucket | None = None
    grade: int | None = None
    real_name: bool = False
    sub_grades: dict[str, int] = field(default_factory=dict)
    rectified: bool = False
    called_back: bool = False
    excluded: bool = False

    @property
    def submitted(self) -> bool:
        return self.bucket is not None and self.grade is not None

    def counts(self) -> RatingCounts:
        """What the review counts in its bucket now."""
        if not self.submitted or self.excluded:
            return RatingCounts()
        bad = self.grade in BAD_GRADES
        real_name_bad = bad and self.real_name
        return RatingCounts(
            reviews=1,
            grade_sum=self.grade,
            praise=int(self.grade in PRAISE_GRADES),
            bad=int(bad),
            rectified=int(bad and self.rectified),
            real_name_bad=int(real_name_bad),
            called_back=int(real_name_bad and self.called_back),
            sub_grades={name: SubGrade(grade, 1) for name, grade in self.sub_grades.items()},
        )

    def _change(self, **facts) -> RatingCounts:
        before = self.counts()
        for name, value in facts.items():
            setattr(self, name, value)
        return self.counts() - before

    def record_submitted(
        self,
        bucket: RatingBucket,
        grade: int,
        real_name: bool,
        sub_grades: Mapping[str, int] | None = None,
    ) -> RatingCounts:
        """The review itself; a second submission of the same review changes nothing."""
        if self.submitted:
            return RatingCounts()
        return self._change(
            bucket=bucket,
            grade=grade,
            real_name=bool(real_name),
            sub_grades=dict(sub_grades or {}),
        )

    def record_rectified(self) -> RatingCounts:
        """Its rectification was resolved (counted at the first resolution)."""
        return RatingCounts() if self.rectified else self._change(rectified=True)

    def record_called_back(self) -> RatingCounts:
        """A return visit reached the reviewer (counted at the first one)."""
        return RatingCounts() if self.called_back else self._change(called_back=True)

    def record_excluded(self) -> RatingCounts:
        """An appeal against it was upheld: it leaves every count, once."""
        return RatingCounts() if self.excluded else self._change(excluded=True)


# ---------------------------------------------------------------------------
# Case statistics

# The measures of a case bucket, in table order.
CASE_MEASURES = (
    "submitted",
    "accepted",
    "completed",
    "completed_on_time",
    "denied",
    "rejected",
    "not_supplemented",
    "withdrawn",
    "overdue",
    "ems",
    "working_days_sum",
)
# The measures that count cases (working_days_sum sums days).
CASE_COUNTS = tuple(name for name in CASE_MEASURES if name != "working_days_sum")
# What the live feed shows (ratings.case_stats_changed).
LIVE_MEASURES = (
    "submitted",
    "accepted",
    "completed",
    "completed_on_time",
    "overdue",
    "denied",
    "rejected",
    "ems",
)


@dataclass(frozen=True)
class CaseCounts:
    """The measures of a case bucket, or of any sum of buckets."""

    submitted: int = 0
    accepted: int = 0
    completed: int = 0
    completed_on_time: int = 0
    denied: int = 0
    rejected: int = 0
    not_supplemented: int = 0
    withdrawn: int = 0
    overdue: int = 0
    ems: int = 0
    working_days_sum: int = 0

    def __add__(self, other: CaseCounts) -> CaseCounts:
        if not isinstance(other, CaseCounts):
            return NotImplemented
        return CaseCounts(
            **{name: getattr(self, name) + getattr(other, name) for name in CASE_MEASURES}
        )

    @classmethod
    def total(cls, counts: Iterable[CaseCounts]) -> CaseCounts:
        return sum(counts, cls())

    @property
    def is_zero(self) -> bool:
        return all(getattr(self, name) == 0 for name in CASE_MEASURES)

    @property
    def on_time_rate(self) -> float | None:
        """Share of completed cases completed by their promised due date."""
        return share(self.completed_on_time, self.completed)

    @property
    def ems_share(self) -> float | None:
        """EMS cases per submitted case."""
        return share(self.ems, self.submitted)

    @property
    def average_working_days(self) -> float | None:
        """Working days a completed case took, on average (clock stops excluded)."""
        return average(self.working_days_sum, self.completed)

    def live(self) -> dict[str, int]:
        """The measures the live feed shows."""
        return {name: getattr(self, name) for name in LIVE_MEASURES}


@dataclass(frozen=True)
class CaseDimensions:
    """What a case is counted by, besides the day."""

    region_code: str
    department_code: str
    item_id: str
    mode: str

    @classmethod
    def of(cls, payload: Mapping[str, Any], mode: str) -> CaseDimensions:
        return cls(
            region_code=payload["region_code"],
            department_code=payload["department_code"],
            item_id=payload["item_id"],
            mode=mode,
        )


@dataclass(frozen=True)
class CaseBucket:
    day: date
    dimensions: CaseDimensions


def ended_counts(outcome: str, on_time: bool, working_days: int) -> CaseCounts:
    """The measures an ended case adds: its outcome, and for a completed case
    whether it was on time and the working days it took."""
    if outcome not in CASE_OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    completed = outcome == "completed"
    return CaseCounts(
        **{outcome: 1},
        completed_on_time=int(completed and bool(on_time)),
        working_days_sum=max(int(working_days), 0) if completed else 0,
    )


Change = tuple[CaseBucket, CaseCounts]


@dataclass
class TrackedCase:
    """What the case statistics know of one case: its dimensions (None until
    ``application_submitted`` or ``application_ended`` says them) and the day of
    each fact counted once per case.

    Each ``record_*`` method returns the changes to add to the buckets: empty for
    a fact already known, or while the dimensions are unknown (the fact waits on
    the case and is counted when they become known).
    """

    application_id: str
    dimensions: CaseDimensions | None = None
    submitted_on: date | None = None
    accepted_on: date | None = None
    overdue_on: date | None = None
    ems_on: date | None = None
    ended_on: date | None = None
    outcome: str | None = None
    on_time: bool = False
    working_days: int = 0

    def _facts(self) -> list[tuple[date, CaseCounts]]:
        """Every fact known, with the day it counts on."""
        facts = []
        if self.submitted_on is not None:
            facts.append((self.submitted_on, CaseCounts(submitted=1)))
        if self.accepted_on is not None:
            facts.append((self.accepted_on, CaseCounts(accepted=1)))
        if self.ended_on is not None and self.outcome is not None:
            facts.append(
                (self.ended_on, ended_counts(self.outcome, self.on_time, self.working_days))
            )
        if self.overdue_on is not None:
            facts.append((self.overdue_on, CaseCounts(overdue=1)))
        if self.ems_on is not None:
            facts.append((self.ems_on, CaseCounts(ems=1)))
        return facts

    def _record(
        self, fact: tuple[date, CaseCounts], dimensions: CaseDimensions | None = None, **values
    ) -> list[Change]:
        """Keep a new fact (``values`` on the case) and say what to count: the
        fact itself when the dimensions were known, every fact known when this
        one brings them, nothing while they are unknown."""
        for name, value in values.items():
            setattr(self, name, value)
        if self.dimensions is not None:
            day, counts = fact
            return [(CaseBucket(day, self.dimensions), counts)]
        if dimensions is None:
            return []
        self.dimensions = dimensions
        return [(CaseBucket(day, dimensions), counts) for day, counts in self._facts()]

    @property
    def pending(self) -> bool:
        """Facts are known but not counted: the dimensions are not."""
        return self.dimensions is None and bool(self._facts())

    def record_submitted(self, dimensions: CaseDimensions, day: date) -> list[Change]:
        if self.submitted_on is not None:
            return []
        return self._record((day, CaseCounts(submitted=1)), dimensions, submitted_on=day)

    def record_accepted(self, day: date) -> list[Change]:
        if self.accepted_on is not None:
            return []
        return self._record((day, CaseCounts(accepted=1)), accepted_on=day)

    def record_overdue(self, day: date) -> list[Change]:
        if self.overdue_on is not None:
            return []
        return self._record((day, CaseCounts(overdue=1)), overdue_on=day)

    def record_ems(self, day: date) -> list[Change]:
        if self.ems_on is not None:
            return []
        return self._record((day, CaseCounts(ems=1)), ems_on=day)

    def record_ended(
        self,
        dimensions: CaseDimensions,
        day: date,
        outcome: str,
        on_time: bool,
        working_days: int,
    ) -> list[Change]:
        if self.ended_on is not None:
            return []
        counts = ended_counts(outcome, on_time, working_days)
        return self._record(
            (day, counts),
            dimensions,
            ended_on=day,
            outcome=outcome,
            on_time=bool(on_time),
            working_days=max(int(working_days), 0),
        )


@dataclass
class LiveCaseData:
    """The province's case totals of ``day`` (today) and of all time, as the
    live feed shows them. ``announce`` records ``case_stats_changed``."""

    day: date
    today: CaseCounts
    all_time: CaseCounts
    events: list[Event] = field(default_factory=list, repr=False)

    def announce(self) -> None:
        self.events.append(
            CaseStatsChanged(day=self.day, today=self.today.live(), all_time=self.all_time.live())
        )

    def payload(self) -> dict:
        """What ``announce`` says, as a plain mapping (the day a date)."""
        return {"day": self.day, "today": self.today.live(), "all_time": self.all_time.live()}
