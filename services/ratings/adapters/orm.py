"""The ratings tables.

The published indicators (``rating_indicators``, ``rating_sub_grades``) and
the live case data (``case_stats``, ``case_stats_province``) are read models
kept by events: counts per China day bucket, so every summary (a store's, a
department's, a region's, an item's, the province's, over any period) is a sum
over their rows and reading one never scans the reviews or the cases.
``escalation_totals`` counts workflow's escalations of late work per
department and level, the same way.
"""

import sqlalchemy as sa

from services.common.messaging.tables import add_messaging_tables
from services.ratings.domain.indicators import CASE_MEASURES, RATING_COUNTERS

# Named constraints, so migrations can refer to them (and SQLite batch mode can
# rebuild a table without losing them).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

ID = sa.String(64)
CODE = sa.String(32)

# Ended cases that may be reviewed. ``ended_at`` was ``completed_at`` before
# denied and rejected cases were reviewable (a rename, the values kept).
reviewable_cases = sa.Table(
    "reviewable_cases",
    metadata,
    sa.Column("application_id", ID, primary_key=True),
    sa.Column("applicant_id", ID, nullable=False),
    # The person or enterprise an agent applied for; may review it too.
    sa.Column("principal_id", ID, nullable=True),
    sa.Column("item_id", ID, nullable=False),
    sa.Column("item_name", sa.String(200), nullable=False),
    sa.Column("department_code", CODE, nullable=False),
    # The department that decided the case; answers for a bad review.
    sa.Column("handled_by", CODE, nullable=False),
    sa.Column("region_code", CODE, nullable=False),
    sa.Column("store_id", ID, nullable=False),
    # completed, denied or rejected
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("reviewed", sa.Boolean, nullable=False, default=False),
)

