"""nameko dependencies shared by every service: the database and its relay."""

import logging
import time
from collections.abc import Callable

import eventlet
from eventlet.event import Event
from nameko.extensions import DependencyProvider

from services.common import metrics
from services.common.config import amqp_uri, database_url
from services.common.db import UnitOfWork, core_sessions, make_engine
from services.common.messaging import retention
from services.common.messaging.envelope import utcnow
from services.common.messaging.publisher import ConfirmingPublisher, PublishFailed
from services.common.messaging.relay import OutboxRelay
from services.common.timers import OUTAGES as TIMER_OUTAGES

# What an outage of the broker or the database raises in the relay.
OUTAGES = (*TIMER_OUTAGES, PublishFailed)

log = logging.getLogger(__name__)


class Database(DependencyProvider):
    """Gives each worker a fresh unit of work; relays the outbox in the background.

    ``Database(IdentityUnitOfWork)`` in a service class; the unit of work class
    names the metadata whose ``outbox`` table the relay reads. ``source`` is the
    name the unit of work emits events under (exchange ``<source>.events``); by
    default the container's service name. Several instances of one service with
    their own names (``workflow-js-ga``) emit under the one source
    (``Database(WorkflowUnitOfWork, source="workflow")``) while the database stays
    the instance's own.

    ``gauges(new_uow, service_name)`` answers the service's scrape-time gauges
    (``metrics.Reading``); ``new_uow()`` gives a unit of work of its own to each
    read. They are served on /metrics while the container runs, each read at
    most once per ``METRICS_READ_SECONDS``.
    """

    def __init__(
        self,
        uow_class,
        relay: bool = True,
        source: str | None = None,
        gauges: Callable[[Callable[[], UnitOfWork], str], list[metrics.Reading]] | None = None,
    ):
        self.uow_class = uow_class
        self.source = source
        self.relay_enabled = relay
        self.gauges = gauges
        self.engine = None
        self.session_factory = None
        self.relay = None
        self.retention = None
        self._prune_due_at = None
        self._wakeup = None
        self._running = False
        self._relay_thread = None

    def setup(self):
        config = self.container.config
        url = database_url(self.container.service_name, config)
        pool_size = int(config.get("max_workers", 10))
        self.engine = make_engine(url, pool_size=pool_size)
        self.session_factory = core_sessions(self.engine)
        outbox = self.uow_class.metadata.tables["outbox"]
        self.relay = OutboxRelay(
            self.engine,
            outbox,
            ConfirmingPublisher(amqp_uri(config)),
            batch_size=int(config.get("OUTBOX_BATCH_SIZE", 200)),
        )
        metrics.register_outbox(self.container.service_name, self.relay)
        self.retention = retention.Retention.configured(
            self.engine, outbox, self.uow_class.metadata.tables["handled_events"], config
        )
        if self.gauges is not None:
            metrics.register_readings(
                self,
                self.gauges(self.read_only_uow, self.container.service_name),
                max_age=float(config.get("METRICS_READ_SECONDS", metrics.DEFAULT_READ_SECONDS)),
            )

    def read_only_uow(self) -> UnitOfWork:
        """A unit of work outside any worker, for reads that commit nothing."""
        return self.uow_class(
            self.session_factory, source=self.event_source, config=self.container.config
        )

    def start(self):
        if not self.relay_enabled:
            return
        self._running = True
        self._wakeup = Event()
        self._relay_thread = self.container.spawn_managed_thread(
            self._relay_loop, identifier="outbox-relay"
        )

    def stop(self):
        metrics.unregister_readings(self)
        self._running = False
        self.wake_relay()
        if self._relay_thread is not None:
            # One last pass publishes what the last workers committed.
            self._relay_thread.wait()
        if self.engine is not None:
            self.engine.dispose()

    def kill(self):
        metrics.unregister_readings(self)
        self._running = False
        if self._relay_thread is not None:
            self._relay_thread.kill()

    def wake_relay(self):
        wakeup = self._wakeup
        if wakeup is not None and not wakeup.ready():
            wakeup.send(True)

    def _relay_loop(self):
        poll = float(self.container.config.get("OUTBOX_POLL_SECONDS", 0.5))
        failures = 0
        while True:
            running = self._running
            # A fresh event before the round: a commit while the round
            # publishes wakes the next one at once (after it, such a commit
            # waited for the next commit or the poll).
            self._wakeup = Event()
            try:
                self.relay.relay_all()
                self._prune_when_due()
                failures = 0
            except OUTAGES as exc:
                # The broker or the database is away: the rows wait in the outbox.
                failures += 1
                log.warning(
                    "outbox relay waits for the broker or the database",
                    extra={"error": type(exc).__name__, "failures": failures},
                )
            except Exception:
                failures += 1
                log.warning("outbox relay failed; will retry", exc_info=True)
            if not running:
                self.relay.publisher.close()
                return
            delay = poll if failures == 0 else min(30.0, poll * 2**failures)
            if failures:
                # Waiting out an outage: commits in between do not cut it short.
                self._wakeup = Event()
            with eventlet.Timeout(delay, False):
                self._wakeup.wait()

    def _prune_when_due(self) -> None:
        """Delete what the retention windows let go (see ``retention``): a
        batch of each between two relay rounds while more is due, then again
        PRUNE_SECONDS (3600) later."""
        every = float(self.container.config.get("PRUNE_SECONDS", 3600))
        now = time.monotonic()
        if self._prune_due_at is not None and now < self._prune_due_at:
            return
        outbox_rows, handled = self.retention.prune(utcnow())
        more = max(outbox_rows, handled) >= self.retention.batch_size
        self._prune_due_at = None if more else now + every
        if outbox_rows or handled:
            log.info(
                "pruned sent events and handled-event records",
                extra={"outbox_rows": outbox_rows, "handled_events": handled},
            )

    @property
    def event_source(self) -> str:
        return self.source or self.container.service_name

    def get_dependency(self, worker_ctx):
        correlation_id = worker_ctx.data.get("correlation_id") or worker_ctx.call_id
        return self.uow_class(
            self.session_factory,
            source=self.event_source,
            correlation_id=correlation_id,
            on_commit=self.wake_relay,
            config=self.container.config,
        )
