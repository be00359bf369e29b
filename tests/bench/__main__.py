"""Measure the main request paths side by side with a bare endpoint.

    make bench            (python -m tests.bench [--seconds 5] [--clients 50]
                                              [--errand-clients 16] [--errand-seconds 20]
                                              [--paced-rate 30] [--backends sqlite,postgresql]
                                              [--profile DIR] [--no-reads] [--no-relay]
                                              [--scale 1] [--scale-database URL])

For each backend (SQLite files in a temporary folder; PostgreSQL databases
tongban_bench_* made afresh), starts the whole cluster locally plus a bare
nameko HTTP service. On the first, drives each read path with a closed-loop load
of N keep-alive clients, beside the bare endpoint (the share of its throughput
is printed). On each, runs the whole errand (submit, accept, approve, review;
``tests.bench.errand``) with real citizens and staff: as fast as 16 clients go,
with each process's CPU per errand (and, with ``--profile``, py-spy's profile of
each process: ``tests.bench.profile``), then paced at ``--paced-rate`` errands a
second for the event hop at that load. Then the outbox relay's batch publishing
against a publisher that waits for each confirm in turn. Then, at the seed's
size (``tests.bench.scale``), a second cluster on PostgreSQL databases of its
own, filled by the seed's loader and kept between runs: search p95 over 200
distinct queries, a guide, the catalogue statistics and login p99. Prints every
figure and the command that produced it.

PostgreSQL: ``BENCH_DATABASE_URL`` (default
postgresql+psycopg2://postgres@127.0.0.1:5432/tongban_bench) is the stem of the
databases (<stem>_identity, ...), dropped and made again for each run; a backend
that is not reachable is skipped with a line saying so. The cluster runs on a
RabbitMQ virtual host of its own when rabbitmqctl is at hand, so a local cluster
on the same broker is left alone.
"""

import argparse
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
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
from tests.bench import cpu, errand, load, profile, relay, scale

BACKENDS = ("sqlite", "postgresql")
POSTGRES_STEM = (
    os.environ.get("BENCH_DATABASE_URL")
    or "postgresql+psycopg2://postgres@127.0.0.1:5432/tongban_bench"
)
# Out of the way of a local cluster (make run) on the same machine.
PORTS = {
    "gateway_port": 18000,
    "ems_port": 18200,
    "data_exchange_port": 18310,
    "sms_port": 18400,
    "payment_port": 18500,
    "department_portal_port": 18600,
}
BARE_PORT = 18300
# The processes --profile samples: the services and the gateway (one sampler each).
PROFILED = (*SERVICES, "gateway")
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
        "--paced-rate",
        type=float,
        default=30.0,
        help="errands a second of the paced run that measures the event hop (0 skips it)",
    )
    parser.add_argument(
        "--backends",
        default=",".join(BACKENDS),
        help="the databases to run the cluster on, in turn (sqlite, postgresql)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="after the measured runs, one more flat out with each service and the gateway"
        " sampled by py-spy, into DIR/<backend>/",
    )
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
    parser.add_argument(
        "--no-reads",
        action="store_true",
        help="skip the public reads beside the bare endpoint (the errand only)",
    )
    parser.add_argument(
        "--no-relay",
        action="store_true",
        help="skip the outbox relay's batch publishing against a publisher per message",
    )
    args = parser.parse_args(argv)
    backends = [name.strip() for name in args.backends.split(",") if name.strip()]
    unknown = set(backends) - set(BACKENDS)
    if unknown:
        parser.error(f"--backends: unknown {', '.join(sorted(unknown))} (of {', '.join(BACKENDS)})")
    environment = [f"{name}={shlex.quote(value)}" for name, value in settings().items()]
    arguments = argv if argv is not None else sys.argv[1:]
    command = " ".join([*environment, "python -m tests.bench", *map(shlex.quote, arguments)])

    print(f"# {command}")
    print(
        f"# {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} cores, {args.clients} clients, {args.seconds:g} s per path; "
        f"errand: {args.errand_clients} clients, {args.errand_warmup:g} s warm-up, "
        f"{args.errand_seconds:g} s measured; paced at {args.paced_rate:g} errands/s"
    )
    status = 0
    with (
        tempfile.TemporaryDirectory(prefix="tongban-bench-") as tmp,
        own_virtual_host(amqp_uri()) as broker,
    ):
        data_dir = args.data_dir or Path(tmp)
        for index, backend in enumerate(backends):
            status |= measure_cluster(
                backend, data_dir / backend, broker, args, reads=index == 0 and not args.no_reads
            )
        if not args.no_relay:
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


def postgres_reachable(stem: str) -> str | None:
    """None when the server of ``stem`` answers, else why not."""
    import sqlalchemy as sa

    engine = sa.create_engine(make_url(stem).set(database="postgres"))
    try:
        with engine.connect():
            return None
    except sa.exc.SQLAlchemyError as exc:
        return str(exc.orig or exc).splitlines()[0]
    finally:
        engine.dispose()


