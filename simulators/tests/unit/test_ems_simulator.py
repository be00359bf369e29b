"""The EMS simulator: its state machine driven by hand (no sleeping), its HTTP
API through werkzeug's test client, and real signed webhooks over HTTP.

That courier reads its numbers and the gateway accepts its signatures is checked
on our side (services/courier/tests/unit/test_ems_simulator_contract.py)."""

import hashlib
import hmac
import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from werkzeug.serving import make_server
from werkzeug.test import Client
from werkzeug.wrappers import Request, Response

from simulators.ems.__main__ import DEFAULT_API_KEY, DEFAULT_PORT, parse_args
from simulators.ems.app import EmsApi, SimulatorServer
from simulators.ems.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, signed_headers
from simulators.ems.simulator import EmsSimulator, validate_order
from simulators.ems.tracking_numbers import check_digit, make_tracking_number
from simulators.ems.webhooks import WebhookSender

STATES = ["accepted", "picked_up", "in_transit", "out_for_delivery", "delivered"]
ADDRESS = {
    "name": "张三",
    "phone": "13800138000",
    "province": "江苏省",
    "city": "苏州市",
    "district": "姑苏区",
    "street": "人民路100号",
    "postcode": "215000",
}
WINDOW = {**ADDRESS, "name": "南京市政务服务中心", "city": "南京市", "postcode": "210019"}
ORDER = {"sender": ADDRESS, "recipient": WINDOW, "reference": "app-1", "kind": "materials"}
SECRET = b"test-webhook-secret"


def is_s10(number: str) -> bool:
    """EA12345678 5 CN: two letters, eight digits, their check digit, CN."""
    return (
        len(number) == 13
        and number[:2].isalpha()
        and number[:2].isupper()
        and number[2:11].isdigit()
        and number.endswith("CN")
        and check_digit(number[2:10]) == int(number[10])
    )


def signature_matches(secret: bytes, timestamp: str | None, body: bytes, signature: str | None):
    if not timestamp or not signature:
        return False
    expected = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


class ManualScheduler:
    """Keeps scheduled steps until the test runs them."""

    def __init__(self):
        self.pending = []
        self.closed = False

    def call_later(self, delay, callback):
        if not self.closed:
            self.pending.append((delay, callback))

    def run_next(self):
        _, callback = self.pending.pop(0)
        callback()

    def shutdown(self):
        self.closed = True
        self.pending.clear()


class SteppingClock:
    def __init__(self):
        self.now = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)

    def __call__(self):
        self.now += timedelta(minutes=1)
        return self.now


@pytest.fixture
def scheduler():
    return ManualScheduler()


@pytest.fixture
def sent():
    return []


@pytest.fixture
def simulator(scheduler, sent):
    return EmsSimulator(
        scheduler=scheduler,
        step_seconds=2,
        notify=sent.append,
        clock=SteppingClock(),
        start_serial=12345678,
    )


def test_an_order_walks_through_every_state_one_step_at_a_time(simulator, scheduler, sent):
    order, created = simulator.create_order("key-1", ORDER)
    assert created
    assert order["tracking_no"] == "EA123456785CN"
    assert order["status"] == "created"
    assert [delay for delay, _ in scheduler.pending] == [2]

    for expected in STATES:
        scheduler.run_next()
        assert sent[-1]["status"] == expected
    assert scheduler.pending == []  # delivered is the end

    assert [payload["status"] for payload in sent] == STATES
    first = sent[0]
    assert set(first) == {
        "tracking_no",
        "status",
        "occurred_at",
        "location",
        "description",
        "reference",
    }
    assert first["tracking_no"] == "EA123456785CN"
    assert first["reference"] == "app-1"
    assert first["occurred_at"] == "2026-11-25T08:02:00Z"
    assert sent[-1]["location"] == "南京市姑苏区"
    history = simulator.get_order("EA123456785CN")["history"]
    assert [scan["status"] for scan in history] == STATES
    assert simulator.advance("EA123456785CN") is None


def test_the_same_idempotency_key_never_makes_a_second_order(simulator, scheduler):
    first, created = simulator.create_order("key-1", ORDER)
    again, created_again = simulator.create_order("key-1", dict(ORDER))
    assert created and not created_again
    assert again["tracking_no"] == first["tracking_no"]
    assert len(scheduler.pending) == 1
    other, _ = simulator.create_order("key-2", ORDER)
    assert other["tracking_no"] == "EA123456799CN"
    assert is_s10(other["tracking_no"])


