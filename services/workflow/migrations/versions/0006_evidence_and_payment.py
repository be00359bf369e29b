"""Steps met by evidence (regional assessments, licences) and fees paid online.

An evidence step's lookup and a case's payment are kept in its progress (JSON);
the item's fees and fee waiver in its item snapshot (JSON): no column changes.
A ``payments`` row repeats each payment's state, order, amount and last day to
pay, for the payment sweep. Cases open at the upgrade have no payment.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payments",
        sa.Column("application_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.application_id"],
            name=op.f("fk_payments_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("application_id", name=op.f("pk_payments")),
        sa.UniqueConstraint("order_id", name=op.f("uq_payments_order_id")),
    )
    op.create_index("ix_payments_state_due", "payments", ["state", "due_on"])


def downgrade() -> None:
    op.drop_index("ix_payments_state_due", table_name="payments")
    op.drop_table("payments")
