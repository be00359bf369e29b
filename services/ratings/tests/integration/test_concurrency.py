"""Racing requests on PostgreSQL: row locks and atomic counts hold."""

from datetime import timedelta

import eventlet
import pytest
from sqlalchemy.orm import sessionmaker

from services.common import clock
from services.common.db import make_engine
from services.common.errors import Conflict
from services.common.messaging.envelope import isoformat_utc, make_envelope
from services.common.testing import outbox
from services.ratings.service_layer import indicators, use_cases
from services.ratings.service_layer.unit_of_work import RatingsUnitOfWork


@pytest.fixture
def make_uow(database_factory):
    """A fresh unit of work per call (one per request), on one engine."""
    engine = make_engine(database_factory("ratings_race"))
    RatingsUnitOfWork.metadata.create_all(engine)
    sessions = sessionmaker(bind=engine, expire_on_commit=False)
    yield lambda: RatingsUnitOfWork(sessions, source="ratings")
    engine.dispose()


def complete(uow, application_id, applicant_id, store_id="store-1"):
    """The case ended completed (workflow's ``application_ended``)."""
    payload = {
        "application_id": application_id,
        "applicant_id": applicant_id,
        "principal_id": None,
        "item_id": "item-1",
        "item_name": "食品经营许可",
        "department_code": "320100-MSA",
        "handled_by": "320100-MSA",
        "region_code": "320102",
        "store_id": store_id,
        "outcome": "completed",
        # Within the review window of the process clock.
        "ended_at": isoformat_utc(clock.now() - timedelta(hours=1)),
    }
    use_cases.record_ended_case(uow, make_envelope("workflow", "application_ended", payload))


def applicant(user_id):
    return {"user_id": user_id, "kind": "citizen", "roles": []}


def test_two_racing_reviews_of_one_case_make_one_review(make_uow):
    complete(make_uow(), "app-1", "u-1")

    def attempt(grade):
        try:
            use_cases.submit_review(make_uow(), applicant("u-1"), "app-1", grade)
            return "ok"
        except Conflict:
            return "conflict"

    outcomes = sorted(eventlet.GreenPool().imap(attempt, [5, 1, 4, 2]))

    assert outcomes == ["conflict", "conflict", "conflict", "ok"]
    assert sum(use_cases.count_reviews_by_grade(make_uow()).values()) == 1


def test_racing_reviews_of_one_store_are_all_counted(make_uow):
    cases = [(f"app-{n}", f"u-{n}", 5 if n % 2 else 1) for n in range(20)]
    for application_id, user_id, _ in cases:
        complete(make_uow(), application_id, user_id)

    def review(case):
        application_id, user_id, grade = case
        use_cases.submit_review(make_uow(), applicant(user_id), application_id, grade)

    list(eventlet.GreenPool(20).imap(review, cases))
    # The summary is the indicators', counted by the racing handlers of the
    # reviews' events.
    submitted = [e for e in outbox(make_uow()) if e["type"] == "review_submitted"]
    list(
        eventlet.GreenPool(20).imap(
            lambda event: indicators.count_review_submitted(make_uow(), event), submitted
        )
    )

    page = use_cases.list_store_reviews(make_uow(), "store-1", page=1, page_size=100)
    assert page["total"] == 20
    assert (page["summary"].reviews, page["summary"].praise_rate) == (20, 0.5)
