"""``UnitOfWork.first_deliveries``: several read models of one handler record
an event in one statement, each once; ``UnitOfWork.once``: a handler's work
done once per event, its record sent with the work's first statement (SQLite,
or PostgreSQL when the tests run on it)."""

import pytest
import sqlalchemy as sa

from services.common.db import UnitOfWork, core_sessions, make_engine
from services.common.tests.integration.conftest import metadata, things


class Work(UnitOfWork):
    metadata = metadata


@pytest.fixture
def uow(database_factory):
    engine = make_engine(database_factory("deliveries"), pool_size=2)
    metadata.create_all(engine)
    yield Work(core_sessions(engine), source="tests")
    engine.dispose()


def deliver(uow, event_id: str, *consumers: str) -> set[str]:
    with uow:
        first = uow.first_deliveries({"id": event_id}, consumers)
        uow.commit()
    return first


def test_each_consumer_takes_an_event_once(uow):
    assert deliver(uow, "e-1", "cases", "counts") == {"cases", "counts"}
    assert deliver(uow, "e-1", "cases", "counts") == set()


def test_a_delivery_after_one_consumer_took_the_event_is_the_others_first(uow):
    with uow:
        assert uow.first_delivery({"id": "e-1"}, "cases")
        uow.commit()

    assert deliver(uow, "e-1", "cases", "counts") == {"counts"}
    assert deliver(uow, "e-2", "cases", "counts") == {"cases", "counts"}


def test_what_a_rolled_back_delivery_recorded_is_not_kept(uow):
    with uow:
        assert uow.first_deliveries({"id": "e-1"}, ["cases", "counts"]) == {"cases", "counts"}
        uow.rollback()

    assert deliver(uow, "e-1", "cases", "counts") == {"cases", "counts"}


def test_once_does_the_work_of_the_first_delivery_alone(uow):
    def note(name: str):
        return lambda: uow.session.execute(things.insert(), {"name": name})

    assert uow.once({"id": "e-1"}, "things", note("first"))
    assert not uow.once({"id": "e-1"}, "things", note("again"))
    assert uow.once({"id": "e-1"}, "others", note("other"))
    assert uow.once({"id": "e-2"}, "things", note("second"))

    with uow:
        names = sorted(uow.session.execute(sa.select(things.c.name)).scalars())
    assert names == ["first", "other", "second"]


def test_once_takes_an_event_that_first_delivery_took_as_a_repeat(uow):
    with uow:
        assert uow.first_delivery({"id": "e-1"}, "things")
        uow.commit()

    assert not uow.once({"id": "e-1"}, "things", lambda: None)


def test_once_raises_what_else_its_work_is_refused_and_keeps_nothing(uow):
    with uow:
        uow.session.execute(things.insert(), {"name": "taken"})
        uow.commit()

    with pytest.raises(sa.exc.IntegrityError):
        uow.once(
            {"id": "e-1"}, "things", lambda: uow.session.execute(things.insert(), {"name": "taken"})
        )

    # Nothing was recorded: the event is still to be handled.
    assert uow.once({"id": "e-1"}, "things", lambda: None)


def test_once_records_the_event_with_its_works_first_statement(uow, round_trips):
    if uow._session_factory().get_bind().dialect.name != "postgresql":
        pytest.skip("one message for both on PostgreSQL")
    assert uow.once({"id": "e-0"}, "things", lambda: None)  # the pool's connection is made

    def work():
        assert round_trips == []  # the record waits
        uow.session.execute(sa.select(things.c.name)).all()
        assert len(round_trips) == 1

    round_trips.clear()
    assert uow.once({"id": "e-1"}, "things", work)
    # The record with the work's read, then the commit.
    assert len(round_trips) == 2
    round_trips.clear()
    assert not uow.once({"id": "e-1"}, "things", work)
    assert len(round_trips) == 2  # refused with the read; the rollback


def test_once_for_several_consumers_records_them_all_or_none(uow):
    def note(name: str):
        return lambda: uow.session.execute(things.insert(), {"name": name})

    assert uow.once({"id": "e-1"}, ("cases", "counts"), note("both"))
    assert not uow.once({"id": "e-1"}, ("cases", "counts"), note("again"))
    with uow:
        assert uow.first_delivery({"id": "e-2"}, "cases")
        uow.commit()
    # One of them took e-2 before: nothing is done, and what is left is told
    # by first_deliveries.
    assert not uow.once({"id": "e-2"}, ("cases", "counts"), note("part"))
    assert deliver(uow, "e-2", "cases", "counts") == {"counts"}

    with uow:
        names = sorted(uow.session.execute(sa.select(things.c.name)).scalars())
    assert names == ["both"]
