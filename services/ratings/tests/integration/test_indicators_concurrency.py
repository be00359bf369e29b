"""The read models on PostgreSQL, with handlers racing each other as the
consumers of several queues do: atomic counts, row locks per review and per
case; the live feed's announcement, made afterwards, holds every count."""

import itertools
from datetime import UTC, datetime

import eventlet
import pytest
from sqlalchemy.orm import sessionmaker

from services.common.db import make_engine
from services.common.testing import delivered, envelope, outbox
from services.courier import contract as courier
from services.ratings import contract
from services.ratings.service_layer import indicators
from services.ratings.service_layer.unit_of_work import RatingsUnitOfWork
from services.workflow import contract as workflow

NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)


@pytest.fixture
def make_uow(database_factory):
    """A fresh unit of work per call (one per handler), on one engine."""
    engine = make_engine(database_factory("ratings_indicators"))
    RatingsUnitOfWork.metadata.create_all(engine)
    sessions = sessionmaker(bind=engine, expire_on_commit=False)
    yield lambda: RatingsUnitOfWork(sessions, source="ratings")
    engine.dispose()


def review_submitted(review_id, grade, real_name=True):
    payload = {
        "review_id": review_id,
        "application_id": f"app-{review_id}",
        "visit_id": None,
        "store_id": "store-1",
        "department_code": "320100-MSA",
        "region_code": "320102",
        "item_id": "item-1",
        "item_name": "食品经营许可",
        "grade": grade,
        "channel": "web",
        "real_name": real_name,
        "indicators": {"efficiency": grade},
        "submitted_at": "2026-11-25T02:00:00Z",
    }
    return delivered(envelope("ratings", "review_submitted", payload), contract.ReviewSubmitted)


def ratings_event(event_type, **payload):
    return delivered(envelope("ratings", event_type, payload), contract.EVENTS[event_type])


def workflow_event(event_type, **payload):
    return delivered(envelope("workflow", event_type, payload), workflow.EVENTS[event_type])


def in_parallel(calls):
    """Run every call at once (a green thread each); return their results."""
    pool = eventlet.GreenPool(len(calls))
    return list(pool.imap(lambda call: call(), calls))


def test_racing_reviews_of_one_store_are_all_counted(make_uow):
    events = [review_submitted(f"r-{n}", 5 if n % 2 else 1) for n in range(20)]

    in_parallel([lambda e=e: indicators.count_review_submitted(make_uow(), e) for e in events])

    store = indicators.store_summary(make_uow(), "store-1")
    assert (store.reviews, store.praise, store.bad, store.praise_rate) == (20, 10, 10, 0.5)
    assert indicators.stats(make_uow())["overall"].sub_grades == {"efficiency": 3.0}


@pytest.mark.parametrize("order", list(itertools.permutations(range(4)))[::5])
def test_racing_facts_about_one_review_count_it_once_each(make_uow, order):
    facts = [
        lambda: indicators.count_review_submitted(make_uow(), review_submitted("r-1", 2)),
        lambda: indicators.count_rectification_resolved(
            make_uow(),
            ratings_event(
                "rectification_resolved",
                rectification_id="rect-1",
                review_id="r-1",
                application_id="app-r-1",
                department_code="320100-MSA",
                resolved_by="u-clerk",
                resolved_at="2026-11-26T02:00:00Z",
                round=1,
            ),
        ),
        lambda: indicators.count_return_visit(
            make_uow(),
            ratings_event(
                "return_visit_recorded",
                rectification_id="rect-1",
                review_id="r-1",
                department_code="320100-MSA",
                reached=True,
                satisfied=True,
                reopened=False,
                recorded_at="2026-11-27T02:00:00Z",
            ),
        ),
        lambda: indicators.count_review_submitted(make_uow(), review_submitted("r-2", 5)),
    ]

    assert in_parallel([facts[index] for index in order]) == [True] * 4

    overall = indicators.stats(make_uow())["overall"]
    assert (overall.reviews, overall.bad, overall.rectified, overall.called_back) == (2, 1, 1, 1)


def test_racing_events_of_one_case_count_each_once_and_are_announced_after(make_uow):
    application_id = "app-race"
    events = [
        lambda: indicators.record_case_accepted(
            make_uow(),
            workflow_event(
                "application_accepted",
                application_id=application_id,
                accepted_at="2026-11-25T02:00:00Z",
            ),
        ),
        lambda: indicators.record_case_overdue(
            make_uow(),
            workflow_event("case_overdue", application_id=application_id, due_date="2026-11-24"),
        ),
        lambda: indicators.record_shipment(
            make_uow(),
            delivered(
                envelope(
                    "courier",
                    "shipment_created",
                    {
                        "shipment_id": "sh-1",
                        "tracking_no": "EA123456785CN",
                        "application_id": application_id,
                        "direction": "materials",
                    },
                ),
                courier.ShipmentCreated,
            ),
        ),
        lambda: indicators.record_case_submitted(
            make_uow(),
            workflow_event(
                "application_submitted",
                application_id=application_id,
                item_id="item-1",
                item_name="食品经营许可",
                applicant_id="u-1",
                department_code="320100-MSA",
                region_code="320102",
                store_id="store-1",
                delivery={"mode": "express", "address": None},
                window=None,
                due_date="2026-12-09",
                submitted_at="2026-11-25T01:00:00Z",
            ),
        ),
    ]
    # Many other cases submitted at the same time, all racing for the
    # province's row of the day.
    others = [
        lambda n=n: indicators.record_case_submitted(
            make_uow(),
            workflow_event(
                "application_submitted",
                application_id=f"app-{n}",
                item_id="item-1",
                item_name="食品经营许可",
                applicant_id="u-1",
                department_code="320100-MSA",
                region_code="320102",
                store_id="store-1",
                delivery={"mode": "online", "address": None},
                window=None,
                due_date="2026-12-09",
                submitted_at="2026-11-25T01:00:00Z",
            ),
        )
        for n in range(15)
    ]

    in_parallel(events + others)

    result = indicators.case_stats(make_uow())
    assert (result["submitted"], result["accepted"], result["overdue"], result["ems"]) == (
        16,
        1,
        1,
        1,
    )
    assert result["by_mode"] == {"express": 1, "online": 15}

    def announced():
        return [e["payload"] for e in outbox(make_uow()) if e["type"] == "case_stats_changed"]

    assert announced() == []  # the handlers announce nothing; the timer does
    indicators.announce_live_case_data(make_uow(), now=NOW)
    [payload] = announced()
    all_time = payload["all_time"]
    assert (all_time["submitted"], all_time["accepted"], all_time["overdue"], all_time["ems"]) == (
        16,
        1,
        1,
        1,
    )
