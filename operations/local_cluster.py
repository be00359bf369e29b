"""The whole cluster on one machine, each service its own process.

    python -m operations.local_cluster run        # what `make run` does

Migrates every database, declares the broker topology, loads the demo data, then
starts the five services, one workflow instance per department that runs its own
(``workflow_departments``, by default js-ga; env WORKFLOW_DEPARTMENTS overrides,
empty for none), the gateway, the EMS simulator (EMS_SIM_FAIL_RATE: the share
of waybills it fails on the way, 0 by default) and the data exchange simulator
(other departments' records for workflow's automatic decisions; every workflow
instance gets its URL and key), the SMS simulator (ratings texts citizens
through it; the texts link to the gateway, PORTAL_URL) and the payment
simulator (orders for fees, its cashier, refunds; it notifies the gateway's
payment webhook, signed with PAYMENT_WEBHOOK_SECRET) and the demo department
system (苏州市住房公积金管理中心 网上服务大厅, signing people in through the
gateway's OpenID Connect provider: OIDC_ISSUER is the gateway's URL; its
client is registered in identity while preparing), waits until each is
healthy and prints the portal's URL (the gateway serves portal/dist at "/";
its public OpenID Connect client, tongban-portal, is registered while
preparing too), the gateway's, the department system's and the demo
accounts. Ctrl-C (or SIGTERM) stops every process. The end-to-end tests drive
the same class.
"""

from __future__ import annotations

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
warnings.filterwarnings("ignore", message=r"pkg_resources is deprecated")

import argparse
import importlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
from sqlalchemy.engine import make_url

from gateway.portal import dist_of
from operations.migrate import declare_topology
from operations.roster import SERVICES, service_class, unit_of_work_for
from services.common.config import PROJECT_ROOT, amqp_uri, data_dir
from services.common.instances import instance_for, parse_departments
from services.common.migrations import upgrade
from simulators.data_exchange.app import DEFAULT_API_KEY as DEV_DATA_EXCHANGE_API_KEY
from simulators.department_portal.app import DEFAULT_CLIENT_ID as DEPARTMENT_PORTAL_CLIENT_ID
from simulators.department_portal.app import DEFAULT_CLIENT_SECRET as DEV_DEPARTMENT_PORTAL_SECRET
from simulators.department_portal.app import client_registration
from simulators.payment.app import DEFAULT_API_KEY as DEV_PAYMENT_API_KEY
from simulators.payment.app import DEFAULT_WEBHOOK_SECRET as DEV_PAYMENT_WEBHOOK_SECRET
from simulators.sms.app import DEFAULT_API_KEY as DEV_SMS_API_KEY

SERVICE_PORTS = {
    "identity": 8101,
    "catalog": 8102,
    "workflow": 8103,
    "courier": 8104,
    "ratings": 8105,
}
# Department workflow instances get the ports after the services' (8106, ...).
DEFAULT_WORKFLOW_DEPARTMENTS = ["js-ga"]
# Second and later replicas of a service listen from here up.
REPLICA_BASE_PORT = 8150
# Supervision: a process that exits is started again after a wait that doubles
# from the first to the last, and falls back to the first once it ran this long.
RESTART_BACKOFF_SECONDS = (1.0, 30.0)
STABLE_SECONDS = 60.0
# The reference portal (portal/, served by the gateway at "/") signs in as this
# public client (PKCE, no secret); its build names it (VITE_OIDC_CLIENT_ID).
PORTAL_CLIENT_ID = "tongban-portal"
PORTAL_NAME = "通办政务服务网"


def default_workflow_departments() -> list[str]:
    """``WORKFLOW_DEPARTMENTS`` from the environment when set (empty: none),
    else js-ga, whose demo items name workflow-js-ga."""
    value = os.environ.get("WORKFLOW_DEPARTMENTS")
    return parse_departments(value) if value is not None else list(DEFAULT_WORKFLOW_DEPARTMENTS)


