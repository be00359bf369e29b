"""The ratings unit of work: one transaction with the ratings repositories."""

from sqlalchemy.orm import Session

from services.common.db import UnitOfWork
from services.ratings.adapters import orm
from services.ratings.adapters.repository import (
    CaseRepository,
    EscalationTotalsRepository,
    RatingTotalsRepository,
    RectificationRepository,
    ReviewRepository,
)


class RatingsUnitOfWork(UnitOfWork):
    metadata = orm.metadata

    def open_repositories(self, session: Session) -> None:
        self.cases = CaseRepository(session)
        self.reviews = ReviewRepository(session)
        self.rectifications = RectificationRepository(session)
        self.totals = RatingTotalsRepository(session)
        self.escalations = EscalationTotalsRepository(session)
