"""The statements built once (``services.common.db``) on the database the tests
run on (PostgreSQL when it is reachable, else SQLite): each does what its name
says, and ``create_or_lock`` makes a second creator of one row wait, then find it."""

import threading

import pytest
import sqlalchemy as sa

from services.common.db import (
    create_or_lock,
    delete_by_key,
    insert_absent,
    make_engine,
    update_by_key,
)

metadata = sa.MetaData()
things = sa.Table(
    "things",
    metadata,
    sa.Column("thing_id", sa.String(20), primary_key=True),
    sa.Column("owner", sa.String(20), nullable=True),
    sa.Column("count", sa.Integer, nullable=False, default=0),
)


@pytest.fixture
def engine(database_factory):
    engine = make_engine(database_factory("statements"))
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def rows(engine):
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.select(things).order_by("thing_id"))]


def test_each_statement_is_built_once_per_table_and_key(engine):
    dialect = engine.dialect.name
    assert update_by_key(things, "thing_id") is update_by_key(things, "thing_id")
    assert delete_by_key(things, "owner") is delete_by_key(things, "owner")
    assert insert_absent(dialect, things, "thing_id") is insert_absent(dialect, things, "thing_id")
    assert create_or_lock(dialect, things, "thing_id") is create_or_lock(
        dialect, things, "thing_id"
    )


def test_insert_absent_keeps_the_row_there_is(engine):
    statement = insert_absent(engine.dialect.name, things, "thing_id")
    with engine.begin() as connection:
        assert connection.execute(statement, {"thing_id": "a", "count": 1}).rowcount == 1
        assert connection.execute(statement, {"thing_id": "a", "count": 9}).rowcount == 0
    assert rows(engine) == [("a", None, 1)]


def test_update_by_key_sets_the_columns_named_of_one_row(engine):
    with engine.begin() as connection:
        connection.execute(
            things.insert(), [{"thing_id": "a", "count": 1}, {"thing_id": "b", "count": 0}]
        )
        connection.execute(update_by_key(things, "thing_id"), {"where_key": "a", "count": 5})
        connection.execute(update_by_key(things, "thing_id"), {"where_key": "b", "owner": "x"})
    assert rows(engine) == [("a", None, 5), ("b", "x", 0)]


def test_delete_by_key_removes_every_row_of_the_key(engine):
    with engine.begin() as connection:
        connection.execute(
            things.insert(),
            [
                {"thing_id": "a", "owner": "x"},
                {"thing_id": "b", "owner": "x"},
                {"thing_id": "c", "owner": None},
            ],
        )
        connection.execute(delete_by_key(things, "owner"), {"key": "x"})
    assert rows(engine) == [("c", None, 0)]


def test_create_or_lock_answers_the_new_row_then_the_stored_one(engine):
    statement = create_or_lock(engine.dialect.name, things, "thing_id")
    with engine.begin() as connection:
        first = connection.execute(statement, {"thing_id": "a", "owner": "x", "count": 1}).one()
        again = connection.execute(statement, {"thing_id": "a", "owner": "y", "count": 7}).one()
    assert tuple(first) == ("a", "x", 1)
    assert tuple(again) == ("a", "x", 1)  # the stored row, unchanged
    assert rows(engine) == [("a", "x", 1)]


def test_a_second_creator_waits_for_the_first_and_finds_its_row(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite writes one transaction at a time")
    statement = create_or_lock(engine.dialect.name, things, "thing_id")
    first_holds = threading.Event()
    seen = {}

    def second():
        first_holds.wait(5)
        with engine.begin() as connection:
            seen["row"] = tuple(connection.execute(statement, {"thing_id": "a", "count": 9}).one())
            seen["waited_for_first"] = "first" in seen

    worker = threading.Thread(target=second)
    worker.start()
    with engine.begin() as connection:
        connection.execute(statement, {"thing_id": "a", "count": 1})
        first_holds.set()
        worker.join(0.5)  # the second is blocked on the row meanwhile
        assert worker.is_alive()
        connection.execute(update_by_key(things, "thing_id"), {"where_key": "a", "count": 2})
        seen["first"] = True
    worker.join(5)
    assert seen == {"row": ("a", None, 2), "first": True, "waited_for_first": True}
