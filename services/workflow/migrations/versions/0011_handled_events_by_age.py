"""handled_events indexed by handled_at: the records older than the retention
window are deleted by age (services.common.messaging.retention); the
same step in every service (services.common.messaging.tables).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from alembic import op

from services.common.messaging.tables import create_handled_at_index, drop_handled_at_index

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_handled_at_index(op)


def downgrade() -> None:
    drop_handled_at_index(op)
