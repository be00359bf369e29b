"""Measure the main request paths side by side with a bare endpoint.

    make bench            (python -m tests.bench [--seconds 5] [--clients 50])

Starts the whole cluster locally (SQLite files in a temporary folder, or
PostgreSQL when the services' *_DATABASE_URL say so) plus a bare nameko HTTP
service, drives each path with a closed-loop load of N keep-alive clients, and
measures the outbox relay's batch publishing against a publisher that waits for
each confirm in turn. Prints every figure and the command that produced it.
"""

import argparse
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from operations.local_cluster import LocalCluster, Process
from services.common.config import PROJECT_ROOT, amqp_uri
from tests.bench import load, relay


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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=50)
    args = parser.parse_args(argv)
    command = "python -m tests.bench " + shlex.join(argv if argv is not None else sys.argv[1:])

    print(f"# {command}")
    print(
        f"# {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} cores, {args.clients} clients, {args.seconds:g} s per path"
    )
    with tempfile.TemporaryDirectory(prefix="tongban-bench-") as tmp:
        data_dir = Path(tmp)
        cluster = LocalCluster(
            data_dir=data_dir,
            gateway_port=18000,
            ems_port=18200,
            service_ports={
                "identity": 18101,
                "catalog": 18102,
                "workflow": 18103,
                "courier": 18104,
                "ratings": 18105,
            },
            extra_env={"LOG_LEVEL": "WARNING", "AUTH_RATE_PER_SECOND": "100000"},
        )
        cluster.prepare()
        cluster.start()
        bare = start_bare(18300, data_dir)
        try:
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
        finally:
            bare.popen.terminate()
            bare.popen.wait(10)
            cluster.stop()
        for label, rate in relay.measure(amqp_uri(), data_dir / "relay.db", messages=3000):
            print(f"{label:40s} {rate:8.0f} msg/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
