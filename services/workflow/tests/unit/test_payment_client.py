"""PaymentClient against the payment simulator served on a free local port, the
simulator's signed notice checked as the gateway checks it."""

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from gateway.webhooks import verify_payment_request
from services.common.errors import Unauthorized
from services.workflow.adapters.payment import (
    PaymentClient,
    PaymentPlatform,
    PaymentRejected,
    PaymentUnavailable,
)
from simulators.payment.app import SimulatorServer

API_KEY = "test-payment-key"
SECRET = b"test-payment-secret"
EXPIRES = datetime.now(UTC) + timedelta(days=15)


class Receiver:
    """The gateway's side of the notice: a small server that checks each
    notice's signature with the gateway's own check and keeps what it got."""

    def __init__(self, secret: bytes):
        self.config = {"PAYMENT_WEBHOOK_SECRET": secret.decode()}
        self.notices: list[dict] = []
        self.refused = 0
        self._got = threading.Event()
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}/api/v1/webhooks/payment"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _app(self, environ, start_response):
        request = Request(environ)
        try:
            verify_payment_request(request, self.config)
        except Unauthorized:
            self.refused += 1
            return Response("{}", status=401)(environ, start_response)
        self.notices.append(json.loads(request.get_data()))
        self._got.set()
        return Response("{}", status=200)(environ, start_response)

    def wait(self, timeout: float = 5.0) -> dict:
        assert self._got.wait(timeout), "no notice came"
        return self.notices[-1]

    def close(self):
        self._server.shutdown()


@pytest.fixture
def receiver():
    found = Receiver(SECRET)
    yield found
    found.close()


@pytest.fixture
def platform(receiver):
    with SimulatorServer(
        "127.0.0.1",
        0,
        api_key=API_KEY,
        webhook_url=receiver.url,
        webhook_secret=SECRET,
        notice_backoff=0.05,
    ) as server:
        yield server


@pytest.fixture
def client(platform):
    with PaymentClient(platform.url, API_KEY, timeout=(1, 2), backoff_factor=0) as client:
        yield client


def order(client, key="order.a-1.payment", amount=1050, reference="a-1"):
    return client.create_order(
        key,
        reference=reference,
        amount_fen=amount,
        description="社会保障卡补领",
        expires_at=EXPIRES,
    )


def test_an_order_is_made_once_per_key_paid_at_the_cashier_and_notified_signed(
    client, platform, receiver
):
    made = order(client)
    assert (made["state"], made["amount_fen"], made["reference"]) == ("pending", 1050, "a-1")
    assert made["pay_url"] == f"{platform.url}/cashier/{made['order_id']}"
    assert order(client)["order_id"] == made["order_id"]
    with pytest.raises(PaymentRejected) as conflict:
        order(client, amount=999)
    assert conflict.value.status_code == 409
    # The citizen's browser: no key.
    assert requests.get(made["pay_url"], timeout=2).json()["state"] == "pending"
    paid = requests.post(made["pay_url"] + "/pay", timeout=2)
    assert paid.status_code == 200 and paid.json()["state"] == "paid"
    notice = receiver.wait()
    assert notice == {
        "event": "order.paid",
        "order_id": made["order_id"],
        "reference": "a-1",
        "state": "paid",
        "amount_fen": 1050,
        "occurred_at": notice["occurred_at"],
    }
    assert receiver.refused == 0
    assert client.get_order(made["order_id"])["state"] == "paid"
    assert [o["order_id"] for o in client.orders_of("a-1")] == [made["order_id"]]


def test_a_paid_order_is_not_cancelled_and_is_refunded_once(client, receiver):
    made = order(client)
    requests.post(made["pay_url"] + "/pay", timeout=2)
    receiver.wait()
    assert client.cancel_order(made["order_id"])["state"] == "paid"
    refund = client.refund(made["order_id"], 1050, "refund.x", "denied")
    again = client.refund(made["order_id"], 1050, "refund.x", "denied")
    assert refund == again
    assert refund["amount_fen"] == 1050
    shown = client.get_order(made["order_id"])
    assert (shown["state"], shown["refunded_fen"], len(shown["refunds"])) == ("refunded", 1050, 1)
    with pytest.raises(PaymentRejected):
        client.refund(made["order_id"], 1, "refund.y", "more")


def test_a_cancelled_order_cannot_be_paid(client):
    made = order(client)
    assert client.cancel_order(made["order_id"])["state"] == "cancelled"
    assert client.cancel_order(made["order_id"])["state"] == "cancelled"
    paid = requests.post(made["pay_url"] + "/pay", timeout=2)
    assert paid.status_code == 409
    with pytest.raises(PaymentRejected):
        client.refund(made["order_id"], 1050, "refund.z", "x")


def test_a_platform_down_is_unavailable_and_a_wrong_key_refused(client, platform):
    def outage(down):
        requests.post(
            platform.url + "/admin/outage",
            json={"down": down},
            headers={"X-Api-Key": API_KEY},
            timeout=2,
        )

    outage(True)
    try:
        with pytest.raises(PaymentUnavailable):
            order(client)
    finally:
        outage(False)
    assert order(client)["state"] == "pending"
    with PaymentClient(platform.url, "wrong", timeout=(1, 2), retries=0) as stranger:
        with pytest.raises(PaymentRejected) as refused:
            order(stranger)
    assert refused.value.status_code == 401


def test_nothing_listening_is_unavailable():
    with PaymentClient("http://127.0.0.1:9", API_KEY, timeout=(0.2, 0.2), retries=0) as client:
        with pytest.raises(PaymentUnavailable):
            client.get_order("PO1")


def test_a_notice_with_a_wrong_or_stale_signature_is_refused():
    body = b'{"order_id":"PO1"}'
    config = {"PAYMENT_WEBHOOK_SECRET": "right"}
    from simulators.payment.notices import signed_headers

    def request(headers):
        return SimpleNamespace(headers=headers, get_data=lambda cache=True: body)

    verify_payment_request(request(signed_headers(b"right", body)), config)
    for headers in (
        signed_headers(b"wrong", body),
        signed_headers(b"right", body, now=time.time() - 3600),
        {},
    ):
        with pytest.raises(Unauthorized):
            verify_payment_request(request(headers), config)


def test_the_dependency_reads_its_settings():
    provider = PaymentPlatform()
    provider.container = SimpleNamespace(
        config={"PAYMENT_URL": "http://pay.example", "PAYMENT_API_KEY": "k", "PAYMENT_RETRIES": "0"}
    )
    provider.setup()
    try:
        assert provider.client.base_url == "http://pay.example"
        assert provider.client.session.headers["X-Api-Key"] == "k"
    finally:
        provider.stop()
