"""The workflow unit of work: one transaction with its repositories and outbox."""

from sqlalchemy.orm import Session

from services.common.db import UnitOfWork
from services.workflow.adapters import orm
from services.workflow.adapters.repository import (
    ApplicationRepository,
    CalendarRepository,
    LicenceRepository,
)


class WorkflowUnitOfWork(UnitOfWork):
    metadata = orm.metadata

    def open_repositories(self, session: Session) -> None:
        self.applications = ApplicationRepository(session)
        self.licences = LicenceRepository(session)
        self.calendar = CalendarRepository(session)
