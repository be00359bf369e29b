"""The counting rules of the published indicators and the live case data, with
nothing running."""

import itertools
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.ratings.domain.events import CaseStatsChanged
from services.ratings.domain.exceptions import ValidationFailed
from services.ratings.domain.indicators import (
    CASE_COUNTS,
    CaseBucket,
    CaseCounts,
    CaseDimensions,
    IndicatorSummary,
    LiveCaseData,
    RatingBucket,
    RatingCounts,
    ReviewFacts,
    SubGrade,
    TrackedCase,
    check_period,
    china_day,
    ended_counts,
    evaluable,
    round_half_up,
    share,
)

DAY = date(2026, 11, 25)
BUCKET = RatingBucket(DAY, "store-1", "320100-MSA", "320102", "item-1", "食品经营许可")
DIMENSIONS = CaseDimensions("320102", "320100-MSA", "item-1", "express")


def half_up(numerator, denominator, places):
    exact = Decimal(numerator) / Decimal(denominator)
    return float(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


# --- days and rates ---------------------------------------------------------


@pytest.mark.parametrize(
    ("instant", "day"),
    [
        (datetime(2026, 11, 24, 15, 59, tzinfo=UTC), date(2026, 11, 24)),
        (datetime(2026, 11, 24, 16, 0, tzinfo=UTC), date(2026, 11, 25)),
        (datetime(2026, 11, 25, 0, 30, tzinfo=timezone(timedelta(hours=8))), date(2026, 11, 25)),
    ],
)
def test_a_day_is_the_china_calendar_day(instant, day):
    assert china_day(instant) == day


def test_a_naive_instant_is_a_programming_error():
    with pytest.raises(ValueError):
        china_day(datetime(2026, 11, 25, 8, 0))
    with pytest.raises(TypeError):
        china_day(DAY)


def test_no_denominator_is_no_rate_not_a_rate_of_zero():
    assert share(0, 0) is None
    assert share(0, 5) == 0.0


@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=1, max_value=10_000))
def test_shares_and_averages_round_half_up(numerator, denominator):
    assert round_half_up(numerator, denominator, 4) == half_up(numerator, denominator, 4)
    assert round_half_up(numerator, denominator, 2) == half_up(numerator, denominator, 2)


def test_one_in_thirty_two_rounds_up_not_to_even():
    assert share(1, 32) == 0.0313


def test_a_period_may_be_open_at_either_end_but_not_end_before_it_begins():
    check_period(None, None)
    check_period(DAY, None)
    check_period(None, DAY)
    check_period(DAY, DAY)
    with pytest.raises(ValidationFailed) as caught:
        check_period(DAY, DAY - timedelta(days=1))
    assert set(caught.value.fields) == {"to"}


# --- rating counts ----------------------------------------------------------


def test_counts_add_and_subtract_with_their_sub_grades():
    one = RatingCounts(reviews=1, grade_sum=5, praise=1, sub_grades={"efficiency": SubGrade(5, 1)})
    two = RatingCounts(
        reviews=1,
        grade_sum=2,
        bad=1,
        sub_grades={"efficiency": SubGrade(2, 1), "attitude": SubGrade(1, 1)},
    )

    total = one + two

    assert (total.reviews, total.grade_sum, total.praise, total.bad) == (2, 7, 1, 1)
    assert total.sub_grades == {"efficiency": SubGrade(7, 2), "attitude": SubGrade(1, 1)}
    assert total - two == one
    assert (one - one).is_zero
    assert RatingCounts.total([one, two, evaluable(3)]).evaluable == 3


def test_the_summary_gives_every_rate():
    summary = IndicatorSummary(
        RatingCounts(
            evaluable=8,
            reviews=6,
            grade_sum=21,
            praise=3,
            bad=2,
            rectified=1,
            real_name_bad=2,
            called_back=1,
            sub_grades={"efficiency": SubGrade(9, 2), "attitude": SubGrade(0, 0)},
        )
    )

    assert summary.evaluation_rate == 0.75
    assert summary.praise_rate == 0.5
    assert summary.bad_rate == 0.3333
    assert summary.rectification_rate == 0.5
    assert summary.callback_rate == 0.5
    assert summary.average_grade == 3.5
    assert summary.sub_grades == {"efficiency": 4.5}
    assert (summary.reviews, summary.evaluable, summary.bad, summary.called_back) == (6, 8, 2, 1)


