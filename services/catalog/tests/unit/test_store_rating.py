"""A store's rating: the figures ratings announces, the newest kept."""

from datetime import UTC, datetime, timedelta

import pytest

from services.catalog.domain.events import StoreRatingUpdated
from services.catalog.domain.exceptions import ValidationFailed
from services.catalog.domain.model import Store, StoreRating

T1 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
T2 = T1 + timedelta(seconds=1)


def store() -> Store:
    return Store("store-js-amr", "江苏省市场监督管理局旗舰店", "js-amr", "320000")


def test_no_reviews_means_no_rates():
    rating = StoreRating()
    assert (rating.reviews, rating.praise_rate, rating.average_grade) == (0, None, None)


@pytest.mark.parametrize(
    "figures",
    [(0, None, None), (1, 0.0, 1.0), (1, 1.0, 5.0), (3, 0.6667, 3.67), (7, 1, 5)],
)
def test_figures_that_agree(figures):
    assert StoreRating(*figures) == StoreRating(*figures)


@pytest.mark.parametrize(
    ("figures", "fields"),
    [
        ((-1, None, None), {"reviews"}),
        ((True, None, None), {"reviews"}),
        ((1.5, 1.0, 5.0), {"reviews"}),
        ((1, 1.5, 5.0), {"praise_rate"}),
        ((1, -0.1, 5.0), {"praise_rate"}),
        ((1, "1", 5.0), {"praise_rate"}),
        ((1, 1.0, 0.5), {"average_grade"}),
        ((1, 1.0, 5.5), {"average_grade"}),
        ((1, None, None), {"praise_rate", "average_grade"}),
        ((0, 0.5, 3.0), {"praise_rate", "average_grade"}),
    ],
)
def test_figures_that_do_not_agree_are_refused_naming_them(figures, fields):
    with pytest.raises(ValidationFailed) as failure:
        StoreRating(*figures)
    assert set(failure.value.fields) == fields


def test_a_store_records_its_new_rating():
    rated = store()

    assert rated.rate(StoreRating(2, 0.5, 3.5), T1) is True

    assert (rated.rating, rated.rating_as_of) == (StoreRating(2, 0.5, 3.5), T1)
    assert StoreRatingUpdated.type == "store_rating_updated"
    assert rated.events == [
        StoreRatingUpdated("store-js-amr", reviews=2, praise_rate=0.5, average_grade=3.5)
    ]
    assert rated.events[-1].payload() == {
        "store_id": "store-js-amr",
        "reviews": 2,
        "praise_rate": 0.5,
        "average_grade": 3.5,
    }


def test_an_older_rating_is_not_taken():
    rated = store()
    rated.rate(StoreRating(2, 0.5, 3.5), T2)

    assert rated.rate(StoreRating(1, 1.0, 5.0), T1) is False

    assert (rated.rating, rated.rating_as_of) == (StoreRating(2, 0.5, 3.5), T2)
    assert len(rated.events) == 1


def test_the_same_figures_newer_are_taken_and_record_nothing():
    rated = store()
    rated.rate(StoreRating(1, 1.0, 5.0), T1)

    assert rated.rate(StoreRating(1, 1.0, 5.0), T2) is True

    assert rated.rating_as_of == T2
    assert len(rated.events) == 1


def test_a_store_never_rated_records_nothing_for_no_reviews():
    rated = store()

    assert rated.rate(StoreRating(), T1) is True

    assert rated.events == []


def test_an_instant_without_a_timezone_is_a_programming_error():
    with pytest.raises(ValueError):
        store().rate(StoreRating(), datetime(2026, 11, 25, 8, 0))  # noqa: DTZ001
