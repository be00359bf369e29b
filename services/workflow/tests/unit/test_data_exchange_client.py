"""DataExchangeClient against the simulator served on a free local port, and
against small servers that misbehave on purpose."""

import json
import threading
import time
from types import SimpleNamespace

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from services.common.errors import Invalid, Unavailable
from services.workflow.adapters.data_exchange import (
    DataExchangeClient,
    DataExchangeRejected,
    DataExchangeUnavailable,
    MarriageRecord,
)
from services.workflow.adapters.data_exchange_dependency import DataExchange
from simulators.data_exchange.app import SimulatorServer
from simulators.data_exchange.demo import demo_people
from simulators.data_exchange.records import Registers

API_KEY = "test-data-exchange-key"
LI_MING = "320104198503120314"
WANG_FANG = "320106198708210420"
WU_HAO = "320102199302280196"  # on neither register


@pytest.fixture(scope="module")
def exchange():
    with SimulatorServer("127.0.0.1", 0, api_key=API_KEY, registers=Registers(demo_people())) as s:
        yield s


@pytest.fixture
def client(exchange):
    with DataExchangeClient(exchange.url, API_KEY, timeout=(1, 2), backoff_factor=0) as client:
        yield client


def test_a_marriage_record_with_the_spouse(client):
    record = client.marriage_record(LI_MING)
    assert record == MarriageRecord("married", WANG_FANG)
    assert WANG_FANG not in repr(record)


def test_homes_owned_in_a_city(client):
    assert client.homes_owned(LI_MING, "320100") == 1
    assert client.homes_owned(WANG_FANG, "320100") == 0
    assert client.homes_owned(WANG_FANG, "320500") == 1


def test_no_record_is_none_not_an_error(client):
    assert client.marriage_record(WU_HAO) is None
    assert client.homes_owned(WU_HAO, "320100") is None


def test_a_refused_key_is_unavailable(exchange):
    with DataExchangeClient(exchange.url, "wrong-key", backoff_factor=0) as client:
        with pytest.raises(DataExchangeUnavailable) as raised:
            client.marriage_record(LI_MING)
    assert "401" in str(raised.value) and isinstance(raised.value, Unavailable)


def test_a_refused_query_is_rejected_naming_the_field_without_the_number(client):
    bad = LI_MING[:-1] + "5"
    with pytest.raises(DataExchangeRejected) as raised:
        client.marriage_record(bad)
    assert isinstance(raised.value, Invalid)
    assert raised.value.status_code == 400
    assert raised.value.fields == {"id_number": "bad check digit"}
    with pytest.raises(DataExchangeRejected) as raised:
        client.homes_owned(LI_MING, "320000")
    assert set(raised.value.fields) == {"city_code"}


def test_a_register_that_is_down_is_unavailable(exchange, client):
    import requests

    requests.post(
        f"{exchange.url}/admin/outages",
        json={"register": "housing", "down": True},
        headers={"X-Api-Key": API_KEY},
        timeout=2,
    ).raise_for_status()
    try:
        with pytest.raises(DataExchangeUnavailable) as raised:
            client.homes_owned(LI_MING, "320100")
        assert "503" in str(raised.value)
        assert client.marriage_record(LI_MING) is not None  # civil affairs still answers
    finally:
        exchange.registers.set_down("housing", False)


# --- misbehaving servers ----------------------------------------------------------


