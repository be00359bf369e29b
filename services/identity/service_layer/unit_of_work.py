"""The identity unit of work: one transaction with the identity repositories."""

from sqlalchemy.orm import Session

from services.common.db import UnitOfWork
from services.identity.adapters import orm
from services.identity.adapters.lockout import FailedLoginRepository
from services.identity.adapters.mandates import MandateRepository, MemberRepository
from services.identity.adapters.oidc_repository import (
    AuthorizationCodeRepository,
    BrowserSessionRepository,
    ClientAssertionRepository,
    ConsentRepository,
    OidcClientRepository,
)
from services.identity.adapters.pii_access import PiiAccessRepository
from services.identity.adapters.repository import (
    EnterpriseRepository,
    RefreshTokenRepository,
    SessionRepository,
    SigningKeyRepository,
    UserRepository,
)


class IdentityUnitOfWork(UnitOfWork):
    metadata = orm.metadata

    def open_repositories(self, session: Session) -> None:
        self.users = UserRepository(session)
        self.enterprises = EnterpriseRepository(session)
        self.sessions = SessionRepository(session)
        self.refresh_tokens = RefreshTokenRepository(session)
        self.signing_keys = SigningKeyRepository(session)
        self.members = MemberRepository(session)
        self.mandates = MandateRepository(session)
        self.pii_access = PiiAccessRepository(session)
        self.login_failures = FailedLoginRepository(session)
        self.oidc_clients = OidcClientRepository(session)
        self.browser_sessions = BrowserSessionRepository(session)
        self.consents = ConsentRepository(session)
        self.authorization_codes = AuthorizationCodeRepository(session)
        self.client_assertions = ClientAssertionRepository(session)
