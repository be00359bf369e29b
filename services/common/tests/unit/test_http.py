"""The session every client of an outside party uses, and how an error answer is
read (services/common/http.py), against a scripted local server."""

import json
import threading
import time

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from services.common.errors import Unavailable
from services.common.http import (
    PartyClient,
    PartyRejected,
    error_details,
    retrying_session,
    setting,
)
from services.common.logs import redact


class Scripted:
    """Answers each request with the next of ``answers``: (status, body[,
    headers]), or a number of seconds to stall before answering 200."""

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
        self.requests.append((request.method, dict(request.headers)))
        answer = self.answers.pop(0) if self.answers else (500, "out of answers")
        if isinstance(answer, (int, float)):
            time.sleep(answer)
            answer = (200, "{}")
        status, body, *headers = answer
        return Response(
            body,
            status=status,
            headers=headers[0] if headers else None,
            content_type="application/json",
        )(environ, start_response)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._server.shutdown()
        self._thread.join()
        self._server.server_close()


def session(methods=("POST",), retries=2):
    return retrying_session("the-key", methods=methods, retries=retries, backoff_factor=0)


def test_every_request_carries_the_key_and_asks_for_json():
    with Scripted([(200, "{}")]) as server:
        session().get(server.url, timeout=2)
    _, headers = server.requests[0]
    assert headers["X-Api-Key"] == "the-key"
    assert headers["Accept"] == "application/json"


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_transient_5xx_is_retried_then_the_answer_is_taken(status):
    with Scripted([(status, "{}"), (status, "{}"), (200, '{"ok": true}')]) as server:
        response = session().post(server.url, timeout=2)
    assert response.json() == {"ok": True}
    assert len(server.requests) == 3


def test_past_the_retries_the_last_answer_is_handed_back_not_raised():
    with Scripted([(503, "{}")] * 3) as server:
        response = session(retries=2).post(server.url, timeout=2)
    assert response.status_code == 503
    assert len(server.requests) == 3


@pytest.mark.parametrize("status", [400, 401, 404, 409, 501])
def test_other_answers_are_not_retried(status):
    with Scripted([(status, "{}"), (200, "{}")]) as server:
        assert session().post(server.url, timeout=2).status_code == status
    assert len(server.requests) == 1


def test_only_the_methods_named_are_retried():
    with Scripted([(503, "{}"), (200, "{}")]) as server:
        assert session(methods=("POST",)).get(server.url, timeout=2).status_code == 503
    with Scripted([(503, "{}"), (200, "{}")]) as server:
        assert session(methods=("get", "post")).get(server.url, timeout=2).status_code == 200


def test_a_retry_after_is_not_waited_for():
    with Scripted([(503, "{}", {"Retry-After": "120"}), (200, "{}")]) as server:
        started = time.monotonic()
        assert session().post(server.url, timeout=2).status_code == 200
    assert time.monotonic() - started < 5


def test_a_read_timeout_is_raised_at_once_not_retried():
    with Scripted([1.0, 1.0]) as server:
        # With no read retries left, requests reports it as a ConnectionError.
        with pytest.raises(requests.RequestException, match="Read timed out"):
            session().post(server.url, timeout=(1, 0.2))
        assert len(server.requests) == 1


def test_connection_errors_are_retried_then_raised():
    with Scripted([]) as server:
        url = server.url
    started = time.monotonic()
    with pytest.raises(requests.ConnectionError):
        session(retries=2).post(url, timeout=(0.5, 0.5))
    assert time.monotonic() - started < 5


def test_http_and_https_both_retry():
    made = session(retries=4)
    for scheme in ("http://x", "https://x"):
        retry = made.get_adapter(scheme).max_retries
        assert (retry.total, retry.connect, retry.read, retry.status) == (4, 4, 0, 4)
        assert retry.respect_retry_after_header is False
        assert retry.raise_on_status is False