# Window visits (一次一评): the SHA-256 of the one-time token, never the token;
# the phone masked, never in full.
visits = sa.Table(
    "visits",
    metadata,
    sa.Column("visit_id", ID, primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("item_id", ID, nullable=False),
    sa.Column("item_name", sa.String(200), nullable=False),
    sa.Column("store_id", ID, nullable=False),
    sa.Column("department_code", CODE, nullable=False),
    sa.Column("region_code", CODE, nullable=False),
    sa.Column("recorded_by", ID, nullable=False),
    sa.Column("phone_masked", sa.String(16), nullable=True),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("review_id", ID, nullable=True),
)

reviews = sa.Table(
    "reviews",
    metadata,
    sa.Column("review_id", ID, primary_key=True),
    # Exactly one of application_id (a case) and visit_id (a visit). Each is
    # unique: a case or a visit is reviewed once, even when two requests race.
    sa.Column(
        "application_id",
        ID,
        sa.ForeignKey("reviewable_cases.application_id"),
        nullable=True,
        unique=True,
    ),
    sa.Column("visit_id", ID, sa.ForeignKey("visits.visit_id"), nullable=True, unique=True),
    sa.Column("reviewer_id", ID, nullable=True),
    # Masked (张*), or 匿名 for a visit.
    sa.Column("reviewer_name", sa.String(16), nullable=False),
    sa.Column("real_name", sa.Boolean, nullable=False, default=False),
    sa.Column("grade", sa.SmallInteger, nullable=False),
    sa.Column("comment", sa.String(500), nullable=False, default=""),
    # web, app, window or sms
    sa.Column("channel", sa.String(8), nullable=False),
    # Sub-grades by name: {"efficiency": 5, ...}
    sa.Column("indicators", sa.JSON, nullable=False),
    sa.Column("item_id", ID, nullable=False),
    sa.Column("item_name", sa.String(200), nullable=False),
    sa.Column("store_id", ID, nullable=False),
    sa.Column("department_code", CODE, nullable=False),
    sa.Column("handled_by", CODE, nullable=False),
    sa.Column("region_code", CODE, nullable=False),
    sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
    # An upheld appeal excluded it from rates and the public board.
    sa.Column("excluded", sa.Boolean, nullable=False, default=False),
    sa.Column("reply", sa.String(500), nullable=True),
    sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("replied_by", ID, nullable=True),
    # null, or the state of its one appeal: pending, upheld, rejected
    sa.Column("appeal_state", sa.String(16), nullable=True),
    sa.CheckConstraint("grade BETWEEN 1 AND 5", name="grade_range"),
    sa.CheckConstraint("(application_id IS NULL) <> (visit_id IS NULL)", name="case_or_visit"),
    sa.Index("ix_reviews_store_submitted", "store_id", "submitted_at"),
    sa.Index("ix_reviews_handled_by_submitted", "handled_by", "submitted_at"),
)

# Appeals (申诉复核): one per review, ever.
appeals = sa.Table(
    "appeals",
    metadata,
    sa.Column("appeal_id", ID, primary_key=True),
    sa.Column("review_id", ID, sa.ForeignKey("reviews.review_id"), nullable=False, unique=True),
    sa.Column("department_code", CODE, nullable=False),
    sa.Column("reason", sa.String(500), nullable=False),
    sa.Column("filed_by", ID, nullable=False),
    sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
    # pending, upheld or rejected
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("decided_by", ID, nullable=True),
    sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("decision_comment", sa.String(500), nullable=True),
    sa.Index("ix_appeals_state_filed", "state", "filed_at"),
    sa.Index("ix_appeals_department_state", "department_code", "state"),
)

# --- rectification of bad reviews (差评整改) ----------------------------------
#
# One row per bad review (``services.ratings.domain.rectification``). Before
# verification there was ``status`` open|resolved and ``due_date`` five calendar
# days after opening: at migration ``status`` becomes ``state`` (open ->
# awaiting_verification, resolved -> resolved), ``verify_due`` takes the old
# ``due_date`` and ``due_date`` is kept as the due date of the fix; ``round`` 1.
rectifications = sa.Table(
    "rectifications",
    metadata,
    sa.Column("rectification_id", ID, primary_key=True),
    sa.Column("review_id", ID, sa.ForeignKey("reviews.review_id"), nullable=False, unique=True),
    # What was reviewed: a case, or a window visit.
    sa.Column("application_id", ID, nullable=True),
    sa.Column("visit_id", ID, nullable=True),
    # The department that handled it, which answers for it.
    sa.Column("department_code", CODE, nullable=False),
    # awaiting_verification, verified, resolved, closed or closed_for_appeal
    sa.Column("state", sa.String(24), nullable=False),
    # 1, or 2 once the citizen's dissatisfaction reopened it
    sa.Column("round", sa.SmallInteger, nullable=False, default=1),
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("verify_due", sa.Date, nullable=False),
    # The current round's verification: immediate, deadline or explain.
    sa.Column("decision", sa.String(16), nullable=True),
    sa.Column("plan", sa.String(500), nullable=True),
    sa.Column("working_days", sa.SmallInteger, nullable=True),
    sa.Column("due_date", sa.Date, nullable=True),
    sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("verified_by", ID, nullable=True),
    sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("resolution_comment", sa.String(500), nullable=True),
    sa.Column("resolved_by", ID, nullable=True),
    sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
    # satisfied, closed_after_reopen, unreachable or appeal_upheld
    sa.Column("outcome", sa.String(24), nullable=True),
    sa.CheckConstraint("round BETWEEN 1 AND 2", name="round_range"),
    sa.CheckConstraint("(application_id IS NULL) <> (visit_id IS NULL)", name="case_or_visit"),
    sa.Index("ix_rectifications_department_state", "department_code", "state"),
    # The escalation sweep: late verifications, late fixes.
    sa.Index("ix_rectifications_state_verify_due", "state", "verify_due"),
    sa.Index("ix_rectifications_state_due_date", "state", "due_date"),
)

# Calls back to the citizen (回访), every round's.
rectification_return_visits = sa.Table(
    "rectification_return_visits",
    metadata,
    sa.Column("return_visit_id", ID, primary_key=True),
    sa.Column(
        "rectification_id",
        ID,
        sa.ForeignKey("rectifications.rectification_id"),
        nullable=False,
    ),
    sa.Column("round", sa.SmallInteger, nullable=False),
    sa.Column("reached", sa.Boolean, nullable=False),
    # null when the citizen was not reached
    sa.Column("satisfied", sa.Boolean, nullable=True),
    sa.Column("comment", sa.String(500), nullable=False, default=""),
    sa.Column("recorded_by", ID, nullable=True),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_rectification_return_visits_rectification", "rectification_id", "recorded_at"),
)

# Escalations of late rectifications (督办): once per rectification, round and
# level, which the primary key holds even when two sweeps race.
rectification_escalations = sa.Table(
    "rectification_escalations",
    metadata,
    sa.Column(
        "rectification_id",
        ID,
        sa.ForeignKey("rectifications.rectification_id"),
        primary_key=True,
    ),
    sa.Column("round", sa.SmallInteger, primary_key=True),
    # dept_admin or operator
    sa.Column("level", sa.String(16), primary_key=True),
    # The due date that was missed.
    sa.Column("due_date", sa.Date, nullable=False),
    sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=False),
)

