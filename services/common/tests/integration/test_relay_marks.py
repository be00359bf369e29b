"""The relay's marks on the database the tests run on (PostgreSQL when it is
reachable, else SQLite): rows published are marked sent; on PostgreSQL the
marking transaction alone commits without waiting for its flush, and the
connection goes back to the pool waiting for every later commit again."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from services.common.db import make_engine
from services.common.messaging.relay import OutboxRelay
from services.common.messaging.tables import add_messaging_tables
from services.common.tests.integration.conftest import Publisher

metadata = sa.MetaData()
outbox, _handled = add_messaging_tables(metadata)


@pytest.fixture
def engine(database_factory):
    engine = make_engine(database_factory("relay_marks"), pool_size=1)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def store(engine, count):
    now = datetime.now(UTC)
    with engine.begin() as connection:
        connection.execute(
            outbox.insert(),
            [
                {
                    "event_id": f"e{n}",
                    "event_type": "thing_done",
                    "created_at": now,
                    "envelope": {
                        "id": f"e{n}",
                        "source": "things",
                        "type": "thing_done",
                        "correlation_id": f"c{n}",
                    },
                }
                for n in range(count)
            ],
        )


def statements_of(engine, call):
    seen = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement.split()[0:3])

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        result = call()
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    return result, seen


def test_the_published_rows_are_marked_sent_and_only_the_marks_commit_asynchronously(engine):
    store(engine, 3)
    publisher = Publisher()
    relay = OutboxRelay(engine, outbox, publisher)

    published, statements = statements_of(engine, relay.relay_once)

    assert (published, publisher.published) == (3, ["e0", "e1", "e2"])
    assert relay.backlog() == 0
    kinds = [words[0].upper() for words in statements]
    if engine.dialect.name == "postgresql":
        assert kinds == ["SELECT", "SET", "UPDATE"]
        assert statements[1] == ["SET", "LOCAL", "synchronous_commit"]
        with engine.connect() as connection:  # the pool's one connection, again
            assert connection.execute(sa.text("SHOW synchronous_commit")).scalar_one() == "on"
    else:
        assert kinds == ["SELECT", "UPDATE"]


def test_a_round_with_nothing_to_publish_marks_nothing(engine):
    relay = OutboxRelay(engine, outbox, Publisher())

    published, statements = statements_of(engine, relay.relay_once)

    assert published == 0
    assert [words[0].upper() for words in statements] == ["SELECT"]
