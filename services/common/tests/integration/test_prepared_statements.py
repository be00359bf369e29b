"""Statements a connection runs often, prepared on it (``services.common.pgdialect``):
the server parses and plans them once per connection, and every answer stays
what it was."""

import pytest
import sqlalchemy as sa
from psycopg2 import extensions

from services.common.db import DEFERRED, CoreSession, inline_begin, make_engine
from services.common.pgdialect import _PREPARED
from services.common.tests.integration.conftest import metadata, things

by_name = sa.select(things.c.name).where(things.c.name == sa.bindparam("name"))


class Recording(extensions.cursor):
    """A cursor that keeps every message it sends, as sent."""

    sent: list[str]

    def execute(self, query, variables=None):
        text = self.mogrify(query, variables) if variables is not None else query
        self.sent.append(text.decode() if isinstance(text, bytes) else text)
        return super().execute(query, variables)


@pytest.fixture
def sent():
    messages: list[str] = []
    Recording.sent = messages
    yield messages
    del Recording.sent


def engine_on(pg_url, **options) -> sa.Engine:
    engine = sa.create_engine(
        inline_begin(pg_url), connect_args={"cursor_factory": Recording}, pool_size=1, **options
    )
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(things.delete())
        connection.execute(things.insert(), [{"name": "one"}, {"name": "two"}])
    return engine


@pytest.fixture
def engine(pg_url, sent):
    engine = engine_on(pg_url)
    sent.clear()
    yield engine
    engine.dispose()


def run_alone(engine, statement, parameters=None):
    """``statement`` in a transaction of its own: its rows."""
    with engine.connect() as connection:
        rows = connection.execute(statement, parameters or {}).all()
        connection.commit()
    return rows


def test_a_statement_run_three_times_is_prepared_and_answers_the_same(engine, sent):
    answers = [run_alone(engine, by_name, {"name": "one"}) for _ in range(5)]

    assert answers == [[("one",)]] * 5
    selects = [message for message in sent if message != "COMMIT"]
    assert all(message.startswith("BEGIN;SELECT") for message in selects[:3])
    prepare = selects[3]
    assert prepare.startswith("PREPARE tongban_") and "things.name = $1" in prepare
    name = prepare.split()[1]
    assert selects[4:] == [f"BEGIN;EXECUTE {name}('one')"] * 2


def test_what_falls_due_in_a_transaction_is_prepared_before_the_next_begins(engine, sent):
    with engine.connect() as connection:
        for _ in range(4):
            assert connection.execute(by_name, {"name": "two"}).all() == [("two",)]
        connection.commit()
        assert not [message for message in sent if message.startswith("PREPARE")]

        assert connection.execute(by_name, {"name": "one"}).all() == [("one",)]
        connection.commit()

    prepare, execute = sent[-3:-1]
    assert prepare.startswith("PREPARE ")
    assert execute == f"BEGIN;EXECUTE {prepare.split()[1]}('one')"
    assert sent[-1] == "COMMIT"


def test_a_statement_the_server_will_not_prepare_runs_as_it_is(engine, sent):
    unknown_type = sa.text("SELECT :value IS NULL")  # $1 of no type the server can tell

    answers = [run_alone(engine, unknown_type, {"value": "x"}) for _ in range(6)]

    assert answers == [[(False,)]] * 6
    prepares = [message for message in sent if message.startswith("PREPARE")]
    assert len(prepares) == 1  # tried once, then remembered
    assert sent[-2:] == ["BEGIN;SELECT 'x' IS NULL", "COMMIT"]


def test_a_refused_statement_leaves_the_others_of_its_message_prepared(engine, sent):
    unknown_type = sa.text("SELECT :value IS NULL")
    with engine.connect() as connection:
        for _ in range(3):
            connection.execute(by_name, {"name": "one"}).all()
            connection.execute(unknown_type, {"value": None}).all()
        connection.commit()

        assert connection.execute(by_name, {"name": "two"}).all() == [("two",)]
        assert connection.execute(unknown_type, {"value": None}).all() == [(True,)]
        connection.commit()

    assert sent[-2].startswith("SELECT NULL IS NULL")
    assert sent[-3].startswith("BEGIN;EXECUTE tongban_")


