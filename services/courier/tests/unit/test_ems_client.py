"""EmsClient against the simulator served on a free local port."""

import socket
import threading
import time

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from services.courier.adapters.ems import EmsClient, EmsRejected, EmsUnavailable
from services.courier.domain.tracking_numbers import is_valid_tracking_number
from simulators.ems.app import SimulatorServer

API_KEY = "test-ems-api-key"
APPLICANT = {
    "name": "张三",
    "phone": "13800138000",
    "province": "江苏省",
    "city": "苏州市",
    "district": "姑苏区",
    "street": "人民路100号",
    "postcode": "215000",
}
WINDOW = {**APPLICANT, "name": "南京市政务服务中心", "city": "南京市", "postcode": "210019"}


@pytest.fixture(scope="module")
def ems():
    with SimulatorServer(
        "127.0.0.1",
        0,
        api_key=API_KEY,
        webhook_url=None,
        webhook_secret=b"unused",
        step_seconds=60,
    ) as server:
        yield server


@pytest.fixture
def client(ems):
    with EmsClient(ems.url, API_KEY, timeout=(1, 2), backoff_factor=0) as client:
        yield client


def order(client, key, **changes):
    arguments = {
        "idempotency_key": key,
        "sender": APPLICANT,
        "recipient": WINDOW,
        "reference": "app-1",
        "kind": "materials",
        **changes,
    }
    return client.create_order(**arguments)


def test_create_order_returns_a_tracking_number(client):
    created = order(client, "client-1")
    assert created["status"] == "created"
    assert is_valid_tracking_number(created["tracking_no"])
    tracked = client.track(created["tracking_no"])
    assert tracked["tracking_no"] == created["tracking_no"]
    assert tracked["reference"] == "app-1"
    assert tracked["history"] == []


def test_same_idempotency_key_gives_the_same_order(client):
    first = order(client, "client-2")
    assert order(client, "client-2") == first
    assert order(client, "client-3")["tracking_no"] != first["tracking_no"]


def test_a_bad_api_key_is_unavailable_not_a_refusal_of_the_order(ems):
    # Our setting is wrong, not the order: placed again once the key is fixed.
    with EmsClient(ems.url, "wrong-key") as client:
        with pytest.raises(EmsUnavailable) as raised:
            order(client, "client-4")
    assert "401" in str(raised.value)


def test_invalid_order_names_the_field(client):
    with pytest.raises(EmsRejected) as raised:
        order(client, "client-5", recipient={**WINDOW, "postcode": "2100"})
    assert raised.value.status_code == 400
    assert raised.value.fields == {"recipient.postcode": "must be 6 digits"}
    assert "recipient.postcode" not in raised.value.message  # message is EMS's text
    assert raised.value.message == "invalid order"


def test_unknown_tracking_number_is_rejected_with_404(client):
    with pytest.raises(EmsRejected) as raised:
        client.track("EA000000005CN")
    assert raised.value.status_code == 404


def test_a_server_that_never_answers_gives_ems_unavailable_quickly():
    # Listening but never accepting: the connection completes, no reply ever comes.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    url = f"http://127.0.0.1:{silent.getsockname()[1]}"
    try:
        with EmsClient(url, API_KEY, timeout=(0.5, 0.3), retries=3) as client:
            started = time.monotonic()
            with pytest.raises(EmsUnavailable):
                order(client, "client-6")
            assert time.monotonic() - started < 2
    finally:
        silent.close()


def test_connection_refused_gives_ems_unavailable():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with EmsClient(f"http://127.0.0.1:{port}", API_KEY, backoff_factor=0) as client:
        with pytest.raises(EmsUnavailable):
            client.track("EA123456785CN")


class FlakyEms:
    """Answers 503 a number of times, then like EMS."""

    def __init__(self, failures):
        self.failures = failures
        self.calls = 0
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    @Request.application
    def app(self, request):
        self.calls += 1
        if self.calls <= self.failures:
            return Response("busy", status=503)
        return Response(
            '{"tracking_no": "EA123456785CN", "status": "created"}',
            status=201,
            content_type="application/json",
        )

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_post_is_retried_on_503():
    flaky = FlakyEms(failures=2)
    try:
        with EmsClient(flaky.url, API_KEY, retries=3, backoff_factor=0) as client:
            assert order(client, "client-7")["tracking_no"] == "EA123456785CN"
        assert flaky.calls == 3
    finally:
        flaky.close()


def test_5xx_after_the_last_retry_is_ems_unavailable():
    flaky = FlakyEms(failures=10)
    try:
        with EmsClient(flaky.url, API_KEY, retries=2, backoff_factor=0) as client:
            with pytest.raises(EmsUnavailable):
                order(client, "client-8")
        assert flaky.calls == 3
    finally:
        flaky.close()
