"""rating_announcements: the buckets whose store's rating is due to be announced
(store_rating_changed), marked by each rated change and announced by a timer,
once per burst of changes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rating_announcements",
        sa.Column("store_id", sa.String(64), primary_key=True),
        sa.Column("department_code", sa.String(64), primary_key=True),
        sa.Column("region_code", sa.String(32), primary_key=True),
        sa.Column("item_id", sa.String(64), primary_key=True),
        sa.Column("marks", sa.Integer, nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rating_announcements")
