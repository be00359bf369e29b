"""The SMS gateway simulator: its message store, its HTTP API through werkzeug's
test client, and a real server on a free port."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import requests
from werkzeug.test import Client

from simulators.sms.__main__ import DEFAULT_API_KEY, DEFAULT_PORT, parse_args
from simulators.sms.app import SimulatorServer, SmsApi
from simulators.sms.messages import GatewayDown, IdempotencyConflict, Messages, check_message

KEY = "test-key"
AUTH = {"X-Api-Key": KEY}
PHONE = "13800000001"
OTHER_PHONE = "13900000002"
TEXT = "【江苏政务服务】请为您本次办事评价：http://127.0.0.1:8000/rate?token=abc"


class SteppingClock:
    def __init__(self):
        self.now = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)

    def __call__(self):
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def messages():
    return Messages(clock=SteppingClock())


@pytest.fixture
def client(messages):
    return Client(SmsApi(messages, KEY))


def send(client, body, key="key-1", headers=AUTH):
    all_headers = dict(headers)
    if key is not None:
        all_headers["Idempotency-Key"] = key
    return client.post("/api/messages", json=body, headers=all_headers)


def inbox(client, phone, **query):
    response = client.get("/api/messages", query_string={"phone": phone, **query}, headers=AUTH)
    return response.status_code, response.get_json()


# --- the store ------------------------------------------------------------------------


def test_a_key_sends_one_message_however_often_it_comes(messages):
    first, created = messages.send("key-1", PHONE, TEXT)
    again, created_again = messages.send("key-1", PHONE, TEXT)
    assert created and not created_again
    assert again == first
    assert first.message_id.startswith("SM") and first.status == "sent"
    assert messages.inbox(PHONE) == [first]


def test_a_key_reused_for_another_message_is_a_conflict(messages):
    messages.send("key-1", PHONE, TEXT)
    with pytest.raises(IdempotencyConflict):
        messages.send("key-1", PHONE, TEXT + "!")
    with pytest.raises(IdempotencyConflict):
        messages.send("key-1", OTHER_PHONE, TEXT)
    assert len(messages.inbox(PHONE)) == 1 and messages.inbox(OTHER_PHONE) == []


def test_an_inbox_is_its_phones_messages_newest_first(messages):
    sent = [messages.send(f"key-{n}", PHONE, f"text {n}")[0] for n in range(3)]
    messages.send("other", OTHER_PHONE, "not yours")
    assert messages.inbox(PHONE) == sent[::-1]
    assert messages.inbox(PHONE, limit=2) == sent[:0:-1]
    assert [m.text for m in messages.inbox(OTHER_PHONE)] == ["not yours"]


def test_the_store_forgets_the_oldest_past_its_capacity():
    messages = Messages(capacity=2)
    first, _ = messages.send("key-1", PHONE, "one")
    messages.send("key-2", PHONE, "two")
    messages.send("key-3", PHONE, "three")
    assert [m.text for m in messages.inbox(PHONE)] == ["three", "two"]
    # Its key is forgotten with it: it would be sent as a new message.
    again, created = messages.send("key-1", PHONE, "one")
    assert created and again.message_id != first.message_id
    with pytest.raises(ValueError):
        Messages(capacity=0)


def test_a_gateway_taken_down_sends_nothing_until_it_is_back(messages):
    assert messages.set_down(True) is True
    with pytest.raises(GatewayDown):
        messages.send("key-1", PHONE, TEXT)
    assert messages.inbox(PHONE) == []
    assert messages.set_down(False) is False
    assert messages.send("key-1", PHONE, TEXT)[1]


def test_sending_from_many_threads_at_once_sends_each_key_once(messages):
    results = []

    def sender():
        results.append(messages.send("same-key", PHONE, TEXT))

    threads = [threading.Thread(target=sender) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(created for _, created in results) == 1
    assert len({message.message_id for message, _ in results}) == 1


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"phone", "text"}),
        ({"phone": "12800000001", "text": "x"}, {"phone"}),
        ({"phone": "1380000000", "text": "x"}, {"phone"}),
        ({"phone": "138000000011", "text": "x"}, {"phone"}),
        ({"phone": 13800000001, "text": "x"}, {"phone"}),
        ({"phone": "+8613800000001", "text": "x"}, {"phone"}),
        ({"phone": PHONE, "text": "   "}, {"text"}),
        ({"phone": PHONE, "text": "x" * 501}, {"text"}),
        ({"phone": PHONE, "text": 5}, {"text"}),
        ({"phone": PHONE, "text": "x", "sender": "me"}, {"sender"}),
        ([], {"body"}),
    ],
)
def test_a_bad_message_names_each_field(body, fields):
    message, problems = check_message(body)
    assert message == {} and set(problems) == fields


def test_a_good_message_is_taken_as_it_is():
    assert check_message({"phone": PHONE, "text": "x" * 500}) == (
        {"phone": PHONE, "text": "x" * 500},
        {},
    )


# --- the API --------------------------------------------------------------------------


def test_send_then_replay_then_read_the_inbox(client):
    created = send(client, {"phone": PHONE, "text": TEXT})
    assert created.status_code == 201
    receipt = created.get_json()
    assert set(receipt) == {"message_id", "status"} and receipt["status"] == "sent"
    replayed = send(client, {"phone": PHONE, "text": TEXT})
    assert replayed.status_code == 200
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.get_json() == receipt
    code, body = inbox(client, PHONE)
    assert code == 200
    assert body["phone"] == PHONE
    assert [(m["message_id"], m["text"], m["status"]) for m in body["messages"]] == [
        (receipt["message_id"], TEXT, "sent")
    ]
    assert body["messages"][0]["sent_at"].endswith("Z")
    assert inbox(client, OTHER_PHONE) == (200, {"phone": OTHER_PHONE, "messages": []})


def test_a_key_reused_for_another_message_is_409(client):
    send(client, {"phone": PHONE, "text": TEXT})
    response = send(client, {"phone": PHONE, "text": "another"})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "conflict"


@pytest.mark.parametrize("key", [None, "", " ", "k" * 256])
def test_the_idempotency_key_is_required(client, key):
    response = send(client, {"phone": PHONE, "text": TEXT}, key=key)
    assert response.status_code == 400
    assert set(response.get_json()["error"]["fields"]) == {"Idempotency-Key"}


def test_a_bad_message_is_400_naming_the_field_without_echoing_it(client):
    response = send(client, {"phone": "12345678901", "text": TEXT})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid" and set(error["fields"]) == {"phone"}
    assert "12345678901" not in response.get_data(as_text=True)
    assert TEXT not in response.get_data(as_text=True)


def test_a_body_that_is_not_json_is_400(client):
    response = client.post(
        "/api/messages", data="{not json", headers={**AUTH, "Idempotency-Key": "k"}
    )
    assert response.status_code == 400
    assert set(response.get_json()["error"]["fields"]) == {"body"}


@pytest.mark.parametrize(
    ("query", "fields"),
    [({}, {"phone"}), ({"phone": "123"}, {"phone"}), ({"phone": PHONE, "limit": "0"}, {"limit"})],
)
def test_a_bad_inbox_query_is_400(client, query, fields):
    response = client.get("/api/messages", query_string=query, headers=AUTH)
    assert response.status_code == 400
    assert set(response.get_json()["error"]["fields"]) == fields


def test_the_inbox_takes_a_limit(client):
    for n in range(3):
        send(client, {"phone": PHONE, "text": f"text {n}"}, key=f"key-{n}")
    code, body = inbox(client, PHONE, limit="2")
    assert code == 200 and [m["text"] for m in body["messages"]] == ["text 2", "text 1"]


def test_health_needs_no_key(client):
    response = client.get("/healthz")
    assert (response.status_code, response.get_json()) == (200, {"status": "ok"})


@pytest.mark.parametrize("headers", [{}, {"X-Api-Key": "wrong"}], ids=["none", "wrong"])
def test_every_other_path_needs_the_key(client, headers):
    assert send(client, {"phone": PHONE, "text": TEXT}, headers=headers).status_code == 401
    response = client.get("/api/messages", query_string={"phone": PHONE}, headers=headers)
    assert response.status_code == 401
    response = client.post("/admin/outage", json={"down": True}, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_unknown_paths_and_methods(client):
    assert client.get("/nowhere", headers=AUTH).status_code == 404
    assert client.put("/api/messages", headers=AUTH).status_code == 405


def test_an_outage_answers_503_until_it_ends(client):
    response = client.post("/admin/outage", json={"down": True}, headers=AUTH)
    assert (response.status_code, response.get_json()) == (200, {"down": True})
    response = send(client, {"phone": PHONE, "text": TEXT})
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "unavailable"
    assert inbox(client, PHONE) == (200, {"phone": PHONE, "messages": []})
    response = client.post("/admin/outage", json={"down": False}, headers=AUTH)
    assert response.get_json() == {"down": False}
    assert send(client, {"phone": PHONE, "text": TEXT}).status_code == 201


@pytest.mark.parametrize("body", [{}, {"down": "yes"}, {"down": True, "x": 1}, []])
def test_a_bad_outage_is_refused(client, body):
    assert client.post("/admin/outage", json=body, headers=AUTH).status_code == 400


# --- the process ----------------------------------------------------------------------


def test_host_and_port_come_from_the_environment_and_flags_win():
    args = parse_args([], {})
    assert (args.host, args.port, args.keep) == ("127.0.0.1", DEFAULT_PORT, 10_000)
    environ = {"SMS_HOST": "0.0.0.0", "SMS_PORT": "9400"}  # noqa: S104
    args = parse_args([], environ)
    assert (args.host, args.port) == ("0.0.0.0", 9400)  # noqa: S104
    args = parse_args(["--port", "9500", "--keep", "5"], environ)
    assert (args.port, args.keep) == (9500, 5)
    assert (DEFAULT_API_KEY, DEFAULT_PORT) == ("dev-sms-api-key", 8400)
    with pytest.raises(SystemExit):
        parse_args(["--keep", "0"], {})


def test_a_real_server_answers_over_http():
    with SimulatorServer("127.0.0.1", 0, api_key=KEY) as server:
        assert requests.get(f"{server.url}/healthz", timeout=2).json() == {"status": "ok"}
        answer = requests.post(
            f"{server.url}/api/messages",
            json={"phone": PHONE, "text": TEXT},
            headers={**AUTH, "Idempotency-Key": "visit-1"},
            timeout=2,
        )
        assert answer.status_code == 201
        got = requests.get(
            f"{server.url}/api/messages", params={"phone": PHONE}, headers=AUTH, timeout=2
        ).json()
        assert got["messages"][0]["text"] == TEXT
        assert server.messages.inbox(PHONE)[0].message_id == answer.json()["message_id"]
