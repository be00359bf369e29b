"""The scaffold every simulator shares (simulators/server.py): the background
server, JSON answers, the API key check and the main loop's clean stop."""

import json
import logging
import os
import signal
import threading

import pytest
import requests
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from simulators.server import BackgroundServer, has_api_key, json_response, serve_until_signalled


@Request.application
def echo(request):
    return Response(request.path, content_type="text/plain")


class Closing(BackgroundServer):
    def __init__(self):
        super().__init__("127.0.0.1", 0, echo, name="closing")
        self.closed = 0

    def close(self):
        self.closed += 1


def test_a_server_serves_on_a_free_port_until_stopped():
    server = Closing()
    assert server.port > 0 and server.url == f"http://127.0.0.1:{server.port}"
    with server:
        assert requests.get(f"{server.url}/hello", timeout=2).text == "/hello"
    assert server.closed == 1
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{server.url}/hello", timeout=1)


def test_a_server_never_started_stops_cleanly():
    server = Closing()
    server.stop()
    assert server.closed == 1


def test_json_answers_keep_chinese_readable():
    response = json_response({"name": "张三"}, 201, {"X-Extra": "1"})
    assert response.status_code == 201
    assert response.content_type == "application/json; charset=utf-8"
    assert response.headers["X-Extra"] == "1"
    assert "张三" in response.get_data(as_text=True)
    assert json.loads(response.get_data()) == {"name": "张三"}


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"X-Api-Key": "k"}, True),
        ({"X-Api-Key": "K"}, False),
        ({}, False),
        ({"X-Api-Key": "ключ"}, False),
    ],
)
def test_the_api_key_must_match_exactly(headers, expected):
    request = Request(EnvironBuilder(headers=headers).get_environ())
    assert has_api_key(request, b"k") is expected


def test_main_serves_until_sigterm_then_stops():
    server = Closing()
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    answered = []

    def ask_then_terminate():
        answered.append(requests.get(f"{server.url}/up", timeout=5).text)
        os.kill(os.getpid(), signal.SIGTERM)

    try:
        threading.Timer(0.2, ask_then_terminate).start()
        serve_until_signalled(server, started="test")
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    assert answered == ["/up"]
    assert server.closed == 1


def test_requests_are_logged_without_their_query(caplog):
    with caplog.at_level(logging.INFO, logger="werkzeug"), Closing() as server:
        requests.get(f"{server.url}/api/messages?phone=13800000001", timeout=2)
    logged = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any('"GET /api/messages" 200' in line for line in logged), logged
    assert not any("13800000001" in line for line in logged)
