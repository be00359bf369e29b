"""Store rating maths: praise is a grade of 4 or 5."""

import pytest

from services.catalog.domain.events import StoreRatingUpdated
from services.catalog.domain.exceptions import ValidationFailed
from services.catalog.domain.model import Store, StoreRating


def test_no_reviews_means_no_rates():
    rating = StoreRating()
    assert rating.praise_rate is None
    assert rating.average_grade is None


@pytest.mark.parametrize(
    ("grades", "praise_rate", "average_grade"),
    [
        ([5], 1.0, 5.0),
        ([1], 0.0, 1.0),
        ([4, 3], 0.5, 3.5),
        ([5, 4, 3], 0.6667, 4.0),
        ([5, 5, 2], 0.6667, 4.0),
        ([1, 2, 3, 4, 5, 5, 5], 0.5714, 3.57),
    ],
)
def test_praise_rate_and_average(grades, praise_rate, average_grade):
    rating = StoreRating()
    for grade in grades:
        rating.add_review(grade)
    assert rating.reviews == len(grades)
    assert rating.grade_sum == sum(grades)
    assert rating.praise_count == sum(grade >= 4 for grade in grades)
    assert rating.praise_rate == praise_rate
    assert rating.average_grade == average_grade


@pytest.mark.parametrize("grade", [0, 6, -1, 4.5, "5", None, True])
def test_grade_outside_one_to_five_is_refused(grade):
    rating = StoreRating()
    with pytest.raises(ValidationFailed) as failure:
        rating.add_review(grade)
    assert set(failure.value.fields) == {"grade"}
    assert rating.reviews == 0


def test_store_records_its_new_summary():
    store = Store("store-js-amr", "江苏省市场监督管理局旗舰店", "js-amr", "320000")
    store.record_review(5)
    store.record_review(2)
    assert StoreRatingUpdated.type == "store_rating_updated"
    assert store.events == [
        StoreRatingUpdated("store-js-amr", reviews=1, praise_rate=1.0, average_grade=5.0),
        StoreRatingUpdated("store-js-amr", reviews=2, praise_rate=0.5, average_grade=3.5),
    ]
    assert store.events[-1].payload() == {
        "store_id": "store-js-amr",
        "reviews": 2,
        "praise_rate": 0.5,
        "average_grade": 3.5,
    }


def test_a_refused_review_records_nothing():
    store = Store("store-js-amr", "江苏省市场监督管理局旗舰店", "js-amr", "320000")
    with pytest.raises(ValidationFailed):
        store.record_review(9)
    assert store.events == []
