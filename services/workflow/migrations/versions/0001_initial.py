"""Applications, timeline, department reviews, licences and their serials, the
working calendar, outbox and handled events.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "applications",
        sa.Column("application_id", sa.String(length=32), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("item_name", sa.String(length=200), nullable=False),
        sa.Column("department_code", sa.String(length=64), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column("item", sa.JSON(), nullable=False),
        sa.Column("applicant_id", sa.String(length=64), nullable=False),
        sa.Column("on_behalf_of", sa.JSON(), nullable=True),
        sa.Column("form", sa.JSON(), nullable=False),
        sa.Column("materials", sa.JSON(), nullable=False),
        sa.Column("delivery", sa.JSON(), nullable=False),
        sa.Column("window", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("licence_no", sa.String(length=32), nullable=True),
        sa.Column("overdue_reported", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("application_id", name=op.f("pk_applications")),
    )
    op.create_index("ix_applications_applicant", "applications", ["applicant_id", "submitted_at"])
    op.create_index("ix_applications_state_due", "applications", ["state", "due_date"])

    op.create_table(
        "calendar_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('holiday', 'workday')", name=op.f("ck_calendar_days_kind")),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_calendar_days")),
    )
    op.create_table(
        "handled_events",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("consumer", sa.String(length=200), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", "consumer", name=op.f("pk_handled_events")),
    )
    op.create_table(
        "licence_serials",
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("last_serial", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("region_code", "issued_on", name=op.f("pk_licence_serials")),
    )
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
        "department_reviews",
        sa.Column("application_id", sa.String(length=32), nullable=False),
        sa.Column("department_code", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.application_id"],
            name=op.f("fk_department_reviews_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint(
            "application_id", "department_code", name=op.f("pk_department_reviews")
        ),
    )
    op.create_index("ix_department_reviews_department", "department_reviews", ["department_code"])

    op.create_table(
        "licences",
        sa.Column("licence_no", sa.String(length=32), nullable=False),
        sa.Column("application_id", sa.String(length=32), nullable=False),
        sa.Column("applicant_id", sa.String(length=64), nullable=False),
        sa.Column("holder_masked", sa.String(length=64), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("item_name", sa.String(length=200), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.application_id"],
            name=op.f("fk_licences_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("licence_no", name=op.f("pk_licences")),
        sa.UniqueConstraint("application_id", name=op.f("uq_licences_application_id")),
    )
    op.create_index(op.f("ix_licences_applicant_id"), "licences", ["applicant_id"])

    op.create_table(
        "timeline_entries",
        sa.Column("application_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column("actor_role", sa.String(length=32), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.application_id"],
            name=op.f("fk_timeline_entries_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("application_id", "position", name=op.f("pk_timeline_entries")),
    )


def downgrade() -> None:
    op.drop_table("timeline_entries")
    op.drop_index(op.f("ix_licences_applicant_id"), table_name="licences")

    op.drop_table("licences")
    op.drop_index("ix_department_reviews_department", table_name="department_reviews")

    op.drop_table("department_reviews")
    op.drop_index("ix_outbox_unsent", table_name="outbox")

    op.drop_table("outbox")
    op.drop_table("licence_serials")
    op.drop_table("handled_events")
    op.drop_table("calendar_days")
    op.drop_index("ix_applications_state_due", table_name="applications")
    op.drop_index("ix_applications_applicant", table_name="applications")

    op.drop_table("applications")
