"""Shipments and their pending EMS orders in and out of the database.

``ShipmentRepository`` loads and saves the Shipment aggregate for commands and
answers the read queries (lists and details with tracking) as plain dicts;
``PendingOrderRepository`` keeps the orders waiting to be placed with EMS.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.common.db import stored_instant
from services.courier.adapters.orm import pending_orders, shipments, tracking_events
from services.courier.domain.audience import Audience
from services.courier.domain.model import Address, Shipment, TrackingEntry
from services.courier.domain.orders import PendingOrder


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored here is UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class ShipmentRepository:
    def __init__(self, session: Session):
        self.session = session
        # Scans already stored per shipment, so save() inserts only new ones.
        self._stored: dict[str, set[TrackingEntry]] = {}

    def add(
        self,
        shipment: Shipment,
        *,
        applicant_id: str,
        department_code: str | None,
        created_at: datetime,
    ) -> None:
        self.session.execute(
            shipments.insert().values(
                shipment_id=shipment.shipment_id,
                application_id=shipment.application_id,
                applicant_id=applicant_id,
                department_code=department_code,
                direction=shipment.direction,
                sender=shipment.sender.as_dict(),
                recipient=shipment.recipient.as_dict(),
                tracking_no=shipment.tracking_no,
                status=shipment.status,
                attempt=shipment.attempt,
                created_at=created_at,
            )
        )
        self._stored[shipment.shipment_id] = set()
        self._insert_new_scans(shipment)

    def get(self, tracking_no: str, *, for_update: bool = False) -> Shipment | None:
        """The shipment with this tracking number; ``for_update`` locks its row
        until the transaction ends, so concurrent scans apply one after another."""
        query = sa.select(shipments).where(shipments.c.tracking_no == tracking_no)
        if for_update:
            query = query.with_for_update()
        return self._one(query)

    def get_by_id(self, shipment_id: str, *, for_update: bool = False) -> Shipment | None:
        query = sa.select(shipments).where(shipments.c.shipment_id == shipment_id)
        if for_update:
            query = query.with_for_update()
        return self._one(query)

    def find(
        self, application_id: str, direction: str, attempt: int | None = None
    ) -> Shipment | None:
        """The application's shipment in ``direction`` at ``attempt``; the
        latest attempt when None."""
        query = sa.select(shipments).where(
            shipments.c.application_id == application_id,
            shipments.c.direction == direction,
        )
        if attempt is not None:
            query = query.where(shipments.c.attempt == attempt)
        return self._one(query.order_by(shipments.c.attempt.desc()).limit(1))

    def owner_of(self, shipment_id: str) -> tuple[str, str | None]:
        """(applicant_id, department_code) of a stored shipment: who may see it."""
        row = self.session.execute(
            sa.select(shipments.c.applicant_id, shipments.c.department_code).where(
                shipments.c.shipment_id == shipment_id
            )
        ).one()
        return row.applicant_id, row.department_code

    def save(self, shipment: Shipment) -> None:
        """Store the shipment's status (and tracking number, once placed) and
        the scans recorded since it was loaded."""
        self.session.execute(
            shipments.update()
            .where(shipments.c.shipment_id == shipment.shipment_id)
            .values(status=shipment.status, tracking_no=shipment.tracking_no)
        )
        self._insert_new_scans(shipment)

    def count_by_direction_and_status(self) -> dict[tuple[str, str], int]:
        """How many shipments are in each (direction, status); pairs without a
        shipment are absent."""
        keys = (shipments.c.direction, shipments.c.status)
        rows = self.session.execute(sa.select(*keys, sa.func.count()).group_by(*keys))
        return {(row[0], row[1]): int(row[2]) for row in rows}

    def visible(
        self,
        audience: Audience,
        *,
        application_id: str | None = None,
        tracking_no: str | None = None,
        with_tracking: bool = False,
    ) -> list[dict]:
        """Shipments the audience may see, oldest first, as dicts for the contract."""
        if audience.sees_nothing:
            return []
        query = sa.select(shipments).order_by(shipments.c.created_at, shipments.c.shipment_id)
        if application_id is not None:
            query = query.where(shipments.c.application_id == application_id)
        if tracking_no is not None:
            query = query.where(shipments.c.tracking_no == tracking_no)
        if audience.applicant_id is not None:
            query = query.where(shipments.c.applicant_id == audience.applicant_id)
        elif audience.department_code is not None:
            query = query.where(shipments.c.department_code == audience.department_code)
        found = []
        for row in self.session.execute(query).mappings():
            shipment = {
                "shipment_id": row["shipment_id"],
                "tracking_no": row["tracking_no"],
                "application_id": row["application_id"],
                "direction": row["direction"],
                "attempt": row["attempt"],
                "status": row["status"],
                "sender": row["sender"],
                "recipient": row["recipient"],
                "created_at": as_utc(row["created_at"]),
            }
            if with_tracking:
                shipment["tracking"] = [
                    {
                        "status": entry.status,
                        "occurred_at": entry.occurred_at,
                        "location": entry.location,
                        "description": entry.description,
                    }
                    for entry in self._scans(row["shipment_id"])
                ]
            found.append(shipment)
        return found

    def _one(self, query) -> Shipment | None:
        row = self.session.execute(query).mappings().first()
        if row is None:
            return None
        scans = self._scans(row["shipment_id"])
        self._stored[row["shipment_id"]] = set(scans)
        return Shipment(
            shipment_id=row["shipment_id"],
            application_id=row["application_id"],
            direction=row["direction"],
            sender=Address(**row["sender"]),
            recipient=Address(**row["recipient"]),
            tracking_no=row["tracking_no"],
            status=row["status"],
            attempt=row["attempt"],
            tracking=scans,
        )

    def _scans(self, shipment_id: str) -> list[TrackingEntry]:
        rows = self.session.execute(
            sa.select(tracking_events)
            .where(tracking_events.c.shipment_id == shipment_id)
            .order_by(tracking_events.c.occurred_at, tracking_events.c.id)
        ).mappings()
        return [
            TrackingEntry(
                status=row["status"],
                occurred_at=as_utc(row["occurred_at"]),
                location=row["location"],
                description=row["description"],
            )
            for row in rows
        ]

    def _insert_new_scans(self, shipment: Shipment) -> None:
        stored = self._stored.setdefault(shipment.shipment_id, set())
        new = [entry for entry in shipment.tracking if entry not in stored]
        if not new:
            return
        self.session.execute(
            tracking_events.insert(),
            [
                {
                    "shipment_id": shipment.shipment_id,
                    "status": entry.status,
                    "occurred_at": entry.occurred_at,
                    "location": entry.location,
                    "description": entry.description,
                }
                for entry in new
            ],
        )
        stored.update(new)


class PendingOrderRepository:
    """``uow.orders``: the EMS orders of pending shipments."""

    table = pending_orders

    def __init__(self, session: Session):
        self.session = session

    def add(self, order: PendingOrder) -> None:
        self.session.execute(self.table.insert().values(**self._row(order)))

    def get(self, shipment_id: str) -> PendingOrder | None:
        row = (
            self.session.execute(
                sa.select(self.table).where(self.table.c.shipment_id == shipment_id)
            )
            .mappings()
            .first()
        )
        return None if row is None else self._order(row)

    def claim_due(self, now: datetime) -> PendingOrder | None:
        """The order due longest at ``now``, its row locked until the
        transaction ends; an order another process has locked is skipped (FOR
        UPDATE SKIP LOCKED on PostgreSQL; SQLite has one writer at a time)."""
        table = self.table
        row = (
            self.session.execute(
                sa.select(table)
                .where(
                    sa.or_(
                        table.c.next_attempt_at.is_(None),
                        table.c.next_attempt_at <= stored_instant(now),
                    )
                )
                .order_by(table.c.next_attempt_at.nulls_first(), table.c.queued_at)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            .mappings()
            .first()
        )
        return None if row is None else self._order(row)

    def lock(self, order: PendingOrder, *, attempts_seen: int) -> bool:
        """Lock the order's row until the transaction ends, if it still has
        ``attempts_seen`` attempts; False when it does not (or is gone)."""
        found = self.session.execute(
            sa.select(self.table.c.shipment_id)
            .where(
                self.table.c.shipment_id == order.shipment_id,
                self.table.c.attempts == attempts_seen,
            )
            .with_for_update()
        ).first()
        return found is not None

    def save(self, order: PendingOrder, *, attempts_seen: int) -> bool:
        """Write ``order`` if its row still has ``attempts_seen`` attempts
        (nobody started another since it was read); False, writing nothing,
        otherwise."""
        row = self._row(order)
        del row["shipment_id"]
        result = self.session.execute(
            self.table.update()
            .where(
                self.table.c.shipment_id == order.shipment_id,
                self.table.c.attempts == attempts_seen,
            )
            .values(**row)
        )
        return result.rowcount == 1

    def remove(self, order: PendingOrder, *, attempts_seen: int) -> bool:
        """Delete the order (placed or given up) if nobody started another
        attempt since it was read."""
        result = self.session.execute(
            self.table.delete().where(
                self.table.c.shipment_id == order.shipment_id,
                self.table.c.attempts == attempts_seen,
            )
        )
        return result.rowcount == 1

    def count(self) -> int:
        return self.session.execute(sa.select(sa.func.count()).select_from(self.table)).scalar_one()

    def oldest_queued_at(self) -> datetime | None:
        return stored_instant(
            self.session.execute(sa.select(sa.func.min(self.table.c.queued_at))).scalar_one()
        )

    @staticmethod
    def _row(order: PendingOrder) -> dict:
        return {
            "shipment_id": order.shipment_id,
            "idempotency_key": order.idempotency_key,
            "queued_at": stored_instant(order.queued_at),
            "give_up_at": stored_instant(order.give_up_at),
            "attempts": order.attempts,
            "next_attempt_at": stored_instant(order.next_attempt_at),
            "last_error": order.last_error,
            "correlation_id": order.correlation_id,
        }

    @staticmethod
    def _order(row) -> PendingOrder:
        return PendingOrder(
            shipment_id=row["shipment_id"],
            idempotency_key=row["idempotency_key"],
            queued_at=stored_instant(row["queued_at"]),
            give_up_at=stored_instant(row["give_up_at"]),
            attempts=row["attempts"],
            next_attempt_at=stored_instant(row["next_attempt_at"]),
            last_error=row["last_error"],
            correlation_id=row["correlation_id"],
        )
