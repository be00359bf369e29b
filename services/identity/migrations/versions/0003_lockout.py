"""Failed sign-ins and account locks.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INSTANT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", INSTANT, nullable=True),
        sa.Column("locked_until", INSTANT, nullable=True),
        sa.Column("lock_count", sa.Integer(), nullable=False),
        sa.Column("last_locked_at", INSTANT, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("scope IN ('phone', 'address')", name=op.f("ck_login_failures_scope")),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_login_failures")),
    )
    op.create_index("ix_login_failures_locked_until", "login_failures", ["scope", "locked_until"])


def downgrade() -> None:
    op.drop_index("ix_login_failures_locked_until", table_name="login_failures")
    op.drop_table("login_failures")
