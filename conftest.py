"""Test setup shared by the whole tree.

nameko's workers are greenthreads: patch the standard library before anything
imports it (this is what ``nameko test`` does).
"""

import eventlet

eventlet.monkey_patch()

import os
import uuid

import pytest

DEFAULT_AMQP_URI = "pyamqp://guest:guest@127.0.0.1:5672/"
DEFAULT_PG_ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


def _pg_admin_url() -> str | None:
    """PostgreSQL for tests, unless TEST_DATABASE=sqlite asks for files."""
    if os.environ.get("TEST_DATABASE", "").lower() == "sqlite":
        return None
    return os.environ.get("TEST_PG_ADMIN_URL", DEFAULT_PG_ADMIN_URL)


def _rabbitmqctl(*args) -> bool:
    import shutil
    import subprocess

    command = shutil.which("rabbitmqctl")
    if command is None:
        return False
    result = subprocess.run(  # noqa: S603  (rabbitmqctl with our own arguments)
        [command, *args], capture_output=True, timeout=60, check=False
    )
    return result.returncode == 0


@pytest.fixture(scope="session")
def free_port():
    """A function returning a TCP port on 127.0.0.1 that is free right now."""
    import socket

    def pick() -> int:
        with socket.socket() as sock:
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
    from kombu import Connection

    uri = os.environ.get("AMQP_URI", DEFAULT_AMQP_URI)
    with Connection(uri, connect_timeout=5) as connection:
        connection.ensure_connection(max_retries=3)
    vhost = f"tongban-test-{uuid.uuid4().hex[:8]}"
    if not (
        _rabbitmqctl("add_vhost", vhost)
        and _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    ):
        yield uri
        return
    scheme, _, rest = uri.partition("://")
    yield f"{scheme}://{rest.split('/', 1)[0]}/{vhost}"
    _rabbitmqctl("delete_vhost", vhost)


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
