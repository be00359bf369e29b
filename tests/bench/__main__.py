"""Measure the main request paths side by side with a bare endpoint.

    make bench            (python -m tests.bench [--seconds 5] [--clients 50]
                                              [--errand-clients 16] [--errand-seconds 20]
                                              [--scale 1] [--scale-database URL])

Starts the whole cluster locally (SQLite files in a temporary folder, or
PostgreSQL when the services' *_DATABASE_URL say so) plus a bare nameko HTTP
service, drives each path with a closed-loop load of N keep-alive clients, then
the whole errand (submit, accept, approve, review; ``tests.bench.errand``) with
real citizens and staff, and measures the outbox relay's batch publishing
against a publisher that waits for each confirm in turn. Then, at the seed's
size (``tests.bench.scale``), a second cluster on PostgreSQL databases of its
own, filled by the seed's loader and kept between runs: search p95 over 200
distinct queries, a guide, the catalogue statistics and login p99. Prints
every figure and the command that produced it.

PostgreSQL: ``DATABASE_URL=postgresql+psycopg2://postgres@127.0.0.1/tongban_bench``
gives each service a database of its own (tongban_bench_identity, ...; created
if missing, kept afterwards), ``<SERVICE>_DATABASE_URL`` names one outright.
The cluster runs on a RabbitMQ virtual host of its own when rabbitmqctl is at
hand, so a local cluster on the same broker is left alone.
"""

import argparse
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import requests
from sqlalchemy.engine import make_url

from operations.local_cluster import LocalCluster, Process
from operations.roster import SERVICES
from services.common.config import PROJECT_ROOT, amqp_uri
from tests.bench import errand, load, relay, scale

SERVICE_PORTS = {
    "identity": 18101,
    "catalog": 18102,
    "workflow": 18103,
    "courier": 18104,
    "ratings": 18105,
}
OPERATOR = {
    "phone": os.environ.get("TONGBAN_OPERATOR_PHONE") or "13800000000",
    "password": os.environ.get("TONGBAN_OPERATOR_PASSWORD") or "Operator2026",
}
# Logins, registrations and refreshes of the bench all come from 127.0.0.1.
GENEROUS_AUTH_RATE = {"AUTH_RATE_PER_SECOND": "100000", "AUTH_RATE_BURST": "100000"}
# Nor are the public reads capped per client: the figures are the cluster's.
UNCAPPED_PUBLIC_READS = {"PUBLIC_RATE_PER_SECOND": "0"}


def settings() -> dict[str, str]:
    """The environment that decides where the cluster keeps its data and which
    broker it uses, passwords hidden: to print with the command."""
    names = sorted(
        name
        for name in os.environ
        if name == "DATABASE_URL" or name.endswith("_DATABASE_URL") or name == "AMQP_URI"
    )
    names += ["WORKFLOW_DEPARTMENTS"] if "WORKFLOW_DEPARTMENTS" in os.environ else []
    found = {}
    for name in names:
        value = os.environ[name]
        if value and name != "WORKFLOW_DEPARTMENTS":
            value = make_url(value).render_as_string(hide_password=True)
        found[name] = value
    return found


def databases_line(cluster: LocalCluster) -> str:
    backends = {}
    for service in [*SERVICES, *cluster.workflow_instances]:
        url = make_url(cluster.database_url(service))
        backends.setdefault(url.get_backend_name(), []).append(url.database or "")
    return "; ".join(
        f"{backend}: {', '.join(Path(db).name for db in dbs)}" for backend, dbs in backends.items()
    )


def _rabbitmqctl(*args) -> bool:
    command = shutil.which("rabbitmqctl")
    if command is None:
        return False
    result = subprocess.run(
        [command, *args], capture_output=True, text=True, timeout=60, check=False
    )
    return result.returncode == 0


@contextmanager
def own_virtual_host(uri: str):
    """A RabbitMQ virtual host for this run, deleted afterwards (the services run
    under their real names: on a shared one they would consume a local cluster's
    events); the given URI where rabbitmqctl is not at hand."""
    vhost = f"tongban-bench-{uuid.uuid4().hex[:8]}"
    local = urlparse(uri).hostname in ("127.0.0.1", "localhost")
    if not (
        local
        and _rabbitmqctl("add_vhost", vhost)
        and _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    ):
        yield uri
        return
    scheme, _, rest = uri.partition("://")
    try:
        yield f"{scheme}://{rest.split('/', 1)[0]}/{vhost}"
    finally:
        _rabbitmqctl("delete_vhost", vhost)


def start_bare(port: int, data_dir: Path) -> Process:
    env = dict(os.environ, WEB_SERVER_ADDRESS=f"127.0.0.1:{port}", LOG_LEVEL="WARNING")
    log_path = data_dir / "logs" / "bench_bare.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log_file:
        popen = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "operations.runner", "tests.bench.bare:BareService"],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
        )
    process = Process("bare", [], env, f"http://127.0.0.1:{port}/bare", log_path, popen)
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(process.health_url, timeout=1).status_code == 200:
                return process
        except requests.RequestException:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.2)


