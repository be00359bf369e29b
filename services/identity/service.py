"""The identity service: accounts, real-name status, enterprises, sessions, keys.

Entrypoints only: load with a schema, call a use case, dump with a schema.
Arguments default to None so that a missing one comes back as Invalid naming
it, not as a signature error.
"""

from nameko.rpc import rpc

from services.common.dependencies import Database
from services.common.errors import ServiceError
from services.common.metrics import Instrumentation
from services.common.ops import OpsEntrypoints
from services.identity import schemas
from services.identity.adapters.crypto_context import Crypto
from services.identity.schemas import load
from services.identity.service_layer import use_cases
from services.identity.service_layer.unit_of_work import IdentityUnitOfWork

command = rpc(expected_exceptions=ServiceError)

REGISTER = schemas.RegisterSchema()
CREDENTIALS = schemas.CredentialsSchema()
REFRESH = schemas.RefreshSchema()
SESSION_ID = schemas.SessionIdSchema()
USER_ID = schemas.UserIdSchema()
VERIFY_REAL_NAME = schemas.VerifyRealNameSchema()
REGISTER_ENTERPRISE = schemas.RegisterEnterpriseSchema()
USCC = schemas.UsccSchema()
CREATE_STAFF = schemas.CreateStaffSchema()

USER_ID_RESULT = schemas.UserIdResultSchema()
TOKEN_PAIR = schemas.TokenPairSchema()
JWKS = schemas.JwksSchema()
PROFILE = schemas.ProfileSchema()
LEVEL = schemas.LevelSchema()
ENTERPRISE = schemas.EnterpriseSchema()


class IdentityService(OpsEntrypoints):
    name = "identity"

    uow = Database(IdentityUnitOfWork)
    crypto = Crypto()
    instrumentation = Instrumentation()

    @command
    def register(self, phone=None, password=None, name=None):
        data = load(REGISTER, phone=phone, password=password, name=name)
        return USER_ID_RESULT.dump(use_cases.register(self.uow, self.crypto, **data))

    @command
    def login(self, phone=None, password=None):
        data = load(CREDENTIALS, phone=phone, password=password)
        return TOKEN_PAIR.dump(use_cases.login(self.uow, self.crypto, **data))

    @command
    def refresh(self, refresh_token=None):
        data = load(REFRESH, refresh_token=refresh_token)
        return TOKEN_PAIR.dump(use_cases.refresh(self.uow, self.crypto, **data))

    @command
    def logout(self, session_id=None):
        use_cases.logout(self.uow, self.crypto, **load(SESSION_ID, session_id=session_id))

    @command
    def jwks(self):
        return JWKS.dump(use_cases.jwks(self.uow, self.crypto))

    @command
    def get_profile(self, user_id=None):
        data = load(USER_ID, user_id=user_id)
        return PROFILE.dump(use_cases.get_profile(self.uow, **data))

    @command
    def verify_real_name(self, user_id=None, name=None, id_number=None):
        data = load(VERIFY_REAL_NAME, user_id=user_id, name=name, id_number=id_number)
        return LEVEL.dump(use_cases.verify_real_name(self.uow, self.crypto, **data))

    @command
    def register_enterprise(self, actor=None, name=None, uscc=None, legal_representative=None):
        data = load(
            REGISTER_ENTERPRISE,
            actor=actor,
            name=name,
            uscc=uscc,
            legal_representative=legal_representative,
        )
        return ENTERPRISE.dump(use_cases.register_enterprise(self.uow, **data))

    @command
    def get_enterprise(self, uscc=None):
        return ENTERPRISE.dump(use_cases.get_enterprise(self.uow, **load(USCC, uscc=uscc)))

    @command
    def create_staff(
        self,
        actor=None,
        phone=None,
        password=None,
        name=None,
        department_code=None,
        roles=None,
    ):
        data = load(
            CREATE_STAFF,
            actor=actor,
            phone=phone,
            password=password,
            name=name,
            department_code=department_code,
            roles=roles,
        )
        return USER_ID_RESULT.dump(use_cases.create_staff(self.uow, self.crypto, **data))

    @command
    def ensure_operator(self, phone=None, password=None, name=None):
        data = load(REGISTER, phone=phone, password=password, name=name)
        return USER_ID_RESULT.dump(use_cases.ensure_operator(self.uow, self.crypto, **data))
