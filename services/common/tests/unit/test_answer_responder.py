"""Answers to RPC requests: serialised once, sent as the request was encoded."""

import json
from types import SimpleNamespace

from services.common.entrypoints import AnswerResponder
from services.common.errors import NotFound

SENT = []


class Recorder:
    def __init__(self, amqp_uri, **options):
        self.amqp_uri = amqp_uri

    def publish(self, body, **options):
        SENT.append((body, options))


class Responder(AnswerResponder):
    publisher_cls = Recorder


def request():
    return SimpleNamespace(
        properties={
            "content_type": "application/json",
            "reply_to": "rpc.reply-caller",
            "correlation_id": "c-1",
        }
    )


def answer(result, exc_info=None):
    SENT.clear()
    responder = Responder("amqp://broker", "nameko-rpc", "json", request())
    returned = responder.send_response(result, exc_info)
    [(body, options)] = SENT
    return returned, json.loads(body), options


def test_a_result_goes_out_encoded_once_to_the_callers_queue():
    returned, body, options = answer({"id": "a-1", "n": 2})

    assert returned == ({"id": "a-1", "n": 2}, None)
    assert body == {"result": {"id": "a-1", "n": 2}, "error": None}
    assert options["content_type"] == "application/json"
    assert options["routing_key"] == "rpc.reply-caller"
    assert options["correlation_id"] == "c-1"


def test_an_error_goes_out_serialised():
    error = NotFound("no such case")
    _, body, _ = answer(None, (NotFound, error, None))

    assert body["result"] is None
    assert body["error"]["exc_type"] == "NotFound"
    assert body["error"]["value"] == "no such case"


def test_what_cannot_be_serialised_is_answered_as_an_error():
    returned, body, _ = answer({"when": object()})

    result, exc_info = returned
    assert result is None and exc_info is not None
    assert body["result"] is None
    assert body["error"]["exc_type"] == "UnserializableValueError"
