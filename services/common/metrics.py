"""Prometheus metrics shared by every service."""

import logging
import time
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field

from eventlet.semaphore import Semaphore
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


Sample = tuple[tuple, float]

DEFAULT_READ_SECONDS = 15.0


@dataclass(frozen=True)
class Reading:
    """A gauge read from a service's database when Prometheus scrapes.

    ``read`` returns ``[(label values, number), ...]``, the label values in the
    order of ``labels``. A service hands its readings to the ``Database``
    dependency (``Database(..., gauges=...)``), which registers them here.
    """

    name: str
    documentation: str
    labels: tuple[str, ...]
    read: Callable[[], Iterable[Sample]]


@dataclass
class _CachedReading:
    reading: Reading
    max_age: float
    # One read at a time: a second scrape waits for the first one's result
    # instead of running the same query again.
    lock: Semaphore = field(default_factory=Semaphore)
    read_at: float | None = None
    samples: list[Sample] | None = None


class ReadingCollector:
    """Collects registered readings at scrape time.

    Each reading is read at most once per ``max_age`` seconds, however many
    scrapers ask; a reading that fails is logged and left out of the scrape
    (and not retried before ``max_age`` either, so a struggling database is not
    asked again by every scrape).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._registered: dict[Hashable, list[_CachedReading]] = {}

    def register(
        self, owner: Hashable, readings: Iterable[Reading], max_age: float = DEFAULT_READ_SECONDS
    ) -> None:
        """Register ``owner``'s readings, replacing any it registered before."""
        readings = list(readings)
        for reading in readings:
            for other in self._readings(excluding=owner):
                if other.name == reading.name and other.labels != reading.labels:
                    raise ValueError(
                        f"{reading.name} is already read with labels {other.labels}, "
                        f"not {reading.labels}"
                    )
        self._registered[owner] = [_CachedReading(reading, float(max_age)) for reading in readings]

    def unregister(self, owner: Hashable) -> None:
        self._registered.pop(owner, None)

    def describe(self):
        # Nothing to declare up front: what is read depends on the services
        # running in this process.
        return []

    def collect(self):
        families: dict[str, GaugeMetricFamily] = {}
        # A copy: a read yields to other greenthreads, which may register.
        for cached in [c for entries in list(self._registered.values()) for c in entries]:
            samples = self._samples(cached)
            if samples is None:
                continue
            reading = cached.reading
            family = families.get(reading.name)
            if family is None:
                family = families[reading.name] = GaugeMetricFamily(
                    reading.name, reading.documentation, labels=list(reading.labels)
                )
            for labels, value in samples:
                family.add_metric(list(labels), value)
        yield from families.values()

    def _readings(self, excluding: Hashable) -> list[Reading]:
        return [
            cached.reading
            for owner, entries in self._registered.items()
            if owner != excluding
            for cached in entries
        ]

    def _samples(self, cached: _CachedReading) -> list[Sample] | None:
        with cached.lock:
            now = self._clock()
            if cached.read_at is not None and now - cached.read_at < cached.max_age:
                return cached.samples
            try:
                samples = [
                    (tuple(str(value) for value in labels), float(number))
                    for labels, number in cached.reading.read()
                ]
            except Exception:  # a scrape must not fail because the database is down
                log.warning(
                    "could not read a gauge",
                    exc_info=True,
                    extra={"metric": cached.reading.name},
                )
                samples = None
            cached.read_at = now
            cached.samples = samples
            return samples


_reading_collector = ReadingCollector()
REGISTRY.register(_reading_collector)


def register_readings(
    owner: Hashable, readings: Iterable[Reading], max_age: float = DEFAULT_READ_SECONDS
) -> None:
    _reading_collector.register(owner, readings, max_age)


def unregister_readings(owner: Hashable) -> None:
    _reading_collector.unregister(owner)


def outcome_of(exc_info) -> str:
    if exc_info is None:
        return "ok"
    code = getattr(exc_info[1], "code", None)
    return code if isinstance(code, str) else "error"


class Instrumentation(DependencyProvider):
    """Times and counts every entrypoint by outcome (``ok``, an error's code, or
    ``error`` for an unexpected exception, which nameko logs with its traceback)
    and puts the correlation id on the worker's log lines."""

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

    def worker_teardown(self, worker_ctx):
        token = getattr(worker_ctx, "_tongban_token", None)
        if token is not None:
            try:
                logs.correlation_id.reset(token)
            except ValueError:  # set in another context; nothing to undo
                pass

    def get_dependency(self, worker_ctx):
        return None
