"""The courier's unit of work: one transaction with its shipments, their
pending EMS orders and the outbox."""

from sqlalchemy.orm import Session

from services.common.db import UnitOfWork
from services.courier.adapters import orm
from services.courier.adapters.repository import PendingOrderRepository, ShipmentRepository


class CourierUnitOfWork(UnitOfWork):
    metadata = orm.metadata
    shipments: ShipmentRepository
    orders: PendingOrderRepository

    def open_repositories(self, session: Session) -> None:
        self.shipments = ShipmentRepository(session)
        self.orders = PendingOrderRepository(session)