def test_unknown_order_is_none(simulator):
    assert simulator.get_order("EA123456785CN") is None
    assert simulator.advance("EA123456785CN") is None


def test_random_start_serials_give_valid_numbers(scheduler):
    simulator = EmsSimulator(scheduler=scheduler, step_seconds=1)
    order, _ = simulator.create_order("k", ORDER)
    assert is_s10(order["tracking_no"])


def test_validation_names_each_bad_field():
    problems = validate_order(
        {
            "sender": {**ADDRESS, "postcode": "2150"},
            "recipient": {key: value for key, value in WINDOW.items() if key != "city"},
            "kind": "parcel",
        }
    )
    assert problems == {
        "sender.postcode": "must be 6 digits",
        "recipient.city": "required",
        "reference": "required, at most 64 characters",
        "kind": "must be one of materials, result",
    }
    assert validate_order(ORDER) == {}
    assert validate_order([]) == {"body": "must be a JSON object"}


class TestHttpApi:
    @pytest.fixture
    def client(self, simulator):
        return Client(EmsApi(simulator, "test-key"))

    def post(self, client, body, key="key-1", api_key="test-key"):
        headers = {"X-Api-Key": api_key}
        if key:
            headers["Idempotency-Key"] = key
        return client.post("/api/orders", json=body, headers=headers)

    def test_create_then_replay_then_get(self, client):
        created = self.post(client, ORDER)
        assert created.status_code == 201
        replayed = self.post(client, ORDER)
        assert replayed.status_code == 200
        assert replayed.headers["Idempotent-Replayed"] == "true"
        assert replayed.json["tracking_no"] == created.json["tracking_no"]
        got = client.get(
            f"/api/orders/{created.json['tracking_no']}",
            headers={"X-Api-Key": "test-key"},
        )
        assert got.status_code == 200
        assert got.json["reference"] == "app-1"
        assert got.json["history"] == []

    def test_key_reused_for_another_order_is_a_conflict(self, client):
        self.post(client, ORDER)
        response = self.post(client, {**ORDER, "reference": "app-2"})
        assert response.status_code == 409

    def test_missing_idempotency_key_is_a_400(self, client):
        response = self.post(client, ORDER, key=None)
        assert response.status_code == 400
        assert "Idempotency-Key" in response.json["fields"]

    @pytest.mark.parametrize("api_key", ["", "wrong"])
    def test_api_key_is_required(self, client, api_key):
        assert self.post(client, ORDER, api_key=api_key).status_code == 401
        response = client.get("/api/orders/EA123456785CN", headers={"X-Api-Key": api_key})
        assert response.status_code == 401

    def test_unknown_order_and_route(self, client):
        headers = {"X-Api-Key": "test-key"}
        assert client.get("/api/orders/EA123456785CN", headers=headers).status_code == 404
        assert client.get("/nowhere").status_code == 404
        assert client.get("/api/orders", headers=headers).status_code == 405

    def fail(self, client, tracking_no, body, api_key="test-key"):
        return client.post(
            f"/sim/shipments/{tracking_no}/fail", json=body, headers={"X-Api-Key": api_key}
        )

    def test_the_fail_route_fails_a_waybill_with_its_reason(self, client, scheduler, sent):
        tracking_no = self.post(client, ORDER).json["tracking_no"]
        scheduler.run_next()  # accepted

        response = self.fail(client, tracking_no, {"reason": "refused"})

        assert response.status_code == 200
        assert (response.json["status"], response.json["reason"]) == ("failed", "refused")
        # The step planned before moves nothing; the failed scan is reported
        # from the scheduler.
        while scheduler.pending:
            scheduler.run_next()
        assert [scan["status"] for scan in sent] == ["accepted", "failed"]
        assert sent[-1]["reason"] == "refused"
        assert sent[-1]["description"] == "收件人拒收"
        got = client.get(f"/api/orders/{tracking_no}", headers={"X-Api-Key": "test-key"})
        assert got.json["status"] == "failed"
        assert self.fail(client, tracking_no, {"reason": "lost"}).status_code == 409

    @pytest.mark.parametrize("body", [{}, {"reason": "stolen"}, None])
    def test_the_fail_route_names_a_bad_reason(self, client, body):
        tracking_no = self.post(client, ORDER).json["tracking_no"]
        response = self.fail(client, tracking_no, body)
        assert response.status_code == 400
        assert "reason" in response.json["fields"]

    def test_orders_are_found_by_their_reference(self, client):
        first = self.post(client, ORDER).json["tracking_no"]
        second = self.post(client, ORDER, key="key-2").json["tracking_no"]
        self.post(client, {**ORDER, "reference": "app-2"}, key="key-3")
        headers = {"X-Api-Key": "test-key"}

        found = client.get("/sim/orders?reference=app-1", headers=headers)

        assert [order["tracking_no"] for order in found.json["orders"]] == [first, second]
        assert client.get("/sim/orders", headers=headers).status_code == 400
        assert client.get("/sim/orders?reference=app-1").status_code == 401

    def test_the_fail_route_needs_the_key_and_a_known_waybill(self, client):
        assert self.fail(client, "EA123456785CN", {"reason": "lost"}).status_code == 404
        assert self.fail(client, "EA123456785CN", {"reason": "lost"}, "x").status_code == 401

    def test_health_needs_no_key(self, client):
        response = client.get("/healthz")
        assert response.status_code == 200
        assert response.json == {"status": "ok"}


