"""Migration 0003 carries a ratings database of 0002 into the evaluation loop:
its cases, reviews and rectifications kept and converted, the published
indicators rebuilt from them (not restarted at zero), and back to 0002 again.

``tests/integration/test_migrations.py`` collects these tests again on
PostgreSQL.
"""

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.orm import sessionmaker

from services.common.db import make_engine
from services.common.migrations import alembic_config
from services.common.testing import envelope, outbox
from services.ratings.service_layer import indicators, rectifications
from services.ratings.service_layer.unit_of_work import RatingsUnitOfWork

from .conftest import DEPARTMENT, OPERATOR

OTHER_STORE = "store-2"
# Cases as 0002 stored them: (id, store, completed_at). app-4's is late on
# the 24th in UTC, the 25th in China.
CASES = {
    "app-1": ("store-1", datetime(2026, 11, 24, 2, 0, tzinfo=UTC)),
    "app-2": ("store-1", datetime(2026, 11, 24, 3, 0, tzinfo=UTC)),
    "app-3": ("store-1", datetime(2026, 11, 24, 4, 0, tzinfo=UTC)),
    "app-4": (OTHER_STORE, datetime(2026, 11, 24, 17, 30, tzinfo=UTC)),
}
# Reviews as 0002 stored them: (id, case, grade, submitted_at). rv-open's is
# the 25th in UTC, the 26th in China.
REVIEWS = {
    "rv-praise": ("app-1", 5, datetime(2026, 11, 25, 1, 0, tzinfo=UTC)),
    "rv-open": ("app-2", 1, datetime(2026, 11, 25, 16, 30, tzinfo=UTC)),
    "rv-resolved": ("app-3", 2, datetime(2026, 11, 25, 2, 0, tzinfo=UTC)),
}
OLD_DUE = date(2026, 11, 30)
RESOLVED_AT = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)


def legacy_table(name: str, *columns: str) -> sa.TableClause:
    """A table as 0002 had it, enough to write rows to it."""
    return sa.table(name, *(sa.column(column) for column in columns))


LEGACY_CASES = legacy_table(
    "reviewable_cases",
    *("application_id", "applicant_id", "item_id", "item_name", "department_code"),
    *("region_code", "store_id", "completed_at", "reviewed"),
)
LEGACY_REVIEWS = legacy_table(
    "reviews",
    *("review_id", "application_id", "reviewer_id", "grade", "comment", "item_id"),
    *("item_name", "store_id", "department_code", "region_code", "submitted_at"),
)
LEGACY_RECTIFICATIONS = legacy_table(
    "rectifications",
    *("rectification_id", "review_id", "application_id", "department_code", "opened_at"),
    *("due_date", "status", "resolved_at", "resolution_comment", "resolved_by"),
)
LEGACY_TOTALS = legacy_table(
    "rating_totals",
    *("store_id", "department_code", "region_code", "item_id", "item_name"),
    *("reviews", "praise", "grade_sum"),
)


