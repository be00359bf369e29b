"""Text messages to citizens (``sms_messages``): queued in a use case's
transaction, read and saved by the relay (``service_layer.sms``).

Instants are stored in UTC; SQLite hands them back naive, so each is put back
in UTC before the domain sees it.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.common import clock
from services.common.db import stored_instant, upsert
from services.ratings.adapters import orm
from services.ratings.domain.sms import PENDING, TextMessage


class SmsRepository:
    """``uow.sms``: the outgoing text messages."""

    table = orm.sms_messages

    def __init__(self, session: Session):
        self.session = session

    def queue(self, message_id: str, phone: str, text: str, now: datetime | None = None) -> None:
        """Send ``text`` to ``phone`` once this transaction commits (the relay
        sends it within SMS_RELAY_SECONDS). Once per ``message_id``: queuing an
        id again changes nothing. Invalid naming ``phone`` or ``text`` when the
        message cannot be sent. ``now`` is the process clock unless given."""
        message = TextMessage.queue(message_id, phone, text, now or clock.now())
        statement = upsert(self.session)(self.table).values(**self._row(message))
        self.session.execute(
            statement.on_conflict_do_nothing(index_elements=[self.table.c.message_id])
        )

    def get(self, message_id: str) -> TextMessage | None:
        row = (
            self.session.execute(sa.select(self.table).where(self.table.c.message_id == message_id))
            .mappings()
            .first()
        )
        return None if row is None else self._message(row)

    def due(self, now: datetime, limit: int) -> list[TextMessage]:
        """Up to ``limit`` pending messages whose next attempt is due at ``now``,
        the longest waiting first."""
        table = self.table
        statement = (
            sa.select(table)
            .where(
                table.c.state == PENDING,
                sa.or_(
                    table.c.next_attempt_at.is_(None),
                    table.c.next_attempt_at <= stored_instant(now),
                ),
            )
            .order_by(table.c.queued_at, table.c.message_id)
            .limit(limit)
        )
        return [self._message(row) for row in self.session.execute(statement).mappings()]

    def save(self, message: TextMessage, *, attempts_seen: int) -> bool:
        """Write ``message`` if its row is still pending with ``attempts_seen``
        attempts (nobody started another attempt since it was read); False,
        writing nothing, otherwise."""
        table = self.table
        row = self._row(message)
        del row["message_id"], row["queued_at"]
        result = self.session.execute(
            table.update()
            .where(
                table.c.message_id == message.message_id,
                table.c.state == PENDING,
                table.c.attempts == attempts_seen,
            )
            .values(**row)
        )
        return result.rowcount == 1

    def count_pending(self) -> int:
        """Messages not yet sent nor given up."""
        table = self.table
        statement = sa.select(sa.func.count()).select_from(table).where(table.c.state == PENDING)
        return self.session.execute(statement).scalar_one()

    @staticmethod
    def _row(message: TextMessage) -> dict:
        return {
            "message_id": message.message_id,
            "phone": message.phone,
            "text": message.text,
            "state": message.state,
            "attempts": message.attempts,
            "queued_at": stored_instant(message.queued_at),
            "next_attempt_at": stored_instant(message.next_attempt_at),
            "sent_at": stored_instant(message.sent_at),
            "failed_at": stored_instant(message.failed_at),
            "gateway_message_id": message.gateway_message_id,
            "last_error": message.last_error,
        }

    @staticmethod
    def _message(row) -> TextMessage:
        return TextMessage(
            message_id=row["message_id"],
            phone=row["phone"],
            text=row["text"],
            queued_at=stored_instant(row["queued_at"]),
            state=row["state"],
            attempts=row["attempts"],
            next_attempt_at=stored_instant(row["next_attempt_at"]),
            sent_at=stored_instant(row["sent_at"]),
            failed_at=stored_instant(row["failed_at"]),
            gateway_message_id=row["gateway_message_id"],
            last_error=row["last_error"],
        )
