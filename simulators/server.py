"""What every simulator's process shares: its WSGI app's routing and API key
check (:class:`JsonApi`), JSON answers and bodies, the app served in a background
thread, the command line's listening address, and a ``main`` that runs until
SIGTERM or SIGINT.

A simulator is a werkzeug WSGI app (its HTTP API, a :class:`JsonApi`) over an
in-memory model. Its server subclasses :class:`BackgroundServer`, so tests start
one on a free port (``port=0``) with ``with ...Server(...) as server:
server.url``, and its ``__main__`` hands the server to
:func:`serve_until_signalled`.
"""

from __future__ import annotations

import argparse
import hmac
import json
import logging
import signal
import threading
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Self

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

log = logging.getLogger(__name__)

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
MAX_BODY_BYTES = 64 * 1024
# The ``code`` of a coded error answer, by HTTP status.
ERROR_CODES = {
    400: "invalid",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    503: "unavailable",
}


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


def coded_error_response(
    status: int, message: str, fields: dict[str, str] | None = None
) -> Response:
    """``{"error": {"code", "message", "fields"}}`` with the code of ``status``
    (:data:`ERROR_CODES`; ``error`` for any other)."""
    code = ERROR_CODES.get(status, "error")
    return json_response(
        {"error": {"code": code, "message": message, "fields": dict(fields or {})}}, status
    )


def json_body(request: Request, max_bytes: int = MAX_BODY_BYTES) -> Any:
    """The JSON body, or None when there is none, it is too long or unreadable."""
    if (request.content_length or 0) > max_bytes:
        return None
    return request.get_json(silent=True, force=True)


class JsonApi:
    """A simulator's WSGI app: routes a request by ``url_map`` to the method named
    by its endpoint, called with the request and the rule's arguments. Every
    endpoint but ``health`` (``GET /healthz``) needs ``X-Api-Key``. A routing
    failure or a missing key is answered by :meth:`error_response`, which a
    subclass replaces to speak its party's error shape."""

    url_map: ClassVar[Map]

    def __init__(self, api_key: str):
        self._api_key = api_key.encode("utf-8")

    def __call__(self, environ, start_response):
        return self.dispatch(Request(environ))(environ, start_response)

    def error_response(
        self, status: int, message: str, fields: dict[str, str] | None = None
    ) -> Response:
        return coded_error_response(status, message, fields)

    def dispatch(self, request: Request) -> Response:
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, arguments = adapter.match()
        except HTTPException as error:
            return self.error_response(error.code or 500, error.description or error.name)
        if endpoint != "health" and not has_api_key(request, self._api_key):
            return self.error_response(401, "missing or invalid X-Api-Key")
        return self.handle(request, endpoint, arguments)

    def handle(self, request: Request, endpoint: str, arguments: dict[str, Any]) -> Response:
        """Call the endpoint's method; a subclass wraps this to answer its
        model's own failures."""
        return getattr(self, endpoint)(request, **arguments)

    def health(self, request: Request) -> Response:
        return json_response({"status": "ok"})


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


def argument_parser(
    prog: str, description: str, *, environ: Mapping[str, str], prefix: str, default_port: int
) -> argparse.ArgumentParser:
    """A simulator's command line with ``--host`` and ``--port`` (defaults from
    ``$<prefix>_HOST`` and ``$<prefix>_PORT``, flags win) and ``--log-level``;
    the caller adds its own flags."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument(
        "--host",
        default=environ.get(f"{prefix}_HOST") or "127.0.0.1",
        help=f"address to listen on (default: ${prefix}_HOST or 127.0.0.1)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(environ.get(f"{prefix}_PORT") or default_port),
        help=f"port (default: ${prefix}_PORT or {default_port})",
    )
    parser.add_argument("--log-level", default="INFO")
    return parser


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
