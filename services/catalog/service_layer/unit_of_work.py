"""The catalog's unit of work: one transaction, its repositories and its outbox."""

from sqlalchemy.orm import Session

from services.catalog.adapters import orm
from services.catalog.adapters.catalogue_facts import CatalogueFactsRepository
from services.catalog.adapters.repository import (
    AssessmentRepository,
    BasicItemRepository,
    DepartmentRepository,
    ItemRepository,
    RegionRepository,
    StoreRepository,
    ZoneRepository,
)
from services.common.db import UnitOfWork


class CatalogUnitOfWork(UnitOfWork):
    metadata = orm.metadata

    regions: RegionRepository
    departments: DepartmentRepository
    items: ItemRepository
    basic_items: BasicItemRepository
    stores: StoreRepository
    zones: ZoneRepository
    assessments: AssessmentRepository
    catalogue: CatalogueFactsRepository

    def open_repositories(self, session: Session) -> None:
        self.regions = RegionRepository(session)
        self.departments = DepartmentRepository(session)
        self.items = ItemRepository(session)
        self.basic_items = BasicItemRepository(session)
        self.stores = StoreRepository(session)
        self.zones = ZoneRepository(session)
        self.assessments = AssessmentRepository(session)
        self.catalogue = CatalogueFactsRepository(session)
