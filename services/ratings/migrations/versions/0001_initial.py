"""initial: reviewable cases, reviews, rectifications, rating totals, messaging

Revision ID: 0001
Revises:
Create Date: 2026-11-25 14:20:21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reviewable_cases",
        sa.Column("application_id", sa.String(length=64), nullable=False),
        sa.Column("applicant_id", sa.String(length=64), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("item_name", sa.String(length=200), nullable=False),
        sa.Column("department_code", sa.String(length=32), nullable=False),
        sa.Column("region_code", sa.String(length=32), nullable=False),
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("application_id", name=op.f("pk_reviewable_cases")),
    )
    op.create_table(
        "reviews",
        sa.Column("review_id", sa.String(length=64), nullable=False),
        sa.Column("application_id", sa.String(length=64), nullable=False),
        sa.Column("reviewer_id", sa.String(length=64), nullable=False),
        sa.Column("grade", sa.SmallInteger(), nullable=False),
        sa.Column("comment", sa.String(length=500), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("item_name", sa.String(length=200), nullable=False),
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column("department_code", sa.String(length=32), nullable=False),
        sa.Column("region_code", sa.String(length=32), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("grade BETWEEN 1 AND 5", name=op.f("ck_reviews_grade_range")),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["reviewable_cases.application_id"],
            name=op.f("fk_reviews_application_id_reviewable_cases"),
        ),
        sa.PrimaryKeyConstraint("review_id", name=op.f("pk_reviews")),
        sa.UniqueConstraint("application_id", name=op.f("uq_reviews_application_id")),
    )
    op.create_index("ix_reviews_store_submitted", "reviews", ["store_id", "submitted_at"])
    op.create_table(
        "rectifications",
        sa.Column("rectification_id", sa.String(length=64), nullable=False),
        sa.Column("review_id", sa.String(length=64), nullable=False),
        sa.Column("application_id", sa.String(length=64), nullable=False),
        sa.Column("department_code", sa.String(length=32), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution_comment", sa.String(length=500), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["reviews.review_id"],
            name=op.f("fk_rectifications_review_id_reviews"),
        ),
        sa.PrimaryKeyConstraint("rectification_id", name=op.f("pk_rectifications")),
        sa.UniqueConstraint("review_id", name=op.f("uq_rectifications_review_id")),
    )
    op.create_index(
        "ix_rectifications_department_status",
        "rectifications",
        ["department_code", "status", "due_date"],
    )
    op.create_table(
        "rating_totals",
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column("department_code", sa.String(length=32), nullable=False),
        sa.Column("region_code", sa.String(length=32), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("item_name", sa.String(length=200), nullable=False),
        sa.Column("reviews", sa.Integer(), nullable=False),
        sa.Column("praise", sa.Integer(), nullable=False),
        sa.Column("grade_sum", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "store_id",
            "department_code",
            "region_code",
            "item_id",
            name=op.f("pk_rating_totals"),
        ),
    )
    op.create_index("ix_rating_totals_department_code", "rating_totals", ["department_code"])
    op.create_index("ix_rating_totals_region_code", "rating_totals", ["region_code"])

    # Messaging (services.common.messaging.tables).
    op.create_table(
        "outbox",
        sa.Column("seq", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("event_id", sa.String(length=32), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("envelope", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_outbox_event_id")),
    )
    op.create_index("ix_outbox_unsent", "outbox", ["sent_at", "seq"])
    op.create_table(
        "handled_events",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("consumer", sa.String(length=200), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", "consumer", name=op.f("pk_handled_events")),
    )


def downgrade() -> None:
    op.drop_table("handled_events")
    op.drop_index("ix_outbox_unsent", table_name="outbox")
    op.drop_table("outbox")
    op.drop_index("ix_rating_totals_region_code", table_name="rating_totals")
    op.drop_index("ix_rating_totals_department_code", table_name="rating_totals")
    op.drop_table("rating_totals")
    op.drop_index("ix_rectifications_department_status", table_name="rectifications")
    op.drop_table("rectifications")
    op.drop_index("ix_reviews_store_submitted", table_name="reviews")
    op.drop_table("reviews")
    op.drop_table("reviewable_cases")
