"""Enterprise members and mandates to agents.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(length=32)
INSTANT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "enterprise_members",
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("added_by", ID, nullable=False),
        sa.Column("added_at", INSTANT, nullable=False),
        sa.ForeignKeyConstraint(
            ["uscc"], ["enterprises.uscc"], name=op.f("fk_enterprise_members_uscc_enterprises")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.user_id"], name=op.f("fk_enterprise_members_user_id_users")
        ),
        sa.PrimaryKeyConstraint("uscc", "user_id", name=op.f("pk_enterprise_members")),
    )
    op.create_index("ix_enterprise_members_user_id", "enterprise_members", ["user_id"])
    op.create_table(
        "mandates",
        sa.Column("mandate_id", ID, nullable=False),
        sa.Column("principal_kind", sa.String(length=16), nullable=False),
        sa.Column("principal_key", ID, nullable=False),
        sa.Column("principal_name", sa.String(length=100), nullable=False),
        sa.Column("agent_user_id", ID, nullable=False),
        sa.Column("agent_name", sa.String(length=50), nullable=False),
        sa.Column("item_ids", sa.JSON(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("granted_by", ID, nullable=False),
        sa.Column("granted_at", INSTANT, nullable=False),
        sa.Column("revoked_at", INSTANT, nullable=True),
        sa.Column("revoked_by", ID, nullable=True),
        sa.CheckConstraint(
            "principal_kind IN ('enterprise', 'person')",
            name=op.f("ck_mandates_principal_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["agent_user_id"], ["users.user_id"], name=op.f("fk_mandates_agent_user_id_users")
        ),
        sa.PrimaryKeyConstraint("mandate_id", name=op.f("pk_mandates")),
    )
    op.create_index(
        "ix_mandates_principal", "mandates", ["principal_kind", "principal_key", "granted_at"]
    )
    op.create_index("ix_mandates_agent_user_id", "mandates", ["agent_user_id", "granted_at"])


def downgrade() -> None:
    op.drop_index("ix_mandates_agent_user_id", table_name="mandates")
    op.drop_index("ix_mandates_principal", table_name="mandates")
    op.drop_table("mandates")
    op.drop_index("ix_enterprise_members_user_id", table_name="enterprise_members")
    op.drop_table("enterprise_members")