def test_percent_signs_and_a_repeated_parameter_survive_preparing(engine, sent):
    both_sides = sa.text("SELECT :a || '%' || :a || :b")

    answers = [run_alone(engine, both_sides, {"a": "x", "b": "y"}) for _ in range(5)]

    assert answers == [[("x%xy",)]] * 5
    prepare = next(message for message in sent if message.startswith("PREPARE"))
    assert prepare.endswith("AS SELECT $1 || '%' || $1 || $2")
    assert sent[-2].endswith("('x', 'y')")


def test_an_in_list_is_never_prepared(engine, sent):
    listed = sa.select(things.c.name).where(things.c.name.in_(["one", "two"])).order_by("name")

    answers = [run_alone(engine, listed) for _ in range(5)]

    assert answers == [[("one",), ("two",)]] * 5
    assert not [message for message in sent if "PREPARE" in message or "EXECUTE" in message]


def test_a_connection_remembers_a_bounded_number_of_statements_it_will_not_prepare(engine):
    with engine.connect() as connection:
        for number in range(2100):  # VALUES is not prepared; each text is another
            connection.execute(sa.text(f"VALUES ({number})")).all()
        connection.commit()
        remembered = _PREPARED[connection.connection.dbapi_connection]

    assert 0 < len(remembered.refused) <= 2000


def test_deferred_statements_go_with_the_commit_as_executes(engine, sent):
    session = CoreSession(engine)
    for number in range(5):
        session.execute(by_name, {"name": "one"})
        session.execute(things.insert(), {"name": f"n{number}"}, execution_options=DEFERRED)
        session.commit()
    session.close()

    commit = sent[-1]
    assert commit.startswith("EXECUTE tongban_") and commit.endswith("('n4');COMMIT")
    assert sorted(name for (name,) in run_alone(engine, sa.select(things.c.name))) == [
        "n0",
        "n1",
        "n2",
        "n3",
        "n4",
        "one",
        "two",
    ]


def test_a_replaced_connection_runs_the_statement_unprepared_then_prepares_it(
    engine, sent, terminate
):
    for _ in range(4):
        run_alone(engine, by_name, {"name": "one"})
    terminate()
    sent.clear()

    session = CoreSession(engine)  # finds the connection closed and takes another
    assert session.execute(by_name, {"name": "two"}).all() == [("two",)]
    session.commit()
    session.close()
    answers = [run_alone(engine, by_name, {"name": "two"}) for _ in range(4)]

    assert answers == [[("two",)]] * 4
    plain = [message for message in sent if message.startswith("BEGIN;SELECT things.name")]
    assert len(plain) == 3  # the new connection counts afresh
    assert sent[-2].startswith("BEGIN;EXECUTE tongban_")


def test_a_connection_whose_prepared_statements_were_dropped_prepares_afresh(engine, sent):
    with engine.connect() as connection:
        for _ in range(4):
            connection.execute(by_name, {"name": "one"}).all()
            connection.commit()
        connection.exec_driver_sql("DEALLOCATE ALL")  # as a pooler's DISCARD ALL would
        connection.commit()

        with pytest.raises(sa.exc.OperationalError, match="does not exist"):
            connection.execute(by_name, {"name": "one"})
        connection.rollback()
        answers = []
        for _ in range(5):
            answers.append(connection.execute(by_name, {"name": "two"}).all())
            connection.commit()

    assert answers == [[("two",)]] * 5
    assert sum(message.startswith("PREPARE") for message in sent) == 2
    assert sent[-2].startswith("BEGIN;EXECUTE tongban_")


def test_an_engine_told_to_prepare_nothing_does_not(pg_url, sent):
    engine = engine_on(pg_url, prepare_after=0)
    try:
        for _ in range(5):
            run_alone(engine, by_name, {"name": "one"})
    finally:
        engine.dispose()

    assert not [message for message in sent if "PREPARE" in message or "EXECUTE" in message]


def test_the_services_engines_take_their_setting_from_the_environment(pg_url, monkeypatch):
    assert make_engine(pg_url).dialect.prepare_after == 3
    monkeypatch.setenv("PG_PREPARE_AFTER", "0")
    assert make_engine(pg_url).dialect.prepare_after == 0
    monkeypatch.setenv("PG_PREPARE_AFTER", "often")
    with pytest.raises(ValueError, match="PG_PREPARE_AFTER"):
        make_engine(pg_url)