def test_webhook_sender_retries_until_2xx():
    answers = [OSError("connection refused"), 500, 204, 200]
    calls = []

    def post(url, body, headers, timeout):
        calls.append(headers)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    sender = WebhookSender("http://hook", SECRET, attempts=5, backoff=0, post=post)
    assert sender({"tracking_no": "EA123456785CN", "status": "accepted"})
    assert len(calls) == 3
    assert answers == [200]


def test_webhook_sender_gives_up_after_its_attempts():
    calls = []

    def post(url, body, headers, timeout):
        calls.append(url)
        return 503

    sender = WebhookSender("http://hook", SECRET, attempts=3, backoff=0, post=post)
    assert not sender({"tracking_no": "EA123456785CN", "status": "accepted"})
    assert len(calls) == 3


def test_webhook_sender_stops_waiting_when_closed():
    sender = WebhookSender("http://hook", SECRET, attempts=3, backoff=60, post=lambda *args: 503)
    sender.close()
    started = time.monotonic()
    assert not sender({"tracking_no": "EA123456785CN", "status": "accepted"})
    assert time.monotonic() - started < 1


class WebhookReceiver:
    """A tiny HTTP endpoint that checks signatures and keeps what it was sent;
    the first delivery of ``picked_up`` fails so the simulator has to retry."""

    def __init__(self):
        self.received = []
        self.failures = 0
        self.done = threading.Event()
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_port}/api/v1/webhooks/ems"

    @Request.application
    def app(self, request):
        body = request.get_data()
        if not signature_matches(
            SECRET,
            request.headers.get(TIMESTAMP_HEADER),
            body,
            request.headers.get(SIGNATURE_HEADER),
        ):
            return Response("bad signature", status=401)
        payload = json.loads(body)
        if payload["status"] == "picked_up" and self.failures == 0:
            self.failures += 1
            return Response("try again", status=503)
        self.received.append(payload)
        if payload["status"] == "delivered":
            self.done.set()
        return Response(status=204)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.server.shutdown()
        self.server.server_close()


def test_simulator_delivers_signed_states_to_the_webhook():
    with (
        WebhookReceiver() as receiver,
        SimulatorServer(
            "127.0.0.1",
            0,
            api_key="test-key",
            webhook_url=receiver.url,
            webhook_secret=SECRET,
            step_seconds=0.05,
            webhook_backoff=0.05,
        ) as server,
    ):
        order, _ = server.simulator.create_order("key-1", ORDER)
        assert receiver.done.wait(10), receiver.received
    assert [payload["status"] for payload in receiver.received] == STATES
    assert {payload["tracking_no"] for payload in receiver.received} == {order["tracking_no"]}
    assert receiver.failures == 1  # picked_up was retried after a 503


def test_wrong_secret_is_refused_by_the_receiver():
    with (
        WebhookReceiver() as receiver,
        SimulatorServer(
            "127.0.0.1",
            0,
            api_key="test-key",
            webhook_url=receiver.url,
            webhook_secret=b"not-the-secret",
            step_seconds=0.05,
            webhook_attempts=1,
        ) as server,
    ):
        server.simulator.create_order("key-1", ORDER)
        assert not receiver.done.wait(0.5)
    assert receiver.received == []


