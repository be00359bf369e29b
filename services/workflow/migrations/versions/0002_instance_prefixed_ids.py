"""Room for instance-prefixed ids: application ids and licence numbers of a
department's own instance start with "<department code>." (up to 25 characters).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

COLUMNS = [
    ("applications", "application_id"),
    ("applications", "licence_no"),
    ("timeline_entries", "application_id"),
    ("department_reviews", "application_id"),
    ("licences", "application_id"),
    ("licences", "licence_no"),
]


def _alter(length_from: int, length_to: int) -> None:
    # SQLite does not enforce VARCHAR lengths (and cannot alter a column in
    # place); the widening matters on PostgreSQL only.
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, column in COLUMNS:
        op.alter_column(
            table,
            column,
            type_=sa.String(length=length_to),
            existing_type=sa.String(length=length_from),
            existing_nullable=column == "licence_no" and table == "applications",
        )


def upgrade() -> None:
    _alter(32, 64)


def downgrade() -> None:
    _alter(64, 32)
