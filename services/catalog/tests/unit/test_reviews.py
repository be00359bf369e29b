"""A ratings.review_submitted event updates its store's rating exactly once."""

import pytest

from services.catalog import schemas
from services.catalog.service_layer import use_cases
from services.common.errors import Invalid, NotFound
from services.common.messaging.envelope import make_envelope

from .conftest import outbox


def review(grade, store_id="store-js-amr", **overrides):
    payload = {
        "review_id": "r-1",
        "application_id": "a-1",
        "store_id": store_id,
        "department_code": "js-amr",
        "region_code": "320000",
        "item_id": "i-1",
        "grade": grade,
        "submitted_at": "2026-11-25T08:00:00Z",
    }
    payload.update(overrides)
    return make_envelope("ratings", "review_submitted", payload)


def test_reviews_update_the_praise_rate(uow):
    for grade in (5, 4, 2):
        use_cases.record_review(uow, review(grade))
    rating = use_cases.get_store(uow, "store-js-amr")["rating"]
    assert rating == {"reviews": 3, "praise_rate": 0.6667, "average_grade": 3.67}
    events = outbox(uow)
    assert [e["type"] for e in events] == ["store_rating_updated"] * 3
    last = schemas.StoreRatingUpdatedSchema().load(events[-1]["payload"])
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


def test_bad_grade_is_invalid_and_changes_nothing(uow):
    with pytest.raises(Invalid) as failure:
        use_cases.record_review(uow, review(9))
    assert failure.value.fields == {"grade": "must be an integer from 1 to 5"}
    assert use_cases.get_store(uow, "store-js-amr")["rating"]["reviews"] == 0
