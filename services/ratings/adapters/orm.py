"""The ratings tables.

``rating_totals`` holds the counts behind praise rates, one row per store,
department, region and item combination, updated in the transaction that stores
the review. Every summary (a store's, a department's, a region's, an item's, or
any of them within a department or region) is a sum over these rows, so reading
one never scans the reviews. ``escalation_totals`` counts workflow's
escalations of late work per department and level, the same way.
"""

import sqlalchemy as sa

from services.common.messaging.tables import add_messaging_tables

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

reviewable_cases = sa.Table(
    "reviewable_cases",
    metadata,
    sa.Column("application_id", ID, primary_key=True),
    sa.Column("applicant_id", ID, nullable=False),
    sa.Column("item_id", ID, nullable=False),
    sa.Column("item_name", sa.String(200), nullable=False),
    sa.Column("department_code", CODE, nullable=False),
    sa.Column("region_code", CODE, nullable=False),
    sa.Column("store_id", ID, nullable=False),
    sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("reviewed", sa.Boolean, nullable=False, default=False),
)

reviews = sa.Table(
    "reviews",
    metadata,
    sa.Column("review_id", ID, primary_key=True),
    sa.Column(
        "application_id",
        ID,
        sa.ForeignKey("reviewable_cases.application_id"),
        nullable=False,
        unique=True,  # a case is reviewed once, even when two requests race
    ),
    sa.Column("reviewer_id", ID, nullable=False),
    sa.Column("grade", sa.SmallInteger, nullable=False),
    sa.Column("comment", sa.String(500), nullable=False, default=""),
    sa.Column("item_id", ID, nullable=False),
    sa.Column("item_name", sa.String(200), nullable=False),
    sa.Column("store_id", ID, nullable=False),
    sa.Column("department_code", CODE, nullable=False),
    sa.Column("region_code", CODE, nullable=False),
    sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("grade BETWEEN 1 AND 5", name="grade_range"),
    sa.Index("ix_reviews_store_submitted", "store_id", "submitted_at"),
)

rectifications = sa.Table(
    "rectifications",
    metadata,
    sa.Column("rectification_id", ID, primary_key=True),
    sa.Column("review_id", ID, sa.ForeignKey("reviews.review_id"), nullable=False, unique=True),
    sa.Column("application_id", ID, nullable=False),
    sa.Column("department_code", CODE, nullable=False),
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("due_date", sa.Date, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("resolution_comment", sa.String(500), nullable=True),
    sa.Column("resolved_by", ID, nullable=True),
    sa.Index("ix_rectifications_department_status", "department_code", "status", "due_date"),
)

rating_totals = sa.Table(
    "rating_totals",
    metadata,
    sa.Column("store_id", ID, primary_key=True),
    sa.Column("department_code", CODE, primary_key=True),
    sa.Column("region_code", CODE, primary_key=True),
    sa.Column("item_id", ID, primary_key=True),
    sa.Column("item_name", sa.String(200), nullable=False),
    sa.Column("reviews", sa.Integer, nullable=False),
    sa.Column("praise", sa.Integer, nullable=False),
    sa.Column("grade_sum", sa.Integer, nullable=False),
    sa.Index("ix_rating_totals_department_code", "department_code"),
    sa.Index("ix_rating_totals_region_code", "region_code"),
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

add_messaging_tables(metadata)