def test_an_empty_summary_has_counts_of_zero_and_no_rates():
    summary = IndicatorSummary()

    assert summary.reviews == summary.evaluable == 0
    assert summary.evaluation_rate is None
    assert summary.praise_rate is None
    assert summary.bad_rate is None
    assert summary.rectification_rate is None
    assert summary.callback_rate is None
    assert summary.average_grade is None
    assert summary.sub_grades == {}


def test_a_bucket_comes_from_a_payload_on_the_china_day():
    payload = {
        "store_id": "store-1",
        "department_code": "320100-MSA",
        "region_code": "320102",
        "item_id": "item-1",
        "item_name": "食品经营许可",
    }

    bucket = RatingBucket.of(payload, datetime(2026, 11, 24, 17, 0, tzinfo=UTC))

    assert bucket == BUCKET
    assert bucket.item_name == "食品经营许可"
    # The item's name labels the bucket; it is not part of its key.
    renamed = {**payload, "item_name": "新名称"}
    assert RatingBucket.of(renamed, datetime(2026, 11, 25, 1, 0, tzinfo=UTC)) == BUCKET


# --- a review and the facts about it ----------------------------------------


def test_a_review_counts_its_grade_and_its_sub_grades():
    facts = ReviewFacts("r-1")

    change = facts.record_submitted(BUCKET, 5, real_name=True, sub_grades={"efficiency": 4})

    assert change == RatingCounts(
        reviews=1, grade_sum=5, praise=1, sub_grades={"efficiency": SubGrade(4, 1)}
    )
    assert facts.record_submitted(BUCKET, 5, real_name=True).is_zero


@pytest.mark.parametrize(
    ("grade", "real_name", "praise", "bad", "real_name_bad"),
    [
        (5, True, 1, 0, 0),
        (4, False, 1, 0, 0),
        (3, True, 0, 0, 0),
        (2, True, 0, 1, 1),
        (1, False, 0, 1, 0),
    ],
)
def test_praise_and_bad_reviews(grade, real_name, praise, bad, real_name_bad):
    change = ReviewFacts("r-1").record_submitted(BUCKET, grade, real_name)

    assert (change.praise, change.bad, change.real_name_bad) == (praise, bad, real_name_bad)


def test_a_bad_review_is_rectified_and_called_back_once():
    facts = ReviewFacts("r-1")
    facts.record_submitted(BUCKET, 1, real_name=True)

    assert facts.record_rectified() == RatingCounts(rectified=1)
    assert facts.record_rectified().is_zero
    assert facts.record_called_back() == RatingCounts(called_back=1)
    assert facts.record_called_back().is_zero


def test_a_review_not_by_a_known_reviewer_is_never_called_back():
    facts = ReviewFacts("r-1")
    facts.record_submitted(BUCKET, 2, real_name=False)

    assert facts.record_called_back().is_zero
    assert facts.counts().called_back == 0


def test_an_upheld_appeal_takes_the_review_out_of_every_count_once():
    facts = ReviewFacts("r-1")
    counted = facts.record_submitted(BUCKET, 1, True, {"attitude": 1})
    counted += facts.record_rectified()

    change = facts.record_excluded()

    assert change == -counted
    assert (counted + change).is_zero
    assert facts.record_excluded().is_zero
    assert facts.record_called_back().is_zero  # an excluded review counts nothing


def test_facts_before_the_review_wait_for_it():
    facts = ReviewFacts("r-1")

    assert facts.record_rectified().is_zero
    assert facts.record_called_back().is_zero
    change = facts.record_submitted(BUCKET, 2, real_name=True)

    assert change == RatingCounts(
        reviews=1, grade_sum=2, bad=1, rectified=1, real_name_bad=1, called_back=1
    )


def test_an_appeal_upheld_before_the_review_arrives_means_it_never_counts():
    facts = ReviewFacts("r-1")
    facts.record_excluded()

    assert facts.record_submitted(BUCKET, 1, real_name=True).is_zero


FACTS = ("submitted", "rectified", "called_back", "excluded")


def apply(facts: ReviewFacts, fact: str, grade: int, real_name: bool) -> RatingCounts:
    if fact == "submitted":
        return facts.record_submitted(BUCKET, grade, real_name, {"efficiency": grade})
    return getattr(facts, f"record_{fact}")()


