"""A ratings.review_submitted event updates its store's rating exactly once."""

import datetime as dt

import pytest

from services.catalog import contract
from services.catalog.service_layer import use_cases
from services.common.errors import Invalid, NotFound
from services.common.schemas import load_payload
from services.common.testing import envelope
from services.ratings import contract as ratings

from .conftest import outbox, review_payload


def review(grade, store_id="store-js-amr", **overrides) -> dict:
    """The event as the handler passes it on: its payload loaded with ratings' contract."""
    event = envelope("ratings", "review_submitted", review_payload(grade, store_id, **overrides))
    return {**event, "payload": load_payload(ratings.ReviewSubmitted, event)}


def test_reviews_update_the_praise_rate(uow):
    for grade in (5, 4, 2):
        use_cases.record_review(uow, review(grade))
    rating = use_cases.get_store(uow, "store-js-amr")["rating"]
    assert rating == {"reviews": 3, "praise_rate": 0.6667, "average_grade": 3.67}
    events = outbox(uow)
    assert [e["type"] for e in events] == ["store_rating_updated"] * 3
    last = contract.StoreRatingUpdated().load(events[-1]["payload"])
    assert last == {"store_id": "store-js-amr", **rating}


def test_a_repeated_event_counts_once(uow):
    envelope = review(5)
    assert use_cases.record_review(uow, envelope)["rating"]["reviews"] == 1
    assert use_cases.record_review(uow, envelope) is None
    assert use_cases.record_review(uow, dict(envelope)) is None
    assert use_cases.get_store(uow, "store-js-amr")["rating"] == {
        "reviews": 1,
        "praise_rate": 1.0,
        "average_grade": 5.0,
    }
    assert len(outbox(uow)) == 1


def test_unknown_store_fails_and_is_not_marked_handled(uow):
    envelope = review(5, store_id="store-nowhere")
    with pytest.raises(NotFound):
        use_cases.record_review(uow, envelope)
    # not recorded as handled: a retry after the store appears would count it
    with pytest.raises(NotFound):
        use_cases.record_review(uow, envelope)
    assert outbox(uow) == []


def test_a_review_arrives_with_its_instant_loaded():
    assert review(5)["payload"]["submitted_at"] == dt.datetime(2026, 11, 25, 8, tzinfo=dt.UTC)


def test_bad_grade_is_invalid_and_changes_nothing(uow):
    # ratings' contract refuses it already; the store's own rule refuses it too
    raw = envelope("ratings", "review_submitted", review_payload(9))
    with pytest.raises(Invalid) as failure:
        use_cases.record_review(uow, raw)
    assert failure.value.fields == {"grade": "must be an integer from 1 to 5"}
    assert use_cases.get_store(uow, "store-js-amr")["rating"]["reviews"] == 0
