"""Pooled PostgreSQL connections the database closed while they waited in the
pool (a restart, an idle timeout): they are not pinged at checkout, so the first
statement of a transaction finds them closed and runs again on a new
connection; a connection lost later in a transaction fails the transaction as
before. Here the database closes them by terminating their backends."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from services.common.db import OPENING, CoreSession
from services.common.messaging.relay import OutboxRelay
from services.common.tests.integration.conftest import Publisher, outbox, things


def backend(session: CoreSession) -> int:
    return session.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()


def pooled_then_closed(engine: sa.Engine, terminate) -> int:
    """Leave a connection in the pool, then close it from the database's
    side; its backend's pid."""
    session = CoreSession(engine)
    pid = backend(session)
    session.commit()
    session.close()
    terminate()
    return pid


def test_a_transaction_begun_on_a_closed_connection_runs_on_a_new_one(
    pg_engine, terminate, committed
):
    before = pooled_then_closed(pg_engine, terminate)

    session = CoreSession(pg_engine)
    session.execute(things.insert(), {"name": "one"})
    after = backend(session)
    session.commit()
    session.close()

    assert after != before
    assert committed() == ["one"]


def test_every_connection_pooled_before_the_first_failure_is_replaced(
    pg_engine, terminate, committed
):
    first, second = CoreSession(pg_engine), CoreSession(pg_engine)
    pooled = {backend(first), backend(second)}
    for session in (first, second):
        session.commit()
        session.close()
    terminate()

    seen = set()
    for name in ("one", "two", "three"):
        session = CoreSession(pg_engine)
        session.execute(things.insert(), {"name": name})
        seen.add(backend(session))
        session.commit()
        session.close()

    assert not seen & pooled
    assert committed() == ["one", "three", "two"]


@pytest.mark.parametrize("then", ["a statement", "the commit"])
def test_an_opening_statement_on_a_closed_connection_runs_again_with_what_followed(
    pg_engine, terminate, committed, then
):
    """The opening statement waits for the next one; when that one finds the
    connection closed, both run on a new connection."""
    before = pooled_then_closed(pg_engine, terminate)

    session = CoreSession(pg_engine)
    session.execute(things.insert(), {"name": "one"}, execution_options=OPENING)
    if then == "a statement":
        session.execute(things.insert(), {"name": "two"})
        assert backend(session) != before
    session.commit()
    session.close()

    assert committed() == (["one", "two"] if then == "a statement" else ["one"])


def test_a_connection_lost_inside_a_transaction_fails_it_and_nothing_is_run_again(
    pg_engine, terminate, committed
):
    session = CoreSession(pg_engine)
    session.execute(things.insert(), {"name": "one"})
    terminate()

    with pytest.raises(sa.exc.DBAPIError) as raised:
        session.execute(things.insert(), {"name": "two"})
    session.rollback()
    session.close()

    assert raised.value.connection_invalidated
    assert committed() == []


def test_a_first_statement_that_fails_otherwise_fails_once_and_keeps_its_transaction(
    pg_engine, committed
):
    with pg_engine.begin() as connection:
        connection.execute(things.insert(), {"name": "one"})
    session = CoreSession(pg_engine)
    statements = []
    sa.event.listen(pg_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    with pytest.raises(sa.exc.IntegrityError):
        session.execute(things.insert(), {"name": "one"})
    session.rollback()
    session.execute(things.insert(), {"name": "two"})
    session.commit()
    session.close()

    assert sum(statement.startswith("INSERT") for statement in statements) == 2
    assert committed() == ["one", "two"]


def test_the_relay_round_after_a_restart_publishes_each_row_once(pg_engine, terminate):
    publisher = Publisher()
    relay = OutboxRelay(pg_engine, outbox, publisher)
    assert relay.relay_once() == 0  # a connection is in the pool
    with pg_engine.begin() as connection:
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
    terminate()

    assert relay.relay_once() == 2
    assert relay.relay_once() == 0
    assert publisher.published == ["e0", "e1"]
    assert relay.backlog() == 0
