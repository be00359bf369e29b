"""The workflow unit of work: one transaction with its repositories and outbox."""

from sqlalchemy.orm import Session

from services.common.db import UnitOfWork
from services.common.pii import PiiCipher, cipher_from_config
from services.workflow.adapters import orm
from services.workflow.adapters.licence_keys import LicenceKeyRepository
from services.workflow.adapters.memberships import MembershipRepository
from services.workflow.adapters.payment_rows import PaymentRows
from services.workflow.adapters.repository import (
    ApplicationRepository,
    CalendarRepository,
    LicenceRepository,
    ProcessRepository,
)


class WorkflowUnitOfWork(UnitOfWork):
    metadata = orm.metadata
    _pii_cipher: PiiCipher | None = None
    # identity's authorise_principal(actor_id, principal, item_id, on), set by
    # the service's database dependency (adapters.identity_dependency).
    authorise_principal = None
    # identity's person_facts(user_id, *, purpose, accessor_id, accessor_kind),
    # set the same way.
    person_facts = None

    def open_repositories(self, session: Session) -> None:
        self.calendar = CalendarRepository(session)
        self.applications = ApplicationRepository(session, pii=self.pii, calendar=self.calendar)
        self.licence_keys = LicenceKeyRepository(session, pii=self.pii)
        self.licences = LicenceRepository(session, keys=self.licence_keys)
        self.processes = ProcessRepository(session, calendar=self.calendar)
        self.payments = PaymentRows(session)
        self.memberships = MembershipRepository(session)

    def pii(self) -> PiiCipher:
        """The cipher for ``PII_KEY`` of :attr:`config`, built on first use and kept
        for this unit of work; ValueError when the key is not configured."""
        if self._pii_cipher is None:
            self._pii_cipher = cipher_from_config(self.config)
        return self._pii_cipher
