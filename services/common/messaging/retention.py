"""What the outbox and the handled-events records keep, and for how long.

Every event a service emits stays in its ``outbox`` once sent, and every event
it handles leaves a ``handled_events`` record: both grow with every errand. A
sent outbox row is kept ``OUTBOX_KEEP_DAYS`` (7) for an operator tracing an
event, then deleted. A handled record is what drops a repeated delivery, so it
is kept ``HANDLED_EVENTS_KEEP_DAYS`` (30): longer than any message waits to be
delivered again (an unacked delivery comes back when its connection breaks; a
dead letter is replayed by an operator within days). An event handled, then
delivered again after its record went, would be handled twice: keep the window
longer than the longest replay you allow.

Rows go in batches of ``batch_size``, one short transaction each: the relay
deletes one batch of each between two rounds while more is due (a database
that never pruned is worked off without holding the relay up), then looks
again every PRUNE_SECONDS.
"""

from datetime import datetime, timedelta

import sqlalchemy as sa

DEFAULT_OUTBOX_KEEP_DAYS = 7
DEFAULT_HANDLED_EVENTS_KEEP_DAYS = 30
DEFAULT_BATCH_SIZE = 1000


class Retention:
    def __init__(
        self,
        engine: sa.Engine,
        outbox: sa.Table,
        handled: sa.Table,
        outbox_keep: timedelta = timedelta(days=DEFAULT_OUTBOX_KEEP_DAYS),
        handled_keep: timedelta = timedelta(days=DEFAULT_HANDLED_EVENTS_KEEP_DAYS),
        batch_size: int = DEFAULT_BATCH_SIZE,
    ):
        self.engine = engine
        self.outbox_keep = outbox_keep
        self.handled_keep = handled_keep
        self.batch_size = batch_size
        # Built once. Unsent rows (sent_at NULL) never match "sent before".
        sent_before = (
            sa.select(outbox.c.seq)
            .where(outbox.c.sent_at < sa.bindparam("cutoff"))
            .limit(batch_size)
        )
        self._outbox = sa.delete(outbox).where(outbox.c.seq.in_(sent_before.scalar_subquery()))
        key = sa.tuple_(handled.c.event_id, handled.c.consumer)
        handled_before = (
            sa.select(handled.c.event_id, handled.c.consumer)
            .where(handled.c.handled_at < sa.bindparam("cutoff"))
            .limit(batch_size)
        )
        self._handled = sa.delete(handled).where(key.in_(handled_before))

    @classmethod
    def configured(cls, engine, outbox, handled, config: dict) -> "Retention":
        """The windows a service's config names (OUTBOX_KEEP_DAYS,
        HANDLED_EVENTS_KEEP_DAYS), the defaults where it names none."""
        outbox_days = float(config.get("OUTBOX_KEEP_DAYS", DEFAULT_OUTBOX_KEEP_DAYS))
        handled_days = float(
            config.get("HANDLED_EVENTS_KEEP_DAYS", DEFAULT_HANDLED_EVENTS_KEEP_DAYS)
        )
        return cls(
            engine,
            outbox,
            handled,
            outbox_keep=timedelta(days=outbox_days),
            handled_keep=timedelta(days=handled_days),
        )

    def prune(self, now: datetime) -> tuple[int, int]:
        """Delete one batch of the sent outbox rows and one of the handled
        records older than their windows at ``now``: (outbox rows, handled
        records) deleted. A full batch (``batch_size``) means more may be due."""
        return (
            self._delete(self._outbox, now - self.outbox_keep),
            self._delete(self._handled, now - self.handled_keep),
        )

    def _delete(self, statement, cutoff: datetime) -> int:
        with self.engine.begin() as connection:
            return connection.execute(statement, {"cutoff": cutoff}).rowcount
