"""Racing requests on PostgreSQL: row locks and atomic counts hold."""

import eventlet
import pytest
from sqlalchemy.orm import sessionmaker

from services.common.db import make_engine
from services.common.errors import Conflict
from services.common.messaging.envelope import make_envelope
from services.ratings.service_layer import use_cases
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
    payload = {
        "application_id": application_id,
        "applicant_id": applicant_id,
        "item_id": "item-1",
        "item_name": "食品经营许可",
        "department_code": "320100-MSA",
        "region_code": "320102",
        "store_id": store_id,
        "completed_at": "2026-11-24T09:30:00Z",
    }
    use_cases.record_completed_case(
        uow, make_envelope("workflow", "application_completed", payload)
    )


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
    summary = use_cases.stats(make_uow())["overall"]
    assert summary.reviews == 1


def test_racing_reviews_of_one_store_are_all_counted(make_uow):
    cases = [(f"app-{n}", f"u-{n}", 5 if n % 2 else 1) for n in range(20)]
    for application_id, user_id, _ in cases:
        complete(make_uow(), application_id, user_id)

    def review(case):
        application_id, user_id, grade = case
        use_cases.submit_review(make_uow(), applicant(user_id), application_id, grade)

    list(eventlet.GreenPool(20).imap(review, cases))

    page = use_cases.list_store_reviews(make_uow(), "store-1", page=1, page_size=100)
    assert page["total"] == 20
    assert (page["summary"].reviews, page["summary"].praise_rate) == (20, 0.5)
