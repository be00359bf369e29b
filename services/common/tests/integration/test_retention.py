"""Sent outbox rows and handled-event records are deleted once older than their
windows, a batch at a time, on the database the tests run on (PostgreSQL when
it is reachable, else SQLite); unsent rows and newer ones stay."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from services.common.db import make_engine
from services.common.messaging.retention import Retention
from services.common.messaging.tables import add_messaging_tables

NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
metadata = sa.MetaData()
outbox, handled = add_messaging_tables(metadata)


@pytest.fixture
def engine(database_factory):
    engine = make_engine(database_factory("retention"))
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def store(engine, *, sent_days_ago, unsent, handled_days_ago):
    rows = []
    for n, days in enumerate(sent_days_ago):
        at = NOW - timedelta(days=days)
        rows.append({"event_id": f"sent{n}", "created_at": at, "sent_at": at})
    rows += [
        {"event_id": f"unsent{n}", "created_at": NOW - timedelta(days=60), "sent_at": None}
        for n in range(unsent)
    ]
    with engine.begin() as connection:
        connection.execute(
            outbox.insert(),
            [
                {**row, "event_type": "thing_done", "envelope": {"id": row["event_id"]}}
                for row in rows
            ],
        )
        connection.execute(
            handled.insert(),
            [
                {"event_id": f"e{n}", "consumer": "c", "handled_at": NOW - timedelta(days=days)}
                for n, days in enumerate(handled_days_ago)
            ],
        )


def left(engine, table, column):
    with engine.connect() as connection:
        return sorted(connection.execute(sa.select(table.c[column])).scalars())


def test_what_is_older_than_its_window_goes_in_batches_and_the_rest_stays(engine):
    # Outbox kept 7 days, handled records 30: 5 sent rows and 4 records are due.
    store(
        engine,
        sent_days_ago=[8, 9, 10, 11, 12, 6, 1],
        unsent=2,
        handled_days_ago=[31, 40, 50, 60, 29, 2],
    )
    retention = Retention(engine, outbox, handled, batch_size=3)

    assert retention.prune(NOW) == (3, 3)  # full batches: more may be due
    assert retention.prune(NOW) == (2, 1)
    assert retention.prune(NOW) == (0, 0)
    assert left(engine, outbox, "event_id") == ["sent5", "sent6", "unsent0", "unsent1"]
    assert left(engine, handled, "event_id") == ["e4", "e5"]


def test_the_windows_are_the_configured_ones(engine):
    store(engine, sent_days_ago=[2, 4], unsent=0, handled_days_ago=[2, 4])
    retention = Retention(
        engine, outbox, handled, outbox_keep=timedelta(days=3), handled_keep=timedelta(days=1)
    )
    assert retention.prune(NOW) == (1, 2)
    assert left(engine, outbox, "event_id") == ["sent0"]