def store_legacy(url: str) -> None:
    """0002's tables filled as the service of that time filled them."""
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            LEGACY_CASES.insert(),
            [
                {
                    "application_id": application_id,
                    "applicant_id": f"u-{application_id}",
                    "item_id": "item-1",
                    "item_name": "Food business licence",
                    "department_code": DEPARTMENT,
                    "region_code": "320102",
                    "store_id": store_id,
                    "completed_at": completed_at,
                    "reviewed": application_id != "app-4",
                }
                for application_id, (store_id, completed_at) in CASES.items()
            ],
        )
        connection.execute(
            LEGACY_REVIEWS.insert(),
            [
                {
                    "review_id": review_id,
                    "application_id": application_id,
                    "reviewer_id": f"u-{application_id}",
                    "grade": grade,
                    "comment": "办事快" if grade > 3 else "等了很久",
                    "item_id": "item-1",
                    "item_name": "Food business licence",
                    "store_id": "store-1",
                    "department_code": DEPARTMENT,
                    "region_code": "320102",
                    "submitted_at": submitted_at,
                }
                for review_id, (application_id, grade, submitted_at) in REVIEWS.items()
            ],
        )
        connection.execute(
            LEGACY_RECTIFICATIONS.insert(),
            [
                {
                    "rectification_id": f"rect-{review_id}",
                    "review_id": review_id,
                    "application_id": REVIEWS[review_id][0],
                    "department_code": DEPARTMENT,
                    "opened_at": REVIEWS[review_id][2],
                    "due_date": OLD_DUE,
                    "status": status,
                    "resolved_at": RESOLVED_AT if status == "resolved" else None,
                    "resolution_comment": "已整改" if status == "resolved" else None,
                    "resolved_by": "u-clerk" if status == "resolved" else None,
                }
                for review_id, status in (("rv-open", "open"), ("rv-resolved", "resolved"))
            ],
        )
        connection.execute(
            LEGACY_TOTALS.insert().values(
                store_id="store-1",
                department_code=DEPARTMENT,
                region_code="320102",
                item_id="item-1",
                item_name="Food business licence",
                reviews=3,
                praise=1,
                grade_sum=8,
            )
        )
    engine.dispose()


def unit_of_work(url: str) -> tuple[RatingsUnitOfWork, sa.Engine]:
    engine = make_engine(url)
    return RatingsUnitOfWork(sessionmaker(bind=engine, expire_on_commit=False), "ratings"), engine


@pytest.fixture
def legacy_url(tmp_path):
    """A ratings database at 0002 holding a few cases, reviews and
    rectifications, not yet upgraded."""
    url = f"sqlite:///{tmp_path / 'ratings.db'}"
    command.upgrade(alembic_config("ratings", url), "0002")
    store_legacy(url)
    return url


@pytest.fixture
def migrated(legacy_url):
    """The legacy database upgraded to head; a unit of work on it."""
    command.upgrade(alembic_config("ratings", legacy_url), "head")
    uow, engine = unit_of_work(legacy_url)
    yield uow
    engine.dispose()


def test_cases_reviews_and_rectifications_are_kept_and_converted(migrated):
    with migrated:
        case = migrated.cases.get("app-4")
        reviews = {review_id: migrated.reviews.get(review_id) for review_id in REVIEWS}
        still_open = migrated.rectifications.for_review("rv-open")
        resolved = migrated.rectifications.for_review("rv-resolved")
        tables = set(sa.inspect(migrated.session.get_bind()).get_table_names())
    assert "rating_totals" not in tables
    assert (case.outcome, case.handled_by, case.principal_id) == ("completed", DEPARTMENT, None)
    assert (case.ended_at, case.reviewed) == (CASES["app-4"][1], False)
    for review_id, (application_id, grade, submitted_at) in REVIEWS.items():
        review = reviews[review_id]
        assert (review.application_id, review.visit_id, review.reviewer_id) == (
            application_id,
            None,
            f"u-{application_id}",
        )
        assert (review.grade, review.submitted_at, review.handled_by) == (
            grade,
            submitted_at,
            DEPARTMENT,
        )
        assert (review.reviewer_name, review.real_name, review.channel, review.indicators) == (
            "匿名",
            False,
            "web",
            {},
        )
        assert (review.excluded, review.reply, review.appeal_state) == (False, None, None)
    assert (still_open.state, still_open.round, still_open.application_id) == (
        "awaiting_verification",
        1,
        "app-2",
    )
    assert (still_open.verify_due, still_open.due_date, still_open.decision) == (
        OLD_DUE,
        None,
        None,
    )
    assert (resolved.state, resolved.round, resolved.verify_due, resolved.due_date) == (
        "resolved",
        1,
        OLD_DUE,
        OLD_DUE,
    )
    assert (resolved.resolved_at, resolved.resolved_by, resolved.resolution_comment) == (
        RESOLVED_AT,
        "u-clerk",
        "已整改",
    )