# 食品生产许可证核发（保健食品）: accept, then approve, so that the figures stay
# comparable from one version to the next whatever the other demo processes are.
ERRAND_ITEM = "320000-JSSCJG-001"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per path")
    parser.add_argument("--clients", type=int, default=50, help="per path")
    parser.add_argument("--errand-clients", type=int, default=16)
    parser.add_argument("--errand-seconds", type=float, default=20.0, help="measured window")
    parser.add_argument("--errand-warmup", type=float, default=5.0)
    parser.add_argument("--poll-ms", type=float, default=2.0, help="review retry interval")
    parser.add_argument(
        "--errand-item",
        metavar="CODE",
        default=ERRAND_ITEM,
        help=f"the item to apply for (default {ERRAND_ITEM}, whose process is an accept"
        " and one approval; any published online item of the shared workflow instance"
        " without joint departments)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="keep the SQLite files and the processes' logs (logs/) here; default: a"
        " temporary folder, removed afterwards",
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="the seed's volumes for the measurements at scale (a fraction; 0 skips them)",
    )
    parser.add_argument(
        "--scale-database",
        metavar="URL",
        default=os.environ.get("BENCH_SCALE_DATABASE_URL") or scale.DEFAULT_DATABASE,
        help="the stem of the databases at scale (<stem>_catalog, ...), kept between runs",
    )
    parser.add_argument(
        "--scale-catch-up",
        type=float,
        default=1800.0,
        help="seconds to wait, after a first load, for every read model to take the seed in",
    )
    args = parser.parse_args(argv)
    environment = [f"{name}={shlex.quote(value)}" for name, value in settings().items()]
    arguments = argv if argv is not None else sys.argv[1:]
    command = " ".join([*environment, "python -m tests.bench", *map(shlex.quote, arguments)])

    print(f"# {command}")
    print(
        f"# {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} cores, {args.clients} clients, {args.seconds:g} s per path; "
        f"errand: {args.errand_clients} clients, {args.errand_warmup:g} s warm-up, "
        f"{args.errand_seconds:g} s measured"
    )
    with (
        tempfile.TemporaryDirectory(prefix="tongban-bench-") as tmp,
        own_virtual_host(amqp_uri()) as broker,
    ):
        data_dir = args.data_dir or Path(tmp)
        status = 0
        cluster = LocalCluster(
            data_dir=data_dir,
            gateway_port=18000,
            ems_port=18200,
            department_portal_port=18600,
            service_ports=dict(SERVICE_PORTS),
            amqp_uri=broker,
            extra_env={"LOG_LEVEL": "WARNING", **GENEROUS_AUTH_RATE, **UNCAPPED_PUBLIC_READS},
        )
        print(f"# databases: {databases_line(cluster)}")
        sys.stdout.flush()
        bare = None
        try:
            cluster.prepare()
            cluster.start()
            bare = start_bare(18300, data_dir)
            gateway = cluster.gateway_url
            login = requests.post(
                f"{gateway}/api/v1/auth/login",
                json={"phone": "13900000001", "password": "Citizen2026"},
                timeout=10,
            ).json()
            bearer = {"Authorization": f"Bearer {login['access_token']}"}
            paths = [
                ("bare nameko endpoint (baseline)", "http://127.0.0.1:18300/bare", None),
                ("gateway /healthz (no RPC)", f"{gateway}/healthz", None),
                ("gateway JWKS (local)", f"{gateway}/.well-known/jwks.json", None),
                ("gateway regions (read model)", f"{gateway}/api/v1/regions", None),
                ("gateway item search (read model)", f"{gateway}/api/v1/items?q=%E9%A3%9F", None),
                ("gateway /me (token check + 1 RPC)", f"{gateway}/api/v1/me", bearer),
            ]
            for label, url, headers in paths:
                load.run(url, seconds=1, clients=4, processes=1, headers=headers)  # warm up
                result = load.run(url, args.seconds, args.clients, headers=headers)
                print(f"{label:40s} {load.summary(result)}")
                sys.stdout.flush()
            if args.errand_clients > 0:
                pids = [process.popen.pid for process in [*cluster.processes, bare]]
                status = run_errand(gateway, args, pids)
        finally:
            if bare is not None:
                bare.popen.terminate()
                bare.popen.wait(10)
            cluster.stop()
        for label, rate in relay.measure(broker, data_dir / "relay.db", messages=3000):
            print(f"{label:40s} {rate:8.0f} msg/s")
        sys.stdout.flush()
        if args.scale > 0:
            for line in scale.run(
                data_dir, broker, args.scale, args.scale_database, args.scale_catch_up
            ):
                print(line)
                sys.stdout.flush()
    return status


def run_errand(gateway: str, args, cluster_pids: list[int]) -> int:
    """Set the errand up, run it and print its figures; 1 when it could not be set up."""
    try:
        cast = errand.prepare(gateway, args.errand_clients, OPERATOR, args.errand_item)
    except errand.SetupFailed as exc:
        print(f"errand: setup failed: {exc}")
        return 1
    item = cast.item
    print(
        f"# errand: item {item['code']} {item['name']} ({item['department_code']}, "
        f"handled by {item['handled_by']}, online); {len(cast.pairs)} citizens registered, "
        f"signed in and real-name verified, {len(cast.pairs)} staff "
        f"({'+'.join(errand.STAFF_ROLES)}) created by the operator, in {cast.setup_seconds:.1f} s"
    )
    sys.stdout.flush()
    outcome = errand.run(
        gateway,
        cast,
        args.errand_warmup,
        args.errand_seconds,
        poll_ms=args.poll_ms,
        cluster_pids=cluster_pids,
    )
    for line in errand.report(outcome, len(cast.pairs), args.poll_ms):
        print(line)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