@given(
    st.permutations(FACTS),
    st.sets(st.sampled_from(FACTS[1:])),
    st.integers(min_value=1, max_value=5),
    st.booleans(),
    st.integers(min_value=0, max_value=3),
)
def test_the_totals_do_not_depend_on_the_order_facts_arrive_in(
    order, left_out, grade, real_name, repeats
):
    """Whatever order (and however often) the facts come, the review's bucket
    ends with exactly what the review counts."""
    facts = ReviewFacts("r-1")
    arriving = [fact for fact in order if fact not in left_out]
    arriving += arriving[:repeats]
    total = RatingCounts.total(apply(facts, fact, grade, real_name) for fact in arriving)

    expected = ReviewFacts(
        "r-1",
        BUCKET,
        grade,
        real_name,
        {"efficiency": grade},
        rectified="rectified" not in left_out,
        called_back="called_back" not in left_out,
        excluded="excluded" not in left_out,
    ).counts()
    assert total == expected


# --- case statistics --------------------------------------------------------


def test_an_ended_case_counts_its_outcome():
    assert ended_counts("completed", True, 4) == CaseCounts(
        completed=1, completed_on_time=1, working_days_sum=4
    )
    assert ended_counts("completed", False, 9) == CaseCounts(completed=1, working_days_sum=9)
    assert ended_counts("denied", True, 3) == CaseCounts(denied=1)
    assert ended_counts("withdrawn", True, 0) == CaseCounts(withdrawn=1)
    with pytest.raises(ValueError):
        ended_counts("lost", True, 1)


def test_case_rates():
    counts = CaseCounts(submitted=8, completed=4, completed_on_time=3, ems=2, working_days_sum=10)

    assert (counts.on_time_rate, counts.ems_share, counts.average_working_days) == (
        0.75,
        0.25,
        2.5,
    )
    nothing = CaseCounts()
    assert (nothing.on_time_rate, nothing.ems_share, nothing.average_working_days) == (
        None,
        None,
        None,
    )


def test_each_fact_counts_once_per_case_on_its_own_day():
    case = TrackedCase("app-1")

    assert case.record_submitted(DIMENSIONS, DAY) == [
        (CaseBucket(DAY, DIMENSIONS), CaseCounts(submitted=1))
    ]
    assert case.record_submitted(DIMENSIONS, DAY) == []
    next_day = DAY + timedelta(days=1)
    assert case.record_accepted(next_day) == [
        (CaseBucket(next_day, DIMENSIONS), CaseCounts(accepted=1))
    ]
    assert case.record_accepted(next_day) == []
    assert case.record_ems(DAY) == [(CaseBucket(DAY, DIMENSIONS), CaseCounts(ems=1))]
    assert case.record_ems(next_day) == []  # the result's shipment after the materials'
    assert case.record_overdue(next_day) == [
        (CaseBucket(next_day, DIMENSIONS), CaseCounts(overdue=1))
    ]
    assert case.record_ended(DIMENSIONS, next_day, "completed", False, 6) == [
        (CaseBucket(next_day, DIMENSIONS), CaseCounts(completed=1, working_days_sum=6))
    ]
    assert case.record_ended(DIMENSIONS, next_day, "withdrawn", False, 0) == []


def test_facts_about_a_case_not_yet_submitted_wait_for_its_dimensions():
    case = TrackedCase("app-1")
    later = DAY + timedelta(days=2)

    assert case.record_accepted(DAY) == []
    assert case.record_ems(later) == []
    assert case.pending

    changes = case.record_submitted(DIMENSIONS, DAY - timedelta(days=1))

    assert not case.pending
    assert set(changes) == {
        (CaseBucket(DAY - timedelta(days=1), DIMENSIONS), CaseCounts(submitted=1)),
        (CaseBucket(DAY, DIMENSIONS), CaseCounts(accepted=1)),
        (CaseBucket(later, DIMENSIONS), CaseCounts(ems=1)),
    }


def test_an_ended_case_brings_its_dimensions_too():
    case = TrackedCase("app-1")
    case.record_overdue(DAY)

    changes = case.record_ended(DIMENSIONS, DAY, "denied", False, 3)

    assert set(changes) == {
        (CaseBucket(DAY, DIMENSIONS), CaseCounts(overdue=1)),
        (CaseBucket(DAY, DIMENSIONS), CaseCounts(denied=1)),
    }
    # The submission, arriving last, counts itself only, in the known bucket.
    other = CaseDimensions("320000", "other", "item-2", "online")
    assert case.record_submitted(other, DAY) == [
        (CaseBucket(DAY, DIMENSIONS), CaseCounts(submitted=1))
    ]


