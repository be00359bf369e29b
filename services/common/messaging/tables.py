"""The outbox and handled-events tables, added to every service's metadata."""

import sqlalchemy as sa


def add_messaging_tables(metadata: sa.MetaData) -> tuple[sa.Table, sa.Table]:
    outbox = sa.Table(
        "outbox",
        metadata,
        sa.Column("seq", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("event_id", sa.String(32), nullable=False, unique=True),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("envelope", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Index("ix_outbox_unsent", "sent_at", "seq"),
    )
    handled = sa.Table(
        "handled_events",
        metadata,
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("consumer", sa.String(200), primary_key=True),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
        # The records older than the retention window are deleted by it.
        sa.Index("ix_handled_events_handled_at", "handled_at"),
    )
    return outbox, handled


# The migration that added ix_handled_events_handled_at, the same in every service.
def create_handled_at_index(op) -> None:
    op.create_index("ix_handled_events_handled_at", "handled_events", ["handled_at"])


def drop_handled_at_index(op) -> None:
    op.drop_index("ix_handled_events_handled_at", table_name="handled_events")
