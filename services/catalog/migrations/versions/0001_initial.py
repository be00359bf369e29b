"""Initial catalog schema: regions, departments, stores, items, outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-25 14:21:05.634585
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
        "handled_events",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("consumer", sa.String(length=200), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", "consumer", name=op.f("pk_handled_events")),
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
    op.create_index("ix_outbox_unsent", "outbox", ["sent_at", "seq"], unique=False)

    op.create_table(
        "regions",
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=200), server_default="", nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("parent_code", sa.String(length=12), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent_code"], ["regions.code"], name=op.f("fk_regions_parent_code_regions")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_regions")),
    )
    op.create_table(
        "departments",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=300), server_default="", nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("window_name", sa.String(length=200), nullable=False),
        sa.Column("window_address", sa.String(length=300), nullable=False),
        sa.Column("window_phone", sa.String(length=50), nullable=False),
        sa.Column("window_postcode", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_departments_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_departments")),
    )
    op.create_index(
        op.f("ix_departments_region_code"), "departments", ["region_code"], unique=False
    )

    op.create_table(
        "items",
        sa.Column("item_id", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=300), server_default="", nullable=False),
        sa.Column("department_code", sa.String(length=64), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("modes", sa.JSON(), nullable=False),
        sa.Column("promised_days", sa.Integer(), nullable=False),
        sa.Column("statutory_days", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("materials", sa.JSON(), nullable=False),
        sa.Column("fees", sa.String(length=200), nullable=False),
        sa.Column("legal_basis", sa.JSON(), nullable=False),
        sa.Column("joint_departments", sa.JSON(), nullable=False),
        sa.Column("handled_by", sa.String(length=100), nullable=False),
        sa.Column("store_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["department_code"],
            ["departments.code"],
            name=op.f("fk_items_department_code_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_items_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_items")),
        sa.UniqueConstraint("code", name=op.f("uq_items_code")),
    )
    op.create_index(
        op.f("ix_items_status_department_code"),
        "items",
        ["status", "department_code"],
        unique=False,
    )
    op.create_index(op.f("ix_items_status_level"), "items", ["status", "level"], unique=False)
    op.create_index(
        op.f("ix_items_status_region_code"), "items", ["status", "region_code"], unique=False
    )

    op.create_table(
        "stores",
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("department_code", sa.String(length=64), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("reviews", sa.Integer(), server_default="0", nullable=False),
        sa.Column("praise_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("grade_sum", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["department_code"],
            ["departments.code"],
            name=op.f("fk_stores_department_code_departments"),
        ),
        sa.PrimaryKeyConstraint("store_id", name=op.f("pk_stores")),
        sa.UniqueConstraint("department_code", name=op.f("uq_stores_department_code")),
    )


def downgrade() -> None:
    op.drop_table("stores")
    op.drop_index(op.f("ix_items_status_region_code"), table_name="items")
    op.drop_index(op.f("ix_items_status_level"), table_name="items")
    op.drop_index(op.f("ix_items_status_department_code"), table_name="items")
    op.drop_table("items")
    op.drop_index(op.f("ix_departments_region_code"), table_name="departments")
    op.drop_table("departments")
    op.drop_table("regions")
    op.drop_index("ix_outbox_unsent", table_name="outbox")
    op.drop_table("outbox")
    op.drop_table("handled_events")
