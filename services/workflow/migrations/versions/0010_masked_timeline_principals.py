"""Timeline entries keep a principal's ID number masked only.

An agent's action on a case applied for a person known by ID number copied the
principal, number in clear, into ``timeline_entries.on_behalf_of``; entries
now store it masked, and this masks the ones written before.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

ID_NUMBER = "id_number"
ID_NUMBER_MASKED = "id_number_masked"


def masked(id_number: str) -> str:
    """First 4 and last 4 characters, the rest as stars (as when written now)."""
    value = id_number.strip().upper()
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def upgrade() -> None:
    entries = sa.table(
        "timeline_entries",
        sa.column("application_id", sa.String),
        sa.column("position", sa.Integer),
        sa.column("on_behalf_of", sa.JSON),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(entries.c.application_id, entries.c.position, entries.c.on_behalf_of).where(
            entries.c.on_behalf_of.is_not(None)
        )
    ).all()
    for row in rows:
        principal = row.on_behalf_of
        if not isinstance(principal, dict) or not principal.get(ID_NUMBER):
            continue
        kept = {key: value for key, value in principal.items() if key != ID_NUMBER}
        kept[ID_NUMBER_MASKED] = masked(str(principal[ID_NUMBER]))
        connection.execute(
            entries.update()
            .where(
                entries.c.application_id == row.application_id,
                entries.c.position == row.position,
            )
            .values(on_behalf_of=kept)
        )


def downgrade() -> None:
    """The numbers are gone; nothing to restore."""
