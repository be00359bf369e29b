"""evaluation loop: denied and rejected cases reviewable, window visits,
replies and appeals, rectification with verification, return visits and
escalation, ratings' copy of the working calendar, the published indicators
and the live case data as read models, text messages to citizens.

What is kept and how it is converted:
- ``reviewable_cases.completed_at`` is renamed ``ended_at``; every case kept
  ended ``completed`` and is handled by its item's department.
- Reviews kept are reviews of cases, web channel, reviewer shown as 匿名, real
  name not known, no sub-grades, not excluded, handled by the item's
  department.
- Rectifications: ``status`` is renamed ``state`` (open ->
  awaiting_verification, resolved -> resolved); ``verify_due`` takes the old
  ``due_date`` (five calendar days after opening) and ``due_date``, now the due
  date of the fix, keeps it only for a resolved one (an open one has not been
  verified, so no fix is due yet); round 1.
- ``rating_totals`` is replaced by the read models ``rating_indicators`` and
  ``indicator_reviews``, rebuilt here from the reviews and cases kept so the
  published indicators go on from where they were: each review counts on the
  China day it was submitted (rectified when its rectification is resolved),
  each case is evaluable on the China day it ended. Reviews of that time had
  no real name and no sub-grades, so ``real_name_bad``, ``called_back`` and
  ``rating_sub_grades`` start at zero. The events that feed these read models
  are new in this release (``application_ended`` with it), so none from before
  the deploy is counted a second time; a ``review_submitted`` or
  ``rectification_resolved`` still in the outbox finds its review already
  counted and changes nothing.
- The live case data (``case_stats``, ``case_stats_province``,
  ``case_stats_cases``) cannot be rebuilt from ratings' data (submission,
  acceptance, delivery mode and timeliness are workflow's): it starts empty and
  counts from the deploy.
- ``calendar_years`` starts empty: the shipped schedules are read until
  workflow's ``calendar_loaded`` stores a year.

The SQL is written against plain tables as this revision knows them (not the
live ORM, which later revisions change). On SQLite the altered tables are
rebuilt in batch mode; constraints are named per the ORM's NAMING_CONVENTION.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(length=64)
CODE = sa.String(length=32)
# services.ratings.domain.indicators as of this revision.
CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "CST")
PRAISE_GRADES = frozenset({4, 5})
BAD_GRADES = frozenset({1, 2})
EVALUABLE_OUTCOMES = ("completed", "denied", "rejected")
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
# Rows read (and written) at a time while the read models are rebuilt.
CHUNK = 1000


def upgrade() -> None:
    _create_visits_and_calendar()
    _convert_reviewable_cases()
    _convert_reviews()
    _create_appeals()
    _convert_rectifications()
    _create_rectification_children()
    _create_read_models()
    _create_sms_messages()
    op.drop_index("ix_rating_totals_region_code", table_name="rating_totals")
    op.drop_index("ix_rating_totals_department_code", table_name="rating_totals")
    op.drop_table("rating_totals")
    _rebuild_rating_indicators(op.get_bind())


# ---------------------------------------------------------------------------
# Upgrade: tables


def _create_visits_and_calendar() -> None:
    op.create_table(
        "visits",
        sa.Column("visit_id", ID, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("item_id", ID, nullable=False),
        sa.Column("item_name", sa.String(length=200), nullable=False),
        sa.Column("store_id", ID, nullable=False),
        sa.Column("department_code", CODE, nullable=False),
        sa.Column("region_code", CODE, nullable=False),
        sa.Column("recorded_by", ID, nullable=False),
        sa.Column("phone_masked", sa.String(length=16), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("review_id", ID, nullable=True),
        sa.PrimaryKeyConstraint("visit_id", name=op.f("pk_visits")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_visits_token_hash")),
    )
    op.create_table(
        "calendar_years",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("holidays", sa.JSON(), nullable=False),
        sa.Column("workdays", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_calendar_years")),
    )


def _convert_reviewable_cases() -> None:
    with op.batch_alter_table("reviewable_cases") as batch:
        batch.add_column(sa.Column("principal_id", ID, nullable=True))
        batch.add_column(sa.Column("handled_by", CODE, nullable=True))
        batch.add_column(sa.Column("outcome", sa.String(length=16), nullable=True))
    cases = sa.table(
        "reviewable_cases",
        sa.column("department_code"),
        sa.column("handled_by"),
        sa.column("outcome"),
    )
    op.execute(cases.update().values(handled_by=cases.c.department_code, outcome="completed"))
    with op.batch_alter_table("reviewable_cases") as batch:
        batch.alter_column(
            "completed_at",
            new_column_name="ended_at",
            existing_type=sa.DateTime(timezone=True),
            existing_nullable=False,
        )
        batch.alter_column("handled_by", existing_type=CODE, nullable=False)
        batch.alter_column("outcome", existing_type=sa.String(length=16), nullable=False)


def _convert_reviews() -> None:
    with op.batch_alter_table("reviews") as batch:
        batch.add_column(sa.Column("visit_id", ID, nullable=True))
        batch.add_column(sa.Column("reviewer_name", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("real_name", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("channel", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("indicators", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("handled_by", CODE, nullable=True))
        batch.add_column(sa.Column("excluded", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("reply", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("replied_by", ID, nullable=True))
        batch.add_column(sa.Column("appeal_state", sa.String(length=16), nullable=True))
    reviews = sa.table(
        "reviews",
        sa.column("department_code"),
        sa.column("reviewer_name"),
        sa.column("real_name", sa.Boolean),
        sa.column("channel"),
        sa.column("indicators", sa.JSON),
        sa.column("handled_by"),
        sa.column("excluded", sa.Boolean),
    )
    op.execute(
        reviews.update().values(
            reviewer_name="匿名",
            real_name=False,
            channel="web",
            indicators={},
            handled_by=reviews.c.department_code,
            excluded=False,
        )
    )
    with op.batch_alter_table("reviews") as batch:
        batch.alter_column("application_id", existing_type=ID, nullable=True)
        batch.alter_column("reviewer_id", existing_type=ID, nullable=True)
        batch.alter_column("reviewer_name", existing_type=sa.String(length=16), nullable=False)
        batch.alter_column("real_name", existing_type=sa.Boolean(), nullable=False)
        batch.alter_column("channel", existing_type=sa.String(length=8), nullable=False)
        batch.alter_column("indicators", existing_type=sa.JSON(), nullable=False)
        batch.alter_column("handled_by", existing_type=CODE, nullable=False)
        batch.alter_column("excluded", existing_type=sa.Boolean(), nullable=False)
        batch.create_unique_constraint(op.f("uq_reviews_visit_id"), ["visit_id"])
        batch.create_foreign_key(
            op.f("fk_reviews_visit_id_visits"), "visits", ["visit_id"], ["visit_id"]
        )
        batch.create_check_constraint(
            op.f("ck_reviews_case_or_visit"), "(application_id IS NULL) <> (visit_id IS NULL)"
        )
    op.create_index("ix_reviews_handled_by_submitted", "reviews", ["handled_by", "submitted_at"])


def _create_appeals() -> None:
    op.create_table(
        "appeals",
        sa.Column("appeal_id", ID, nullable=False),
        sa.Column("review_id", ID, nullable=False),
        sa.Column("department_code", CODE, nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("filed_by", ID, nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("decided_by", ID, nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_comment", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["review_id"], ["reviews.review_id"], name=op.f("fk_appeals_review_id_reviews")
        ),
        sa.PrimaryKeyConstraint("appeal_id", name=op.f("pk_appeals")),
        sa.UniqueConstraint("review_id", name=op.f("uq_appeals_review_id")),
    )
    op.create_index("ix_appeals_state_filed", "appeals", ["state", "filed_at"])
    op.create_index("ix_appeals_department_state", "appeals", ["department_code", "state"])


def _convert_rectifications() -> None:
    op.drop_index("ix_rectifications_department_status", table_name="rectifications")
    with op.batch_alter_table("rectifications") as batch:
        batch.alter_column(
            "status",
            new_column_name="state",
            existing_type=sa.String(length=16),
            type_=sa.String(length=24),
            existing_nullable=False,
        )
        batch.alter_column("application_id", existing_type=ID, nullable=True)
        batch.alter_column("due_date", existing_type=sa.Date(), nullable=True)
        batch.add_column(sa.Column("visit_id", ID, nullable=True))
        batch.add_column(sa.Column("round", sa.SmallInteger(), nullable=True))
        batch.add_column(sa.Column("verify_due", sa.Date(), nullable=True))
        batch.add_column(sa.Column("decision", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("plan", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("working_days", sa.SmallInteger(), nullable=True))
        batch.add_column(sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("verified_by", ID, nullable=True))
        batch.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("outcome", sa.String(length=24), nullable=True))
    rectifications = sa.table(
        "rectifications",
        sa.column("state"),
        sa.column("round"),
        sa.column("verify_due", sa.Date),
        sa.column("due_date", sa.Date),
    )
    op.execute(
        rectifications.update().values(
            verify_due=rectifications.c.due_date,
            round=1,
            state=sa.case(
                (rectifications.c.state == "open", "awaiting_verification"),
                else_=rectifications.c.state,
            ),
        )
    )
    # Not verified yet: no fix is due.
    op.execute(
        rectifications.update().where(rectifications.c.state != "resolved").values(due_date=None)
    )
    with op.batch_alter_table("rectifications") as batch:
        batch.alter_column("round", existing_type=sa.SmallInteger(), nullable=False)
        batch.alter_column("verify_due", existing_type=sa.Date(), nullable=False)
        batch.create_check_constraint(
            op.f("ck_rectifications_round_range"), "round BETWEEN 1 AND 2"
        )
        batch.create_check_constraint(
            op.f("ck_rectifications_case_or_visit"),
            "(application_id IS NULL) <> (visit_id IS NULL)",
        )
    op.create_index(
        "ix_rectifications_department_state", "rectifications", ["department_code", "state"]
    )
    op.create_index("ix_rectifications_state_verify_due", "rectifications", ["state", "verify_due"])
    op.create_index("ix_rectifications_state_due_date", "rectifications", ["state", "due_date"])


def _create_rectification_children() -> None:
    op.create_table(
        "rectification_return_visits",
        sa.Column("return_visit_id", ID, nullable=False),
        sa.Column("rectification_id", ID, nullable=False),
        sa.Column("round", sa.SmallInteger(), nullable=False),
        sa.Column("reached", sa.Boolean(), nullable=False),
        sa.Column("satisfied", sa.Boolean(), nullable=True),
        sa.Column("comment", sa.String(length=500), nullable=False),
        sa.Column("recorded_by", ID, nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["rectification_id"],
            ["rectifications.rectification_id"],
            name=op.f("fk_rectification_return_visits_rectification_id_rectifications"),
        ),
        sa.PrimaryKeyConstraint("return_visit_id", name=op.f("pk_rectification_return_visits")),
    )
    op.create_index(
        "ix_rectification_return_visits_rectification",
        "rectification_return_visits",
        ["rectification_id", "recorded_at"],
    )
    op.create_table(
        "rectification_escalations",
        sa.Column("rectification_id", ID, nullable=False),
        sa.Column("round", sa.SmallInteger(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["rectification_id"],
            ["rectifications.rectification_id"],
            name=op.f("fk_rectification_escalations_rectification_id_rectifications"),
        ),
        sa.PrimaryKeyConstraint(
            "rectification_id", "round", "level", name=op.f("pk_rectification_escalations")
        ),
    )


def _rating_bucket() -> list[sa.Column]:
    return [
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("store_id", ID, nullable=False),
        sa.Column("department_code", sa.String(length=64), nullable=False),
        sa.Column("region_code", CODE, nullable=False),
        sa.Column("item_id", ID, nullable=False),
    ]


def _counters(names: Sequence[str]) -> list[sa.Column]:
    return [sa.Column(name, sa.Integer(), nullable=False) for name in names]


def _day_indexes(table: str, **columns: str) -> None:
    """An index per dimension of a read model, with the day: ``ix_<table>_<name>_day``."""
    for name, column in columns.items():
        op.create_index(f"ix_{table}_{name}_day", table, [column, "day"])


def _create_read_models() -> None:
    op.create_table(
        "rating_indicators",
        *_rating_bucket(),
        sa.Column("item_name", sa.String(length=200), nullable=False),
        *_counters(RATING_COUNTERS),
        sa.PrimaryKeyConstraint(
            "day",
            "store_id",
            "department_code",
            "region_code",
            "item_id",
            name=op.f("pk_rating_indicators"),
        ),
    )
    _day_indexes(
        "rating_indicators",
        store="store_id",
        department="department_code",
        region="region_code",
        item="item_id",
    )
    op.create_table(
        "rating_sub_grades",
        *_rating_bucket(),
        sa.Column("indicator", sa.String(length=32), nullable=False),
        *_counters(("grade_sum", "grades")),
        sa.PrimaryKeyConstraint(
            "day",
            "store_id",
            "department_code",
            "region_code",
            "item_id",
            "indicator",
            name=op.f("pk_rating_sub_grades"),
        ),
    )
    _day_indexes(
        "rating_sub_grades",
        store="store_id",
        department="department_code",
        region="region_code",
        item="item_id",
    )
    op.create_table(
        "indicator_reviews",
        sa.Column("review_id", ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("store_id", ID, nullable=True),
        sa.Column("department_code", sa.String(length=64), nullable=True),
        sa.Column("region_code", CODE, nullable=True),
        sa.Column("item_id", ID, nullable=True),
        sa.Column("item_name", sa.String(length=200), nullable=True),
        sa.Column("grade", sa.SmallInteger(), nullable=True),
        sa.Column("real_name", sa.Boolean(), nullable=False),
        sa.Column("sub_grades", sa.JSON(), nullable=False),
        sa.Column("rectified", sa.Boolean(), nullable=False),
        sa.Column("called_back", sa.Boolean(), nullable=False),
        sa.Column("excluded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("review_id", name=op.f("pk_indicator_reviews")),
    )
    op.create_table(
        "case_stats",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("region_code", CODE, nullable=False),
        sa.Column("department_code", sa.String(length=64), nullable=False),
        sa.Column("item_id", ID, nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        *_counters(CASE_MEASURES),
        sa.PrimaryKeyConstraint(
            "day", "region_code", "department_code", "item_id", "mode", name=op.f("pk_case_stats")
        ),
    )
    _day_indexes("case_stats", region="region_code", department="department_code", item="item_id")
    op.create_table(
        "case_stats_province",
        sa.Column("day", sa.Date(), nullable=False),
        *_counters(CASE_MEASURES),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_case_stats_province")),
    )
    op.create_table(
        "case_stats_cases",
        sa.Column("application_id", ID, nullable=False),
        sa.Column("region_code", CODE, nullable=True),
        sa.Column("department_code", sa.String(length=64), nullable=True),
        sa.Column("item_id", ID, nullable=True),
        sa.Column("mode", sa.String(length=16), nullable=True),
        sa.Column("submitted_on", sa.Date(), nullable=True),
        sa.Column("accepted_on", sa.Date(), nullable=True),
        sa.Column("overdue_on", sa.Date(), nullable=True),
        sa.Column("ems_on", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("on_time", sa.Boolean(), nullable=False),
        sa.Column("working_days", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("application_id", name=op.f("pk_case_stats_cases")),
    )
    op.create_index(
        "ix_case_stats_cases_pending",
        "case_stats_cases",
        ["application_id"],
        postgresql_where=sa.text("mode IS NULL"),
        sqlite_where=sa.text("mode IS NULL"),
    )


def _create_sms_messages() -> None:
    op.create_table(
        "sms_messages",
        sa.Column("message_id", ID, nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("gateway_message_id", ID, nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "state IN ('pending', 'sent', 'failed')", name=op.f("ck_sms_messages_state")
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_sms_messages")),
    )
    op.create_index(
        "ix_sms_messages_state_next_attempt", "sms_messages", ["state", "next_attempt_at"]
    )


# ---------------------------------------------------------------------------
# Upgrade: the rating indicators from the reviews and cases kept

REVIEWS = sa.table(
    "reviews",
    sa.column("review_id"),
    sa.column("grade"),
    sa.column("item_id"),
    sa.column("item_name"),
    sa.column("store_id"),
    sa.column("department_code"),
    sa.column("region_code"),
    sa.column("submitted_at", sa.DateTime(timezone=True)),
)
CASES = sa.table(
    "reviewable_cases",
    sa.column("application_id"),
    sa.column("item_id"),
    sa.column("item_name"),
    sa.column("store_id"),
    sa.column("department_code"),
    sa.column("region_code"),
    sa.column("outcome"),
    sa.column("ended_at", sa.DateTime(timezone=True)),
)
RECTIFICATIONS = sa.table("rectifications", sa.column("review_id"), sa.column("state"))
RATING_INDICATORS = sa.table(
    "rating_indicators",
    sa.column("day", sa.Date),
    sa.column("store_id"),
    sa.column("department_code"),
    sa.column("region_code"),
    sa.column("item_id"),
    sa.column("item_name"),
    *(sa.column(name) for name in RATING_COUNTERS),
)
INDICATOR_REVIEWS = sa.table(
    "indicator_reviews",
    sa.column("review_id"),
    sa.column("day", sa.Date),
    sa.column("store_id"),
    sa.column("department_code"),
    sa.column("region_code"),
    sa.column("item_id"),
    sa.column("item_name"),
    sa.column("grade"),
    sa.column("real_name", sa.Boolean),
    sa.column("sub_grades", sa.JSON),
    sa.column("rectified", sa.Boolean),
    sa.column("called_back", sa.Boolean),
    sa.column("excluded", sa.Boolean),
)


def _china_day(instant: datetime) -> date:
    """The China day of a stored instant (SQLite hands UTC back naive)."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(CHINA_STANDARD_TIME).date()