# --- reading an error answer -----------------------------------------------------------


def answer(status, body, reason=None):
    response = requests.Response()
    response.status_code = status
    response._content = body.encode("utf-8") if isinstance(body, str) else body
    response.reason = reason
    return response


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # tongban's simulators and the data exchange platform
        (
            {"error": {"code": "invalid", "message": "bad query", "fields": {"a": "required"}}},
            ("bad query", {"a": "required"}),
        ),
        ({"error": {"code": "invalid"}}, ("invalid", {})),
        # EMS
        ({"error": "invalid order", "fields": {"kind": "bad"}}, ("invalid order", {"kind": "bad"})),
        ({"message": "nope"}, ("nope", {})),
        ({"error": "x", "fields": ["not", "a", "dict"]}, ("x", {})),
        ({"error": {"message": "m", "fields": {"n": 3}}}, ("m", {"n": "3"})),
        (["a", "list"], ("['a', 'list']", {})),
    ],
)
def test_the_known_shapes_of_an_error_are_read(body, expected):
    assert error_details(answer(400, json.dumps(body))) == expected


def test_an_answer_that_is_not_json_is_its_text_or_its_reason():
    assert error_details(answer(502, "  Bad gateway from the proxy \n")) == (
        "Bad gateway from the proxy",
        {},
    )
    assert error_details(answer(502, "", reason="Bad Gateway")) == ("Bad Gateway", {})


def test_a_long_message_is_cut():
    message, _ = error_details(answer(400, "x" * 5000))
    assert message == "x" * 200


def test_clean_is_applied_before_the_cut_to_the_message_and_each_field():
    number = "320104198503120314"
    body = {"error": {"message": "y" * 190 + number, "fields": {number: f"refused {number}"}}}
    message, fields = error_details(answer(422, json.dumps(body)), clean=redact)
    assert number not in message and number[:12] not in message
    assert message.startswith("y" * 190) and len(message) == 200
    assert fields == {"3201**********0314": "refused 3201**********0314"}


class PartyDown(Unavailable):
    pass


class PartyRefused(PartyRejected):
    refusal = "the party refused"


class Party(PartyClient):
    party = "party"
    unavailable = PartyDown
    rejected = PartyRefused
    clean = staticmethod(redact)

    def try_later(self, where, status):
        return f"{where} throttled" if status == 429 else None


def party(server):
    return Party(server.url, "the-key", timeout=2, retries=0, backoff_factor=0)


def test_a_party_client_hands_back_the_json_of_its_answer():
    with Scripted([(200, '{"ok": true}')]) as server, party(server) as client:
        assert client.request("POST", "/x", json={}) == {"ok": True}


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ((503, "{}"), "party GET /x answered 503"),
        ((429, "{}"), "party GET /x throttled"),
        ((200, "not json"), "party GET /x answered non-JSON"),
    ],
)
def test_a_party_client_raises_its_unavailable(answer, message):
    with Scripted([answer]) as server, party(server) as client:
        with pytest.raises(PartyDown, match=message):
            client.request("GET", "/x")


def test_a_party_client_raises_its_rejection_with_the_cleaned_details():
    body = json.dumps({"error": "bad 11010519491231002X", "fields": {"id": "bad"}})
    with Scripted([(422, body)]) as server, party(server) as client:
        with pytest.raises(PartyRefused) as refused:
            client.request("GET", "/x")
    assert refused.value.status_code == 422
    assert refused.value.fields == {"id": "bad"}
    assert str(refused.value).startswith("the party refused (422): ")
    assert "11010519491231002X" not in str(refused.value)


@pytest.mark.parametrize(
    ("config", "expected"), [({}, 1.5), ({"X": ""}, 1.5), ({"X": "0"}, 0.0), ({"X": 2}, 2.0)]
)
def test_a_setting_missing_or_empty_takes_its_default(config, expected):
    assert setting(config, "X", 1.5, float) == expected