def test_a_delivered_waybill_cannot_fail(simulator, scheduler):
    order, _ = simulator.create_order("key-1", ORDER)
    for _ in STATES:
        scheduler.run_next()
    from simulators.ems.simulator import AlreadyFinal

    with pytest.raises(AlreadyFinal):
        simulator.fail(order["tracking_no"], "lost")


@pytest.mark.parametrize(("rate", "failing"), [(0.0, 0), (1.0, 20)])
def test_the_fail_rate_fails_that_share_of_waybills_before_delivery(scheduler, rate, failing):
    sent = []
    simulator = EmsSimulator(
        scheduler=scheduler, step_seconds=1, notify=sent.append, fail_rate=rate
    )
    for n in range(20):
        simulator.create_order(f"key-{n}", {**ORDER, "reference": f"app-{n}"})
    while scheduler.pending:
        scheduler.run_next()
    finals = [scan for scan in sent if scan["status"] in ("delivered", "failed")]
    assert len(finals) == 20
    failed = [scan for scan in finals if scan["status"] == "failed"]
    assert len(failed) == failing
    assert {scan["reason"] for scan in failed} <= {"undeliverable", "refused", "lost", "returned"}
    # A doomed waybill fails on its way, after it was picked up.
    statuses = [scan["status"] for scan in sent if scan["tracking_no"] == sent[0]["tracking_no"]]
    assert statuses[-1] == ("failed" if failing else "delivered")
    assert "picked_up" in statuses


def test_the_fail_rate_is_a_share_between_0_and_1(scheduler):
    with pytest.raises(ValueError):
        EmsSimulator(scheduler=scheduler, step_seconds=1, fail_rate=1.5)
    assert parse_args([], {"EMS_SIM_FAIL_RATE": "0.25"}).fail_rate == 0.25
    assert parse_args(["--fail-rate", "0.5"], {"EMS_SIM_FAIL_RATE": "0.25"}).fail_rate == 0.5
    assert parse_args([], {}).fail_rate == 0
    with pytest.raises(SystemExit):
        parse_args([], {"EMS_SIM_FAIL_RATE": "often"})


def test_settings_come_from_flags_then_environment():
    environ = {
        "EMS_WEBHOOK_URL": "http://gateway/api/v1/webhooks/ems",
        "EMS_STEP_SECONDS": "0.5",
    }
    args = parse_args(["--port", "8300"], environ)
    assert (args.host, args.port) == ("127.0.0.1", 8300)
    assert args.webhook_url == "http://gateway/api/v1/webhooks/ems"
    assert args.step_seconds == 0.5
    args = parse_args(["--step-seconds", "2", "--webhook-url", "http://x"], environ)
    assert (args.step_seconds, args.webhook_url) == (2.0, "http://x")
    assert parse_args([], {}).webhook_url is None
    assert parse_args([], {}).port == DEFAULT_PORT == 8200
    assert DEFAULT_API_KEY == "dev-ems-api-key"


# --- EMS's numbering and signing ------------------------------------------------------


@pytest.mark.parametrize(
    ("serial", "number"),
    [(12345678, "EA123456785CN"), (12345679, "EA123456799CN"), (0, "EA000000005CN")],
)
def test_tracking_numbers_carry_their_s10_check_digit(serial, number):
    assert make_tracking_number(serial) == number
    assert is_s10(number)


@pytest.mark.parametrize(("serial", "prefix"), [(-1, "EA"), (10**8, "EA"), (1, "ea"), (1, "E")])
def test_a_serial_or_prefix_out_of_shape_is_refused(serial, prefix):
    with pytest.raises(ValueError):
        make_tracking_number(serial, prefix)


def test_webhooks_are_signed_over_the_timestamp_and_the_body():
    headers = signed_headers(SECRET, b'{"a":1}', now=1_790_000_000)
    assert headers[TIMESTAMP_HEADER] == "1790000000"
    assert headers[SIGNATURE_HEADER] == sign(SECRET, "1790000000", b'{"a":1}')
    assert signature_matches(SECRET, "1790000000", b'{"a":1}', headers[SIGNATURE_HEADER])
    assert not signature_matches(SECRET, "1790000000", b'{"a":2}', headers[SIGNATURE_HEADER])
