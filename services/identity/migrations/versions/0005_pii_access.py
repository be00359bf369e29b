"""The trail of ID numbers read.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pii_access",
        sa.Column("access_id", sa.String(32), nullable=False),
        sa.Column("accessor_id", sa.String(64), nullable=False),
        sa.Column("accessor_kind", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(64), nullable=False),
        sa.Column("subject_kind", sa.String(32), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("access_id", name="pk_pii_access"),
    )
    op.create_index("ix_pii_access_at", "pii_access", ["at"])
    op.create_index("ix_pii_access_subject_id", "pii_access", ["subject_id", "at"])
    op.create_index("ix_pii_access_accessor_id", "pii_access", ["accessor_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_pii_access_accessor_id", table_name="pii_access")
    op.drop_index("ix_pii_access_subject_id", table_name="pii_access")
    op.drop_index("ix_pii_access_at", table_name="pii_access")
    op.drop_table("pii_access")
