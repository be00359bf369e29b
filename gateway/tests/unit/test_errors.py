import json

import pytest
from nameko.exceptions import MethodNotFound as RemoteMethodNotFound
from nameko.exceptions import RemoteError

from gateway.errors import (
    BadJson,
    MethodNotAllowed,
    PayloadTooLarge,
    RateLimited,
    RouteNotFound,
    error_response,
)
from services.common.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    Unauthorized,
    Unavailable,
)
from services.common.rpc import Timeout


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (Invalid("bad", {"phone": "must be 11 digits"}), 422, "invalid"),
        (NotFound("no such item"), 404, "not_found"),
        (Unauthorized("no token"), 401, "unauthorized"),
        (Forbidden("not yours"), 403, "forbidden"),
        (Conflict("already"), 409, "conflict"),
        (Unavailable("down"), 503, "unavailable"),
        (Timeout("slow"), 504, "timeout"),
        (BadJson("not json"), 400, "bad_json"),
        (RouteNotFound("no route"), 404, "not_found"),
        (MethodNotAllowed("no", allowed=["GET"]), 405, "method_not_allowed"),
        (PayloadTooLarge("big"), 413, "payload_too_large"),
        (RateLimited("slow down", retry_after=3), 429, "rate_limited"),
        (RemoteError("Conflict", '{"message": "taken", "fields": {}}'), 409, "conflict"),
        (RemoteError("KeyError", "'x'"), 500, "internal"),
        (KeyError("secret detail"), 500, "internal"),
        (RemoteMethodNotFound("list_regions"), 503, "unavailable"),
    ],
)
def test_error_table(exc, status, code):
    response = error_response(exc, "cid")
    body = json.loads(response.get_data())
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code
    if status == 500:
        assert "secret" not in body["error"]["message"]


def test_fields_are_flattened_to_dotted_paths():
    exc = Invalid("bad", {"delivery": {"address": ["Missing data for required field."]}})
    body = json.loads(error_response(exc).get_data())
    assert body["error"]["fields"] == {"delivery.address": "Missing data for required field."}


def test_retry_after_and_allow_headers():
    assert error_response(RateLimited("x", retry_after=7)).headers["Retry-After"] == "7"
    assert (
        error_response(MethodNotAllowed("x", allowed=["POST", "GET"])).headers["Allow"]
        == "GET, POST"
    )
