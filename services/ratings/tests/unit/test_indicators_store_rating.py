"""Every change to what a store's reviews rate marks its bucket due to be
announced, in the transaction that made it; ``announce_store_ratings`` (a timer
runs it) announces each marked bucket with its store's rating
(``store_rating_changed``, through the outbox), once per burst of changes. One
more evaluable service (a visit, an ended case) changes a bucket but not the
rating and marks nothing, nor does a fact that changes no count."""

from datetime import date

import pytest
import sqlalchemy as sa

from services.common.errors import Invalid
from services.common.testing import assert_documented, outbox
from services.ratings import contract
from services.ratings.domain.events import StoreRatingChanged
from services.ratings.domain.indicators import (
    AnnouncedBucket,
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
    """One round of the announcer, then the payloads of every
    ``store_rating_changed`` in the outbox, each checked against the contract,
    oldest first."""
    indicators.announce_store_ratings(uow)
    payloads = [e["payload"] for e in outbox(uow) if e["type"] == "store_rating_changed"]
    for payload in payloads:
        assert_documented(contract.EVENTS["store_rating_changed"], payload)
    return payloads


def rating(payload: dict) -> tuple:
    return payload["reviews"], payload["praise_rate"], payload["average_grade"]


def due(uow) -> list[tuple[AnnouncedBucket, int]]:
    with uow:
        return uow.indicators.due_ratings(100)


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
    assert due(uow) == []


def test_nothing_marked_nothing_announced(uow):
    assert indicators.announce_store_ratings(uow) == 0
    assert outbox(uow) == []


def test_a_burst_of_changes_to_a_bucket_is_announced_once_with_the_last_rating(uow):
    for n, grade in enumerate([5, 4, 1, 5]):
        indicators.count_review_submitted(uow, review_event(grade, review_id=f"r-{n}"))
    assert due(uow) == [(AnnouncedBucket(STORE, DEPARTMENT, REGION, ITEM), 4)]

    assert [rating(payload) for payload in announced(uow)] == [(4, 0.75, 3.75)]
    assert announced(uow) == announced(uow)[:1]  # nothing new is due


def test_every_bucket_of_a_round_is_announced_with_its_stores_rating(uow):
    indicators.count_review_submitted(uow, review_event(5, submitted_at="2026-11-20T02:00:00Z"))
    indicators.count_review_submitted(uow, review_event(4, item_id="item-other"))
    indicators.count_review_submitted(uow, review_event(1, store_id="store-other"))
    indicators.count_review_submitted(uow, review_event(2, region_code="320105"))

    by_bucket = {(p["store_id"], p["region_code"], p["item_id"]): rating(p) for p in announced(uow)}

    store = indicators.store_summary(uow, STORE)
    assert by_bucket == {
        (STORE, REGION, ITEM): (3, 0.6667, 3.67),  # two days of one bucket: one announcement
        (STORE, REGION, "item-other"): (3, 0.6667, 3.67),
        (STORE, "320105", ITEM): (3, 0.6667, 3.67),
        ("store-other", REGION, ITEM): (1, 0.0, 1.0),
    }
    assert (store.reviews, store.praise_rate, store.average_grade) == (3, 0.6667, 3.67)


def test_a_bucket_marked_again_after_its_marks_were_read_stays_due(uow):
    indicators.count_review_submitted(uow, review_event(5, review_id="r-1"))
    with uow:
        [(bucket, marks)] = uow.indicators.due_ratings(10)
    indicators.count_review_submitted(uow, review_event(1, review_id="r-2"))

    with uow:
        assert not uow.indicators.unmark_rating(bucket, marks)
        uow.commit()

    assert due(uow) == [(bucket, 2)]
    assert [rating(payload) for payload in announced(uow)] == [(2, 0.5, 3.0)]
    assert due(uow) == []


def test_an_upheld_appeal_announces_the_store_without_the_review(uow):
    indicators.count_review_submitted(uow, review_event(5))
    assert [rating(payload) for payload in announced(uow)] == [(1, 1.0, 5.0)]
    indicators.count_review_submitted(uow, review_event(1, review_id="r-unfair"))
    announced(uow)

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
    announced(uow)

    indicators.count_rectification_resolved(uow, resolved("r-bad"))
    announced(uow)
    indicators.count_return_visit(uow, return_visit("r-bad"))

    assert [rating(payload) for payload in announced(uow)] == [(1, 0.0, 2.0)] * 3


@pytest.mark.parametrize("outcome", ["completed", "denied", "rejected"])
def test_a_visit_and_an_evaluable_case_change_a_bucket_and_are_not_announced(uow, outcome):
    indicators.count_review_submitted(uow, review_event(4))
    assert summary(uow, item=ITEM).evaluable == 0
    announced(uow)

    assert indicators.count_visit_recorded(uow, visit_recorded(item_id="item-window"))
    assert indicators.record_case_ended(uow, ended(outcome, ended_at="2026-11-25T03:00:00Z"))

    assert summary(uow, item="item-window").evaluable == 1
    assert summary(uow, item=ITEM).evaluable == 1
    assert due(uow) == []
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

    assert due(uow) == [(AnnouncedBucket(STORE, DEPARTMENT, REGION, ITEM), 1)]
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
    assert len(announced(uow)) == 1

    fact(uow)

    assert due(uow) == []
    assert len(announced(uow)) == 1


def test_an_invalid_event_announces_nothing(uow):
    event = review_event()
    event["payload"]["grade"] = 0

    with pytest.raises(Invalid):
        indicators.count_review_submitted(uow, event)

    assert due(uow) == []
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
