"""The faults, one function each. A scenario does its harm while the load runs
and returns when the harm is over (the broker started again, the last process
killed); the runner then waits for the recovery and checks the invariants.

Scenarios 1 and 3 stop the machine's broker and PostgreSQL, which other test
runs share: only ``make faults`` runs them, never ``--quick``.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from statistics import mean

import requests
from kombu import Connection, Exchange, Producer

from services.common import drills
from tests.faults.cluster import (
    PG_ADMIN_URL,
    FaultCluster,
    broker_connections,
    database_connections,
    rabbitmqctl,
    resident_kib,
)
from tests.faults.load import Load

SERVICE_ORDER = ["identity", "catalog", "workflow", "courier", "ratings", "workflow-js-ga"]


@dataclass
class Context:
    fc: FaultCluster
    load: Load
    quick: bool
    say: Callable[[str], None] = print


@dataclass
class Fault:
    """What a scenario did: when the harm began and ended, what it noted, the
    ids of the poison events it published, and whether its own check failed."""

    started: float = field(default_factory=time.time)
    ended: float = 0.0
    notes: list[str] = field(default_factory=list)
    poison_ids: set[str] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)

    def end(self) -> Fault:
        self.ended = time.time()
        return self


@dataclass(frozen=True)
class Scenario:
    number: int
    name: str
    run: Callable[[Context], Fault]
    stops_shared_infrastructure: bool = False


def _run(*command: str) -> str:
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)}: {result.stderr.strip() or result.stdout.strip()}")
    return result.stdout


# ------------------------------------------------------------------ 1 broker


def broker_stopped(ctx: Context) -> Fault:
    """The broker's application stopped for 20 s (port 5672 closes), then started."""
    seconds = 20
    fault = Fault()
    try:
        _run("rabbitmqctl", "stop_app")
        time.sleep(1)
        closed = not port_open(5672)
        fault.notes.append(
            f"rabbitmqctl stop_app: port 5672 {'closed' if closed else 'STILL OPEN'}"
        )
        time.sleep(seconds - 1)
    finally:
        _run("rabbitmqctl", "start_app")  # the machine's broker: always started again
    fault.notes.append(f"rabbitmqctl start_app after {seconds} s")
    return fault.end()


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


# ---------------------------------------------------------- 2 connections


def connections_closed(ctx: Context) -> Fault:
    """Every connection to the cluster's virtual host closed by the broker at once."""
    fault = Fault()
    before = broker_connections(ctx.fc.vhost)
    if rabbitmqctl("close_all_connections", "-p", ctx.fc.vhost, "drill") is None:
        fault.failures.append("rabbitmqctl close_all_connections failed")
    fault.notes.append(f"closed {before} connections of vhost {ctx.fc.vhost}")
    fault.end()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        now_open = broker_connections(ctx.fc.vhost) or 0
        if now_open >= (before or 0):
            break
        time.sleep(0.5)
    fault.notes.append(f"{now_open} open again {time.time() - fault.ended:.1f} s later")
    return fault


# ----------------------------------------------------------- 3 PostgreSQL


def postgres_cluster(port: int) -> tuple[str, str]:
    """(version, name) of the local PostgreSQL cluster on ``port`` (pg_lsclusters)."""
    for line in _run("pg_lsclusters", "--no-header").splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[2] == str(port):
            return parts[0], parts[1]
    raise RuntimeError(f"pg_lsclusters lists no cluster on port {port}")


def postgres_stopped(ctx: Context) -> Fault:
    """The PostgreSQL cluster of the suite's databases (the machine's main one
    unless FAULTS_DATABASE_URL names another) stopped for 15 s, then started."""
    if ctx.fc.database != "postgresql":
        fault = Fault()
        fault.notes.append("skipped: the cluster runs on SQLite")
        return fault.end()
    port = PG_ADMIN_URL.port or 5432
    (version, name), seconds = postgres_cluster(port), 15
    fault = Fault()
    control = ["pg_ctlcluster", "--skip-systemctl-redirect", version, name]
    try:
        _run(*control, "stop")
        closed = not port_open(port)
        fault.notes.append(
            f"pg_ctlcluster {version} {name} stop: port {port}"
            f" {'closed' if closed else 'STILL OPEN'}"
        )
        time.sleep(seconds)
    finally:
        _run(*control, "start")  # shared with other runs: always started again
    fault.notes.append(f"started again after {seconds} s")
    return fault.end()


