"""Test setup shared by the whole tree.

nameko's workers are greenthreads: patch the standard library before anything
imports it (this is what ``nameko test`` does).
"""

import eventlet

eventlet.monkey_patch()

import os
import uuid
from contextlib import contextmanager

import pytest

DEFAULT_AMQP_URI = "pyamqp://guest:guest@127.0.0.1:5672/"
DEFAULT_PG_ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


def _pg_admin_url() -> str | None:
    """PostgreSQL for tests, unless TEST_DATABASE=sqlite asks for files."""
    if os.environ.get("TEST_DATABASE", "").lower() == "sqlite":
        return None
    return os.environ.get("TEST_PG_ADMIN_URL", DEFAULT_PG_ADMIN_URL)


def _rabbitmqctl(*args) -> str | None:
    """rabbitmqctl's output; None when it failed or is not at hand."""
    import shutil
    import subprocess

    command = shutil.which("rabbitmqctl")
    if command is None:
        return None
    result = subprocess.run(  # noqa: S603  (rabbitmqctl with our own arguments)
        [command, *args], capture_output=True, text=True, timeout=60, check=False
    )
    return result.stdout if result.returncode == 0 else None


def _broker_uri() -> str:
    from kombu import Connection

    uri = os.environ.get("AMQP_URI", DEFAULT_AMQP_URI)
    with Connection(uri, connect_timeout=5) as connection:
        connection.ensure_connection(max_retries=3)
    return uri


@contextmanager
def _virtual_host(uri: str):
    """A new virtual host on the broker of ``uri``, deleted afterwards; yields its
    URI, or None where rabbitmqctl is not at hand (a remote broker)."""
    vhost = f"tongban-test-{uuid.uuid4().hex[:8]}"
    if (
        _rabbitmqctl("add_vhost", vhost) is None
        or _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*") is None
    ):
        yield None
        return
    scheme, _, rest = uri.partition("://")
    try:
        yield f"{scheme}://{rest.split('/', 1)[0]}/{vhost}"
    finally:
        _rabbitmqctl("delete_vhost", vhost)


def _ephemeral_ports() -> tuple[int, int]:
    """The kernel's range of ports for sockets bound to port 0 (Linux)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as found:
            low, high = (int(value) for value in found.read().split())
        return low, high
    except (OSError, ValueError):
        return 32768, 60999


@pytest.fixture(scope="session")
def free_port():
    """A function returning a TCP port on 127.0.0.1 that is free right now,
    each once per run.

    The ports come from below the kernel's ephemeral range: the suites that
    run beside this one (``make test``) bind port 0 for their servers, and a
    port handed out here, then bound by a service process a few seconds
    later, could meanwhile be given to one of them by the kernel (the process
    then fails to start while the other server answers its health check)."""
    import random
    import socket

    low, _ = _ephemeral_ports()
    first = 15000 if low > 20000 else 1024
    handed: set[int] = set()

    def bindable(port: int) -> bool:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                return False
        return True

    def pick() -> int:
        for _ in range(500):
            port = random.randrange(first, low)
            if port not in handed and bindable(port):
                handed.add(port)
                return port
        with socket.socket() as sock:  # a crowded machine: any free port
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]

    return pick


@pytest.fixture(scope="session")
def amqp_uri():
    """The real broker, on a virtual host of this test run's own.

    Tests run services under their real names; a virtual host per run keeps them
    apart from a local cluster (or another test run) on the same broker. Where
    rabbitmqctl is not at hand (a remote broker), the given virtual host is used.
    """
    uri = _broker_uri()
    with _virtual_host(uri) as own:
        yield own or uri


@pytest.fixture(scope="session")
def cluster_amqp_uri():
    """A virtual host of its own for the end-to-end cluster, so its services
    hear nothing that integration tests left in durable queues on the run's
    host (events of their made-up items and stores)."""
    uri = _broker_uri()
    with _virtual_host(uri) as own:
        yield own or uri


@pytest.fixture(scope="session")
def quorum_amqp_uri():
    """A second virtual host of this run, for tests with EVENT_QUEUE_TYPE=quorum.

    A queue keeps its type, so quorum queues cannot share names with the classic
    ones of ``amqp_uri``. Skipped where rabbitmqctl is not at hand.
    """
    with _virtual_host(_broker_uri()) as own:
        if own is None:
            pytest.skip("quorum queue tests need rabbitmqctl for a virtual host of their own")
        yield own


@pytest.fixture(scope="session")
def broker_queues():
    """A function: the queues of the virtual host of an AMQP URI, as the broker
    reports them, ``{name: {"type": ..., "arguments": {...}}}`` (rabbitmqctl)."""
    import json

    def listing(uri: str) -> dict[str, dict]:
        vhost = uri.rsplit("/", 1)[1] or "/"
        output = _rabbitmqctl(
            "list_queues", "-p", vhost, "name", "type", "arguments", "--formatter", "json", "-q"
        )
        if output is None:
            pytest.skip("listing queues needs rabbitmqctl")
        return {
            queue["name"]: {
                "type": queue["type"],
                "arguments": {name: value for name, _, value in queue["arguments"]},
            }
            for queue in json.loads(output)
        }

    return listing


@pytest.fixture(scope="session")
def database_factory(tmp_path_factory):
    """Make a new, empty database; return its URL. Dropped at the end."""
    import sqlalchemy as sa

    admin_url = _pg_admin_url()
    created = []
    admin = None
    if admin_url:
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
        except Exception:
            admin.dispose()
            admin = None

    def make(label: str = "db") -> str:
        if admin is None:
            path = tmp_path_factory.mktemp("db") / f"{label}.db"
            return f"sqlite:///{path}"
        name = f"tongban_t_{label}_{uuid.uuid4().hex[:8]}"
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return admin_url.rsplit("/", 1)[0] + f"/{name}"

    yield make
    if admin is not None:
        with admin.connect() as connection:
            for name in created:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def uow_factory(tmp_path):
    """Build a unit of work of the given class on a fresh SQLite file (tables created)."""
    from sqlalchemy.orm import sessionmaker

    from services.common.db import make_engine

    engines = []

    def make(uow_class, source: str = "test", url: str | None = None):
        engine = make_engine(url or f"sqlite:///{tmp_path / (source + '.db')}")
        engines.append(engine)
        uow_class.metadata.create_all(engine)
        return uow_class(sessionmaker(bind=engine, expire_on_commit=False), source=source)

    yield make
    for engine in engines:
        engine.dispose()