def test_the_indicators_count_the_kept_reviews_and_cases(migrated):
    overall = indicators.stats(migrated)["overall"]
    assert (overall.evaluable, overall.reviews, overall.praise, overall.bad) == (4, 3, 1, 2)
    assert (overall.rectified, overall.real_name_bad, overall.called_back) == (1, 0, 0)
    assert (overall.average_grade, overall.rectification_rate) == (2.67, 0.5)
    assert overall.sub_grades == {}

    # Each counts on its China day: app-4 ended on the 25th, rv-open was
    # submitted on the 26th.
    day = indicators.stats(migrated, from_=date(2026, 11, 25), to=date(2026, 11, 25))
    assert (day["overall"].evaluable, day["overall"].reviews) == (1, 2)
    assert [entry["store_id"] for entry in day["stores"]] == ["store-1", OTHER_STORE]
    late = indicators.stats(migrated, from_=date(2026, 11, 26))["overall"]
    assert (late.reviews, late.bad, late.rectified) == (1, 1, 0)

    store = indicators.store_summary(migrated, "store-1")
    assert (store.evaluable, store.reviews, store.praise_rate) == (3, 3, 0.3333)
    [item] = indicators.stats(migrated)["items"]
    assert (item["item_id"], item["item_name"]) == ("item-1", "Food business licence")


def test_later_facts_about_kept_reviews_count_once(migrated):
    """A review_submitted still in 0002's outbox finds its review counted; a
    resolution already counted adds nothing; the open rectification, verified
    and fixed now, counts rectified in its review's bucket."""
    old_event = envelope(
        "ratings",
        "review_submitted",
        {
            "review_id": "rv-praise",
            "application_id": "app-1",
            "store_id": "store-1",
            "department_code": DEPARTMENT,
            "region_code": "320102",
            "item_id": "item-1",
            "item_name": "Food business licence",
            "grade": 5,
            "submitted_at": REVIEWS["rv-praise"][2].isoformat(),
        },
    )
    assert indicators.count_review_submitted(migrated, old_event)
    assert indicators.count_rectification_resolved(
        migrated, envelope("ratings", "rectification_resolved", {"review_id": "rv-resolved"})
    )
    overall = indicators.stats(migrated)["overall"]
    assert (overall.reviews, overall.praise, overall.rectified) == (3, 1, 1)

    now = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    view = rectifications.verify_rectification(
        migrated, OPERATOR, "rect-rv-open", "immediate", "已当面致歉", now=now
    )
    assert view["state"] == "resolved"
    [resolution] = [
        event for event in outbox(migrated) if event["type"] == "rectification_resolved"
    ]
    assert indicators.count_rectification_resolved(migrated, resolution)
    assert indicators.stats(migrated)["overall"].rectified == 2
    late = indicators.stats(migrated, from_=date(2026, 11, 26))["overall"]
    assert late.rectified == 1


def test_downgrade_keeps_the_reviews_of_cases(migrated, legacy_url):
    command.downgrade(alembic_config("ratings", legacy_url), "0002")
    engine = sa.create_engine(legacy_url)
    try:
        with engine.connect() as connection:
            cases = connection.execute(
                sa.select(LEGACY_CASES.c.application_id).order_by(LEGACY_CASES.c.application_id)
            ).scalars()
            assert list(cases) == list(CASES)
            statuses = dict(
                connection.execute(
                    sa.select(LEGACY_RECTIFICATIONS.c.review_id, LEGACY_RECTIFICATIONS.c.status)
                ).all()
            )
            assert statuses == {"rv-open": "open", "rv-resolved": "resolved"}
            totals = connection.execute(sa.select(LEGACY_TOTALS)).mappings().one()
            assert (totals["reviews"], totals["praise"], totals["grade_sum"]) == (3, 1, 8)
        assert "indicator_reviews" not in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()
