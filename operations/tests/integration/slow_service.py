"""A service whose one endpoint takes as long as it is asked to, for shutdown tests."""

import eventlet
from nameko.web.handlers import http


class SlowService:
    name = "slow"

    @http("GET", "/slow/<float:seconds>")
    def slow(self, request, seconds):
        eventlet.sleep(seconds)
        return 200, "finished"

    @http("GET", "/healthz")
    def healthz(self, request):
        return 200, "ok"