CASE_FACTS = ("submitted", "accepted", "overdue", "ems", "ended")


def record(case: TrackedCase, fact: str) -> list:
    if fact == "submitted":
        return case.record_submitted(DIMENSIONS, DAY)
    if fact == "ended":
        return case.record_ended(DIMENSIONS, DAY + timedelta(days=3), "completed", True, 2)
    return getattr(case, f"record_{fact}")(DAY + timedelta(days=CASE_FACTS.index(fact)))


@pytest.mark.parametrize("order", list(itertools.permutations(CASE_FACTS)))
def test_a_case_counts_the_same_in_any_order(order):
    case = TrackedCase("app-1")
    changes = [change for fact in order + order for change in record(case, fact)]

    totals: dict = {}
    for bucket, counts in changes:
        totals[bucket.day] = totals.get(bucket.day, CaseCounts()) + counts
    assert {bucket.dimensions for bucket, _ in changes} == {DIMENSIONS}
    assert totals == {
        DAY: CaseCounts(submitted=1),
        DAY + timedelta(days=1): CaseCounts(accepted=1),
        DAY + timedelta(days=2): CaseCounts(overdue=1),
        DAY + timedelta(days=3): CaseCounts(
            ems=1, completed=1, completed_on_time=1, working_days_sum=2
        ),
    }


def test_the_live_data_announces_the_measures_the_feed_shows():
    live = LiveCaseData(DAY, CaseCounts(submitted=2, withdrawn=1), CaseCounts(submitted=9, ems=3))

    live.announce()

    [event] = live.events
    assert isinstance(event, CaseStatsChanged)
    assert event.day == DAY
    assert event.today == {
        "submitted": 2,
        "accepted": 0,
        "completed": 0,
        "completed_on_time": 0,
        "overdue": 0,
        "denied": 0,
        "rejected": 0,
        "ems": 0,
    }
    assert event.all_time["ems"] == 3
    assert "working_days_sum" not in CASE_COUNTS


# --- a summary of reviews ---------------------------------------------------

grades = st.lists(st.integers(min_value=1, max_value=5), max_size=300)
non_empty_grades = st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=300)


def summary_of(grades) -> IndicatorSummary:
    """The summary of reviews of these grades, each counted as the handler does."""
    counts = RatingCounts()
    for number, grade in enumerate(grades):
        counts += ReviewFacts(f"r-{number}").record_submitted(BUCKET, grade, real_name=True)
    return IndicatorSummary(counts)


@pytest.mark.parametrize(
    ("grades", "rate"),
    [
        ([5], 1.0),
        ([1], 0.0),
        ([3, 3], 0.0),
        ([5, 1, 1], 0.3333),
        ([5, 4, 1], 0.6667),
        ([4] + [1] * 31, 0.0313),  # 1/32 = 0.03125: half up, not to even
        ([5] * 9999 + [1], 0.9999),
        ([5] * 19999 + [1], 1.0),  # 0.99995 rounds up to 1.0
    ],
)
def test_praise_rate_is_rounded_half_up_to_four_places(grades, rate):
    assert summary_of(grades).praise_rate == rate


def test_average_grade_is_rounded_half_up_to_two_places():
    assert summary_of([5, 4, 4]).average_grade == 4.33
    assert summary_of([5, 5, 4]).average_grade == 4.67
    assert summary_of([5] + [4] * 7).average_grade == 4.13  # 4.125


@given(non_empty_grades)
def test_rates_are_the_exact_shares_rounded_half_up(grades):
    summary = summary_of(grades)
    praise = sum(1 for grade in grades if grade >= 4)
    bad = sum(1 for grade in grades if grade <= 2)

    assert summary.praise_rate == half_up(praise, len(grades), 4)
    assert summary.bad_rate == half_up(bad, len(grades), 4)
    assert summary.average_grade == half_up(sum(grades), len(grades), 2)
    assert 1.0 <= summary.average_grade <= 5.0
    assert summary.sub_grades == {}


@given(grades, grades)
def test_the_summary_of_two_groups_is_the_sum_of_their_counts(first, second):
    both = summary_of(first).counts + summary_of(second).counts

    assert (both.reviews, both.praise, both.bad, both.grade_sum) == (
        len(first) + len(second),
        sum(1 for grade in first + second if grade >= 4),
        sum(1 for grade in first + second if grade <= 2),
        sum(first + second),
    )
    assert IndicatorSummary(both).praise_rate == summary_of(first + second).praise_rate
