"""Shipments in and out of the database.

``ShipmentRepository`` loads and saves the Shipment aggregate for commands and
answers the read queries (lists and details with tracking) as plain dicts.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.courier.adapters.orm import shipments, tracking_events
from services.courier.domain.audience import Audience
from services.courier.domain.model import Address, Shipment, TrackingEntry


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

    def find(self, application_id: str, direction: str) -> Shipment | None:
        return self._one(
            sa.select(shipments).where(
                shipments.c.application_id == application_id,
                shipments.c.direction == direction,
            )
        )

    def save(self, shipment: Shipment) -> None:
        """Store the shipment's status and the scans recorded since it was loaded."""
        self.session.execute(
            shipments.update()
            .where(shipments.c.shipment_id == shipment.shipment_id)
            .values(status=shipment.status)
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