@dataclass
class Process:
    name: str
    command: list[str]
    env: dict[str, str]
    health_url: str
    log_path: Path
    popen: subprocess.Popen | None = None
    # Supervision: starts so far, exits in a row that came soon after a start,
    # when the current run began, when the next start is due.
    starts: int = 0
    quick_exits: int = 0
    started_at: float = 0.0
    restart_at: float | None = None


@dataclass
class LocalCluster:
    data_dir: Path
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8000
    ems_port: int = 8200
    data_exchange_port: int = 8300
    sms_port: int = 8400
    payment_port: int = 8500
    department_portal_port: int = 8600
    service_ports: dict[str, int] = field(default_factory=lambda: dict(SERVICE_PORTS))
    # Departments running their own workflow instance (workflow-<code>); a port per
    # instance name in service_ports wins over the default after the services'.
    workflow_departments: list[str] = field(default_factory=default_workflow_departments)
    amqp_uri: str | None = None
    database_urls: dict[str, str] = field(default_factory=dict)
    ems_step_seconds: float = 2.0
    # The share of waybills the EMS simulator fails on the way (0..1); None:
    # the environment's EMS_SIM_FAIL_RATE, else 0.
    ems_fail_rate: float | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    # Processes per service or department instance (default 1): replicas share
    # the database and the queues, as pods of one deployment do. The first keeps
    # the name and port; the others are <name>.2, <name>.3 ... on ports from
    # replica_base_port up. Replicas want PostgreSQL (SQLite serialises writers).
    replicas: dict[str, int] = field(default_factory=dict)
    replica_base_port: int = REPLICA_BASE_PORT
    processes: list[Process] = field(default_factory=list)

    def __post_init__(self):
        self.workflow_departments = parse_departments(self.workflow_departments)

    @property
    def gateway_url(self) -> str:
        return f"http://{self.gateway_host}:{self.gateway_port}"

    @property
    def data_exchange_url(self) -> str:
        return f"http://127.0.0.1:{self.data_exchange_port}"

    @property
    def sms_url(self) -> str:
        return f"http://127.0.0.1:{self.sms_port}"

    @property
    def payment_url(self) -> str:
        return f"http://127.0.0.1:{self.payment_port}"

    @property
    def department_portal_url(self) -> str:
        return f"http://127.0.0.1:{self.department_portal_port}"

    @property
    def workflow_instances(self) -> list[str]:
        """The department workflow instances this cluster runs (workflow-<code>)."""
        return [instance_for(code) for code in self.workflow_departments]

    def port_of(self, name: str) -> int:
        """A service's or department instance's port: ``service_ports`` when it
        names it, else (instances) the next ones after the highest service port."""
        if name in self.service_ports:
            return self.service_ports[name]
        base = max(self.service_ports.get(service, SERVICE_PORTS[service]) for service in SERVICES)
        return base + 1 + self.workflow_instances.index(name)

    def database_url(self, service: str) -> str:
        """The service's (or workflow instance's, ``workflow-js-ga``) own database.

        ``database_urls`` names it; else ``<SERVICE>_DATABASE_URL``
        (``WORKFLOW_JS_GA_DATABASE_URL``); otherwise a ``DATABASE_URL`` such as
        ``postgresql+psycopg2://host/tongban`` is the stem of one database per
        service (``tongban_identity``, ``tongban_catalog``, ...), since services
        never share tables; otherwise a SQLite file in the data folder.
        """
        if service in self.database_urls:
            return self.database_urls[service]
        env_url = os.environ.get(f"{service.upper().replace('-', '_')}_DATABASE_URL")
        if env_url:
            return env_url
        shared = os.environ.get("DATABASE_URL")
        if shared:
            return per_service_database(shared, service)
        return f"sqlite:///{self.data_dir / (service + '.db')}"

    def base_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.extra_env)
        env["AMQP_URI"] = self.amqp_uri or amqp_uri()
        env["TONGBAN_DATA_DIR"] = str(self.data_dir)
        env["PYTHONPATH"] = str(PROJECT_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        env["PYTHONUNBUFFERED"] = "1"
        env.setdefault("EMS_BASE_URL", f"http://127.0.0.1:{self.ems_port}")
        env["EMS_BASE_URL"] = f"http://127.0.0.1:{self.ems_port}"
        # Workflow asks the data exchange simulator; both read this key.
        env["DATA_EXCHANGE_URL"] = self.data_exchange_url
        env.setdefault("DATA_EXCHANGE_API_KEY", DEV_DATA_EXCHANGE_API_KEY)
        # Ratings texts through the SMS simulator; both read this key. The texts
        # link to this cluster's gateway.
        env["SMS_URL"] = self.sms_url
        env.setdefault("SMS_API_KEY", DEV_SMS_API_KEY)
        env.setdefault("PORTAL_URL", self.gateway_url)
        # Workflow orders fees at the payment simulator, which signs its notices
        # to the gateway with the secret the gateway checks.
        env["PAYMENT_URL"] = self.payment_url
        env.setdefault("PAYMENT_API_KEY", DEV_PAYMENT_API_KEY)
        env.setdefault("PAYMENT_WEBHOOK_SECRET", DEV_PAYMENT_WEBHOOK_SECRET)
        # identity's OpenID Connect provider is reached through this gateway;
        # the demo department system signs in there with this secret.
        if "OIDC_ISSUER" not in self.extra_env:
            env["OIDC_ISSUER"] = self.gateway_url
        env.setdefault("DEPARTMENT_PORTAL_CLIENT_SECRET", DEV_DEPARTMENT_PORTAL_SECRET)
        env.pop("DATABASE_URL", None)  # each process gets its own below
        return env

    # -- preparing ------------------------------------------------------------

    def prepare(self) -> dict:
        """Migrate, declare the topology and load the demo data; return what loaded."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        for service in SERVICES:
            create_database_if_missing(self.database_url(service))
            upgrade(service, self.database_url(service))
        for instance in self.workflow_instances:
            create_database_if_missing(self.database_url(instance))
            upgrade("workflow", self.database_url(instance))
        declare_topology(
            uri=self.amqp_uri or amqp_uri(),
            # The queue type the processes will read from their environment.
            config={"EVENT_QUEUE_TYPE": self.base_env().get("EVENT_QUEUE_TYPE")},
            extra_classes=[self.workflow_class(code) for code in self.workflow_departments],
        )
        loaded = {service: self.load_demo(service) for service in SERVICES}
        for instance in self.workflow_instances:
            # The demo calendar, as the shared instance has it.
            loaded[instance] = self.load_demo("workflow", instance)
        self.register_department_portal()
        self.register_portal()
        return loaded

    @staticmethod
    def workflow_class(code: str) -> type:
        return service_class("workflow", {"DEPARTMENT_CODE": code})

    def load_demo(self, service: str, instance: str | None = None) -> dict:
        bootstrap = importlib.import_module(f"services.{service}.bootstrap")
        with unit_of_work_for(service, self.database_url(instance or service)) as uow:
            return bootstrap.load_demo(uow) or {}

    def register_department_portal(self) -> None:
        """Register (or bring up to date) the demo department system's client
        in identity, with the URIs of its port here."""
        from services.identity import bootstrap

        with unit_of_work_for("identity", self.database_url("identity")) as uow:
            bootstrap.ensure_oidc_client(
                uow,
                client_id=DEPARTMENT_PORTAL_CLIENT_ID,
                client_secret=self.base_env()["DEPARTMENT_PORTAL_CLIENT_SECRET"],
                **client_registration(self.department_portal_url),
            )

    def register_portal(self) -> None:
        """Register (or bring up to date) the portal's public client: signed in
        at the gateway's "/auth/callback", signed out to "/", run by the
        operator's service centre, trusted without a consent page."""
        from services.identity import bootstrap

        with unit_of_work_for("identity", self.database_url("identity")) as uow:
            bootstrap.ensure_oidc_client(
                uow,
                client_id=PORTAL_CLIENT_ID,
                client_secret=None,
                name=PORTAL_NAME,
                department_code=bootstrap.SERVICE_CENTRE,
                redirect_uris=[f"{self.gateway_url}/auth/callback"],
                post_logout_redirect_uris=[f"{self.gateway_url}/"],
                public=True,
                skip_consent=True,
            )

    # -- processes ------------------------------------------------------------

    def plan(self) -> list[Process]:
        python = sys.executable
        logs = self.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        env = self.base_env()
        processes = []
        # (name, module:Class, department code or "" for none)
        runs = [(service, path, "") for service, path in SERVICES.items()]
        runs += [
            (instance_for(code), SERVICES["workflow"], code) for code in self.workflow_departments
        ]
        next_replica_port = self.replica_base_port
        for name, path, code in runs:
            for replica in range(1, max(1, int(self.replicas.get(name, 1))) + 1):
                if replica == 1:
                    process_name, port = name, self.port_of(name)
                else:
                    process_name, port = f"{name}.{replica}", next_replica_port
                    next_replica_port += 1
                service_env = dict(env)
                service_env["WEB_SERVER_ADDRESS"] = f"127.0.0.1:{port}"
                service_env["DATABASE_URL"] = self.database_url(name)
                service_env["DEPARTMENT_CODE"] = code
                # Workflow instances ask each other about licences (material reuse).
                service_env["WORKFLOW_DEPARTMENTS"] = ",".join(self.workflow_departments)
                processes.append(
                    Process(
                        process_name,
                        [python, "-m", "operations.runner", path],
                        service_env,
                        f"http://127.0.0.1:{port}/healthz",
                        logs / f"{process_name}.log",
                    )
                )
        gateway_env = dict(env)
        gateway_env["WEB_SERVER_ADDRESS"] = f"{self.gateway_host}:{self.gateway_port}"
        gateway_env["WORKFLOW_DEPARTMENTS"] = ",".join(self.workflow_departments)
        processes.append(
            Process(
                "gateway",
                [python, "-m", "operations.runner", "gateway.service:GatewayService"],
                gateway_env,
                f"{self.gateway_url}/readyz",
                logs / "gateway.log",
            )
        )
        processes.append(
            Process(
                "ems-simulator",
                [
                    python,
                    "-m",
                    "simulators.ems",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.ems_port),
                    "--webhook-url",
                    f"{self.gateway_url}/api/v1/webhooks/ems",
                    "--step-seconds",
                    str(self.ems_step_seconds),
                    *(
                        ("--fail-rate", str(self.ems_fail_rate))
                        if self.ems_fail_rate is not None
                        else ()
                    ),
                ],
                env,
                f"http://127.0.0.1:{self.ems_port}/healthz",
                logs / "ems-simulator.log",
            )
        )
        processes.append(
            Process(
                "data-exchange-simulator",
                [
                    python,
                    "-m",
                    "simulators.data_exchange",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.data_exchange_port),
                ],
                env,
                f"{self.data_exchange_url}/healthz",
                logs / "data-exchange-simulator.log",
            )
        )
        processes.append(
            Process(
                "sms-simulator",
                [
                    python,
                    "-m",
                    "simulators.sms",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.sms_port),
                ],
                env,
                f"{self.sms_url}/healthz",
                logs / "sms-simulator.log",
            )
        )
        processes.append(
            Process(
                "payment-simulator",
                [
                    python,
                    "-m",
                    "simulators.payment",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.payment_port),
                    "--webhook-url",
                    f"{self.gateway_url}/api/v1/webhooks/payment",
                ],
                env,
                f"{self.payment_url}/healthz",
                logs / "payment-simulator.log",
            )
        )
        processes.append(
            Process(
                "department-portal",
                [
                    python,
                    "-m",
                    "simulators.department_portal",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.department_portal_port),
                    "--issuer",
                    env["OIDC_ISSUER"],
                    "--client-id",
                    DEPARTMENT_PORTAL_CLIENT_ID,
                    "--base-url",
                    self.department_portal_url,
                ],
                env,
                f"{self.department_portal_url}/healthz",
                logs / "department-portal.log",
            )
        )
        return processes

    def start(self, timeout: float = 90.0) -> None:
        self.processes = self.plan()
        for process in self.processes:
            self._launch(process)
        self.wait_healthy(timeout)

    @staticmethod
    def _launch(process: Process) -> None:
        log_file = open(process.log_path, "ab")  # noqa: SIM115  (closed by the child's exit)
        process.popen = subprocess.Popen(  # noqa: S603  (our own interpreter and modules)
            process.command,
            env=process.env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
            start_new_session=True,  # Ctrl-C reaches us; we stop the children
        )
        log_file.close()
        process.starts += 1
        process.started_at = time.monotonic()
        process.restart_at = None

    def process(self, name: str) -> Process:
        """The process named ``name`` (``workflow``, ``workflow.2``, ``gateway``...)."""
        for process in self.processes:
            if process.name == name:
                return process
        raise KeyError(name)

    def signal(self, name: str, signum: int) -> None:
        """Send ``signum`` to one process (a drill: SIGKILL, SIGTERM)."""
        popen = self.process(name).popen
        if popen is not None and popen.poll() is None:
            popen.send_signal(signum)

    def supervise_once(self, say=print, now: float | None = None) -> None:
        """Start again every process that exited, as Kubernetes restarts a
        container: after a wait doubling from 1 s to 30 s with each quick exit,
        back to 1 s once a process stayed up for a minute."""
        now = time.monotonic() if now is None else now
        for process in self.processes:
            if process.popen is None or process.popen.poll() is None:
                continue
            if process.restart_at is None:
                stable = now - process.started_at >= STABLE_SECONDS
                process.quick_exits = 1 if stable else process.quick_exits + 1
                first, last = RESTART_BACKOFF_SECONDS
                wait = min(last, first * 2 ** (process.quick_exits - 1))
                process.restart_at = now + wait
                say(
                    f"{process.name} exited (code {process.popen.returncode}); "
                    f"restarting in {wait:g} s; see {process.log_path}"
                )
            elif now >= process.restart_at:
                self._launch(process)
                say(f"{process.name} restarted")

    def supervise(self, stop, say=print, interval: float = 0.5) -> None:
        """Run :meth:`supervise_once` until ``stop`` (a threading.Event) is set."""
        while not stop.is_set():
            self.supervise_once(say)
            stop.wait(interval)

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = list(self.processes)
        while pending:
            for process in list(pending):
                if process.popen.poll() is not None:
                    raise RuntimeError(
                        f"{process.name} exited with {process.popen.returncode}; "
                        f"see {process.log_path}\n{tail(process.log_path)}"
                    )
                try:
                    if requests.get(process.health_url, timeout=2).status_code == 200:
                        pending.remove(process)
                except requests.RequestException:
                    pass
            if pending and time.monotonic() > deadline:
                names = ", ".join(p.name for p in pending)
                raise RuntimeError(f"not healthy after {timeout:.0f}s: {names}")
            if pending:
                time.sleep(0.3)

    def stop(self, grace: float = 30.0) -> None:
        for process in self.processes:
            if process.popen and process.popen.poll() is None:
                process.popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in self.processes:
            if process.popen is None:
                continue
            try:
                process.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.popen.kill()
                process.popen.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()


