"""SmsClient against the SMS simulator served on a free local port, and against
a scripted server for the answers the simulator never gives; the nameko
dependency that builds it from the config."""

import json
import threading
import time
from types import SimpleNamespace

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from services.common.errors import Invalid, Unavailable
from services.ratings.adapters.sms import SmsClient, SmsRejected, SmsUnavailable
from services.ratings.adapters.sms_dependency import DEFAULT_BASE_URL, Sms
from simulators.sms.app import SimulatorServer

API_KEY = "test-sms-api-key"
PHONE = "13800000001"
TEXT = "请评价：http://127.0.0.1:8000/rate?token=t0k3n"


@pytest.fixture(scope="module")
def gateway():
    with SimulatorServer("127.0.0.1", 0, api_key=API_KEY) as server:
        yield server


@pytest.fixture
def client(gateway):
    with SmsClient(gateway.url, API_KEY, timeout=(1, 2), backoff_factor=0) as client:
        yield client


def test_a_message_reaches_the_phones_inbox(client, gateway):
    receipt = client.send("visit-1", PHONE, TEXT)
    assert receipt["status"] == "sent" and receipt["message_id"]
    inbox = gateway.messages.inbox(PHONE)
    assert [(m.message_id, m.text) for m in inbox] == [(receipt["message_id"], TEXT)]


def test_the_same_key_is_the_same_message(client, gateway):
    first = client.send("visit-2", "13900000002", TEXT)
    again = client.send("visit-2", "13900000002", TEXT)
    assert again == first
    assert len(gateway.messages.inbox("13900000002")) == 1


def test_a_refused_message_is_rejected_naming_the_field_with_the_phone_masked(client):
    with pytest.raises(SmsRejected) as raised:
        client.send("visit-3", PHONE, "")
    assert isinstance(raised.value, Invalid)
    assert raised.value.status_code == 400
    assert set(raised.value.fields) == {"text"}


def test_a_key_reused_for_another_message_is_rejected(client):
    client.send("visit-4", PHONE, TEXT)
    with pytest.raises(SmsRejected) as raised:
        client.send("visit-4", PHONE, "another text")
    assert raised.value.status_code == 409


def test_a_refused_key_is_unavailable_and_says_which_setting(gateway):
    with SmsClient(gateway.url, "wrong", backoff_factor=0) as client:
        with pytest.raises(SmsUnavailable) as raised:
            client.send("visit-5", PHONE, TEXT)
    assert "401" in str(raised.value) and "SMS_API_KEY" in str(raised.value)


def test_a_gateway_that_is_down_is_unavailable(gateway):
    gateway.messages.set_down(True)
    try:
        with SmsClient(gateway.url, API_KEY, retries=1, backoff_factor=0) as client:
            with pytest.raises(SmsUnavailable) as raised:
                client.send("visit-6", PHONE, TEXT)
        assert isinstance(raised.value, Unavailable)
        assert "503" in str(raised.value)
    finally:
        gateway.messages.set_down(False)
    assert gateway.messages.inbox("13700000007") == []


class Scripted:
    """Answers each request with the next of ``answers``: (status, body), or a
    number of seconds to stall before answering 201."""

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
        self.requests.append((request.headers.get("Idempotency-Key"), request.get_json()))
        answer = self.answers.pop(0) if self.answers else (500, "out of answers")
        if isinstance(answer, (int, float)):
            time.sleep(answer)
            answer = (201, '{"message_id": "SM1", "status": "sent"}')
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


SENT = '{"message_id": "SM1", "status": "sent"}'


def test_5xx_answers_are_retried_with_the_same_key_then_the_answer_is_taken():
    with Scripted([(503, "{}"), (502, "{}"), (201, SENT)]) as server:
        client = SmsClient(server.url, API_KEY, retries=2, backoff_factor=0)
        assert client.send("visit-1", PHONE, TEXT) == {"message_id": "SM1", "status": "sent"}
    assert [key for key, _ in server.requests] == ["visit-1"] * 3
    assert server.requests[0][1] == {"phone": PHONE, "text": TEXT}


