"""A PostgreSQL database of its own with one small table, for the tests of
make_engine's connections (skipped where the tests run on SQLite)."""

import pytest
import sqlalchemy as sa
from psycopg2 import extensions, extras

from services.common.db import make_engine
from services.common.messaging.tables import add_messaging_tables

metadata = sa.MetaData()
outbox, _handled = add_messaging_tables(metadata)
things = sa.Table("things", metadata, sa.Column("name", sa.String(20), primary_key=True))


@pytest.fixture
def pg_url(database_factory, request):
    url = database_factory(request.module.__name__.rsplit("_", 1)[-1])
    if not url.startswith("postgresql"):
        pytest.skip("make_engine's own PostgreSQL connections")
    return url


@pytest.fixture
def pg_engine(pg_url):
    engine = make_engine(pg_url, pool_size=2)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def committed(pg_url):
    """The names in ``things``, as another connection (the driver's own
    dialect) sees them: what committed."""
    engine = sa.create_engine(pg_url)

    def names() -> list[str]:
        with engine.connect() as connection:
            return sorted(connection.execute(sa.select(things.c.name)).scalars())

    yield names
    engine.dispose()


class Publisher:
    """Takes every batch, as the broker confirming each message would."""

    def __init__(self):
        self.published = []

    def publish_batch(self, messages):
        self.published += [message.message_id for message in messages]
        return []


@pytest.fixture
def round_trips():
    """Count the driver's waits for an answer from the server (one a message)."""
    counted = []
    before = extensions.get_wait_callback()

    def wait(connection):
        counted.append(1)
        extras.wait_select(connection)

    extensions.set_wait_callback(wait)
    yield counted
    extensions.set_wait_callback(before)


@pytest.fixture
def terminate(pg_url):
    """Close, from the database's side, the backends of the pool's connections."""
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")

    def close_pooled():
        with admin.connect() as connection:
            closed = connection.execute(
                sa.text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalar_one()
        assert closed >= 1
        return closed

    yield close_pooled
    admin.dispose()
