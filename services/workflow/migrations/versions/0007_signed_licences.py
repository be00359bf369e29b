"""Electronic licences as signed documents, with revocation.

Licence numbers take the GB/T 36904 shape (up to 73 characters: the columns
widen to 100); each licence keeps its holder, type, issuer, validity period,
signed document and revocation; each instance keeps its signing keys
(``licence_keys``). The per-region serial counter goes: serials are random now.

Licences issued before keep their ``[<code>.]JS...`` numbers (printed on paper
already; the gateway still routes them by their prefix) and keep verifying:
this migration gives each its issuing department (its case's), its validity
(from its issue day, without end) and its holder where it is known (the
applicant's own licences; an agent's principal was kept only masked, so that
licence cannot be reused as material). Its document is signed with the
instance's key the first time it is read (no key is at hand here).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from datetime import UTC, timedelta, timezone

import sqlalchemy as sa
from alembic import op

from services.common.masking import mask

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

CHINA = timezone(timedelta(hours=8))
NEW_COLUMNS = [
    sa.Column("holder_id", sa.String(length=64), nullable=True),
    sa.Column("department_code", sa.String(length=64), nullable=True),
    sa.Column("licence_type_code", sa.String(length=20), nullable=True),
    sa.Column("licence_type_name", sa.String(length=200), nullable=True),
    sa.Column("issuer_uscc", sa.String(length=18), nullable=True),
    sa.Column("valid_from", sa.Date(), nullable=True),
    sa.Column("valid_to", sa.Date(), nullable=True),
    sa.Column("document", sa.JSON(), nullable=True),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("revocation_reason", sa.Text(), nullable=True),
]
NUMBER_COLUMNS = [("applications", True), ("licences", False)]


def _widen(length_from: int, length_to: int) -> None:
    # SQLite does not enforce VARCHAR lengths (and cannot alter a column in
    # place); the widening matters on PostgreSQL only.
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, nullable in NUMBER_COLUMNS:
        op.alter_column(
            table,
            "licence_no",
            type_=sa.String(length=length_to),
            existing_type=sa.String(length=length_from),
            existing_nullable=nullable,
        )


def upgrade() -> None:
    _widen(64, 100)
    for column in NEW_COLUMNS:
        op.add_column("licences", column.copy())
    op.create_index(op.f("ix_licences_holder_id"), "licences", ["holder_id"])
    op.create_table(
        "licence_keys",
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("private_key_cipher", sa.Text(), nullable=False),
        sa.Column("public_jwk", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_licence_keys")),
    )
    _carry_issued_licences()
    op.drop_table("licence_serials")


def _carry_issued_licences() -> None:
    bind = op.get_bind()
    licences = sa.table(
        "licences",
        sa.column("licence_no", sa.String),
        sa.column("application_id", sa.String),
        sa.column("applicant_id", sa.String),
        sa.column("holder_masked", sa.String),
        sa.column("issued_at", sa.DateTime(timezone=True)),
        sa.column("holder_id", sa.String),
        sa.column("department_code", sa.String),
        sa.column("valid_from", sa.Date),
    )
    applications = sa.table(
        "applications",
        sa.column("application_id", sa.String),
        sa.column("department_code", sa.String),
    )
    rows = bind.execute(
        sa.select(
            licences.c.licence_no,
            licences.c.applicant_id,
            licences.c.holder_masked,
            licences.c.issued_at,
            applications.c.department_code,
        ).join(applications, applications.c.application_id == licences.c.application_id)
    ).all()
    for row in rows:
        issued_at = row.issued_at if row.issued_at.tzinfo else row.issued_at.replace(tzinfo=UTC)
        # The applicant's own licence shows their user id masked; an agent's
        # shows the principal's.
        own = row.holder_masked == mask(row.applicant_id)
        bind.execute(
            licences.update()
            .where(licences.c.licence_no == row.licence_no)
            .values(
                holder_id=row.applicant_id if own else None,
                department_code=row.department_code,
                valid_from=issued_at.astimezone(CHINA).date(),
            )
        )


def downgrade() -> None:
    op.create_table(
        "licence_serials",
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("last_serial", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("region_code", "issued_on", name=op.f("pk_licence_serials")),
    )
    op.drop_table("licence_keys")
    op.drop_index(op.f("ix_licences_holder_id"), table_name="licences")
    with op.batch_alter_table("licences") as batch:
        for column in reversed(NEW_COLUMNS):
            batch.drop_column(column.name)
    # A database that issued national numbers (up to 73 characters) cannot
    # narrow back: PostgreSQL refuses, and the downgrade with it.
    _widen(100, 64)