def test_5xx_past_the_retries_is_unavailable():
    with Scripted([(500, "{}")] * 3) as server:
        client = SmsClient(server.url, API_KEY, retries=2, backoff_factor=0)
        with pytest.raises(SmsUnavailable, match="500"):
            client.send("visit-1", PHONE, TEXT)
    assert len(server.requests) == 3


@pytest.mark.parametrize("status", [401, 403, 408, 429])
def test_answers_that_mean_not_now_are_unavailable(status):
    with Scripted([(status, '{"error": "later"}')]) as server:
        client = SmsClient(server.url, API_KEY, backoff_factor=0)
        with pytest.raises(SmsUnavailable, match=str(status)):
            client.send("visit-1", PHONE, TEXT)


@pytest.mark.parametrize("status", [400, 404, 409, 422])
def test_answers_that_mean_not_this_message_are_rejected(status):
    body = json.dumps({"error": {"message": f"{PHONE} is not ours", "fields": {"phone": PHONE}}})
    with Scripted([(status, body)]) as server:
        client = SmsClient(server.url, API_KEY, backoff_factor=0)
        with pytest.raises(SmsRejected) as raised:
            client.send("visit-1", PHONE, TEXT)
    assert raised.value.status_code == status
    assert PHONE not in str(raised.value) and PHONE not in str(raised.value.fields)
    assert raised.value.message == "138****0001 is not ours"


def test_a_read_timeout_is_unavailable_at_once_not_retried():
    with Scripted([1.0, 1.0]) as server:
        client = SmsClient(server.url, API_KEY, timeout=(1, 0.2), backoff_factor=0)
        with pytest.raises(SmsUnavailable):
            client.send("visit-1", PHONE, TEXT)
        assert len(server.requests) == 1


def test_nobody_listening_is_unavailable():
    with Scripted([]) as server:
        url = server.url
    client = SmsClient(url, API_KEY, timeout=(0.5, 0.5), retries=1, backoff_factor=0)
    with pytest.raises(SmsUnavailable) as raised:
        client.send("visit-1", PHONE, TEXT)
    assert PHONE not in str(raised.value)


@pytest.mark.parametrize(
    "body", ["not json", "[]", "{}", '{"message_id": ""}', '{"message_id": 7}']
)
def test_an_unreadable_answer_is_unavailable(body):
    with Scripted([(201, body)]) as server:
        client = SmsClient(server.url, API_KEY, backoff_factor=0)
        with pytest.raises(SmsUnavailable):
            client.send("visit-1", PHONE, TEXT)


# --- the nameko dependency -----------------------------------------------------------


def test_the_dependency_builds_one_client_from_the_config():
    provider = Sms()
    provider.container = SimpleNamespace(
        config={
            "SMS_URL": "http://sms-simulator:8400/",
            "SMS_API_KEY": "k",
            "SMS_CONNECT_TIMEOUT_SECONDS": "0.5",
            "SMS_READ_TIMEOUT_SECONDS": 3,
            "SMS_RETRIES": 0,
            "SMS_BACKOFF_SECONDS": "",
        }
    )
    provider.setup()
    client = provider.get_dependency(worker_ctx=None)
    assert client is provider.get_dependency(worker_ctx=None)
    assert client.base_url == "http://sms-simulator:8400"
    assert client.timeout == (0.5, 3.0)
    assert client.session.headers["X-Api-Key"] == "k"
    retry = client.session.get_adapter("http://x").max_retries
    assert (retry.total, retry.backoff_factor) == (0, 0.5)
    provider.stop()


def test_the_dependency_defaults_to_the_local_simulator():
    provider = Sms()
    provider.container = SimpleNamespace(config={})
    provider.setup()
    client = provider.get_dependency(worker_ctx=None)
    assert client.base_url == DEFAULT_BASE_URL == "http://127.0.0.1:8400"
    assert client.timeout == (3.05, 10.0)
    assert client.session.get_adapter("http://x").max_retries.total == 2
    provider.kill()