class _Buckets:
    """Counts per rating bucket, each labelled with the item name of its newest
    fact (as the live read model labels it)."""

    def __init__(self):
        self.counts: dict[tuple, dict[str, int]] = defaultdict(
            lambda: dict.fromkeys(RATING_COUNTERS, 0)
        )
        self.labels: dict[tuple, tuple[datetime, str]] = {}

    def add(self, row, instant: datetime, **counts: int) -> tuple:
        key = (
            _china_day(instant),
            row["store_id"],
            row["department_code"],
            row["region_code"],
            row["item_id"],
        )
        for name, count in counts.items():
            self.counts[key][name] += count
        moment = instant if instant.tzinfo else instant.replace(tzinfo=UTC)
        if row["item_name"] and (key not in self.labels or self.labels[key][0] <= moment):
            self.labels[key] = (moment, row["item_name"])
        return key

    def rows(self) -> list[dict]:
        return [
            {
                "day": key[0],
                "store_id": key[1],
                "department_code": key[2],
                "region_code": key[3],
                "item_id": key[4],
                "item_name": self.labels.get(key, (None, ""))[1],
                **counts,
            }
            for key, counts in self.counts.items()
        ]


def _pages(bind, statement, key: sa.ColumnElement):
    """The rows of ``statement`` in pages of CHUNK, by ``key`` (keyset paging:
    no cursor stays open while the pages are written elsewhere)."""
    last = None
    while True:
        page = statement.order_by(key).limit(CHUNK)
        if last is not None:
            page = page.where(key > last)
        rows = bind.execute(page).mappings().all()
        if not rows:
            return
        yield rows
        last = rows[-1][key.name]