def parse_replicas(text: str) -> dict[str, int]:
    """``"workflow=2,catalog=3"`` -> ``{"workflow": 2, "catalog": 3}``."""
    replicas = {}
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        name, _, count = part.partition("=")
        if not count.strip().isdigit() or int(count) < 1:
            raise SystemExit(f"REPLICAS: {part!r} is not <service>=<processes>")
        replicas[name.strip()] = int(count)
    return replicas


def per_service_database(url: str, service: str) -> str:
    """``.../tongban`` -> ``.../tongban_<service>`` (SQLite: ``tongban_<service>.db``)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        stem = Path(parsed.database or "tongban").with_suffix("")
        return str(parsed.set(database=f"{stem}_{service}.db"))
    return parsed.set(database=f"{parsed.database or 'tongban'}_{service}").render_as_string(
        hide_password=False
    )


def create_database_if_missing(url: str) -> None:
    """Create a PostgreSQL database for a local run; SQLite files create themselves."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return
    import sqlalchemy as sa

    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": parsed.database},
            ).first()
            if not exists:
                connection.execute(sa.text(f'CREATE DATABASE "{parsed.database}"'))
    finally:
        admin.dispose()


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def portal_note(cluster: LocalCluster) -> str:
    """Nothing when the gateway has the portal's build, else why "/" only says so."""
    dist = dist_of(cluster.base_env())
    if (dist / "index.html").is_file():
        return ""
    return f"  (not built: {dist} has no index.html; make portal)"


