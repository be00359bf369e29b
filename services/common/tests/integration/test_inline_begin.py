"""Transactions of make_engine's PostgreSQL engines, begun in their first
statement's message (``services.common.pgdialect``): one round trip fewer per
transaction, and everything a transaction promises kept."""

from dataclasses import dataclass
from typing import ClassVar

import pytest
import sqlalchemy as sa
from psycopg2 import extensions

from services.common.db import (
    DEFERRED,
    OPENING,
    CoreSession,
    UnitOfWork,
    core_sessions,
    inline_begin,
)
from services.common.pgdialect import NAME
from services.common.tests.integration.conftest import metadata, outbox, things


class Work(UnitOfWork):
    metadata = metadata


@dataclass
class Noted:
    type: ClassVar[str] = "noted"
    name: str


def test_the_engine_is_on_the_dialect_that_begins_inline(pg_engine):
    assert pg_engine.url.drivername == NAME
    assert pg_engine.dialect.name == "postgresql"


def test_postgresql_urls_of_psycopg2_alone_change_dialect():
    assert str(inline_begin("postgresql://u@h/d")) == f"{NAME}://u@h/d"
    assert str(inline_begin("postgresql+psycopg2://u@h/d")) == f"{NAME}://u@h/d"
    assert inline_begin("postgresql+pg8000://u@h/d") == "postgresql+pg8000://u@h/d"
    assert inline_begin("sqlite:///x.db") == "sqlite:///x.db"


def test_a_transaction_of_two_statements_takes_three_round_trips(pg_engine, round_trips):
    with pg_engine.connect() as connection:
        connection.execute(sa.text("SELECT 1")).all()  # the pool's connection is made
        connection.commit()
        round_trips.clear()

        connection.execute(things.insert(), {"name": "one"})
        connection.execute(things.insert(), {"name": "two"})
        connection.commit()

    # Each statement and the commit: no BEGIN of its own, no ping.
    assert len(round_trips) == 3


def test_nothing_is_seen_committed_before_the_commit(pg_engine, committed):
    session = CoreSession(pg_engine)
    session.execute(things.insert(), {"name": "one"})
    session.execute(things.insert(), {"name": "two"})
    assert committed() == []

    session.commit()
    assert committed() == ["one", "two"]
    session.close()


def test_a_rollback_takes_back_every_statement_since_the_commit(pg_engine, committed):
    session = CoreSession(pg_engine)
    session.execute(things.insert(), {"name": "kept"})
    session.commit()
    session.execute(things.insert(), {"name": "undone"})
    session.execute(things.update().values(name="changed").where(things.c.name == "kept"))
    session.rollback()
    session.close()

    assert committed() == ["kept"]


def test_a_savepoint_takes_back_its_part_alone(pg_engine, committed):
    with pg_engine.connect() as connection:
        connection.execute(things.insert(), {"name": "outer"})
        with pytest.raises(sa.exc.IntegrityError):
            with connection.begin_nested():
                connection.execute(things.insert(), {"name": "inner"})
                connection.execute(things.insert(), {"name": "outer"})
        connection.execute(things.insert(), {"name": "after"})
        connection.commit()

    assert committed() == ["after", "outer"]


def test_a_failed_statement_leaves_the_connection_usable_after_the_rollback(pg_engine, committed):
    session = CoreSession(pg_engine)
    session.execute(things.insert(), {"name": "one"})
    with pytest.raises(sa.exc.IntegrityError):
        session.execute(things.insert(), {"name": "one"})
    session.rollback()
    session.execute(things.insert(), {"name": "two"})
    session.commit()
    session.close()

    assert committed() == ["two"]


def test_a_connection_given_back_inside_a_transaction_is_rolled_back(pg_engine, committed):
    connection = pg_engine.connect()
    connection.execute(things.insert(), {"name": "abandoned"})
    connection.close()

    with pg_engine.connect() as again:  # the pool's one connection
        driver = again.connection.dbapi_connection
        assert driver.info.transaction_status == extensions.TRANSACTION_STATUS_IDLE
        again.execute(things.insert(), {"name": "next"})
        again.commit()
    assert committed() == ["next"]


def test_a_transaction_writes_and_reads_under_read_committed_alone(pg_engine):
    with pg_engine.connect() as connection:
        level = connection.execute(sa.text("SHOW transaction_isolation")).scalar_one()
        assert level == "read committed"
    with pytest.raises(NotImplementedError, match="READ COMMITTED only"):
        with pg_engine.connect().execution_options(isolation_level="SERIALIZABLE") as connection:
            connection.execute(sa.text("SELECT 1"))


# --- statements whose result is not read (execution_options=DEFERRED)


