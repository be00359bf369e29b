"""Repositories of the read models: the published indicators and the live case
data (tables in ``adapters.orm``, rules in ``domain.indicators``).

Counts are added with ``INSERT ... ON CONFLICT DO UPDATE`` (x = x + change), so
concurrent handlers never lose a count and a bucket's row appears with its
first fact. Figures are sums over day buckets, filtered by exact codes and an
inclusive range of China days.
"""

import dataclasses
import functools
from collections.abc import Mapping
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.common.db import DEFERRED, create_or_lock, row_by_key, update_by_key, upsert_of
from services.ratings.adapters import orm
from services.ratings.domain.indicators import (
    CASE_MEASURES,
    RATING_COUNTERS,
    AnnouncedBucket,
    CaseBucket,
    CaseCounts,
    CaseDimensions,
    RatingBucket,
    RatingCounts,
    ReviewFacts,
    SubGrade,
    TrackedCase,
)

# The filters a figure may be narrowed by, and the groupings of the rating
# indicators, each with the column it is keyed by.
RATING_FILTERS = ("store_id", "department_code", "region_code", "item_id")
CASE_FILTERS = ("region_code", "department_code", "item_id")
RATING_GROUPINGS = {
    "stores": "store_id",
    "departments": "department_code",
    "regions": "region_code",
    "items": "item_id",
}
# The first key of the store locks (PostgreSQL's two-key advisory locks: this
# one, then the store id's hash), so they never meet another use of advisory
# locks. "rate" in ASCII.
STORE_LOCK_KEY = 0x72617465
# The statement of ``lock_store``, built once: it runs after every rated change.
_STORE_LOCK = sa.select(
    sa.func.pg_advisory_xact_lock(
        STORE_LOCK_KEY, sa.func.hashtext(sa.bindparam("store_id", type_=sa.String))
    )
)


def _sums(
    session: Session,
    table: sa.Table,
    measures: tuple[str, ...],
    where: Mapping[str, str],
    day_from: date | None,
    day_to: date | None,
) -> sa.Row:
    """The sums of ``measures`` (0 without rows) over the rows of ``table``
    matching ``where`` (column -> code) within the days (inclusive; None:
    unbounded)."""
    names = tuple(sorted(where))
    statement = _sums_statement(table, measures, names, day_from is not None, day_to is not None)
    params = dict(where)
    if day_from is not None:
        params["day_from"] = day_from
    if day_to is not None:
        params["day_to"] = day_to
    return session.execute(statement, params).one()


@functools.lru_cache(maxsize=256)
def _sums_statement(
    table: sa.Table, measures: tuple, where: tuple, day_from: bool, day_to: bool
) -> sa.Select:
    """The select of ``_sums`` for one shape of call, the codes bound by their
    columns' names and the days as ``day_from`` and ``day_to``: built once per
    shape (see ``_increment_statement``), as a store's counts are read after
    every change to them and the province's at every live announcement."""
    conditions = [table.c[name] == sa.bindparam(name) for name in where]
    if day_from:
        conditions.append(table.c.day >= sa.bindparam("day_from"))
    if day_to:
        conditions.append(table.c.day <= sa.bindparam("day_to"))
    sums = [sa.func.coalesce(sa.func.sum(table.c[name]), 0) for name in measures]
    return sa.select(*sums).where(*conditions)


def _lock(
    session: Session, table: sa.Table, column: str, stored: dict[str, dict], values: dict
) -> Mapping:
    """The row of ``table`` keyed by ``values[column]``, created from
    ``values`` when there is none, and locked until the transaction ends, in
    one statement (``create_or_lock``); kept in ``stored`` for ``_save``."""
    statement = create_or_lock(session.get_bind().dialect.name, table, column)
    row = session.execute(statement, values).mappings().one()
    stored[values[column]] = dict(row)
    return row


def _save(
    session: Session, table: sa.Table, column: str, stored: dict[str, dict], values: dict
) -> None:
    """Write ``values`` to the row of ``table`` they key by ``column``. For a
    row in ``stored`` (key -> the row as this transaction locked it), only the
    columns that differ, and nothing when none does: most facts change a
    column or two, and one already known changes none. ``stored`` follows."""
    key = values.pop(column)
    row = stored.get(key)
    if row is not None:
        values = {name: value for name, value in values.items() if row[name] != value}
        if not values:
            return
    session.execute(
        update_by_key(table, column), {"where_key": key, **values}, execution_options=DEFERRED
    )
    if row is not None:
        row.update(values)