# Ratings' copy of the province's working calendar, one row per year: seeded
# from the schedules shipped with the code (services/common/calendars), replaced
# by workflow's calendar_loaded when an operator loads or corrects a year.
# ``loaded_at`` is when workflow loaded it (its event's occurred_at; null for a
# shipped year), so a late older event never replaces a newer year.
calendar_years = sa.Table(
    "calendar_years",
    metadata,
    sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
    # ISO dates: ["2026-10-01", ...]
    sa.Column("holidays", sa.JSON, nullable=False),
    sa.Column("workdays", sa.JSON, nullable=False),
    # shipped or workflow
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=True),
)

escalation_totals = sa.Table(
    "escalation_totals",
    metadata,
    # As workflow names departments (up to 64 characters).
    sa.Column("department_code", sa.String(64), primary_key=True),
    # dept_admin or operator
    sa.Column("level", sa.String(16), primary_key=True),
    sa.Column("escalations", sa.Integer, nullable=False),
)

# --- published indicators and live case data (read models kept by events) ---
#
# Counts per China day bucket (``services.ratings.domain.indicators``): a figure
# for any period is a sum over these rows, never a scan of reviews or cases.


def _rating_bucket() -> list[sa.Column]:
    """The key of a rating bucket: China day, store, department, region, item."""
    return [
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("store_id", ID, primary_key=True),
        sa.Column("department_code", sa.String(64), primary_key=True),
        sa.Column("region_code", CODE, primary_key=True),
        sa.Column("item_id", ID, primary_key=True),
    ]


def _counter(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer, nullable=False, default=0)


rating_indicators = sa.Table(
    "rating_indicators",
    metadata,
    *_rating_bucket(),
    sa.Column("item_name", sa.String(200), nullable=False, default=""),
    *[_counter(name) for name in RATING_COUNTERS],
    sa.Index("ix_rating_indicators_store_day", "store_id", "day"),
    sa.Index("ix_rating_indicators_department_day", "department_code", "day"),
    sa.Index("ix_rating_indicators_region_day", "region_code", "day"),
    sa.Index("ix_rating_indicators_item_day", "item_id", "day"),
)

# Each sub-grade (efficiency, attitude, ...) of the reviews of a bucket.
rating_sub_grades = sa.Table(
    "rating_sub_grades",
    metadata,
    *_rating_bucket(),
    sa.Column("indicator", sa.String(32), primary_key=True),
    _counter("grade_sum"),
    _counter("grades"),
    sa.Index("ix_rating_sub_grades_store_day", "store_id", "day"),
    sa.Index("ix_rating_sub_grades_department_day", "department_code", "day"),
    sa.Index("ix_rating_sub_grades_region_day", "region_code", "day"),
    sa.Index("ix_rating_sub_grades_item_day", "item_id", "day"),
)

# What the indicators know of each review (its bucket and the later facts about
# it), so review-keyed events count in the review's bucket, once each. The
# bucket and grade are null while only later facts have arrived.
indicator_reviews = sa.Table(
    "indicator_reviews",
    metadata,
    sa.Column("review_id", ID, primary_key=True),
    sa.Column("day", sa.Date, nullable=True),
    sa.Column("store_id", ID, nullable=True),
    sa.Column("department_code", sa.String(64), nullable=True),
    sa.Column("region_code", CODE, nullable=True),
    sa.Column("item_id", ID, nullable=True),
    sa.Column("item_name", sa.String(200), nullable=True),
    sa.Column("grade", sa.SmallInteger, nullable=True),
    sa.Column("real_name", sa.Boolean, nullable=False, default=False),
    sa.Column("sub_grades", sa.JSON, nullable=False, default=dict),
    sa.Column("rectified", sa.Boolean, nullable=False, default=False),
    sa.Column("called_back", sa.Boolean, nullable=False, default=False),
    sa.Column("excluded", sa.Boolean, nullable=False, default=False),
)

