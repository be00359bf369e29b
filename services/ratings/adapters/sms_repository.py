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
from services.common.db import insert_absent, row_by_key, stored_instant
from services.ratings.adapters import orm
from services.ratings.domain.sms import PENDING, TextMessage

_messages = orm.sms_messages

# The relay's statements, built once (as ``services.common.db.row_by_key``): it
# looks for a due message every fraction of a second and claims each it sends.

# Up to ``limit`` pending messages due at ``now``, the longest waiting first.
_DUE = (
    sa.select(_messages)
    .where(
        _messages.c.state == PENDING,
        sa.or_(
            _messages.c.next_attempt_at.is_(None),
            _messages.c.next_attempt_at <= sa.bindparam("now"),
        ),
    )
    .order_by(_messages.c.queued_at, _messages.c.message_id)
    .limit(sa.bindparam("limit", type_=sa.Integer))
)
# The update of the message ``message_key`` while still pending with
# ``attempts_seen`` attempts; the columns set are the parameters named.
_SAVE_IF_UNCHANGED = _messages.update().where(
    _messages.c.message_id == sa.bindparam("message_key"),
    _messages.c.state == PENDING,
    _messages.c.attempts == sa.bindparam("attempts_seen"),
)
_COUNT_PENDING = (
    sa.select(sa.func.count()).select_from(_messages).where(_messages.c.state == PENDING)
)


class SmsRepository:
    """``uow.sms``: the outgoing text messages."""

    table = _messages

    def __init__(self, session: Session):
        self.session = session

    def queue(self, message_id: str, phone: str, text: str, now: datetime | None = None) -> None:
        """Send ``text`` to ``phone`` once this transaction commits (the relay
        sends it within SMS_RELAY_SECONDS). Once per ``message_id``: queuing an
        id again changes nothing. Invalid naming ``phone`` or ``text`` when the
        message cannot be sent. ``now`` is the process clock unless given."""
        message = TextMessage.queue(message_id, phone, text, now or clock.now())
        dialect = self.session.get_bind().dialect.name
        self.session.execute(insert_absent(dialect, self.table, "message_id"), self._row(message))

    def get(self, message_id: str) -> TextMessage | None:
        statement = row_by_key(self.table, "message_id")
        row = self.session.execute(statement, {"key": message_id}).mappings().first()
        return None if row is None else self._message(row)

    def due(self, now: datetime, limit: int) -> list[TextMessage]:
        """Up to ``limit`` pending messages whose next attempt is due at ``now``,
        the longest waiting first."""
        rows = self.session.execute(_DUE, {"now": stored_instant(now), "limit": limit})
        return [self._message(row) for row in rows.mappings()]

    def save(self, message: TextMessage, *, attempts_seen: int) -> bool:
        """Write ``message`` if its row is still pending with ``attempts_seen``
        attempts (nobody started another attempt since it was read); False,
        writing nothing, otherwise."""
        row = self._row(message)
        del row["message_id"], row["queued_at"]
        result = self.session.execute(
            _SAVE_IF_UNCHANGED,
            {"message_key": message.message_id, "attempts_seen": attempts_seen, **row},
        )
        return result.rowcount == 1

    def count_pending(self) -> int:
        """Messages not yet sent nor given up."""
        return self.session.execute(_COUNT_PENDING).scalar_one()

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
