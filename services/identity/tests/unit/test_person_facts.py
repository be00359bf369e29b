"""person_facts: what other services' automatic decisions may know of a person.

The ID number is decrypted only to answer, in full at level 2 and null below,
and never reaches a log line; the gateway does not expose the method.
"""

import logging
from datetime import date
from pathlib import Path

import pytest
from nameko.testing.services import worker_factory

from services.common.errors import NotFound, Unavailable
from services.common.pii import PiiCipher
from services.identity.adapters.crypto_context import CryptoContext
from services.identity.domain.model import PersonFacts
from services.identity.service import IdentityService
from services.identity.service_layer import use_cases
from services.identity.tests.unit.conftest import ID_NUMBER, cheap_hasher

ROOT = Path(__file__).resolve().parents[4]


@pytest.fixture
def service(uow, crypto):
    return worker_factory(IdentityService, uow=uow, crypto=crypto)


def test_below_level_2_there_is_no_id_number_nor_what_it_encodes(service, citizen):
    assert service.person_facts(user_id=citizen.user_id) == {
        "user_id": citizen.user_id,
        "level": 1,
        "name": "张三",
        "id_number": None,
        "birth_date": None,
        "household_region": None,
    }


def test_at_level_2_the_number_birth_date_and_household_region(service, verified):
    assert service.person_facts(user_id=verified.user_id) == {
        "user_id": verified.user_id,
        "level": 2,
        "name": "张三",
        "id_number": ID_NUMBER,
        "birth_date": "1949-12-31",
        "household_region": "110105",
    }


def test_the_use_case_answers_the_domain_facts(uow, crypto, verified):
    facts = use_cases.person_facts(uow, crypto, verified.user_id)
    assert facts == PersonFacts(
        user_id=verified.user_id,
        level=2,
        name="张三",
        id_number=ID_NUMBER,
        birth_date=date(1949, 12, 31),
        household_region="110105",
    )
    assert ID_NUMBER not in repr(facts) and "1101**********002X" in repr(facts)


def test_an_unknown_user_is_not_found(service):
    with pytest.raises(NotFound):
        service.person_facts(user_id="nobody")


def test_a_number_the_key_cannot_decrypt_is_unavailable_not_a_guess(uow, verified, caplog):
    other_key = CryptoContext(cheap_hasher(), PiiCipher(bytes(range(1, 33))))
    with caplog.at_level(logging.DEBUG), pytest.raises(Unavailable) as refused:
        use_cases.person_facts(uow, other_key, verified.user_id)
    assert refused.value.code == "pii_unreadable"
    assert any("cannot be decrypted" in record.getMessage() for record in caplog.records)


def test_the_number_never_reaches_a_log_line(service, verified, caplog):
    with caplog.at_level(logging.DEBUG):
        service.person_facts(user_id=verified.user_id)
    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    assert ID_NUMBER not in logged


def test_the_gateway_does_not_expose_it():
    """Internal use only: no gateway route calls it."""
    sources = [path for path in (ROOT / "gateway").rglob("*.py") if "tests" not in path.parts]
    assert sources
    assert not [path for path in sources if "person_facts" in path.read_text(encoding="utf-8")]
