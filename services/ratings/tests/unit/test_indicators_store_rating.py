"""Every change to what a store's reviews rate announces its store's rating
(``store_rating_changed``) through the outbox, in the transaction that made it;
one more evaluable service (a visit, an ended case) changes a bucket but not the
rating and announces nothing, nor does a fact that changes no count."""

from datetime import date

import pytest
import sqlalchemy as sa

from services.common.errors import Invalid
from services.common.testing import assert_documented, outbox
from services.ratings import contract
from services.ratings.domain.events import StoreRatingChanged
from services.ratings.domain.indicators import (
    IndicatorSummary,
    RatingBucket,
    RatingCounts,
    SubGrade,
    store_rating_changed,
)
from services.ratings.service_layer import indicators

from .test_indicators import (
    DEPARTMENT,
    ITEM,
    REGION,
    STORE,
    appeal_decided,
    ended,
    resolved,
    return_visit,
    review_event,
    summary,
    visit_recorded,
)


def announced(uow) -> list[dict]:
    """The payloads of ``store_rating_changed`` in the outbox, each checked
    against the contract, oldest first."""
    payloads = [e["payload"] for e in outbox(uow) if e["type"] == "store_rating_changed"]
    for payload in payloads:
        assert_documented(contract.EVENTS["store_rating_changed"], payload)
    return payloads


def rating(payload: dict) -> tuple:
    return payload["reviews"], payload["praise_rate"], payload["average_grade"]


# --- what is announced --------------------------------------------------------


def test_a_counted_review_announces_the_bucket_and_the_stores_rating(uow):
    assert indicators.count_review_submitted(uow, review_event(5))

    assert announced(uow) == [
        {
            "store_id": STORE,
            "department_code": DEPARTMENT,
            "region_code": REGION,
            "item_id": ITEM,
            "reviews": 1,
            "praise_rate": 1.0,
            "average_grade": 5.0,
        }
    ]


def test_the_rating_is_the_stores_over_every_day_item_and_region(uow):
    indicators.count_review_submitted(uow, review_event(5, submitted_at="2026-11-20T02:00:00Z"))
    indicators.count_review_submitted(uow, review_event(4, item_id="item-other"))
    indicators.count_review_submitted(uow, review_event(1, store_id="store-other"))
    indicators.count_review_submitted(uow, review_event(2, region_code="320105"))

    last = announced(uow)[-1]

    assert (last["store_id"], last["region_code"], last["item_id"]) == (STORE, "320105", ITEM)
    store = indicators.store_summary(uow, STORE)
    assert rating(last) == (3, 0.6667, 3.67)
    assert rating(last) == (store.reviews, store.praise_rate, store.average_grade)


def test_an_upheld_appeal_announces_the_store_without_the_review(uow):
    indicators.count_review_submitted(uow, review_event(5))
    indicators.count_review_submitted(uow, review_event(1, review_id="r-unfair"))

    indicators.count_appeal_decided(uow, appeal_decided("r-unfair"))

    assert [rating(payload) for payload in announced(uow)] == [
        (1, 1.0, 5.0),
        (2, 0.5, 3.0),
        (1, 1.0, 5.0),
    ]


def test_a_store_whose_only_review_is_excluded_is_announced_with_none_and_no_rates(uow):
    indicators.count_review_submitted(uow, review_event(1, review_id="r-only"))

    indicators.count_appeal_decided(uow, appeal_decided("r-only"))

    assert rating(announced(uow)[-1]) == (0, None, None)


def test_rectified_and_called_back_change_a_bucket_and_are_announced(uow):
    indicators.count_review_submitted(uow, review_event(2, review_id="r-bad"))

    indicators.count_rectification_resolved(uow, resolved("r-bad"))
    indicators.count_return_visit(uow, return_visit("r-bad"))

    assert [rating(payload) for payload in announced(uow)] == [(1, 0.0, 2.0)] * 3


