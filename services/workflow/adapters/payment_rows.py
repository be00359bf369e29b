"""The ``payments`` rows: each case's payment as the payment sweep looks for it.

The case's progress holds its payment whole (``domain.payment.Payment``); the
row repeats its state, order, amount and last day to pay, written with the case
in the same transaction, so that the sweep finds the orders still to make,
cancel or refund, and the orders not paid in time, without reading the cases.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.common.db import insert_into, update_by_key
from services.workflow.adapters import orm
from services.workflow.domain.payment import PENDING, UNSETTLED


def write_payment_row(session: Session, application) -> None:
    """Insert or update the case's row when it has a payment."""
    payment = application.payment
    if payment is None:
        return
    values = {
        "state": payment.state,
        "order_id": payment.order_id,
        "amount_fen": payment.amount_fen,
        "due_on": payment.due_on,
        "updated_at": datetime.now(UTC),
    }
    updated = session.execute(
        update_by_key(orm.payments, "application_id"),
        {"where_key": application.application_id, **values},
    )
    if updated.rowcount == 0:
        session.execute(
            insert_into(orm.payments), {"application_id": application.application_id, **values}
        )


class PaymentRows:
    def __init__(self, session: Session):
        self.session = session

    def to_settle(self, today: date, limit: int = 500) -> list[tuple[str, str]]:
        """``(application_id, state)`` of the payments the sweep has work for:
        an order to make, cancel or refund, or one not paid by its last day
        (before ``today``); the oldest last day first."""
        table = orm.payments
        rows = self.session.execute(
            sa.select(table.c.application_id, table.c.state)
            .where(
                sa.or_(
                    table.c.state.in_(UNSETTLED),
                    sa.and_(table.c.state == PENDING, table.c.due_on < today),
                )
            )
            .order_by(table.c.due_on, table.c.application_id)
            .limit(limit)
        )
        return [(row.application_id, row.state) for row in rows]

    def application_of(self, order_id: str) -> str | None:
        table = orm.payments
        return self.session.execute(
            sa.select(table.c.application_id).where(table.c.order_id == order_id)
        ).scalar_one_or_none()
