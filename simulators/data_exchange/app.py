"""The simulator's HTTP side: a werkzeug WSGI app over the registers, and its
server (``simulators.server.BackgroundServer``).

API (JSON bodies; ID numbers travel in bodies only, never in URLs). Every path
but ``/healthz`` needs the header ``X-Api-Key``.

- ``GET /healthz`` -> 200 ``{"status": "ok"}``
- ``POST /api/civil-affairs/marital-status`` ``{id_number}`` -> 200
  ``{"result": "found", "record": {marital_status, spouse_id_number|null}}``
  (single, married, divorced or widowed; the spouse's number when married) or
  200 ``{"result": "no_record"}``
- ``POST /api/housing/homes-owned`` ``{id_number, city_code}`` (a city's
  division code, ``320100``) -> 200 ``{"result": "found", "record": {city_code,
  homes_owned}}`` (0 when the person owns none in that city) or 200
  ``{"result": "no_record"}`` (the register knows nothing of the person)
- ``POST /admin/records`` ``{id_number, civil_affairs?: {marital_status,
  spouse_id_number?}|null, housing?: {homes_owned: {city code: count}}|null}``
  -> 200 ``{"changed": [register, ...]}``: replaces the person's entry in each
  register given; null removes it (that register then answers no record)
- ``POST /admin/outages`` ``{register: civil_affairs|housing, down: bool}`` ->
  200 ``{"down": [register, ...]}``: a register that is down answers 503

Errors are ``{"error": {"code", "message", "fields"}}``: 400 ``invalid`` (fields
name each problem), 401 ``unauthorized``, 404 ``not_found`` (no such path, never
a person), 405 ``method_not_allowed``, 503 ``unavailable``.
"""

from __future__ import annotations

import logging
from typing import Any

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from ..server import BackgroundServer, JsonApi, json_body, json_response
from .records import REGISTERS, RegisterDown, Registers, check_person, check_query

log = logging.getLogger(__name__)

# Development defaults only; deployments set DATA_EXCHANGE_API_KEY.
DEFAULT_API_KEY = "dev-data-exchange-api-key"
DEFAULT_PORT = 8300
FOUND = "found"
NO_RECORD = "no_record"


def answer(record: dict[str, Any] | None) -> Response:
    if record is None:
        return json_response({"result": NO_RECORD})
    return json_response({"result": FOUND, "record": record})


class DataExchangeApi(JsonApi):
    """The WSGI app; see the module's docstring for the API."""

    url_map = Map(
        [
            Rule("/healthz", endpoint="health", methods=["GET"]),
            Rule("/api/civil-affairs/marital-status", endpoint="marital_status", methods=["POST"]),
            Rule("/api/housing/homes-owned", endpoint="homes_owned", methods=["POST"]),
            Rule("/admin/records", endpoint="put_records", methods=["POST"]),
            Rule("/admin/outages", endpoint="set_outage", methods=["POST"]),
        ]
    )

    def __init__(self, registers: Registers, api_key: str):
        super().__init__(api_key)
        self.registers = registers

    def handle(self, request: Request, endpoint: str, arguments: dict[str, Any]) -> Response:
        try:
            return super().handle(request, endpoint, arguments)
        except RegisterDown as down:
            return self.error_response(503, str(down))

    def marital_status(self, request: Request) -> Response:
        query, problems = check_query(json_body(request), with_city=False)
        if problems:
            return self.error_response(400, "invalid query", problems)
        return answer(self.registers.marriage(query["id_number"]))

    def homes_owned(self, request: Request) -> Response:
        query, problems = check_query(json_body(request), with_city=True)
        if problems:
            return self.error_response(400, "invalid query", problems)
        return answer(self.registers.homes_owned(query["id_number"], query["city_code"]))

    def put_records(self, request: Request) -> Response:
        person, problems = check_person(json_body(request))
        if person is None:
            return self.error_response(400, "invalid record", problems)
        changed = self.registers.put(person)
        log.info("records replaced in %s", ", ".join(changed))
        return json_response({"changed": changed})

    def set_outage(self, request: Request) -> Response:
        body = json_body(request)
        if (
            not isinstance(body, dict)
            or set(body) != {"register", "down"}
            or body["register"] not in REGISTERS
            or not isinstance(body["down"], bool)
        ):
            return self.error_response(
                400,
                "invalid outage",
                {"body": f"must be {{register: {' or '.join(REGISTERS)}, down: true or false}}"},
            )
        down = self.registers.set_down(body["register"], body["down"])
        log.info("registers down: %s", ", ".join(down) or "none")
        return json_response({"down": down})


class SimulatorServer(BackgroundServer):
    """The simulator on ``host:port`` (0 picks a free port); ``start()`` serves
    in a background thread, ``stop()`` ends it."""

    def __init__(self, host: str, port: int, *, api_key: str, registers: Registers):
        self.registers = registers
        super().__init__(
            host, port, DataExchangeApi(registers, api_key), name="data-exchange-simulator"
        )