def print_banner(cluster: LocalCluster, loaded: dict) -> None:
    accounts = loaded.get("identity", {}).get("accounts", [])
    catalog = loaded.get("catalog", {})
    print()
    print("tongban is running")
    print(f"  portal       {cluster.gateway_url}/{portal_note(cluster)}")
    print(f"  gateway      {cluster.gateway_url}")
    print(
        f"  department system (demo) {cluster.department_portal_url}  "
        "苏州市住房公积金管理中心 网上服务大厅: 用政务服务网账号登录"
    )
    print(f"  API docs     {cluster.gateway_url}/docs")
    print(f"  EMS (sim.)   http://127.0.0.1:{cluster.ems_port}")
    print(f"  data exchange (sim.) {cluster.data_exchange_url}  (demo records: README)")
    print(f"  SMS (sim.)   {cluster.sms_url}  (inbox: GET /api/messages?phone=...)")
    print(f"  payment (sim.) {cluster.payment_url}  (cashier: the pay_url of a case's payment)")
    if catalog:
        print(
            f"  catalogue    {catalog.get('regions', '?')} regions, "
            f"{catalog.get('departments', '?')} departments, {catalog.get('items', '?')} items"
        )
    if accounts:
        print("  demo accounts (phone / password):")
        for account in accounts:
            print(
                f"    {account['phone']} / {account['password']}  "
                f"{account.get('role', '')} {account.get('name', '')}"
            )
    print(f"  logs         {cluster.data_dir / 'logs'}")
    print("Press Ctrl-C to stop every process.")
    sys.stdout.flush()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Run the whole tongban cluster locally.")
    parser.add_argument("command", choices=["run", "prepare"])
    parser.add_argument("--gateway", default=os.environ.get("GATEWAY_ADDRESS", "127.0.0.1:8000"))
    args = parser.parse_args(argv)
    host, _, port = args.gateway.rpartition(":")
    cluster = LocalCluster(
        data_dir=data_dir(),
        gateway_host=host or "127.0.0.1",
        gateway_port=int(port),
        replicas=parse_replicas(os.environ.get("REPLICAS", "")),
    )
    print("migrating databases, declaring queues, loading demo data ...")
    loaded = cluster.prepare()
    if args.command == "prepare":
        print(loaded)
        return 0
    stopping = []

    def on_signal(signum, frame):
        stopping.append(signum)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    # Also when started in the background, where SIGINT comes in ignored.
    signal.signal(signal.SIGINT, on_signal)
    try:
        print("starting services ...")
        cluster.start()
        print_banner(cluster, loaded)

        def say(line: str) -> None:
            print(line)
            sys.stdout.flush()

        while True:
            cluster.supervise_once(say)
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nstopping ...")
    finally:
        cluster.stop()
    print("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
