"""``store_rating_changed`` on PostgreSQL, with changes to many buckets of one
store racing each other and the announcer: the store's lock orders them, so
every change is announced (a mark taken off only by an announcement that
counted it) and the newest announcement (by ``occurred_at``, as catalog keeps
it) holds every change. Window visits racing with them count and mark nothing."""

from datetime import datetime

import eventlet
import pytest
from sqlalchemy.orm import sessionmaker

from services.common.db import make_engine
from services.common.testing import delivered, envelope, outbox
from services.ratings import contract
from services.ratings.service_layer import indicators
from services.ratings.service_layer.unit_of_work import RatingsUnitOfWork

STORE = "store-1"


@pytest.fixture
def make_uow(database_factory):
    """A fresh unit of work per call (one per handler), on one engine."""
    engine = make_engine(database_factory("ratings_store_rating"))
    RatingsUnitOfWork.metadata.create_all(engine)
    sessions = sessionmaker(bind=engine, expire_on_commit=False)
    yield lambda: RatingsUnitOfWork(sessions, source="ratings")
    engine.dispose()


def ratings_event(event_type, **payload):
    return delivered(envelope("ratings", event_type, payload), contract.EVENTS[event_type])


def review(n: int, grade: int):
    """A review in a bucket of its own: its own day and item."""
    return ratings_event(
        "review_submitted",
        review_id=f"r-{n}",
        application_id=f"app-{n}",
        visit_id=None,
        store_id=STORE,
        department_code="320100-MSA",
        region_code="320102",
        item_id=f"item-{n}",
        item_name="食品经营许可",
        grade=grade,
        channel="web",
        real_name=False,
        indicators={},
        submitted_at=f"2026-11-{n + 1:02d}T02:00:00Z",
    )


def visit(n: int):
    return ratings_event(
        "visit_recorded",
        visit_id=f"v-{n}",
        store_id=STORE,
        department_code="320100-MSA",
        region_code="320102",
        item_id=f"item-window-{n}",
        item_name="食品经营许可",
        recorded_at=f"2026-10-{n + 1:02d}T02:00:00Z",
    )


def in_parallel(calls):
    pool = eventlet.GreenPool(len(calls))
    return list(pool.imap(lambda call: call(), calls))


def test_the_newest_announcement_of_racing_changes_holds_them_all(make_uow):
    reviews = [review(n, 5 if n % 3 else 2) for n in range(18)]
    visits = [visit(n) for n in range(8)]

    in_parallel(
        [lambda e=e: indicators.count_review_submitted(make_uow(), e) for e in reviews]
        + [lambda e=e: indicators.count_visit_recorded(make_uow(), e) for e in visits]
        + [lambda: indicators.announce_store_ratings(make_uow()) for _ in range(6)]
    )
    indicators.announce_store_ratings(make_uow())  # what the racing rounds left due

    with make_uow() as uow:
        assert uow.indicators.due_ratings(100) == []
    changes = [e for e in outbox(make_uow()) if e["type"] == "store_rating_changed"]
    # Every review's bucket (its own day and item); a visit leaves the rating as it was.
    assert {e["payload"]["item_id"] for e in changes} == {f"item-{n}" for n in range(18)}
    newest_first = sorted(
        changes, key=lambda e: datetime.fromisoformat(e["occurred_at"]), reverse=True
    )
    reviews_seen = [e["payload"]["reviews"] for e in newest_first]
    assert reviews_seen == sorted(reviews_seen, reverse=True), "announced in commit order"
    store = indicators.store_summary(make_uow(), STORE)
    assert (store.reviews, store.praise_rate, store.evaluable) == (18, 0.6667, 8)
    newest = newest_first[0]["payload"]
    assert (newest["reviews"], newest["praise_rate"], newest["average_grade"]) == (
        store.reviews,
        store.praise_rate,
        store.average_grade,
    )
