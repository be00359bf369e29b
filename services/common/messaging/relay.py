"""The outbox relay: publishes committed outbox rows, then marks them sent.

A crash after publishing and before marking leaves the rows unsent, so they are
published again: events are delayed or repeated, never lost. Consumers drop the
repeats by event id. On PostgreSQL, ``FOR UPDATE SKIP LOCKED`` lets several
replicas of a service relay the same outbox without publishing a row twice in
the normal case.

For the same reason the marks need not reach the disk before the relay goes
on: on PostgreSQL the transaction that marks rows sent commits asynchronously
(``synchronous_commit`` off for it alone). A crash of the database server may
take back the marks of its last fraction of a second, and those rows are
published again, as after a crash of the relay. Every other transaction (a
change and its outbox rows, a handled event) still waits for its flush; a mark
no longer costs a flush of the log, about a third of the flushes of an errand.
"""

import logging

import sqlalchemy as sa

from services.common import drills
from services.common.db import DEFERRED, CoreSession
from services.common.messaging.envelope import utcnow
from services.common.messaging.publisher import ConfirmingPublisher, OutgoingMessage

log = logging.getLogger(__name__)

# For the marking transaction alone (see the module), on PostgreSQL.
_ASYNCHRONOUS_COMMIT = sa.text("SET LOCAL synchronous_commit TO OFF")


def outgoing(envelope: dict) -> OutgoingMessage:
    return OutgoingMessage(
        exchange=f"{envelope['source']}.events",
        routing_key=envelope["type"],
        body=envelope,
        message_id=envelope["id"],
        message_type=envelope["type"],
        # nameko reads headers prefixed "nameko." into the worker's context data.
        headers={
            "nameko.correlation_id": envelope["correlation_id"],
            "nameko.event_id": envelope["id"],
        },
    )


class OutboxRelay:
    def __init__(
        self,
        engine: sa.Engine,
        outbox: sa.Table,
        publisher: ConfirmingPublisher,
        batch_size: int = 200,
    ):
        self.engine = engine
        self.outbox = outbox
        self.publisher = publisher
        self.batch_size = batch_size
        self.published_total = 0
        self.unrouted_total = 0
        self._asynchronous_marks = engine.dialect.name == "postgresql"
        # Built once: the same statements every round (see db.row_by_key).
        self._unsent = (
            sa.select(outbox.c.seq, outbox.c.envelope)
            .where(outbox.c.sent_at.is_(None))
            .order_by(outbox.c.seq)
            .limit(batch_size)
            .with_for_update(skip_locked=True)
        )
        self._mark_sent = (
            sa.update(outbox)
            .where(outbox.c.seq.in_(sa.bindparam("seqs", expanding=True)))
            .values(sent_at=sa.bindparam("sent_at"))
        )

    def relay_once(self) -> int:
        """Publish one batch of unsent rows; return how many were published.

        The round is a unit of work's transaction (``db.CoreSession``): a
        pooled connection the database had closed is replaced at the round's
        first statement, before anything was read or published."""
        session = CoreSession(self.engine)
        try:
            rows = session.execute(self._unsent).all()
            if not rows:
                return 0
            unrouted = self.publisher.publish_batch([outgoing(r.envelope) for r in rows])
            drills.crash_point(drills.RELAY_CRASH_AFTER_CONFIRM, rows[0].envelope["source"])
            self.unrouted_total += len(unrouted)
            self.mark_sent(session, [row.seq for row in rows])
            session.commit()
        finally:
            session.close()  # rolls back what did not commit
        self.published_total += len(rows)
        return len(rows)

    def mark_sent(self, session, seqs: list[int]) -> None:
        # Both go with the commit, in one message (db.DEFERRED).
        if self._asynchronous_marks:
            session.execute(_ASYNCHRONOUS_COMMIT, execution_options=DEFERRED)
        session.execute(
            self._mark_sent, {"seqs": seqs, "sent_at": utcnow()}, execution_options=DEFERRED
        )

    def relay_all(self) -> int:
        total = 0
        while True:
            count = self.relay_once()
            total += count
            if count < self.batch_size:
                return total

    def backlog(self) -> int:
        with self.engine.connect() as connection:
            return connection.execute(
                sa.select(sa.func.count())
                .select_from(self.outbox)
                .where(self.outbox.c.sent_at.is_(None))
            ).scalar_one()