def _conditions(
    table: sa.Table, where: Mapping[str, str], day_from: date | None, day_to: date | None
) -> list:
    conditions = [table.c[name] == value for name, value in where.items()]
    if day_from is not None:
        conditions.append(table.c.day >= day_from)
    if day_to is not None:
        conditions.append(table.c.day <= day_to)
    return conditions


def _increment(session: Session, table: sa.Table, key: dict, changes: dict, **labels) -> None:
    """Add ``changes`` (column -> number) to the row of ``key``, creating it."""
    statement = _increment_statement(
        session.get_bind().dialect.name, table, tuple(key), tuple(changes), tuple(labels)
    )
    session.execute(statement, {**key, **labels, **changes}, execution_options=DEFERRED)


@functools.lru_cache(maxsize=256)
def _increment_statement(
    dialect: str, table: sa.Table, key: tuple, changes: tuple, labels: tuple
) -> sa.Insert:
    """The upsert of ``_increment`` for one shape of call, its values bound by
    name: built once per shape, so each event's handler neither constructs the
    statement nor works out its cache key again (SQLAlchemy keeps both on the
    statement object)."""
    statement = upsert_of(dialect)(table).values(
        **{name: sa.bindparam(name) for name in (*key, *labels, *changes)}
    )
    set_ = {name: table.c[name] + statement.excluded[name] for name in changes}
    for name in labels:
        # A label (an item's name) follows the newest fact that names it.
        set_[name] = sa.case(
            (statement.excluded[name] != "", statement.excluded[name]), else_=table.c[name]
        )
    return statement.on_conflict_do_update(index_elements=list(key), set_=set_)


_ANNOUNCED_KEY = ("store_id", "department_code", "region_code", "item_id")


@functools.lru_cache(maxsize=4)
def _mark_statement(dialect: str) -> sa.Insert:
    """The upsert of ``mark_rating_due``: a new row, or one more mark on the
    row there is (its ``marked_at`` stays the first mark's). Built once."""
    table = orm.rating_announcements
    statement = upsert_of(dialect)(table).values(
        **{name: sa.bindparam(name) for name in (*_ANNOUNCED_KEY, "marked_at")}, marks=1
    )
    return statement.on_conflict_do_update(
        index_elements=list(_ANNOUNCED_KEY), set_={"marks": table.c.marks + 1}
    )


_DUE = (
    sa.select(orm.rating_announcements)
    .order_by(orm.rating_announcements.c.marked_at)
    .limit(sa.bindparam("limit"))
)
_UNMARK = orm.rating_announcements.delete().where(
    *[orm.rating_announcements.c[name] == sa.bindparam(name) for name in _ANNOUNCED_KEY],
    orm.rating_announcements.c.marks == sa.bindparam("marks"),
)