# ------------------------------------------------------------- 4 SIGKILL


def wait_restarted(ctx: Context, name: str, since_starts: int, timeout: float = 120) -> bool:
    """Wait until the supervisor started ``name`` again and it answers /readyz."""
    deadline = time.monotonic() + timeout
    process = ctx.fc.process(name)
    while time.monotonic() < deadline:
        if process.starts > since_starts and process.popen.poll() is None:
            try:
                if requests.get(ctx.fc.ready_url(process), timeout=2).status_code == 200:
                    return True
            except requests.RequestException:
                pass
        time.sleep(0.3)
    return False


def workflow_killed(ctx: Context) -> Fault:
    """A workflow process killed with SIGKILL while an approval is in flight,
    five times (the replicas in turn); the supervisor starts it again."""
    fault = Fault()
    names = [p.name for p in ctx.fc.service_processes("workflow")]
    for round_ in range(5):
        name = names[round_ % len(names)]
        in_flight = ctx.load.wait_in_flight("approve", timeout=30)
        process = ctx.fc.process(name)
        starts = process.starts
        ctx.fc.signal(name, signal.SIGKILL)
        fault.notes.append(
            f"SIGKILL {name} (pid {process.popen.pid})"
            + (", an approval in flight" if in_flight else ", no approval in flight in 30 s")
        )
        if not wait_restarted(ctx, name, starts):
            fault.failures.append(f"{name} not ready 120 s after SIGKILL")
            break
    return fault.end()


# ------------------------------------------------------------- 5 SIGTERM


def services_restarted(ctx: Context) -> Fault:
    """Every service process stopped by SIGTERM in turn, each one back before the next."""
    fault = Fault()
    for service in SERVICE_ORDER:
        for process in ctx.fc.service_processes(service):
            starts = process.starts
            ctx.fc.signal(process.name, signal.SIGTERM)
            try:
                process.popen.wait(60)  # the supervisor's lines say the exit code
            except subprocess.TimeoutExpired:
                fault.failures.append(f"{process.name} still running 60 s after SIGTERM")
                continue
            if not wait_restarted(ctx, process.name, starts):
                fault.failures.append(f"{process.name} not ready 120 s after SIGTERM")
    return fault.end()


# ------------------------------------------------------------ 6 relay drill


def relay_crashed(ctx: Context) -> Fault:
    """A workflow relay exits between the broker's confirm and marking its rows
    sent (the drill file); the rows are published again after the restart."""
    fault = Fault()
    ctx.fc.drill_file.write_text(f"{drills.RELAY_CRASH_AFTER_CONFIRM} workflow", encoding="utf-8")
    starts = {p.name: p.starts for p in ctx.fc.service_processes("workflow")}
    deadline = time.monotonic() + 60
    while ctx.fc.drill_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    if ctx.fc.drill_file.exists():
        ctx.fc.drill_file.unlink(missing_ok=True)
        fault.failures.append("no workflow relay reached the drill point in 60 s")
        return fault.end()
    time.sleep(1)
    crashed = [
        p for p in ctx.fc.service_processes("workflow") if p.popen.poll() == drills.CRASH_EXIT_CODE
    ]
    crashed += [p for p in ctx.fc.service_processes("workflow") if p.starts > starts[p.name]]
    if not crashed:
        fault.failures.append("the drill file was taken but no workflow process exited")
        return fault.end()
    name = crashed[0].name
    fault.notes.append(f"{name} exited at the drill point (code {drills.CRASH_EXIT_CODE})")
    if not wait_restarted(ctx, name, starts[name]):
        fault.failures.append(f"{name} not ready 120 s after the drill")
    return fault.end()


# ----------------------------------------------------------------- 7 EMS


def ems_down(ctx: Context) -> Fault:
    """The EMS simulator stopped (SIGSTOP: connections hang, nothing answers)
    for 3 minutes (30 s quick), then continued; courier keeps retrying its orders."""
    seconds = 30 if ctx.quick else 180
    fault = Fault()
    ctx.fc.signal("ems-simulator", signal.SIGSTOP)
    fault.notes.append(f"EMS simulator stopped for {seconds} s")
    try:
        time.sleep(seconds)
    finally:
        ctx.fc.signal("ems-simulator", signal.SIGCONT)
    return fault.end()


# -------------------------------------------------------------- 8 poison