class Scripted:
    """A server answering each request with the next of ``answers``: a
    (status, body) pair, or a number of seconds to stall before answering 200."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.requests = []
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self._server.server_port}"

    def app(self, environ, start_response):
        request = Request(environ)
        self.requests.append((request.path, request.get_json(silent=True), request.url))
        answer = self.answers.pop(0) if self.answers else (500, "out of answers")
        if isinstance(answer, (int, float)) and not isinstance(answer, bool):
            time.sleep(answer)
            answer = (200, '{"result": "no_record"}')
        status, body = answer
        return Response(body, status=status, content_type="application/json")(
            environ, start_response
        )

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._server.shutdown()
        self._thread.join()
        self._server.server_close()


FOUND_SINGLE = '{"result": "found", "record": {"marital_status": "single"}}'


def test_5xx_answers_are_retried_then_the_answer_is_taken():
    with Scripted([(503, "{}"), (502, "{}"), (200, FOUND_SINGLE)]) as server:
        client = DataExchangeClient(server.url, API_KEY, retries=2, backoff_factor=0)
        assert client.marriage_record(LI_MING) == MarriageRecord("single")
    assert len(server.requests) == 3
    for _path, body, url in server.requests:
        assert body == {"id_number": LI_MING} and LI_MING not in url


def test_5xx_past_the_retries_is_unavailable():
    with Scripted([(500, "{}")] * 3) as server:
        client = DataExchangeClient(server.url, API_KEY, retries=2, backoff_factor=0)
        with pytest.raises(DataExchangeUnavailable) as raised:
            client.homes_owned(LI_MING, "320100")
    assert "500" in str(raised.value)
    assert len(server.requests) == 3


def test_a_read_timeout_is_unavailable_at_once_not_retried():
    with Scripted([1.0, 1.0]) as server:
        client = DataExchangeClient(server.url, API_KEY, timeout=(1, 0.2), backoff_factor=0)
        with pytest.raises(DataExchangeUnavailable):
            client.marriage_record(LI_MING)
        assert len(server.requests) == 1


def test_nobody_listening_is_unavailable():
    with Scripted([]) as server:
        url = server.url
    client = DataExchangeClient(url, API_KEY, timeout=(0.5, 0.5), retries=1, backoff_factor=0)
    with pytest.raises(DataExchangeUnavailable) as raised:
        client.marriage_record(LI_MING)
    assert LI_MING not in str(raised.value)


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        '{"result": "maybe"}',
        '{"result": "found"}',
        '{"result": "found", "record": {"marital_status": "engaged"}}',
        '{"result": "found", "record": {"marital_status": "married"}}',
    ],
)
def test_an_unreadable_marriage_answer_is_unavailable_never_a_guess(body):
    with Scripted([(200, body)]) as server:
        client = DataExchangeClient(server.url, API_KEY, backoff_factor=0)
        with pytest.raises(DataExchangeUnavailable):
            client.marriage_record(LI_MING)


@pytest.mark.parametrize("homes", ['"1"', "-1", "true", "null", "1.5"])
def test_an_unreadable_count_of_homes_is_unavailable(homes):
    body = f'{{"result": "found", "record": {{"city_code": "320100", "homes_owned": {homes}}}}}'
    with Scripted([(200, body)]) as server:
        client = DataExchangeClient(server.url, API_KEY, backoff_factor=0)
        with pytest.raises(DataExchangeUnavailable):
            client.homes_owned(LI_MING, "320100")


def test_an_echoed_number_in_a_refusal_is_masked():
    body = json.dumps(
        {"error": {"message": f"no such person {LI_MING}", "fields": {"id_number": LI_MING}}}
    )
    with Scripted([(422, body)]) as server:
        client = DataExchangeClient(server.url, API_KEY, backoff_factor=0)
        with pytest.raises(DataExchangeRejected) as raised:
            client.marriage_record(LI_MING)
    assert LI_MING not in str(raised.value) and LI_MING not in str(raised.value.fields)
    assert "3201**********0314" in raised.value.message


# --- the nameko dependency -----------------------------------------------------------


def test_the_dependency_builds_one_client_from_the_config():
    provider = DataExchange()
    provider.container = SimpleNamespace(
        config={
            "DATA_EXCHANGE_URL": "http://data-exchange:8300/",
            "DATA_EXCHANGE_API_KEY": "k",
            "DATA_EXCHANGE_CONNECT_TIMEOUT_SECONDS": "0.5",
            "DATA_EXCHANGE_READ_TIMEOUT_SECONDS": 3,
            "DATA_EXCHANGE_RETRIES": 0,
            "DATA_EXCHANGE_BACKOFF_SECONDS": "",
        }
    )
    provider.setup()
    client = provider.get_dependency(worker_ctx=None)
    assert client is provider.get_dependency(worker_ctx=None)
    assert client.base_url == "http://data-exchange:8300"
    assert client.timeout == (0.5, 3.0)
    assert client.session.headers["X-Api-Key"] == "k"
    retry = client.session.get_adapter("http://x").max_retries
    assert (retry.total, retry.backoff_factor) == (0, 0.2)
    provider.stop()


def test_the_dependency_defaults_to_the_local_simulator():
    provider = DataExchange()
    provider.container = SimpleNamespace(config={})
    provider.setup()
    assert provider.client.base_url == "http://127.0.0.1:8300"
    assert provider.client.timeout == (2.0, 5.0)
    provider.kill()