class IndicatorRepository:
    """The published indicators: counts per rating bucket, sub-grades, what is
    known of each review, and the buckets whose store's rating is due to be
    announced."""

    totals = orm.rating_indicators
    sub_grades = orm.rating_sub_grades
    reviews = orm.indicator_reviews

    def __init__(self, session: Session):
        self.session = session
        # The rows of the reviews this transaction locked, as stored (see _save).
        self._locked: dict[str, dict] = {}

    # --- reviews ---------------------------------------------------------------

    def review(self, review_id: str, for_update: bool = False) -> ReviewFacts | None:
        """What is known of a review, or None. ``for_update`` locks the row
        (PostgreSQL), so two facts about one review are counted one after the other."""
        statement = row_by_key(self.reviews, "review_id", for_update)
        row = self.session.execute(statement, {"key": review_id}).mappings().first()
        return None if row is None else self._review_facts(row)

    def lock_review(self, review_id: str) -> ReviewFacts:
        """What is known of a review, its row created empty if there is none,
        and locked (PostgreSQL) until the transaction ends: concurrent facts
        about one review are counted one after the other, and two creating its
        row at once do not collide (the second waits, then finds it). One
        statement (``create_or_lock``) creates, locks and reads the row."""
        values = self._review_values(ReviewFacts(review_id=review_id))
        return self._review_facts(
            _lock(self.session, self.reviews, "review_id", self._locked, values)
        )

    def save_review(self, facts: ReviewFacts) -> None:
        """Store what is known of a review (only what changed, after ``lock_review``)."""
        _save(self.session, self.reviews, "review_id", self._locked, self._review_values(facts))

    @staticmethod
    def _review_facts(row: Mapping) -> ReviewFacts:
        bucket = None
        if row["day"] is not None:
            bucket = RatingBucket(
                day=row["day"],
                store_id=row["store_id"],
                department_code=row["department_code"],
                region_code=row["region_code"],
                item_id=row["item_id"],
                item_name=row["item_name"] or "",
            )
        return ReviewFacts(
            review_id=row["review_id"],
            bucket=bucket,
            grade=row["grade"],
            real_name=row["real_name"],
            sub_grades={str(name): int(grade) for name, grade in (row["sub_grades"] or {}).items()},
            rectified=row["rectified"],
            called_back=row["called_back"],
            excluded=row["excluded"],
        )

    @staticmethod
    def _review_values(facts: ReviewFacts) -> dict:
        bucket = facts.bucket
        return {
            "review_id": facts.review_id,
            "day": bucket.day if bucket else None,
            "store_id": bucket.store_id if bucket else None,
            "department_code": bucket.department_code if bucket else None,
            "region_code": bucket.region_code if bucket else None,
            "item_id": bucket.item_id if bucket else None,
            "item_name": bucket.item_name if bucket else None,
            "grade": facts.grade,
            "real_name": facts.real_name,
            "sub_grades": dict(facts.sub_grades),
            "rectified": facts.rectified,
            "called_back": facts.called_back,
            "excluded": facts.excluded,
        }

    # --- counts ----------------------------------------------------------------

    def add(self, bucket: RatingBucket, change: RatingCounts) -> None:
        """Add ``change`` (possibly negative) to the bucket's counts."""
        key = {
            "day": bucket.day,
            "store_id": bucket.store_id,
            "department_code": bucket.department_code,
            "region_code": bucket.region_code,
            "item_id": bucket.item_id,
        }
        counters = {name: getattr(change, name) for name in RATING_COUNTERS}
        if any(counters.values()):
            _increment(self.session, self.totals, key, counters, item_name=bucket.item_name)
        for indicator, grade in sorted(change.sub_grades.items()):
            _increment(
                self.session,
                self.sub_grades,
                {**key, "indicator": indicator},
                {"grade_sum": grade.total, "grades": grade.count},
            )

    def lock_store(self, store_id: str) -> None:
        """Wait until every other transaction that took this store's lock has
        ended, and hold the lock until this one ends (PostgreSQL; SQLite has
        one writer at a time anyway). Taken after a change is added and before
        the store's totals are read, it makes those totals include every change
        to the store committed before, and one store's announcements follow
        its changes in commit order. The last lock a transaction takes, so it
        waits for no row while holding it."""
        if self.session.get_bind().dialect.name != "postgresql":
            return
        # Sent with the statement after it (the mark, or the read of the
        # totals), which runs under it all the same.
        self.session.execute(_STORE_LOCK, {"store_id": store_id}, execution_options=DEFERRED)

    # --- announcements of stores' ratings ----------------------------------------

    def mark_rating_due(self, bucket: AnnouncedBucket, at: datetime) -> None:
        """Mark the store's rating due to be announced for ``bucket``; a bucket
        marked already counts one more mark."""
        statement = _mark_statement(self.session.get_bind().dialect.name)
        self.session.execute(
            statement,
            {**dataclasses.asdict(bucket), "marked_at": at},
            execution_options=DEFERRED,
        )

    def due_ratings(self, limit: int) -> list[tuple[AnnouncedBucket, int]]:
        """Up to ``limit`` buckets due to be announced, the longest due first,
        each with its count of marks (for ``unmark_rating``)."""
        rows = self.session.execute(_DUE, {"limit": limit}).mappings()
        return [
            (AnnouncedBucket(*(row[name] for name in _ANNOUNCED_KEY)), row["marks"]) for row in rows
        ]

    def unmark_rating(self, bucket: AnnouncedBucket, marks: int) -> bool:
        """Take the mark off ``bucket`` if it still has ``marks`` marks; False
        when it was marked again since (it stays due)."""
        parameters = {**dataclasses.asdict(bucket), "marks": marks}
        return self.session.execute(_UNMARK, parameters).rowcount == 1

    def store_counts(self, store_id: str) -> RatingCounts:
        """The counts of every bucket of a store over all time, without the
        sub-grades: one sum over the store's rows (index ``store_id, day``),
        cheap enough to read after every change."""
        return self._counters({"store_id": store_id})

    def _counters(
        self,
        where: Mapping[str, str],
        day_from: date | None = None,
        day_to: date | None = None,
    ) -> RatingCounts:
        row = _sums(self.session, self.totals, RATING_COUNTERS, where, day_from, day_to)
        return RatingCounts(
            **{name: int(value) for name, value in zip(RATING_COUNTERS, row, strict=True)}
        )

    def summary(
        self,
        where: Mapping[str, str] | None = None,
        day_from: date | None = None,
        day_to: date | None = None,
    ) -> RatingCounts:
        """The counts of every bucket matching ``where`` (column -> code) within
        the days ``day_from``..``day_to`` (inclusive; None: unbounded)."""
        where = dict(where or {})
        counters = self._counters(where, day_from, day_to)
        grades = self.session.execute(
            sa.select(
                self.sub_grades.c.indicator,
                sa.func.sum(self.sub_grades.c.grade_sum),
                sa.func.sum(self.sub_grades.c.grades),
            )
            .where(*_conditions(self.sub_grades, where, day_from, day_to))
            .group_by(self.sub_grades.c.indicator)
        )
        return dataclasses.replace(
            counters,
            sub_grades=_sub_grades((indicator, total, count) for indicator, total, count in grades),
        )

    def grouped(
        self,
        grouping: str,
        where: Mapping[str, str] | None = None,
        day_from: date | None = None,
        day_to: date | None = None,
    ) -> list[tuple[dict, RatingCounts]]:
        """Counts per store, department, region or item (``RATING_GROUPINGS``),
        in code order, of the buckets matching ``where`` and the days; items
        are labelled with their newest name."""
        where = dict(where or {})
        totals = self.totals
        key = totals.c[RATING_GROUPINGS[grouping]]
        extra = [sa.func.max(totals.c.item_name).label("item_name")] if grouping == "items" else []
        rows = self.session.execute(
            sa.select(
                key,
                *extra,
                *[sa.func.sum(totals.c[name]).label(name) for name in RATING_COUNTERS],
            )
            .where(*_conditions(totals, where, day_from, day_to))
            .group_by(key)
            .order_by(key)
        ).mappings()
        sub_key = self.sub_grades.c[RATING_GROUPINGS[grouping]]
        graded: dict[str, list] = {}
        for code, indicator, total, count in self.session.execute(
            sa.select(
                sub_key,
                self.sub_grades.c.indicator,
                sa.func.sum(self.sub_grades.c.grade_sum),
                sa.func.sum(self.sub_grades.c.grades),
            )
            .where(*_conditions(self.sub_grades, where, day_from, day_to))
            .group_by(sub_key, self.sub_grades.c.indicator)
        ):
            graded.setdefault(code, []).append((indicator, total, count))
        result = []
        for row in rows:
            code = row[key.name]
            labels = {key.name: code}
            if extra:
                labels["item_name"] = row["item_name"]
            counts = RatingCounts(
                **{name: int(row[name]) for name in RATING_COUNTERS},
                sub_grades=_sub_grades(graded.get(code, ())),
            )
            result.append((labels, counts))
        return result


