"""The image's HEALTHCHECK command against a real HTTP listener."""

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from operations import healthcheck


@pytest.mark.parametrize(
    ("address", "url"),
    [
        ("0.0.0.0:8101", "http://127.0.0.1:8101/healthz"),
        ("127.0.0.1:8000", "http://127.0.0.1:8000/healthz"),
        ("[::]:8103", "http://127.0.0.1:8103/healthz"),
        ("", "http://127.0.0.1:8000/healthz"),
    ],
)
def test_health_url_asks_this_container(address, url):
    assert healthcheck.health_url(address) == url


@pytest.fixture
def server():
    status = {"code": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802  (http.server's name)
            self.send_response(status["code"] if self.path == "/healthz" else 404)
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1], status
    httpd.shutdown()
    httpd.server_close()


def test_healthy_when_healthz_answers_200(server, monkeypatch):
    port, _ = server
    monkeypatch.setenv("WEB_SERVER_ADDRESS", f"0.0.0.0:{port}")
    assert healthcheck.main() == 0


def test_unhealthy_when_healthz_fails(server, monkeypatch):
    port, status = server
    status["code"] = 503
    monkeypatch.setenv("WEB_SERVER_ADDRESS", f"0.0.0.0:{port}")
    assert healthcheck.main() == 1


def test_unhealthy_when_nothing_listens(free_port, monkeypatch, capsys):
    monkeypatch.setenv("WEB_SERVER_ADDRESS", f"127.0.0.1:{free_port()}")
    assert healthcheck.main() == 1
    assert "unhealthy" in capsys.readouterr().err
