"""Racing evaluation requests on PostgreSQL: a visit token rates once, a review
is replied to once and appealed once, however many requests race."""

from datetime import timedelta

import eventlet
import pytest
from sqlalchemy.orm import sessionmaker

from services.common import clock
from services.common.db import make_engine
from services.common.errors import Conflict
from services.common.messaging.envelope import isoformat_utc, make_envelope
from services.common.testing import citizen, staff
from services.ratings.service_layer import use_cases
from services.ratings.service_layer.unit_of_work import RatingsUnitOfWork

DEPARTMENT = "320100-MSA"
CLERK = staff("u-clerk", DEPARTMENT, "window_clerk")
ADMIN = staff("u-admin", DEPARTMENT, "dept_admin")
ITEM = {
    "item_id": "item-1",
    "name": "食品经营许可",
    "department_code": DEPARTMENT,
    "region_code": "320102",
    "status": "published",
    "store_id": "store-1",
}


@pytest.fixture
def make_uow(database_factory):
    """A fresh unit of work per call (one per request), on one engine."""
    engine = make_engine(database_factory("ratings_evaluation_race"))
    RatingsUnitOfWork.metadata.create_all(engine)
    sessions = sessionmaker(bind=engine, expire_on_commit=False)
    yield lambda: RatingsUnitOfWork(sessions, source="ratings")
    engine.dispose()


def race(attempt, arguments) -> list[str]:
    def outcome(argument):
        try:
            attempt(argument)
            return "ok"
        except Conflict as conflict:
            return conflict.code

    return sorted(eventlet.GreenPool(len(arguments)).imap(outcome, arguments))


def reviewed(make_uow, grade=1):
    payload = {
        "application_id": "app-1",
        "applicant_id": "u-1",
        "principal_id": None,
        "item_id": "item-1",
        "item_name": "食品经营许可",
        "department_code": DEPARTMENT,
        "handled_by": DEPARTMENT,
        "region_code": "320102",
        "store_id": "store-1",
        "outcome": "completed",
        "ended_at": isoformat_utc(clock.now() - timedelta(hours=1)),
    }
    use_cases.record_ended_case(make_uow(), make_envelope("workflow", "application_ended", payload))
    return use_cases.submit_review(make_uow(), citizen("u-1"), "app-1", grade)


def test_racing_reviews_with_one_token_make_one_review(make_uow):
    answer = use_cases.record_visit(
        make_uow(), lambda item_id: ITEM, CLERK, "item-1", None, portal_url="https://portal"
    )

    outcomes = race(
        lambda grade: use_cases.review_visit(make_uow(), answer["token"], grade, channel="window"),
        [5, 1, 4, 2],
    )

    assert outcomes == ["ok", "token_used", "token_used", "token_used"]
    assert sum(use_cases.count_reviews_by_grade(make_uow()).values()) == 1


def test_racing_replies_make_one_reply(make_uow):
    review = reviewed(make_uow, grade=3)

    outcomes = race(
        lambda text: use_cases.reply_to_review(make_uow(), CLERK, review.review_id, text),
        ["一", "二", "三"],
    )

    assert outcomes == ["already_replied", "already_replied", "ok"]


def test_racing_appeals_make_one_appeal(make_uow):
    review = reviewed(make_uow)

    outcomes = race(
        lambda reason: use_cases.file_appeal(make_uow(), ADMIN, review.review_id, reason),
        ["无关", "恶意", "重复"],
    )

    assert outcomes == ["appeal_pending", "appeal_pending", "ok"]
    page = use_cases.list_appeals(make_uow(), ADMIN, page=1, page_size=10)
    assert page["total"] == 1