def measure_cluster(backend: str, data_dir: Path, broker: str, args, reads: bool) -> int:
    """A cluster on ``backend``: the reads (if ``reads``), then the errand."""
    cluster = LocalCluster(
        data_dir=data_dir,
        **PORTS,
        service_ports=dict(SERVICE_PORTS),
        amqp_uri=broker,
        extra_env={"LOG_LEVEL": "WARNING", **GENEROUS_AUTH_RATE, **UNCAPPED_PUBLIC_READS},
    )
    names = [*SERVICES, *cluster.workflow_instances]
    if backend == "sqlite":
        # Named outright: a DATABASE_URL in the environment would win otherwise.
        cluster.database_urls = {name: f"sqlite:///{data_dir / (name + '.db')}" for name in names}
    if backend == "postgresql":
        why = postgres_reachable(POSTGRES_STEM)
        if why:
            print(f"## postgresql: skipped, {make_url(POSTGRES_STEM).host} does not answer: {why}")
            return 0
        from tests.faults.cluster import fresh_postgres_databases

        cluster.database_urls = fresh_postgres_databases(names, stem=POSTGRES_STEM)
    print(f"## {backend}: {databases_line(cluster)}")
    sys.stdout.flush()
    bare = None
    status = 0
    try:
        cluster.prepare()
        cluster.start()
        bare = start_bare(BARE_PORT, data_dir)
        waited = cpu.wait_quiet([process.popen.pid for process in cluster.processes])
        print(f"# the cluster was quiet {waited:.0f} s after it started")
        if reads:
            measure_reads(cluster.gateway_url, f"http://127.0.0.1:{BARE_PORT}/bare", args)
        if args.errand_clients > 0:
            pids = {process.name: [process.popen.pid] for process in cluster.processes}
            pids["bare"] = [bare.popen.pid]
            status = run_errand(cluster.gateway_url, args, pids, data_dir, backend)
    finally:
        if bare is not None:
            bare.popen.terminate()
            bare.popen.wait(10)
        cluster.stop()
    return status


def measure_reads(gateway: str, bare_url: str, args) -> None:
    login = requests.post(
        f"{gateway}/api/v1/auth/login",
        json={"phone": "13900000001", "password": "Citizen2026"},
        timeout=10,
    ).json()
    bearer = {"Authorization": f"Bearer {login['access_token']}"}
    first = requests.get(f"{gateway}/api/v1/items", params={"page_size": 1}, timeout=10).json()
    guide = f"{gateway}/api/v1/items/{first['items'][0]['item_id']}"
    paths = [
        ("bare nameko endpoint (baseline)", bare_url, None, False),
        ("gateway /healthz (no RPC)", f"{gateway}/healthz", None, False),
        ("gateway JWKS (local)", f"{gateway}/.well-known/jwks.json", None, False),
        ("gateway regions (read model)", f"{gateway}/api/v1/regions", None, True),
        ("gateway item search (read model)", f"{gateway}/api/v1/items?q=%E9%A3%9F", None, True),
        ("gateway item guide (read model)", guide, None, True),
        ("gateway stores (read model)", f"{gateway}/api/v1/stores", None, True),
        ("gateway /me (token check + 1 RPC)", f"{gateway}/api/v1/me", bearer, False),
    ]
    baseline = None
    for label, url, headers, public in paths:
        load.run(url, seconds=1, clients=4, processes=1, headers=headers)  # warm up
        result = load.run(url, args.seconds, args.clients, headers=headers)
        baseline = baseline or result.rate
        share = f"  {100 * result.rate / baseline:3.0f} % of bare" if public and baseline else ""
        print(f"{label:40s} {load.summary(result)}{share}")
        sys.stdout.flush()


def run_errand(
    gateway: str, args, cluster_pids: dict[str, list[int]], data_dir: Path, backend: str
) -> int:
    """Set the errand up, run it flat out and paced, print its figures; 1 when it
    could not be set up."""
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
    if args.paced_rate > 0:
        paced = errand.run(
            gateway,
            cast,
            args.errand_warmup,
            args.errand_seconds,
            poll_ms=args.poll_ms,
            cluster_pids=cluster_pids,
            rate=args.paced_rate,
        )
        print(f"paced at {args.paced_rate:g} errands/s:")
        for line in errand.report(paced, len(cast.pairs), args.poll_ms):
            print(f"  {line}")
        sys.stdout.flush()
    if args.profile is not None:
        profile_errand(gateway, cast, args, cluster_pids, backend)
    return 0


def profile_errand(gateway: str, cast, args, cluster_pids: dict[str, list[int]], backend: str):
    """Once more flat out, each process of the cluster sampled by py-spy: a run
    of its own, since the samplers take CPU the figures above must not lose."""
    if profile.available() is None:
        print("# profile: py-spy is not installed (pip install py-spy); not profiled")
        return
    recordings = []
    services = {name: pids[0] for name, pids in cluster_pids.items() if name in PROFILED}
    starter = []

    def start(window):
        # Called before the clients start: the samplers wait for the window apart.
        def at_window():
            time.sleep(max(0.0, window.start - time.monotonic()))
            recordings.extend(profile.start(args.profile / backend, services, window.seconds))

        starter.append(threading.Thread(target=at_window, daemon=True))
        starter[0].start()

    errand.run(
        gateway,
        cast,
        args.errand_warmup,
        args.errand_seconds,
        poll_ms=args.poll_ms,
        on_window=start,
    )
    for thread in starter:
        thread.join()
    print(f"# profiles of a further flat-out run (py-spy, {profile.SAMPLES_PER_SECOND} samples/s):")
    for line in profile.finish(recordings):
        print(line)
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