def _rebuild_rating_indicators(bind) -> None:
    buckets = _Buckets()
    resolved = sa.select(RECTIFICATIONS.c.review_id).where(RECTIFICATIONS.c.state == "resolved")
    reviews = sa.select(*REVIEWS.c, REVIEWS.c.review_id.in_(resolved).label("resolved"))
    for page in _pages(bind, reviews, REVIEWS.c.review_id):
        facts = []
        for review in page:
            grade = int(review["grade"])
            bad = grade in BAD_GRADES
            rectified = bool(review["resolved"])
            key = buckets.add(
                review,
                review["submitted_at"],
                reviews=1,
                grade_sum=grade,
                praise=int(grade in PRAISE_GRADES),
                bad=int(bad),
                rectified=int(bad and rectified),
            )
            facts.append(
                {
                    "review_id": review["review_id"],
                    "day": key[0],
                    "store_id": key[1],
                    "department_code": key[2],
                    "region_code": key[3],
                    "item_id": key[4],
                    "item_name": review["item_name"],
                    "grade": grade,
                    "real_name": False,
                    "sub_grades": {},
                    "rectified": rectified,
                    "called_back": False,
                    "excluded": False,
                }
            )
        bind.execute(INDICATOR_REVIEWS.insert(), facts)
    cases = sa.select(CASES).where(CASES.c.outcome.in_(EVALUABLE_OUTCOMES))
    for page in _pages(bind, cases, CASES.c.application_id):
        for case in page:
            buckets.add(case, case["ended_at"], evaluable=1)
    rows = buckets.rows()
    for start in range(0, len(rows), CHUNK):
        bind.execute(RATING_INDICATORS.insert(), rows[start : start + CHUNK])


