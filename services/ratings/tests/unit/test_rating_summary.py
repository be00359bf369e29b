from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.ratings.domain.exceptions import ValidationFailed
from services.ratings.domain.model import RatingSummary

grades = st.lists(st.integers(min_value=1, max_value=5), max_size=300)
non_empty_grades = st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=300)


def half_up(numerator, denominator, places):
    exact = Decimal(numerator) / Decimal(denominator)
    return float(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


# --- examples ---------------------------------------------------------------


def test_no_reviews_means_no_rate_not_a_rate_of_zero():
    summary = RatingSummary()

    assert summary.praise_rate is None
    assert summary.average_grade is None
    assert (summary.reviews, summary.praise, summary.grade_sum) == (0, 0, 0)


def test_add_counts_reviews_praise_and_grades():
    summary = RatingSummary()

    for grade in (5, 4, 3, 2, 1):
        summary.add(grade)

    assert (summary.reviews, summary.praise, summary.grade_sum) == (5, 2, 15)
    assert summary.praise_rate == 0.4
    assert summary.average_grade == 3.0


@pytest.mark.parametrize(("grade", "praise"), [(1, 0), (2, 0), (3, 0), (4, 1), (5, 1)])
def test_only_grades_4_and_5_are_praise(grade, praise):
    assert RatingSummary.of([grade]).praise == praise


@pytest.mark.parametrize(
    ("grades", "rate"),
    [
        ([5], 1.0),
        ([1], 0.0),
        ([3, 3], 0.0),
        ([5, 1, 1], 0.3333),
        ([5, 4, 1], 0.6667),
        ([4] + [1] * 31, 0.0313),  # 1/32 = 0.03125: half up, not to even
        ([5] * 2 + [1] * 30, 0.0625),
        ([5] * 9999 + [1], 0.9999),
        ([5] * 19999 + [1], 1.0),  # 0.99995 rounds up to 1.0
    ],
)
def test_praise_rate_is_rounded_half_up_to_four_places(grades, rate):
    assert RatingSummary.of(grades).praise_rate == rate


def test_average_grade_is_rounded_half_up_to_two_places():
    assert RatingSummary.of([5, 4, 4]).average_grade == 4.33
    assert RatingSummary.of([5, 5, 4]).average_grade == 4.67
    assert RatingSummary.of([5] + [4] * 7).average_grade == 4.13  # 4.125


@pytest.mark.parametrize("grade", [0, 6, True, 4.0, "5", None])
def test_add_refuses_what_is_not_a_grade(grade):
    summary = RatingSummary()

    with pytest.raises(ValidationFailed) as caught:
        summary.add(grade)

    assert caught.value.fields == {"grade": "must be an integer from 1 to 5"}
    assert summary == RatingSummary()


def test_summaries_add_up():
    store_a = RatingSummary.of([5, 1])
    store_b = RatingSummary.of([4, 4, 3])

    assert store_a + store_b == RatingSummary(reviews=5, praise=3, grade_sum=17)


@pytest.mark.parametrize(
    ("reviews", "praise", "grade_sum"),
    [(-1, 0, 0), (1, 2, 5), (1, -1, 3), (2, 1, 1), (2, 1, 11), (0, 0, 3)],
)
def test_inconsistent_counts_are_refused(reviews, praise, grade_sum):
    with pytest.raises(ValueError):
        RatingSummary(reviews=reviews, praise=praise, grade_sum=grade_sum)


# --- properties -------------------------------------------------------------


@given(non_empty_grades)
def test_praise_rate_is_the_exact_share_rounded_half_up(grades):
    praise = sum(1 for grade in grades if grade >= 4)

    assert RatingSummary.of(grades).praise_rate == half_up(praise, len(grades), 4)


@given(non_empty_grades)
def test_praise_rate_is_within_half_a_unit_of_the_exact_share(grades):
    summary = RatingSummary.of(grades)
    exact = summary.praise / summary.reviews

    assert 0.0 <= summary.praise_rate <= 1.0
    assert abs(summary.praise_rate - exact) <= 0.00005 + 1e-12


@given(non_empty_grades)
def test_average_grade_is_the_exact_mean_rounded_half_up(grades):
    summary = RatingSummary.of(grades)

    assert summary.average_grade == half_up(sum(grades), len(grades), 2)
    assert 1.0 <= summary.average_grade <= 5.0


@given(grades)
def test_counts_match_the_grades(grades):
    summary = RatingSummary.of(grades)

    assert summary.reviews == len(grades)
    assert summary.grade_sum == sum(grades)
    assert summary.praise == sum(1 for grade in grades if grade in (4, 5))
    assert (summary.praise_rate is None) == (not grades)


@given(grades, grades)
def test_the_summary_of_two_groups_is_the_sum_of_their_summaries(first, second):
    assert RatingSummary.of(first + second) == RatingSummary.of(first) + RatingSummary.of(second)


@given(grades, st.randoms(use_true_random=False))
def test_order_of_reviews_does_not_matter(grades, random):
    shuffled = list(grades)
    random.shuffle(shuffled)

    assert RatingSummary.of(shuffled) == RatingSummary.of(grades)


@given(st.integers(min_value=1, max_value=10**6), st.data())
def test_all_praise_is_one_and_no_praise_is_zero(reviews, data):
    praise = data.draw(st.sampled_from([0, reviews]))
    summary = RatingSummary(reviews=reviews, praise=praise, grade_sum=5 * reviews)

    assert summary.praise_rate == (1.0 if praise else 0.0)
