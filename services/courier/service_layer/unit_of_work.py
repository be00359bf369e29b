"""The courier's unit of work: one transaction with its shipments and outbox."""

from sqlalchemy.orm import Session

from services.common.db import UnitOfWork
from services.courier.adapters import orm
from services.courier.adapters.repository import ShipmentRepository


class CourierUnitOfWork(UnitOfWork):
    metadata = orm.metadata
    shipments: ShipmentRepository

    def open_repositories(self, session: Session) -> None:
        self.shipments = ShipmentRepository(session)