def poison_event(ctx: Context) -> Fault:
    """A malformed application_ended published straight into the virtual
    host: an envelope whose payload does not load (no application, a number
    for the item). Its consumers must dead-letter it and go on."""
    fault = Fault()
    event_id = uuid.uuid4().hex
    body = {
        "id": event_id,
        "type": "application_ended",
        "source": "workflow",
        "occurred_at": "2026-12-01T00:00:00Z",
        "correlation_id": uuid.uuid4().hex,
        "schema_version": 1,
        "payload": {"item_id": 42, "outcome": ["not", "an", "outcome"]},
    }
    with Connection(ctx.fc.broker_uri, transport_options={"confirm_publish": True}) as connection:
        producer = Producer(connection.channel())
        producer.publish(
            json.dumps(body),
            exchange=Exchange("workflow.events", type="topic", passive=True),
            routing_key="application_ended",
            content_type="application/json",
            delivery_mode=2,
            message_id=event_id,
            headers={"nameko.event_id": event_id, "nameko.correlation_id": body["correlation_id"]},
            declare=[],
        )
    fault.poison_ids.add(event_id)
    fault.notes.append(f"poison application_ended {event_id} published")
    time.sleep(3)  # its consumers take it, fail and dead-letter it
    return fault.end()


# ---------------------------------------------------------------- 9 soak


@dataclass
class Series:
    values: list[float] = field(default_factory=list)

    def quarter_means(self) -> tuple[float, float] | None:
        """(mean of the second quarter, mean of the last quarter) of the samples."""
        n = len(self.values)
        if n < 4:
            return None
        quarter = n // 4
        return mean(self.values[quarter : 2 * quarter]), mean(self.values[n - quarter :])


FLAT_RATIO = 0.20
FLAT_SLACK_CONNECTIONS = 2


def is_flat(second: float, last: float, slack: float = 0.0) -> bool:
    """Flat: the last quarter's mean within 20 % (plus ``slack``) of the second quarter's."""
    return abs(last - second) <= FLAT_RATIO * second + slack


def soak(ctx: Context) -> Fault:
    """Ten minutes of load (60 s quick), sampling every process's resident memory
    (VmRSS) and the open broker and database connections every 5 s (2 s quick):
    each must stay flat."""
    seconds, every = (60, 2) if ctx.quick else (600, 5)
    fault = Fault()
    memory: dict[str, Series] = {}
    connections: dict[str, Series] = {}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for name, pid in ctx.fc.pids().items():
            kib = resident_kib(pid)
            if kib is not None:
                memory.setdefault(name, Series()).values.append(kib / 1024)
        count = broker_connections(ctx.fc.vhost)
        if count is not None:
            connections.setdefault("broker", Series()).values.append(count)
        for name, count in database_connections(ctx.fc.database_urls).items():
            connections.setdefault(f"db {name}", Series()).values.append(count)
        time.sleep(every)
    fault.notes.append(
        f"flat: the last quarter's mean within {FLAT_RATIO:.0%} of the second quarter's"
        f" (connections: plus {FLAT_SLACK_CONNECTIONS})"
    )
    for label, series, slack, unit in [
        *((f"RSS {n}", s, 0.0, "MiB") for n, s in sorted(memory.items())),
        *((f"conns {n}", s, FLAT_SLACK_CONNECTIONS, "") for n, s in sorted(connections.items())),
    ]:
        means = series.quarter_means()
        if means is None:
            continue
        second, last = means
        flat = is_flat(second, last, slack)
        fault.notes.append(
            f"{label}: {second:.1f} -> {last:.1f}{unit} {'flat' if flat else 'NOT FLAT'}"
        )
        if not flat:
            fault.failures.append(f"{label} grew from {second:.1f} to {last:.1f}{unit}")
    return fault.end()


SCENARIOS = {
    scenario.number: scenario
    for scenario in (
        Scenario(1, "broker stopped 20 s", broker_stopped, stops_shared_infrastructure=True),
        Scenario(2, "broker connections closed", connections_closed),
        Scenario(3, "PostgreSQL stopped 15 s", postgres_stopped, stops_shared_infrastructure=True),
        Scenario(4, "workflow SIGKILL x5 mid-approval", workflow_killed),
        Scenario(5, "every service SIGTERM in turn", services_restarted),
        Scenario(6, "relay crash after confirm", relay_crashed),
        Scenario(7, "EMS simulator down", ems_down),
        Scenario(8, "poison event", poison_event),
        Scenario(9, "soak", soak),
    )
}
QUICK = [2, 4, 6, 8]
