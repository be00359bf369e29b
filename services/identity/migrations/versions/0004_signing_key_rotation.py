"""Signing keys that rotate.

Each key gets the instant it may start signing (``signs_from``; a key stored
before this revision signed from its creation), the instant it leaves the JWKS
(``retires_at``, set when a newer key is added), the instant it was marked
retired (``retired_at``; a key stored as inactive is retired now) and the
signing key it succeeds (``follows``, unique: one successor per key).
``active`` goes. Sessions are indexed by ``revoked_at`` for the gateways'
list of recently ended sessions.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INSTANT = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("signing_keys") as batch:
        batch.add_column(sa.Column("signs_from", INSTANT, nullable=True))
        batch.add_column(sa.Column("retires_at", INSTANT, nullable=True))
        batch.add_column(sa.Column("retired_at", INSTANT, nullable=True))
        batch.add_column(sa.Column("follows", sa.String(length=64), nullable=True))
    op.execute("UPDATE signing_keys SET signs_from = created_at")
    # When an inactive key was retired is not known; it was after its creation.
    op.execute("UPDATE signing_keys SET retired_at = created_at WHERE NOT active")
    with op.batch_alter_table("signing_keys") as batch:
        batch.alter_column("signs_from", existing_type=INSTANT, nullable=False)
        batch.create_unique_constraint(op.f("uq_signing_keys_follows"), ["follows"])
        batch.drop_column("active")
    op.create_index("ix_sessions_revoked_at", "sessions", ["revoked_at"])


def downgrade() -> None:
    op.drop_index("ix_sessions_revoked_at", table_name="sessions")
    with op.batch_alter_table("signing_keys") as batch:
        batch.add_column(sa.Column("active", sa.Boolean(), nullable=True))
    op.execute(
        "UPDATE signing_keys SET active = (retired_at IS NULL"
        " AND (retires_at IS NULL OR retires_at > CURRENT_TIMESTAMP))"
    )
    with op.batch_alter_table("signing_keys") as batch:
        batch.alter_column("active", existing_type=sa.Boolean(), nullable=False)
        batch.drop_constraint(op.f("uq_signing_keys_follows"), type_="unique")
        batch.drop_column("follows")
        batch.drop_column("retired_at")
        batch.drop_column("retires_at")
        batch.drop_column("signs_from")
