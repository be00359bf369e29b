"""The baseline: a nameko HTTP endpoint that returns small JSON and does nothing else."""

import json

from nameko.web.handlers import http
from werkzeug.wrappers import Response


class BareService:
    name = "bench_bare"

    @http("GET", "/bare")
    def bare(self, request):
        return Response(json.dumps({"status": "ok"}), mimetype="application/json")
