"""Prometheus metrics shared by every service."""

import logging
import time

from nameko.extensions import DependencyProvider
from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from services.common import logs

log = logging.getLogger(__name__)

ENTRYPOINT_SECONDS = Histogram(
    "tongban_entrypoint_seconds",
    "Time spent in an entrypoint, by outcome.",
    ["service", "entrypoint", "outcome"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
BUSINESS_EVENTS = Counter(
    "tongban_business_events",
    "Business facts recorded (events written to the outbox), by type.",
    ["service", "event_type"],
)


class _OutboxCollector:
    """Reads the outbox of every relay in this process at scrape time."""

    def __init__(self):
        self.relays: dict[str, object] = {}

    def collect(self):
        backlog = GaugeMetricFamily(
            "tongban_outbox_backlog",
            "Outbox rows not yet published.",
            labels=["service"],
        )
        published = CounterMetricFamily(
            "tongban_outbox_published",
            "Events published by this process.",
            labels=["service"],
        )
        unrouted = CounterMetricFamily(
            "tongban_outbox_unrouted",
            "Events published that no queue was bound to take.",
            labels=["service"],
        )
        for service, relay in sorted(self.relays.items()):
            try:
                backlog.add_metric([service], relay.backlog())
            except Exception:  # a scrape must not fail because the database is down
                log.warning("could not count the outbox backlog", exc_info=True)
            published.add_metric([service], relay.published_total)
            unrouted.add_metric([service], relay.unrouted_total)
        yield backlog
        yield published
        yield unrouted


_outbox_collector = _OutboxCollector()
REGISTRY.register(_outbox_collector)


def register_outbox(service: str, relay) -> None:
    _outbox_collector.relays[service] = relay


def outcome_of(exc_info) -> str:
    if exc_info is None:
        return "ok"
    code = getattr(exc_info[1], "code", None)
    return code if isinstance(code, str) else "error"


class Instrumentation(DependencyProvider):
    """Times every entrypoint and puts the correlation id on its log lines."""

    def worker_setup(self, worker_ctx):
        worker_ctx.data.setdefault("correlation_id", worker_ctx.call_id)
        worker_ctx._tongban_started = time.perf_counter()
        worker_ctx._tongban_token = logs.correlation_id.set(worker_ctx.data["correlation_id"])

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        started = getattr(worker_ctx, "_tongban_started", None)
        if started is None:
            return
        ENTRYPOINT_SECONDS.labels(
            self.container.service_name,
            worker_ctx.entrypoint.method_name,
            outcome_of(exc_info),
        ).observe(time.perf_counter() - started)
        if exc_info is not None and outcome_of(exc_info) == "error":
            log.error(
                "entrypoint failed",
                exc_info=exc_info,
                extra={"entrypoint": worker_ctx.entrypoint.method_name},
            )

    def worker_teardown(self, worker_ctx):
        token = getattr(worker_ctx, "_tongban_token", None)
        if token is not None:
            try:
                logs.correlation_id.reset(token)
            except ValueError:  # set in another context; nothing to undo
                pass

    def get_dependency(self, worker_ctx):
        return None
