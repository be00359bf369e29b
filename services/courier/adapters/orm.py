"""The courier's tables: shipments, their tracking scans, the EMS orders not
placed yet, the outbox and the handled-events record."""

import sqlalchemy as sa

from services.common.messaging.tables import add_messaging_tables

# Named constraints, so Alembic's batch mode on SQLite and PostgreSQL agree.
metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

shipments = sa.Table(
    "shipments",
    metadata,
    sa.Column("shipment_id", sa.String(32), primary_key=True),
    sa.Column("application_id", sa.String(64), nullable=False),
    # Who may see the shipment: the applicant and the handling department.
    sa.Column("applicant_id", sa.String(64), nullable=False, index=True),
    sa.Column("department_code", sa.String(64), nullable=True, index=True),
    sa.Column("direction", sa.String(16), nullable=False),
    sa.Column("sender", sa.JSON, nullable=False),
    sa.Column("recipient", sa.JSON, nullable=False),
    # None while the order waits to be placed with EMS (status pending).
    sa.Column("tracking_no", sa.String(13), nullable=True, unique=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    # 1, then 2, 3... for each shipment the applicant asks for after a failure.
    sa.Column("attempt", sa.Integer, nullable=False, server_default="1"),
    # One waybill per application, direction and attempt, as EMS's idempotency
    # key has it (``domain.orders.idempotency_key``); also stops two racing
    # deliveries of one event.
    sa.UniqueConstraint("application_id", "direction", "attempt"),
)

tracking_events = sa.Table(
    "tracking_events",
    metadata,
    sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
    sa.Column(
        "shipment_id",
        sa.String(32),
        sa.ForeignKey("shipments.shipment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("location", sa.String(200), nullable=False),
    sa.Column("description", sa.String(500), nullable=False),
    sa.Index(None, "shipment_id", "occurred_at"),
)

# The EMS order of each pending shipment, until EMS takes it or it is given up
# (the row is deleted then); the timer reads the due ones.
pending_orders = sa.Table(
    "pending_orders",
    metadata,
    sa.Column(
        "shipment_id",
        sa.String(32),
        sa.ForeignKey("shipments.shipment_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("idempotency_key", sa.String(255), nullable=False),
    sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("give_up_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    # None: due at once.
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("last_error", sa.String(200), nullable=True),
    # Of the event that asked for the order: shipment_created carries it on.
    sa.Column("correlation_id", sa.String(64), nullable=True),
    sa.Index(None, "next_attempt_at"),
)

add_messaging_tables(metadata)
