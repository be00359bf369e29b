"""The fault suite's own cluster: two processes of every service, supervised.

It runs on PostgreSQL databases of its own (``tongban_faults_<service>``,
dropped and made again at each start, so the invariants see only this run) or
SQLite files in its data folder, and on a RabbitMQ virtual host of its own
(``tongban-faults``, deleted and made again at each start): the drills close
its connections and fill its dead-letter queues without touching anybody
else's. The supervisor (``LocalCluster.supervise``) runs in a thread and starts
again every process that exits, as Kubernetes would.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import requests
import sqlalchemy as sa

from operations import local_cluster
from operations.local_cluster import LocalCluster, Process, per_service_database
from operations.roster import SERVICES
from services.common.config import amqp_uri

VIRTUAL_HOST = "tongban-faults"
# The stem of the suite's databases (<stem>_workflow, ...); FAULTS_DATABASE_URL
# may name another local PostgreSQL cluster (another port), which scenario 3
# then stops instead of the machine's main one.
DATABASE_STEM = (
    os.environ.get("FAULTS_DATABASE_URL")
    or "postgresql+psycopg2://postgres@127.0.0.1:5432/tongban_faults"
)
PG_ADMIN_URL = sa.engine.make_url(DATABASE_STEM).set(database="postgres")
DEPARTMENTS = ["js-ga"]
# Two processes of each service, so an effect done twice would show; the
# department's own workflow instance stays one.
REPLICAS = {service: 2 for service in SERVICES}
OPERATOR = {"phone": "13800000000", "password": "Operator2026"}
# Short timers, so that a fault's effects and the recovery show within seconds.
ENVIRONMENT = {
    "LOG_LEVEL": "INFO",
    # Eleven service processes share the machine's PostgreSQL (100 connections)
    # with other runs: at most 4 workers, so at most 8 connections, each.
    "MAX_WORKERS": "4",
    "AUTH_RATE_PER_SECOND": "100000",
    "AUTH_RATE_BURST": "100000",
    "PUBLIC_RATE_PER_SECOND": "0",
    "OUTBOX_POLL_SECONDS": "0.2",
    # EVENT_RETRY_DELAYS_MS and EVENT_MAX_ATTEMPTS stay as deployed: an event
    # that keeps failing while the database is away is dead-lettered after them.
    "SHUTDOWN_GRACE_SECONDS": "5",
    "RPC_TIMEOUT_SECONDS": "8",
    "EMS_ORDER_PLACE_SECONDS": "0.5",
    "EMS_ORDER_RETRY_SECONDS": "1",
    "EMS_ORDER_MAX_RETRY_SECONDS": "5",
    "EMS_READ_TIMEOUT_SECONDS": "2",
    "SMS_RETRY_SECONDS": "1",
    "PAYMENT_CHECK_SECONDS": "2",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rabbitmqctl(*args: str, timeout: float = 60) -> str | None:
    """rabbitmqctl's output; None when it failed or is not at hand."""
    command = shutil.which("rabbitmqctl")
    if command is None:
        return None
    result = subprocess.run(  # noqa: S603  (rabbitmqctl with our own arguments)
        [command, *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    return result.stdout if result.returncode == 0 else None


def fresh_virtual_host(uri: str, name: str = VIRTUAL_HOST) -> str:
    """The URI of virtual host ``name`` on the broker of ``uri``, emptied: deleted
    (with every queue a former run left) and made again."""
    if urlparse(uri).hostname not in ("127.0.0.1", "localhost"):
        raise RuntimeError(f"the fault suite needs a local broker (rabbitmqctl); AMQP_URI is {uri}")
    rabbitmqctl("delete_vhost", name)
    if rabbitmqctl("add_vhost", name) is None or (
        rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*") is None
    ):
        raise RuntimeError(f"could not make the virtual host {name} with rabbitmqctl")
    scheme, _, rest = uri.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}/{name}"


def fresh_postgres_databases(names: list[str], stem: str = DATABASE_STEM) -> dict[str, str]:
    """``{name: url}`` of empty databases ``<stem>_<name>`` (dropped first)."""
    urls = {name: per_service_database(stem, name.replace("-", "_")) for name in names}
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            for url in urls.values():
                database = sa.engine.make_url(url).database
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
                connection.execute(sa.text(f'CREATE DATABASE "{database}"'))
    finally:
        admin.dispose()
    return urls


@dataclass
class FaultCluster:
    """The cluster under test, its supervisor thread and what the supervisor said."""

    data_dir: Path
    database: str = "postgresql"
    quick: bool = False
    cluster: LocalCluster | None = None
    broker_uri: str = ""
    database_urls: dict[str, str] = field(default_factory=dict)
    supervisor_lines: list[tuple[float, str]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    @property
    def gateway_url(self) -> str:
        return self.cluster.gateway_url

    @property
    def vhost(self) -> str:
        return self.broker_uri.rsplit("/", 1)[1]

    def start(self, say=print) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        for log in (self.data_dir / "logs").glob("*.log"):
            log.unlink()  # each run's logs on their own
        names = [*SERVICES, *(f"workflow-{code}" for code in DEPARTMENTS)]
        if self.database == "postgresql":
            self.database_urls = fresh_postgres_databases(names)
        else:
            for path in self.data_dir.glob("*.db"):
                path.unlink()
            self.database_urls = {
                name: f"sqlite:///{self.data_dir / (name + '.db')}" for name in names
            }
        self.broker_uri = fresh_virtual_host(amqp_uri())
        self.drill_file = self.data_dir / "drill"
        self.drill_file.unlink(missing_ok=True)
        self.cluster = LocalCluster(
            data_dir=self.data_dir,
            gateway_port=free_port(),
            ems_port=free_port(),
            data_exchange_port=free_port(),
            sms_port=free_port(),
            payment_port=free_port(),
            department_portal_port=free_port(),
            service_ports={name: free_port() for name in names},
            workflow_departments=list(DEPARTMENTS),
            amqp_uri=self.broker_uri,
            database_urls=dict(self.database_urls),
            ems_step_seconds=0.5,
            replicas=dict(REPLICAS),
            # Second replicas away from a `make run` cluster's (8150 up) on this machine.
            replica_base_port=free_port_block(len(REPLICAS) + 2),
            extra_env={**ENVIRONMENT, "TONGBAN_DRILL_FILE": str(self.drill_file)},
        )
        say(f"preparing the cluster in {self.data_dir} ({self.database}, vhost {self.vhost}) ...")
        self.cluster.prepare()
        self.cluster.start(timeout=240)
        self._thread = threading.Thread(
            target=self.cluster.supervise,
            args=(self._stop,),
            kwargs={"say": self._heard},
            name="supervisor",
            daemon=True,
        )
        self._thread.start()
        say(
            f"cluster up: gateway {self.gateway_url}, {len(self.cluster.processes)} processes"
            f" ({', '.join(p.name for p in self.cluster.processes)})"
        )

    def _heard(self, line: str) -> None:
        self.supervisor_lines.append((time.time(), line))
        print(f"  [supervisor] {line}", flush=True)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        if self.cluster is not None:
            self.cluster.stop()
        if getattr(self, "drill_file", None) is not None:
            self.drill_file.unlink(missing_ok=True)

    # -- the processes ------------------------------------------------------

    @property
    def processes(self) -> list[Process]:
        return list(self.cluster.processes)

    def service_processes(self, service: str) -> list[Process]:
        """The replicas of a service (``workflow``, ``workflow.2``)."""
        return [p for p in self.processes if p.name == service or p.name.startswith(service + ".")]

    def process(self, name: str) -> Process:
        return self.cluster.process(name)

    def signal(self, name: str, signum: int) -> None:
        self.cluster.signal(name, signum)

    @staticmethod
    def ready_url(process: Process) -> str:
        """/readyz where the process has one (the services and the gateway, run
        by operations.runner); the outside parties' programs answer /healthz."""
        if process.health_url.endswith("/healthz") and "operations.runner" in process.command:
            return process.health_url[: -len("/healthz")] + "/readyz"
        return process.health_url

    def not_ready(self) -> list[str]:
        """The processes not answering 200 on their readiness URL now."""
        bad = []
        for process in self.processes:
            try:
                status = requests.get(self.ready_url(process), timeout=3).status_code
            except requests.RequestException:
                status = 0
            if status != 200:
                bad.append(f"{process.name} ({status or 'no answer'})")
        return bad

    def wait_ready(self, timeout: float) -> list[str]:
        """Wait until every process is ready; what is still not ready after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            bad = self.not_ready()
            if not bad or time.monotonic() > deadline:
                return bad
            time.sleep(0.5)

    def pids(self) -> dict[str, int]:
        return {p.name: p.popen.pid for p in self.processes if p.popen and p.popen.poll() is None}

    def log_tail(self, name: str, lines: int = 40) -> str:
        return local_cluster.tail(self.process(name).log_path, lines)

    def exceptions_since(self, name: str, offset: int) -> list[str]:
        """The records with a traceback or at error level a process logged after
        byte ``offset`` of its log (its JSON lines: message, exc)."""
        found = []
        with open(self.process(name).log_path, "rb") as handle:
            handle.seek(offset)
            for raw in handle.read().decode("utf-8", "replace").splitlines():
                try:
                    record = json.loads(raw)
                except ValueError:
                    if "Error" in raw or "Traceback" in raw:
                        found.append(raw[:300])
                    continue
                if isinstance(record, dict) and (
                    record.get("level") in ("error", "critical") or "exc" in record
                ):
                    exc = str(record.get("exc", "")).strip().splitlines()
                    found.append(f"{record.get('message', '')[:200]} {exc[-1] if exc else ''}")
        return found

    def log_sizes(self) -> dict[str, int]:
        return {
            p.name: p.log_path.stat().st_size if p.log_path.exists() else 0 for p in self.processes
        }


def free_port_block(size: int, start: int = 28150) -> int:
    """The first port from ``start`` up of ``size`` ports all free right now."""
    port = start
    while port < 65000:
        try:
            for offset in range(size):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port + offset))
            return port
        except OSError:
            port += size
    raise RuntimeError("no free block of ports")


def resident_kib(pid: int) -> int | None:
    """VmRSS of a process in KiB, None when it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def broker_connections(vhost: str) -> int | None:
    """The open connections to the virtual host (rabbitmqctl list_connections)."""
    output = rabbitmqctl("list_connections", "vhost", "--formatter", "json", "-q")
    if output is None:
        return None
    return sum(1 for row in json.loads(output or "[]") if row.get("vhost") == vhost)


def database_connections(urls: dict[str, str]) -> dict[str, int]:
    """Sessions per database (pg_stat_activity); empty on SQLite."""
    names = {
        sa.engine.make_url(url).database: name
        for name, url in urls.items()
        if url.startswith("postgresql")
    }
    if not names:
        return {}
    admin = sa.create_engine(PG_ADMIN_URL)
    try:
        with admin.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT datname, count(*) FROM pg_stat_activity"
                    " WHERE datname = ANY(:names) GROUP BY datname"
                ),
                {"names": list(names)},
            ).all()
    finally:
        admin.dispose()
    counts = dict.fromkeys(names.values(), 0)
    counts.update({names[datname]: count for datname, count in rows})
    return counts
