"""``ratings.store_rating_changed`` sets its store's rating, once per event;
of two changes arriving out of order the one ratings recorded last is kept."""

import datetime as dt

import pytest

from services.catalog import contract
from services.catalog.service_layer import use_cases
from services.catalog.service_layer.stores import get_store
from services.common.errors import Invalid, NotFound
from services.common.schemas import load_payload
from services.common.testing import assert_documented, envelope, outbox
from services.ratings import contract as ratings

from .conftest import rating_payload

T1 = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.UTC)
T2 = T1 + dt.timedelta(seconds=1)
T3 = T1 + dt.timedelta(seconds=2)


def changed(occurred_at=T1, *figures, **overrides) -> dict:
    """The event as the handler passes it on: its payload loaded with ratings'
    contract; ``figures`` (reviews, praise_rate, average_grade) the store's."""
    event = envelope(
        "ratings",
        "store_rating_changed",
        rating_payload(*figures, **overrides),
        occurred_at=occurred_at,
    )
    return {**event, "payload": load_payload(ratings.StoreRatingChanged, event)}


def rating_of(uow, store_id="store-js-amr") -> tuple:
    rating = get_store(uow, store_id)["rating"]
    return rating["reviews"], rating["praise_rate"], rating["average_grade"]


def announced(uow) -> list[dict]:
    """The ``store_rating_updated`` payloads in the outbox, each as documented."""
    payloads = [e["payload"] for e in outbox(uow) if e["type"] == "store_rating_updated"]
    for payload in payloads:
        assert_documented(contract.StoreRatingUpdated, payload)
    return payloads


def test_a_change_sets_the_stores_rating_and_announces_it(uow):
    answer = use_cases.record_store_rating(uow, changed(T1, 3, 0.6667, 3.67))

    assert answer["rating"] == {"reviews": 3, "praise_rate": 0.6667, "average_grade": 3.67}
    assert rating_of(uow) == (3, 0.6667, 3.67)
    assert announced(uow) == [
        {"store_id": "store-js-amr", "reviews": 3, "praise_rate": 0.6667, "average_grade": 3.67}
    ]


def test_a_review_excluded_by_an_upheld_appeal_leaves_the_rating(uow):
    use_cases.record_store_rating(uow, changed(T1, 2, 0.5, 3.0))
    use_cases.record_store_rating(uow, changed(T2, 1, 1.0, 5.0))

    assert rating_of(uow) == (1, 1.0, 5.0)
    assert [p["reviews"] for p in announced(uow)] == [2, 1]


def test_the_last_review_excluded_leaves_no_rates(uow):
    use_cases.record_store_rating(uow, changed(T1, 1, 0.0, 1.0))
    use_cases.record_store_rating(uow, changed(T2, 0, None, None))

    assert rating_of(uow) == (0, None, None)
    assert announced(uow)[-1] == {
        "store_id": "store-js-amr",
        "reviews": 0,
        "praise_rate": None,
        "average_grade": None,
    }


def test_an_older_change_arriving_later_changes_nothing(uow):
    newer, older = changed(T2, 2, 1.0, 4.5), changed(T1, 1, 1.0, 4.0)

    use_cases.record_store_rating(uow, newer)
    answer = use_cases.record_store_rating(uow, older)

    assert answer["rating"]["reviews"] == 2
    assert rating_of(uow) == (2, 1.0, 4.5)
    assert len(announced(uow)) == 1
    # taken once all the same: a redelivery is not looked at again
    assert use_cases.record_store_rating(uow, older) is None


def test_changes_at_the_same_instant_are_taken_in_the_order_they_arrive(uow):
    use_cases.record_store_rating(uow, changed(T1, 1, 1.0, 5.0))
    use_cases.record_store_rating(uow, changed(T1, 2, 0.5, 3.5))

    assert rating_of(uow) == (2, 0.5, 3.5)


def test_the_same_figures_announce_nothing_but_are_newer(uow):
    """A case or visit that may be rated changes no figure catalog shows; an
    older change arriving after it is still older than what is shown."""
    use_cases.record_store_rating(uow, changed(T1, 1, 1.0, 5.0))
    use_cases.record_store_rating(uow, changed(T3, 1, 1.0, 5.0))
    use_cases.record_store_rating(uow, changed(T2, 0, None, None))

    assert rating_of(uow) == (1, 1.0, 5.0)
    assert len(announced(uow)) == 1


def test_a_repeated_event_is_taken_once(uow):
    event = changed(T1, 1, 1.0, 5.0)

    assert use_cases.record_store_rating(uow, event)["rating"]["reviews"] == 1
    assert use_cases.record_store_rating(uow, event) is None
    assert use_cases.record_store_rating(uow, dict(event)) is None
    assert len(outbox(uow)) == 1


def test_each_store_keeps_its_own_time(uow):
    use_cases.record_store_rating(uow, changed(T2, 1, 1.0, 5.0))
    use_cases.record_store_rating(uow, changed(T1, 1, 0.0, 2.0, store_id="store-js-ga"))

    assert rating_of(uow, "store-js-ga") == (1, 0.0, 2.0)


def test_unknown_store_fails_and_is_not_marked_handled(uow):
    event = changed(T1, store_id="store-nowhere")
    with pytest.raises(NotFound):
        use_cases.record_store_rating(uow, event)
    # not recorded as handled: a retry after the store appears would take it
    with pytest.raises(NotFound):
        use_cases.record_store_rating(uow, event)
    assert outbox(uow) == []


@pytest.mark.parametrize("occurred_at", [None, "", "yesterday", "2026-11-25T08:00:00", 42])
def test_an_envelope_without_an_instant_is_invalid_and_changes_nothing(uow, occurred_at):
    event = {**changed(T1, 1, 1.0, 5.0), "occurred_at": occurred_at}

    with pytest.raises(Invalid) as failure:
        use_cases.record_store_rating(uow, event)

    assert set(failure.value.fields) == {"occurred_at"}
    assert rating_of(uow) == (0, None, None)
    assert outbox(uow) == []


@pytest.mark.parametrize(
    ("figures", "field"),
    [
        ((0, 1.0, None), "praise_rate"),
        ((0, None, 4.0), "average_grade"),
        ((2, None, 4.0), "praise_rate"),
        ((2, 0.5, None), "average_grade"),
    ],
)
def test_figures_that_do_not_agree_are_invalid_and_change_nothing(uow, figures, field):
    # ratings' contract checks each figure; the store's rule checks them together
    with pytest.raises(Invalid) as failure:
        use_cases.record_store_rating(uow, changed(T1, *figures))

    assert set(failure.value.fields) == {field}
    assert rating_of(uow) == (0, None, None)
    assert outbox(uow) == []
