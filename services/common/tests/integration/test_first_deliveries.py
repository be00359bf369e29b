"""``UnitOfWork.first_deliveries``: several read models of one handler record
an event in one statement, each once (SQLite, or PostgreSQL when the tests
run on it)."""

import pytest

from services.common.db import UnitOfWork, core_sessions, make_engine
from services.common.tests.integration.conftest import metadata


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