def test_deferred_writes_go_with_the_commit_in_one_message(pg_engine, committed, round_trips):
    session = CoreSession(pg_engine)
    session.execute(things.insert(), {"name": "first"})  # begins: sent at once
    round_trips.clear()
    session.execute(things.insert(), {"name": "it's 100%"}, execution_options=DEFERRED)
    session.execute(things.insert(), [{"name": "x"}, {"name": "y"}], execution_options=DEFERRED)
    assert round_trips == []
    assert committed() == []  # on connections of its own
    round_trips.clear()

    session.commit()
    session.close()

    assert len(round_trips) == 1
    assert committed() == ["first", "it's 100%", "x", "y"]


def test_a_read_after_deferred_writes_sees_them(pg_engine, round_trips):
    session = CoreSession(pg_engine)
    session.execute(things.insert(), {"name": "a"})
    session.execute(things.insert(), {"name": "b"}, execution_options=DEFERRED)
    round_trips.clear()

    seen = sorted(session.execute(sa.select(things.c.name)).scalars())

    assert seen == ["a", "b"]
    assert len(round_trips) == 1
    session.rollback()
    session.close()


def test_a_transactions_first_statement_is_not_deferred(pg_engine, committed):
    session = CoreSession(pg_engine)
    session.execute(things.insert(), {"name": "first"}, execution_options=DEFERRED)
    assert session.connection.connection.dbapi_connection.info.transaction_status == (
        extensions.TRANSACTION_STATUS_INTRANS
    )
    session.commit()
    session.close()
    assert committed() == ["first"]


def test_an_opening_statement_goes_with_the_next_one(pg_engine, committed, round_trips):
    session = CoreSession(pg_engine)
    session.execute(sa.text("SELECT 1")).all()  # the pool's connection is made
    session.commit()
    round_trips.clear()

    session.execute(things.insert(), {"name": "first"}, execution_options=OPENING)
    session.execute(things.insert(), {"name": "later"}, execution_options=DEFERRED)
    assert round_trips == []
    assert session.execute(sa.select(things.c.name).order_by(things.c.name)).scalars().all() == [
        "first",
        "later",
    ]
    assert len(round_trips) == 1
    session.commit()
    assert len(round_trips) == 2
    session.close()
    assert committed() == ["first", "later"]


def test_an_opening_statement_alone_goes_with_the_commit_or_not_at_all(
    pg_engine, committed, round_trips
):
    session = CoreSession(pg_engine)
    session.execute(sa.text("SELECT 1")).all()
    session.commit()
    round_trips.clear()

    session.execute(things.insert(), {"name": "dropped"}, execution_options=OPENING)
    session.rollback()
    assert round_trips == []
    session.execute(things.insert(), {"name": "kept"}, execution_options=OPENING)
    session.commit()
    assert len(round_trips) == 1
    session.close()
    assert committed() == ["kept"]


def test_a_statement_with_returning_is_not_deferred(pg_engine):
    session = CoreSession(pg_engine)
    session.execute(things.insert(), {"name": "a"})
    returned = session.execute(
        things.insert().returning(things.c.name), {"name": "b"}, execution_options=DEFERRED
    ).scalar_one()
    assert returned == "b"
    session.rollback()
    session.close()


def test_a_deferred_write_that_fails_fails_the_commit_and_nothing_commits(pg_engine, committed):
    with pg_engine.begin() as connection:
        connection.execute(things.insert(), {"name": "taken"})
    session = CoreSession(pg_engine)
    session.execute(things.insert(), {"name": "new"})
    session.execute(things.insert(), {"name": "taken"}, execution_options=DEFERRED)

    with pytest.raises(sa.exc.IntegrityError):
        session.commit()
    session.rollback()
    session.close()

    assert committed() == ["taken"]


def test_a_rollback_drops_what_waits(pg_engine, committed):
    session = CoreSession(pg_engine)
    session.execute(things.insert(), {"name": "a"})
    session.execute(things.insert(), {"name": "b"}, execution_options=DEFERRED)
    session.rollback()
    session.execute(things.insert(), {"name": "c"})
    session.commit()
    session.close()

    assert committed() == ["c"]


def test_a_unit_of_works_events_go_with_its_commit(pg_engine, round_trips):
    """The outbox rows, one or several, are written without reading their
    ``seq`` back, so they wait for the commit like the writes before them."""
    uow = Work(core_sessions(pg_engine), source="tests")
    with uow:
        uow.session.execute(things.insert(), {"name": "first"})
        uow.emit(Noted(name="first"))
        round_trips.clear()
        envelopes = uow.commit()
        assert len(round_trips) == 1
        uow.session.execute(things.insert(), {"name": "then"})
        uow.emit(Noted(name="then"), Noted(name="again"))
        round_trips.clear()
        envelopes += uow.commit()
        assert len(round_trips) == 1

    with pg_engine.connect() as connection:
        stored = connection.execute(sa.select(outbox.c.event_id).order_by(outbox.c.seq)).scalars()
        assert list(stored) == [envelope["id"] for envelope in envelopes]
