"""Agents: the principal a case is handled for, and who may follow it.

Cases get ``holder_id`` (whose the case is: the principal's uscc or user id,
else the applicant's) and ``mandate_id`` (the mandate an agent applied under);
timeline entries get ``on_behalf_of`` (whom the applicant's side acted for);
``principal_members`` is the read model of who acts for which enterprise, fed
by identity's events (empty at the upgrade: identity's events from then on
fill it).

Cases open at the upgrade keep their principal; their holder is the
enterprise's uscc, or the applicant for a person known by ID number only.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_APPLICATIONS = sa.table(
    "applications",
    sa.column("application_id", sa.String),
    sa.column("applicant_id", sa.String),
    sa.column("on_behalf_of", sa.JSON),
    sa.column("holder_id", sa.String),
)


def upgrade() -> None:
    with op.batch_alter_table("applications") as batch:
        batch.add_column(sa.Column("holder_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("mandate_id", sa.String(length=64), nullable=True))
    op.create_index("ix_applications_holder", "applications", ["holder_id", "submitted_at"])
    with op.batch_alter_table("timeline_entries") as batch:
        batch.add_column(sa.Column("on_behalf_of", sa.JSON(), nullable=True))
    op.create_table(
        "principal_members",
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("uscc", "user_id", name=op.f("pk_principal_members")),
    )
    op.create_index("ix_principal_members_user", "principal_members", ["user_id", "active"])
    _fill_holders()


def _fill_holders() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            _APPLICATIONS.c.application_id,
            _APPLICATIONS.c.applicant_id,
            _APPLICATIONS.c.on_behalf_of,
        )
    ).all()
    for application_id, applicant_id, principal in rows:
        holder = applicant_id
        if isinstance(principal, dict) and principal.get("kind") == "enterprise":
            holder = principal.get("uscc") or applicant_id
        connection.execute(
            _APPLICATIONS.update()
            .where(_APPLICATIONS.c.application_id == application_id)
            .values(holder_id=holder)
        )


def downgrade() -> None:
    op.drop_index("ix_principal_members_user", table_name="principal_members")
    op.drop_table("principal_members")
    with op.batch_alter_table("timeline_entries") as batch:
        batch.drop_column("on_behalf_of")
    op.drop_index("ix_applications_holder", table_name="applications")
    with op.batch_alter_table("applications") as batch:
        batch.drop_column("mandate_id")
        batch.drop_column("holder_id")