# ---------------------------------------------------------------------------
# Downgrade


def downgrade() -> None:
    """Back to 0002's tables. Lost: window visits and their reviews (with
    their rectifications), replies, appeals and whether a review was excluded,
    the verification, return visits and escalations of rectifications, the
    read models (the live case data cannot be had again), the stored calendar
    years and the text messages. Kept: cases (``ended_at`` back to
    ``completed_at``; denied and rejected ones stay, reviewable as 0002 knew
    them), reviews of cases, rectifications of those (awaiting verification or
    verified -> open, resolved or closed -> resolved, ``due_date`` the fix's
    due date where there is one, else ``verify_due``). ``rating_totals`` is
    rebuilt from the reviews kept, leaving out excluded ones."""
    reviews = sa.table(
        "reviews",
        sa.column("review_id"),
        sa.column("application_id"),
        sa.column("reviewer_id"),
        sa.column("excluded", sa.Boolean),
        sa.column("grade"),
        sa.column("item_id"),
        sa.column("item_name"),
        sa.column("store_id"),
        sa.column("department_code"),
        sa.column("region_code"),
    )
    rectifications = sa.table(
        "rectifications",
        sa.column("review_id"),
        sa.column("application_id"),
        sa.column("state"),
        sa.column("due_date", sa.Date),
        sa.column("verify_due", sa.Date),
        sa.column("resolved_at", sa.DateTime(timezone=True)),
        sa.column("closed_at", sa.DateTime(timezone=True)),
    )

    for table in (
        "sms_messages",
        "case_stats_cases",
        "case_stats_province",
        "case_stats",
        "indicator_reviews",
        "rating_sub_grades",
        "rating_indicators",
        "rectification_escalations",
        "rectification_return_visits",
        "appeals",
        "calendar_years",
    ):
        op.drop_table(table)

    # What 0002 cannot hold: reviews without a case or a reviewer (window
    # visits) and their rectifications.
    unfit = sa.select(reviews.c.review_id).where(
        sa.or_(reviews.c.application_id.is_(None), reviews.c.reviewer_id.is_(None))
    )
    op.execute(
        rectifications.delete().where(
            sa.or_(
                rectifications.c.application_id.is_(None),
                rectifications.c.review_id.in_(unfit),
            )
        )
    )
    op.execute(reviews.delete().where(reviews.c.review_id.in_(unfit)))

    op.create_table(
        "rating_totals",
        sa.Column("store_id", ID, nullable=False),
        sa.Column("department_code", CODE, nullable=False),
        sa.Column("region_code", CODE, nullable=False),
        sa.Column("item_id", ID, nullable=False),
        sa.Column("item_name", sa.String(length=200), nullable=False),
        sa.Column("reviews", sa.Integer(), nullable=False),
        sa.Column("praise", sa.Integer(), nullable=False),
        sa.Column("grade_sum", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "store_id", "department_code", "region_code", "item_id", name=op.f("pk_rating_totals")
        ),
    )
    op.create_index("ix_rating_totals_department_code", "rating_totals", ["department_code"])
    op.create_index("ix_rating_totals_region_code", "rating_totals", ["region_code"])
    dimensions = (
        reviews.c.store_id,
        reviews.c.department_code,
        reviews.c.region_code,
        reviews.c.item_id,
    )
    totals = sa.table(
        "rating_totals",
        *(sa.column(name) for name in ("store_id", "department_code", "region_code", "item_id")),
        *(sa.column(name) for name in ("item_name", "reviews", "praise", "grade_sum")),
    )
    op.execute(
        totals.insert().from_select(
            [column.name for column in totals.c],
            sa.select(
                *dimensions,
                sa.func.max(reviews.c.item_name),
                sa.func.count(),
                sa.func.sum(sa.case((reviews.c.grade >= 4, 1), else_=0)),
                sa.func.sum(reviews.c.grade),
            )
            .where(reviews.c.excluded.is_(False))
            .group_by(*dimensions),
        )
    )

    op.drop_index("ix_rectifications_state_due_date", table_name="rectifications")
    op.drop_index("ix_rectifications_state_verify_due", table_name="rectifications")
    op.drop_index("ix_rectifications_department_state", table_name="rectifications")
    op.execute(
        rectifications.update().values(
            state=sa.case(
                (rectifications.c.state.in_(("awaiting_verification", "verified")), "open"),
                else_="resolved",
            ),
            due_date=sa.func.coalesce(rectifications.c.due_date, rectifications.c.verify_due),
            resolved_at=sa.case(
                (
                    rectifications.c.state.in_(("awaiting_verification", "verified")),
                    rectifications.c.resolved_at,
                ),
                else_=sa.func.coalesce(rectifications.c.resolved_at, rectifications.c.closed_at),
            ),
        )
    )
    with op.batch_alter_table("rectifications") as batch:
        batch.drop_constraint(op.f("ck_rectifications_case_or_visit"), type_="check")
        batch.drop_constraint(op.f("ck_rectifications_round_range"), type_="check")
        for column in (
            "outcome",
            "closed_at",
            "verified_by",
            "verified_at",
            "working_days",
            "plan",
            "decision",
            "verify_due",
            "round",
            "visit_id",
        ):
            batch.drop_column(column)
        batch.alter_column("due_date", existing_type=sa.Date(), nullable=False)
        batch.alter_column("application_id", existing_type=ID, nullable=False)
        batch.alter_column(
            "state",
            new_column_name="status",
            existing_type=sa.String(length=24),
            type_=sa.String(length=16),
            existing_nullable=False,
        )
    op.create_index(
        "ix_rectifications_department_status",
        "rectifications",
        ["department_code", "status", "due_date"],
    )

    op.drop_index("ix_reviews_handled_by_submitted", table_name="reviews")
    with op.batch_alter_table("reviews") as batch:
        batch.drop_constraint(op.f("ck_reviews_case_or_visit"), type_="check")
        batch.drop_constraint(op.f("fk_reviews_visit_id_visits"), type_="foreignkey")
        batch.drop_constraint(op.f("uq_reviews_visit_id"), type_="unique")
        for column in (
            "appeal_state",
            "replied_by",
            "replied_at",
            "reply",
            "excluded",
            "handled_by",
            "indicators",
            "channel",
            "real_name",
            "reviewer_name",
            "visit_id",
        ):
            batch.drop_column(column)
        batch.alter_column("reviewer_id", existing_type=ID, nullable=False)
        batch.alter_column("application_id", existing_type=ID, nullable=False)

    with op.batch_alter_table("reviewable_cases") as batch:
        batch.drop_column("outcome")
        batch.drop_column("handled_by")
        batch.drop_column("principal_id")
        batch.alter_column(
            "ended_at",
            new_column_name="completed_at",
            existing_type=sa.DateTime(timezone=True),
            existing_nullable=False,
        )

    op.drop_table("visits")