# The buckets whose store's rating is due to be announced (store_rating_changed):
# a rated change marks its bucket, the announcer announces each marked bucket
# with its store's rating and unmarks it, unless it was marked again meanwhile
# (``marks`` moved on). A burst of changes to one bucket costs one announcement.
rating_announcements = sa.Table(
    "rating_announcements",
    metadata,
    sa.Column("store_id", ID, primary_key=True),
    sa.Column("department_code", sa.String(64), primary_key=True),
    sa.Column("region_code", CODE, primary_key=True),
    sa.Column("item_id", ID, primary_key=True),
    sa.Column("marks", sa.Integer, nullable=False, default=1),
    sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
)

case_stats = sa.Table(
    "case_stats",
    metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("region_code", CODE, primary_key=True),
    sa.Column("department_code", sa.String(64), primary_key=True),
    sa.Column("item_id", ID, primary_key=True),
    sa.Column("mode", sa.String(16), primary_key=True),
    *[_counter(name) for name in CASE_MEASURES],
    sa.Index("ix_case_stats_region_day", "region_code", "day"),
    sa.Index("ix_case_stats_department_day", "department_code", "day"),
    sa.Index("ix_case_stats_item_day", "item_id", "day"),
)

# The province's day totals, for the live feed and the gauges (one row a day).
case_stats_province = sa.Table(
    "case_stats_province",
    metadata,
    sa.Column("day", sa.Date, primary_key=True),
    *[_counter(name) for name in CASE_MEASURES],
)

# What the case statistics know of each case: its dimensions (null until
# application_submitted or application_ended said them) and the day of each
# fact counted once per case.
case_stats_cases = sa.Table(
    "case_stats_cases",
    metadata,
    sa.Column("application_id", ID, primary_key=True),
    sa.Column("region_code", CODE, nullable=True),
    sa.Column("department_code", sa.String(64), nullable=True),
    sa.Column("item_id", ID, nullable=True),
    sa.Column("mode", sa.String(16), nullable=True),
    sa.Column("submitted_on", sa.Date, nullable=True),
    sa.Column("accepted_on", sa.Date, nullable=True),
    sa.Column("overdue_on", sa.Date, nullable=True),
    sa.Column("ems_on", sa.Date, nullable=True),
    sa.Column("ended_on", sa.Date, nullable=True),
    sa.Column("outcome", sa.String(20), nullable=True),
    sa.Column("on_time", sa.Boolean, nullable=False, default=False),
    sa.Column("working_days", sa.Integer, nullable=False, default=0),
    # The few cases still waiting for their dimensions (a gauge counts them).
    sa.Index(
        "ix_case_stats_cases_pending",
        "application_id",
        postgresql_where=sa.text("mode IS NULL"),
        sqlite_where=sa.text("mode IS NULL"),
    ),
)

# --- text messages to citizens (SMS), relayed to the SMS gateway ---
#
# ``services.ratings.domain.sms``: queued in the transaction that decides to
# send one, sent by the relay afterwards. While pending, the phone is in full
# and the text kept; once sent or failed, the phone is masked (138****0001) and
# the text dropped (it may carry a one-time rating token).
sms_messages = sa.Table(
    "sms_messages",
    metadata,
    sa.Column("message_id", ID, primary_key=True),
    sa.Column("phone", sa.String(16), nullable=False),
    sa.Column("text", sa.String(500), nullable=True),
    # pending, sent or failed
    sa.Column("state", sa.String(16), nullable=False),
    # Attempts started; also the row's version (a relay saves only its own attempt).
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
    # Null: due at once.
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
    # The gateway's own id of the message.
    sa.Column("gateway_message_id", ID, nullable=True),
    sa.Column("last_error", sa.String(200), nullable=True),
    sa.CheckConstraint("state IN ('pending', 'sent', 'failed')", name="state"),
    sa.Index("ix_sms_messages_state_next_attempt", "state", "next_attempt_at"),
)

add_messaging_tables(metadata)
