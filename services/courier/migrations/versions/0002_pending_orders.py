"""EMS orders waiting to be placed, retried with backoff; shipments pending
until EMS takes their order, and numbered by attempt.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("shipments") as batch:
        batch.add_column(sa.Column("attempt", sa.Integer(), server_default="1", nullable=False))
        batch.alter_column("tracking_no", existing_type=sa.String(length=13), nullable=True)
        batch.drop_constraint("uq_shipments_application_id_direction", type_="unique")
        batch.create_unique_constraint(
            "uq_shipments_application_id_direction_attempt",
            ["application_id", "direction", "attempt"],
        )
    op.create_table(
        "pending_orders",
        sa.Column("shipment_id", sa.String(length=32), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("give_up_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("correlation_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.shipment_id"],
            name=op.f("fk_pending_orders_shipment_id_shipments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("shipment_id", name=op.f("pk_pending_orders")),
    )
    op.create_index(
        op.f("ix_pending_orders_next_attempt_at"), "pending_orders", ["next_attempt_at"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_pending_orders_next_attempt_at"), table_name="pending_orders")
    op.drop_table("pending_orders")
    # Orders never placed have no waybill and no place in the old table.
    op.execute(
        "DELETE FROM tracking_events WHERE shipment_id IN"
        " (SELECT shipment_id FROM shipments WHERE tracking_no IS NULL)"
    )
    op.execute("DELETE FROM shipments WHERE tracking_no IS NULL OR attempt > 1")
    with op.batch_alter_table("shipments") as batch:
        batch.drop_constraint("uq_shipments_application_id_direction_attempt", type_="unique")
        batch.create_unique_constraint(
            "uq_shipments_application_id_direction", ["application_id", "direction"]
        )
        batch.alter_column("tracking_no", existing_type=sa.String(length=13), nullable=False)
        batch.drop_column("attempt")