@pytest.mark.parametrize("outcome", ["completed", "denied", "rejected"])
def test_a_visit_and_an_evaluable_case_change_a_bucket_and_are_not_announced(uow, outcome):
    indicators.count_review_submitted(uow, review_event(4))
    assert summary(uow, item=ITEM).evaluable == 0

    assert indicators.count_visit_recorded(uow, visit_recorded(item_id="item-window"))
    assert indicators.record_case_ended(uow, ended(outcome, ended_at="2026-11-25T03:00:00Z"))

    assert summary(uow, item="item-window").evaluable == 1
    assert summary(uow, item=ITEM).evaluable == 1
    assert [rating(payload) for payload in announced(uow)] == [(1, 1.0, 4.0)]  # the review's

    indicators.count_review_submitted(uow, review_event(2, item_id="item-window"))

    last = announced(uow)[-1]
    assert (len(announced(uow)), last["item_id"], rating(last)) == (2, "item-window", (2, 0.5, 3.0))


def test_facts_waiting_for_their_review_are_announced_with_it(uow):
    indicators.count_rectification_resolved(uow, resolved("r-late"))
    indicators.count_appeal_decided(uow, appeal_decided("r-excluded"))
    assert announced(uow) == []

    indicators.count_review_submitted(uow, review_event(2, review_id="r-late"))
    indicators.count_review_submitted(uow, review_event(1, review_id="r-excluded"))

    assert [rating(payload) for payload in announced(uow)] == [(1, 0.0, 2.0)]


# --- nothing changed, nothing announced ---------------------------------------


@pytest.mark.parametrize(
    "fact",
    [
        pytest.param(
            lambda uow: indicators.count_review_submitted(uow, review_event(5, review_id="r-1")),
            id="same-review",
        ),
        pytest.param(
            lambda uow: indicators.count_appeal_decided(uow, appeal_decided("r-1", upheld=False)),
            id="appeal-rejected",
        ),
        pytest.param(
            lambda uow: indicators.count_return_visit(uow, return_visit("r-1", reached=False)),
            id="not-reached",
        ),
        pytest.param(
            lambda uow: indicators.count_rectification_resolved(uow, resolved("r-1")),
            id="good-review-rectified",
        ),
        pytest.param(
            lambda uow: indicators.record_case_ended(uow, ended("withdrawn")),
            id="case-withdrawn",
        ),
    ],
)
def test_a_fact_that_changes_no_count_announces_nothing(uow, fact):
    first = review_event(4, review_id="r-1")
    indicators.count_review_submitted(uow, first)
    indicators.count_review_submitted(uow, first)  # a repeated delivery

    fact(uow)

    assert len(announced(uow)) == 1


def test_an_invalid_event_announces_nothing(uow):
    event = review_event()
    event["payload"]["grade"] = 0

    with pytest.raises(Invalid):
        indicators.count_review_submitted(uow, event)

    assert announced(uow) == []


# --- the store's totals --------------------------------------------------------


def test_the_stores_totals_are_one_query_without_sub_grades(uow):
    indicators.count_review_submitted(uow, review_event(5, indicators_given={"overall": 5}))
    indicators.count_review_submitted(uow, review_event(3, submitted_at="2026-11-20T02:00:00Z"))
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    with uow:
        engine = uow.session.get_bind()
        sa.event.listen(engine, "before_cursor_execute", record)
        try:
            counts = uow.indicators.store_counts(STORE)
        finally:
            sa.event.remove(engine, "before_cursor_execute", record)

    assert len(statements) == 1
    assert "rating_indicators" in statements[0]
    assert (counts.reviews, counts.grade_sum, counts.praise, counts.sub_grades) == (2, 8, 1, {})


def test_a_store_nobody_rated_has_zero_counts(uow):
    with uow:
        assert uow.indicators.store_counts("nobody") == RatingCounts()


def test_the_announcement_is_the_bucket_and_the_summary():
    bucket = RatingBucket(date(2026, 11, 25), "store-1", "320100-MSA", "320102", "item-1", "x")
    store = IndicatorSummary(
        RatingCounts(reviews=3, grade_sum=10, praise=2, sub_grades={"overall": SubGrade(4, 1)})
    )

    assert store_rating_changed(bucket, store) == StoreRatingChanged(
        store_id="store-1",
        department_code="320100-MSA",
        region_code="320102",
        item_id="item-1",
        reviews=3,
        praise_rate=0.6667,
        average_grade=3.33,
    )
    assert StoreRatingChanged.type == "store_rating_changed"
    assert contract.EVENTS["store_rating_changed"] is contract.StoreRatingChanged