def _sub_grades(rows) -> dict[str, SubGrade]:
    return {
        str(indicator): SubGrade(int(total), int(count))
        for indicator, total, count in rows
        if int(count) > 0
    }


class CaseStatsRepository:
    """The live case data: counts per case bucket, the province's per day, and
    what is known of each case."""

    totals = orm.case_stats
    province = orm.case_stats_province
    cases = orm.case_stats_cases

    def __init__(self, session: Session):
        self.session = session
        # The rows of the cases this transaction locked, as stored (see _save).
        self._locked: dict[str, dict] = {}

    # --- cases -----------------------------------------------------------------

    def case(self, application_id: str, for_update: bool = False) -> TrackedCase | None:
        statement = row_by_key(self.cases, "application_id", for_update)
        row = self.session.execute(statement, {"key": application_id}).mappings().first()
        return None if row is None else self._tracked_case(row)

    def lock_case(self, application_id: str) -> TrackedCase:
        """What is known of a case, its row created empty if there is none, and
        locked (PostgreSQL) until the transaction ends (as ``lock_review``)."""
        values = self._case_values(TrackedCase(application_id=application_id))
        return self._tracked_case(
            _lock(self.session, self.cases, "application_id", self._locked, values)
        )

    def save_case(self, case: TrackedCase) -> None:
        """Store what is known of a case (only what changed, after ``lock_case``)."""
        _save(self.session, self.cases, "application_id", self._locked, self._case_values(case))

    @staticmethod
    def _tracked_case(row: Mapping) -> TrackedCase:
        dimensions = None
        if row["mode"] is not None:
            dimensions = CaseDimensions(
                region_code=row["region_code"],
                department_code=row["department_code"],
                item_id=row["item_id"],
                mode=row["mode"],
            )
        return TrackedCase(
            application_id=row["application_id"],
            dimensions=dimensions,
            submitted_on=row["submitted_on"],
            accepted_on=row["accepted_on"],
            overdue_on=row["overdue_on"],
            ems_on=row["ems_on"],
            ended_on=row["ended_on"],
            outcome=row["outcome"],
            on_time=row["on_time"],
            working_days=row["working_days"],
        )

    @staticmethod
    def _case_values(case: TrackedCase) -> dict:
        dimensions = case.dimensions
        return {
            "application_id": case.application_id,
            "region_code": dimensions.region_code if dimensions else None,
            "department_code": dimensions.department_code if dimensions else None,
            "item_id": dimensions.item_id if dimensions else None,
            "mode": dimensions.mode if dimensions else None,
            "submitted_on": case.submitted_on,
            "accepted_on": case.accepted_on,
            "overdue_on": case.overdue_on,
            "ems_on": case.ems_on,
            "ended_on": case.ended_on,
            "outcome": case.outcome,
            "on_time": case.on_time,
            "working_days": case.working_days,
        }

    def count_pending(self) -> int:
        """Cases with facts waiting for their dimensions (their
        ``application_submitted`` has not arrived)."""
        cases = self.cases
        return self.session.execute(
            sa.select(sa.func.count()).select_from(cases).where(cases.c.mode.is_(None))
        ).scalar_one()

    # --- counts ----------------------------------------------------------------

    def add(self, bucket: CaseBucket, change: CaseCounts) -> None:
        """Add ``change`` to the bucket's measures and to the province's day."""
        measures = {name: getattr(change, name) for name in CASE_MEASURES}
        if not any(measures.values()):
            return
        dimensions = bucket.dimensions
        key = {
            "day": bucket.day,
            "region_code": dimensions.region_code,
            "department_code": dimensions.department_code,
            "item_id": dimensions.item_id,
            "mode": dimensions.mode,
        }
        _increment(self.session, self.totals, key, measures)
        _increment(self.session, self.province, {"day": bucket.day}, measures)

    def summary(
        self,
        where: Mapping[str, str] | None = None,
        day_from: date | None = None,
        day_to: date | None = None,
    ) -> CaseCounts:
        """The measures of every bucket matching ``where`` (column -> code)
        within the days (inclusive; None: unbounded)."""
        where = dict(where or {})
        # The province's day rows answer the unfiltered figures.
        table = self.province if not where else self.totals
        row = _sums(self.session, table, CASE_MEASURES, where, day_from, day_to)
        return CaseCounts(
            **{name: int(value) for name, value in zip(CASE_MEASURES, row, strict=True)}
        )

    def submitted_by_mode(
        self,
        where: Mapping[str, str] | None = None,
        day_from: date | None = None,
        day_to: date | None = None,
    ) -> dict[str, int]:
        """Submitted cases per delivery mode (modes without any are absent)."""
        where = dict(where or {})
        totals = self.totals
        rows = self.session.execute(
            sa.select(totals.c.mode, sa.func.sum(totals.c.submitted))
            .where(*_conditions(totals, where, day_from, day_to))
            .group_by(totals.c.mode)
            .order_by(totals.c.mode)
        )
        return {mode: int(count) for mode, count in rows if int(count) > 0}
