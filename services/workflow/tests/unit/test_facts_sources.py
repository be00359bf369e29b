"""FactGatherer on its real sources' terms: the fake identity answers exactly what
identity's contract documents for ``person_facts``, and the real data exchange
client asks the simulator with its demo records."""

from datetime import date

import pytest

from services.common.testing import assert_documented
from services.identity import contract as identity
from services.workflow.adapters.data_exchange import DataExchangeClient
from services.workflow.service_layer.facts import (
    HOUSING,
    CaseContext,
    FactGatherer,
    FactsUnavailable,
)
from services.workflow.tests.unit.test_facts import FakeIdentity, FakeLicences
from simulators.data_exchange.app import SimulatorServer
from simulators.data_exchange.demo import demo_people
from simulators.data_exchange.records import Registers

KEY = "test-key"
TODAY = date(2026, 11, 25)
REGISTERS = ("civil_affairs.marital_status", "housing.homes_owned")


@pytest.mark.parametrize("level", [1, 2])
def test_the_fake_identity_answers_what_identity_documents(level):
    answer = FakeIdentity(level=level)("identity", "person_facts", user_id="u-1")
    assert_documented(identity.PersonFacts, answer)


@pytest.fixture(scope="module")
def exchange():
    with SimulatorServer("127.0.0.1", 0, api_key=KEY, registers=Registers(demo_people())) as s:
        yield s


@pytest.fixture
def gatherer(exchange):
    client = DataExchangeClient(exchange.url, KEY, timeout=(1, 2), backoff_factor=0)
    yield FactGatherer(rpc=FakeIdentity(), data_exchange=client, licences=FakeLicences())
    client.close()


def for_principal(id_number, region_code="320102"):
    principal = {"kind": "person", "name": "某人", "id_number": id_number}
    return CaseContext("u-agent", region_code=region_code, today=TODAY, principal=principal)


@pytest.mark.parametrize(
    ("id_number", "status", "homes"),
    [
        ("320102199005150117", "single", 0),  # 张三: no housing record
        ("320104198503120314", "married", 1),  # 李明 1 + 王芳 0 in Nanjing
        ("320106198708210420", "married", 1),  # the same household from 王芳's side
        ("32010519790102053X", "divorced", 2),  # 赵磊
        ("320113196209300645", "widowed", 0),  # 陈静: her home is in Wuxi
        ("320111199111110860", "married", 2),  # 孙丽 1 + 周强 1
        ("320102199302280196", None, None),  # 吴昊: on no register
    ],
)
def test_demo_households_in_nanjing(gatherer, id_number, status, homes):
    assert gatherer.gather(REGISTERS, for_principal(id_number)) == {
        "civil_affairs.marital_status": status,
        "housing.homes_owned": homes,
    }


def test_homes_are_counted_in_the_items_city(gatherer):
    # 陈静 owns a home in Wuxi (320200): an item of 梁溪区 (320213) counts it.
    assert (
        gatherer.gather(["housing.homes_owned"], for_principal("320113196209300645", "320213"))[
            "housing.homes_owned"
        ]
        == 1
    )


def test_a_register_that_is_down_is_reported_as_such(exchange, gatherer):
    exchange.registers.set_down("housing", True)
    try:
        with pytest.raises(FactsUnavailable) as unavailable:
            gatherer.gather(REGISTERS, for_principal("320104198503120314"))
        assert unavailable.value.source == HOUSING
        assert "503" in unavailable.value.reason
    finally:
        exchange.registers.set_down("housing", False)
