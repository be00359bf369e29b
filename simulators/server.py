"""What every simulator's process shares: its WSGI app served in a background
thread, JSON answers, the API key check, and a ``main`` that runs until SIGTERM
or SIGINT.

A simulator is a werkzeug WSGI app (its HTTP API) over an in-memory model. Its
server subclasses :class:`BackgroundServer`, so tests start one on a free port
(``port=0``) with ``with ...Server(...) as server: server.url``, and its
``__main__`` hands the server to :func:`serve_until_signalled`.
"""

from __future__ import annotations

import hmac
import json
import logging
import signal
import threading
from collections.abc import Callable
from typing import Any, Self

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

log = logging.getLogger(__name__)

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """``body`` as UTF-8 JSON (Chinese text kept readable)."""
    return Response(
        json.dumps(body, ensure_ascii=False),
        status=status,
        headers=headers,
        content_type="application/json; charset=utf-8",
    )


def has_api_key(request: Request, api_key: bytes) -> bool:
    """Whether the request's ``X-Api-Key`` header is ``api_key`` (compared in
    constant time)."""
    given = request.headers.get("X-Api-Key", "").encode("utf-8")
    return hmac.compare_digest(given, api_key)


class RequestHandler(WSGIRequestHandler):
    """werkzeug's handler, logging each request without its query string: a
    query may carry personal data (an SMS inbox is asked for by phone number)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = getattr(self, "path", None)
        if path is None:  # a request line that did not read
            super().log_request(code, size)
            return
        self.log("info", '"%s %s" %s %s', self.command, path.split("?", 1)[0], code, size)


class BackgroundServer:
    """``app`` on ``host:port`` (0 picks a free port), each request on a thread
    of its own; ``start()`` serves in a background thread, ``stop()`` ends it.
    Also a context manager. A subclass releases what its app holds (timers,
    senders) by extending :meth:`close`, which ``stop()`` calls first."""

    def __init__(self, host: str, port: int, app: Callable, *, name: str):
        self.app = app
        self.name = name
        self._server = make_server(host, port, app, threaded=True, request_handler=RequestHandler)
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return self._server.server_address[0]

    @property
    def port(self) -> int:
        return self._server.server_port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=self.name, daemon=True
        )
        self._thread.start()
        log.info("%s listening on %s", self.name, self.url)
        return self

    def close(self) -> None:
        """Release what the app holds; called before the server stops."""

    def stop(self) -> None:
        self.close()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def configure_logging(level: str) -> None:
    """Plain-text logs at ``level`` (INFO, DEBUG, ...) on standard error."""
    logging.basicConfig(level=level.upper(), format=LOG_FORMAT)


def serve_until_signalled(server: BackgroundServer, *, started: str = "") -> None:
    """Serve until SIGTERM or SIGINT, then stop cleanly; ``started`` is logged
    once the server listens. Call from the main thread (signal handlers)."""
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda number, frame: stopping.set())
    server.start()
    if started:
        log.info("%s: %s", server.name, started)
    stopping.wait()
    log.info("%s stopping", server.name)
    server.stop()
    log.info("%s stopped", server.name)
