"""Pooled PostgreSQL connections the database closed while they waited in the
pool (a restart, an idle timeout): they are not pinged at checkout, so the first
statement of a transaction finds them closed and runs again on a new
connection; a connection lost later in a transaction fails the transaction as
before. Here the database closes them by terminating their backends."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from services.common.db import CoreSession, make_engine
from services.common.messaging.relay import OutboxRelay
from services.common.messaging.tables import add_messaging_tables

metadata = sa.MetaData()
outbox, _handled = add_messaging_tables(metadata)
things = sa.Table("things", metadata, sa.Column("name", sa.String(20), primary_key=True))


@pytest.fixture
def url(database_factory):
    url = database_factory("stale")
    if not url.startswith("postgresql"):
        pytest.skip("the database closing a pooled connection is a PostgreSQL matter")
    return url


@pytest.fixture
def engine(url):
    engine = make_engine(url, pool_size=2)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def terminate(url):
    """Close, from the database's side, the backends of the pool's connections."""
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")

    def close_pooled(engine):
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


def backend(session: CoreSession) -> int:
    return session.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()


def names(engine) -> list[str]:
    with engine.connect() as connection:
        return sorted(connection.execute(sa.select(things.c.name)).scalars())


def test_a_transaction_begun_on_a_closed_connection_runs_on_a_new_one(engine, terminate):
    session = CoreSession(engine)
    before = backend(session)
    session.commit()
    session.close()
    terminate(engine)

    session = CoreSession(engine)
    session.execute(things.insert(), {"name": "one"})
    after = backend(session)
    session.commit()
    session.close()

    assert after != before
    assert names(engine) == ["one"]


def test_every_connection_pooled_before_the_first_failure_is_replaced(engine, terminate):
    first, second = CoreSession(engine), CoreSession(engine)
    pooled = {backend(first), backend(second)}
    for session in (first, second):
        session.commit()
        session.close()
    terminate(engine)

    seen = set()
    for name in ("one", "two", "three"):
        session = CoreSession(engine)
        session.execute(things.insert(), {"name": name})
        seen.add(backend(session))
        session.commit()
        session.close()

    assert not seen & pooled
    assert names(engine) == ["one", "three", "two"]


def test_a_connection_lost_inside_a_transaction_fails_it_and_nothing_is_run_again(
    engine, terminate
):
    session = CoreSession(engine)
    session.execute(things.insert(), {"name": "one"})
    terminate(engine)

    with pytest.raises(sa.exc.DBAPIError) as raised:
        session.execute(things.insert(), {"name": "two"})
    session.rollback()
    session.close()

    assert raised.value.connection_invalidated
    assert names(engine) == []


def test_a_first_statement_that_fails_otherwise_fails_once_and_keeps_its_transaction(engine):
    with engine.begin() as connection:
        connection.execute(things.insert(), {"name": "one"})
    session = CoreSession(engine)
    statements = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    with pytest.raises(sa.exc.IntegrityError):
        session.execute(things.insert(), {"name": "one"})
    session.rollback()
    session.execute(things.insert(), {"name": "two"})
    session.commit()
    session.close()

    assert sum(statement.startswith("INSERT") for statement in statements) == 2
    assert names(engine) == ["one", "two"]


def test_the_relay_round_after_a_restart_publishes_each_row_once(engine, terminate):
    publisher = Published()
    relay = OutboxRelay(engine, outbox, publisher)
    assert relay.relay_once() == 0  # a connection is in the pool
    with engine.begin() as connection:
        connection.execute(
            outbox.insert(),
            [
                {
                    "event_id": f"e{n}",
                    "event_type": "thing_done",
                    "created_at": datetime.now(UTC),
                    "envelope": {
                        "id": f"e{n}",
                        "source": "things",
                        "type": "thing_done",
                        "correlation_id": f"c{n}",
                    },
                }
                for n in range(2)
            ],
        )
    terminate(engine)

    assert relay.relay_once() == 2
    assert relay.relay_once() == 0
    assert publisher.published == ["e0", "e1"]
    assert relay.backlog() == 0


class Published:
    def __init__(self):
        self.published = []

    def publish_batch(self, messages):
        self.published += [message.message_id for message in messages]
        return []
