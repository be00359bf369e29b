"""Health, readiness and metrics endpoints every service process exposes."""

import json

import sqlalchemy as sa
from kombu import Connection
from nameko.dependency_providers import Config
from nameko.web.handlers import http
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from werkzeug.wrappers import Response

from services.common.config import amqp_uri


def json_response(status: int, body: dict) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json"
    )


class OpsEntrypoints:
    """Mixed into a service class that has a ``uow`` (Database) dependency.

    /healthz says the process is alive; /readyz that it can reach its database
    and the broker, so it should get traffic.
    """

    config = Config()

    @http("GET", "/healthz")
    def healthz(self, request):
        return json_response(200, {"status": "ok", "service": self.name})

    @http("GET", "/readyz")
    def readyz(self, request):
        checks = {}
        try:
            with self.uow:
                self.uow.session.execute(sa.text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:  # noqa: BLE001  (a probe reports, never crashes)
            checks["database"] = f"failed: {type(exc).__name__}"
        try:
            with Connection(amqp_uri(self.config), connect_timeout=2) as connection:
                connection.ensure_connection(max_retries=1, timeout=2)
            checks["broker"] = "ok"
        except Exception as exc:  # noqa: BLE001  (a probe reports, never crashes)
            checks["broker"] = f"failed: {type(exc).__name__}"
        ready = all(value == "ok" for value in checks.values())
        body = {"status": "ready" if ready else "not ready", "checks": checks}
        # A service may add warnings an operator should see (never "not ready").
        warn = getattr(self, "warnings", None)
        if ready and callable(warn):
            try:
                body["warnings"] = warn()
            except Exception as exc:  # noqa: BLE001  (a probe reports, never crashes)
                body["warnings"] = {"warnings": f"failed: {type(exc).__name__}"}
        return json_response(200 if ready else 503, body)

    @http("GET", "/metrics")
    def metrics(self, request):
        return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)
