"""The cluster's data exchange simulator answers workflow's client with the URL
and key every workflow instance is given, and a test can give a fresh person a
situation over HTTP."""

import pytest

from services.identity.domain.id_numbers import id_number_check_char
from services.workflow.adapters.data_exchange import (
    DataExchangeClient,
    DataExchangeUnavailable,
    MarriageRecord,
)


def fresh_id_number(serial: int) -> str:
    first17 = f"32010219880808{serial % 1000:03d}"
    return first17 + id_number_check_char(first17)


def test_workflow_instances_reach_the_simulator_and_tests_give_people_situations(
    cluster, data_exchange
):
    instances = [p for p in cluster.processes if p.name.startswith("workflow")]
    assert {p.env["DATA_EXCHANGE_URL"] for p in instances} == {data_exchange.url}
    person, spouse = fresh_id_number(101), fresh_id_number(202)
    with DataExchangeClient(data_exchange.url, data_exchange.api_key) as client:
        assert client.marriage_record(person) is None
        data_exchange.put(
            person,
            civil_affairs={"marital_status": "married", "spouse_id_number": spouse},
            housing={"homes_owned": {"320100": 1}},
        )
        assert client.marriage_record(person) == MarriageRecord("married", spouse)
        assert client.homes_owned(person, "320100") == 1
        data_exchange.set_down("housing")
        try:
            with pytest.raises(DataExchangeUnavailable):
                client.homes_owned(person, "320100")
        finally:
            data_exchange.set_down("housing", False)
        # the demo records are there too
        assert client.marriage_record("320102199005150117") == MarriageRecord("single")
