import pytest
import sqlalchemy as sa

from services.common.pii import PiiCipher
from services.common.testing import outbox  # noqa: F401  (the tests import it from here)
from services.identity.adapters.crypto import PasswordHasher
from services.identity.adapters.crypto_context import CryptoContext
from services.identity.domain.id_numbers import id_number_check_char
from services.identity.domain.uscc import uscc_check_char
from services.identity.service_layer import use_cases
from services.identity.service_layer.unit_of_work import IdentityUnitOfWork

PII_KEY = bytes(range(32))
PASSWORD = "secret123"
ID_NUMBER = "11010519491231002X"
OTHER_ID_NUMBER = "32010219900307123" + id_number_check_char("32010219900307123")
USCC = "91320102MA1XY20K5" + uscc_check_char("91320102MA1XY20K5")


def cheap_hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture
def crypto():
    return CryptoContext(cheap_hasher(), PiiCipher(PII_KEY))


@pytest.fixture
def uow(uow_factory):
    return uow_factory(IdentityUnitOfWork, source="identity")


@pytest.fixture
def citizen(uow, crypto):
    return use_cases.register(uow, crypto, "13800138000", PASSWORD, "张三")


@pytest.fixture
def verified(uow, crypto, citizen):
    use_cases.verify_real_name(uow, crypto, citizen.user_id, "张三", ID_NUMBER)
    return citizen


@pytest.fixture
def operator(uow, crypto):
    user = use_cases.ensure_operator(uow, crypto, "13800000000", "Operator2026", "平台运营")
    return {
        "user_id": user.user_id,
        "kind": "operator",
        "roles": [],
        "department_code": None,
        "name": user.name,
        "level": 1,
    }


def actor_of(user) -> dict:
    return {
        "user_id": user.user_id,
        "kind": user.kind.value,
        "roles": list(user.roles),
        "department_code": user.department_code,
        "name": user.name,
        "level": user.assurance_level,
    }


def rows(uow, name: str) -> list[dict]:
    table = uow.metadata.tables[name]
    with uow:
        return [dict(row._mapping) for row in uow.session.execute(sa.select(table))]
