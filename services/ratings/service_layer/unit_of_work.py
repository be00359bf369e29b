"""The ratings unit of work: one transaction with the ratings repositories."""

from sqlalchemy.orm import Session

from services.common.db import UnitOfWork
from services.ratings.adapters import orm
from services.ratings.adapters.calendar_repository import CalendarRepository
from services.ratings.adapters.indicators_repository import (
    CaseStatsRepository,
    IndicatorRepository,
)
from services.ratings.adapters.rectification_repository import RectificationRepository
from services.ratings.adapters.repository import (
    AppealRepository,
    CaseRepository,
    EscalationTotalsRepository,
    ReviewRepository,
    VisitRepository,
)
from services.ratings.adapters.sms_repository import SmsRepository


class RatingsUnitOfWork(UnitOfWork):
    metadata = orm.metadata

    def open_repositories(self, session: Session) -> None:
        self.cases = CaseRepository(session)
        self.reviews = ReviewRepository(session)
        self.visits = VisitRepository(session)
        self.appeals = AppealRepository(session)
        self.rectifications = RectificationRepository(session)
        self.calendar = CalendarRepository(session)
        self.escalations = EscalationTotalsRepository(session)
        self.indicators = IndicatorRepository(session)
        self.case_stats = CaseStatsRepository(session)
        self.sms = SmsRepository(session)
