"""The payment platform simulator: its order book with a moved clock, its HTTP
API and cashier through werkzeug's test client, its notices and command line."""

from datetime import UTC, datetime, timedelta

import pytest
from werkzeug.test import Client

from simulators.payment.__main__ import DEFAULT_API_KEY, DEFAULT_PORT, parse_args
from simulators.payment.app import PaymentApi
from simulators.payment.notices import NoticeSender, sign
from simulators.payment.orders import (
    IdempotencyConflict,
    OrderBook,
    PlatformDown,
    WrongState,
    check_order,
)

KEY = "test-key"
AUTH = {"X-Api-Key": KEY}
START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self):
        self.now = START

    def __call__(self):
        return self.now


def request(amount=1050, reference="a-1", expires=START + timedelta(days=15)):
    clean, problems = check_order(
        {"reference": reference, "amount_fen": amount, "expires_at": expires.isoformat()}
    )
    assert problems == {}
    return clean


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def notices():
    return []


@pytest.fixture
def book(clock, notices):
    return OrderBook(cashier_url="http://cashier", notify=notices.append, clock=clock)


@pytest.fixture
def client(book):
    return Client(PaymentApi(book, KEY))


def test_an_order_is_paid_once_and_notified_once(book, notices):
    order, created = book.create_order("k1", request())
    assert created and order["state"] == "pending"
    assert order["pay_url"] == f"http://cashier/cashier/{order['order_id']}"
    assert book.create_order("k1", request()) == (order, False)
    with pytest.raises(IdempotencyConflict):
        book.create_order("k1", request(amount=1))
    assert book.pay(order["order_id"])["state"] == "paid"
    assert book.pay(order["order_id"])["state"] == "paid"
    assert [n["event"] for n in notices] == ["order.paid"]
    assert notices[0]["amount_fen"] == 1050


def test_an_order_past_its_expiry_cannot_be_paid(book, clock):
    order, _ = book.create_order("k1", request(expires=START + timedelta(hours=1)))
    clock.now += timedelta(hours=2)
    assert book.get(order["order_id"])["state"] == "expired"
    with pytest.raises(WrongState):
        book.pay(order["order_id"])
    assert book.cancel(order["order_id"])["state"] == "cancelled"


def test_refunds_never_exceed_what_was_paid(book):
    order, _ = book.create_order("k1", request())
    with pytest.raises(WrongState):
        book.refund(order["order_id"], "r0", 1050, "")
    book.pay(order["order_id"])
    part, _ = book.refund(order["order_id"], "r1", 50, "part")
    assert book.get(order["order_id"])["state"] == "paid"
    with pytest.raises(WrongState):
        book.refund(order["order_id"], "r2", 1001, "too much")
    book.refund(order["order_id"], "r3", 1000, "rest")
    shown = book.get(order["order_id"])
    assert (shown["state"], shown["refunded_fen"]) == ("refunded", 1050)
    with pytest.raises(WrongState):
        book.cancel(order["order_id"])


def test_a_platform_down_takes_no_order_but_the_cashier_still_answers(book):
    order, _ = book.create_order("k1", request())
    book.down = True
    with pytest.raises(PlatformDown):
        book.create_order("k2", request())
    assert book.pay(order["order_id"])["state"] == "paid"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount_fen": 1050, "expires_at": "2026-12-31T00:00:00Z"}, "reference"),
        (
            {"reference": "a", "amount_fen": 10.5, "expires_at": "2026-12-31T00:00:00Z"},
            "amount_fen",
        ),
        ({"reference": "a", "amount_fen": 0, "expires_at": "2026-12-31T00:00:00Z"}, "amount_fen"),
        (
            {"reference": "a", "amount_fen": True, "expires_at": "2026-12-31T00:00:00Z"},
            "amount_fen",
        ),
        ({"reference": "a", "amount_fen": 1}, "expires_at"),
        ({"reference": "a", "amount_fen": 1, "expires_at": "2026-12-31T00:00:00"}, "expires_at"),
    ],
)
def test_a_bad_order_is_refused_naming_the_field(client, body, field):
    response = client.post("/api/orders", json=body, headers={**AUTH, "Idempotency-Key": "k"})
    assert response.status_code == 400
    assert field in response.json["error"]["fields"]


def test_the_api_needs_its_key_and_keys_but_the_cashier_does_not(client, book):
    body = {"reference": "a-1", "amount_fen": 1050, "expires_at": "2030-01-01T00:00:00+08:00"}
    assert client.post("/api/orders", json=body).status_code == 401
    assert client.post("/api/orders", json=body, headers=AUTH).status_code == 400
    made = client.post("/api/orders", json=body, headers={**AUTH, "Idempotency-Key": "k"})
    assert made.status_code == 201
    again = client.post("/api/orders", json=body, headers={**AUTH, "Idempotency-Key": "k"})
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    order_id = made.json["order_id"]
    assert client.get(f"/cashier/{order_id}").json["state"] == "pending"
    assert client.post(f"/cashier/{order_id}/pay").json["state"] == "paid"
    listed = client.get("/api/orders", query_string={"reference": "a-1"}, headers=AUTH)
    assert [o["order_id"] for o in listed.json["orders"]] == [order_id]
    cancel = client.post(f"/api/orders/{order_id}/cancel", headers=AUTH)
    assert cancel.status_code == 409 and cancel.json["error"]["fields"] == {"state": "paid"}
    refund = client.post(
        f"/api/orders/{order_id}/refund",
        json={"amount_fen": 1050, "reason": "denied"},
        headers={**AUTH, "Idempotency-Key": "r"},
    )
    assert refund.status_code == 201
    assert client.get("/cashier/nope").status_code == 404
    down = client.post("/admin/outage", json={"down": True}, headers=AUTH)
    assert down.json == {"down": True}
    assert (
        client.post("/api/orders", json=body, headers={**AUTH, "Idempotency-Key": "k2"}).status_code
        == 503
    )


def test_a_notice_is_signed_and_retried_until_taken():
    sent = []
    answers = iter([503, 500, 204])

    def post(url, body, headers, timeout):
        sent.append((body, headers))
        return next(answers)

    sender = NoticeSender("http://gateway", b"s", attempts=5, backoff=0, post=post)
    assert sender.deliver({"order_id": "PO1", "state": "paid"})
    assert len(sent) == 3
    body, headers = sent[-1]
    timestamp = headers["X-Payment-Timestamp"]
    assert headers["X-Payment-Signature"] == sign(b"s", timestamp, body)


def test_the_command_line_takes_the_environment():
    args = parse_args([], {"PAYMENT_PORT": "8600", "PAYMENT_WEBHOOK_URL": "http://gw/hook"})
    assert (args.port, args.webhook_url, args.public_url) == (8600, "http://gw/hook", None)
    assert parse_args(["--port", "1"], {}).port == 1
    assert DEFAULT_PORT == 8500 and DEFAULT_API_KEY
