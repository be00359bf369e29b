"""Entrypoints via worker_factory, on a SQLite unit of work instead of Database."""

import json
from datetime import date

import pytest
from nameko.testing.services import worker_factory

from services.common.errors import Conflict, Forbidden, Invalid
from services.ratings.service import RatingsService

from .conftest import APPLICANT, CLERK, OPERATOR, completed_envelope, outbox_envelopes


@pytest.fixture
def service(uow):
    return worker_factory(RatingsService, uow=uow)


@pytest.fixture
def completed(service):
    service.on_application_completed(completed_envelope())
    return service


def test_the_completed_event_makes_the_case_reviewable(completed, uow):
    with uow:
        assert uow.cases.get("app-1") is not None


def test_a_malformed_event_is_invalid_so_it_is_retried_then_dead_lettered(service):
    with pytest.raises(Invalid) as caught:
        service.on_application_completed({"id": "e-1", "payload": {}})

    assert "payload.application_id" in caught.value.fields


def test_submit_review_returns_the_review_id(completed, uow):
    result = completed.submit_review(APPLICANT, "app-1", 2, "等了很久")

    assert set(result) == {"review_id"}
    assert [e["type"] for e in outbox_envelopes(uow)] == [
        "review_submitted",
        "bad_review_flagged",
    ]


@pytest.mark.parametrize("grade", ["5", 0, 6, True, 4.5])
def test_submit_review_refuses_a_bad_grade(completed, grade):
    with pytest.raises(Invalid) as caught:
        completed.submit_review(APPLICANT, "app-1", grade)

    assert caught.value.fields == {"grade": "must be an integer from 1 to 5"}


def test_submit_review_refuses_a_long_comment(completed):
    with pytest.raises(Invalid) as caught:
        completed.submit_review(APPLICANT, "app-1", 5, "长" * 501)

    assert set(caught.value.fields) == {"comment"}


def test_submit_review_by_someone_else_is_forbidden(completed):
    with pytest.raises(Forbidden):
        completed.submit_review({**APPLICANT, "user_id": "u-other"}, "app-1", 5)


def test_submit_review_before_completion_is_a_conflict(service):
    with pytest.raises(Conflict):
        service.submit_review(APPLICANT, "app-1", 5)


def test_store_reviews_are_json_ready(completed):
    completed.submit_review(APPLICANT, "app-1", 5, "好")

    result = completed.list_store_reviews("store-1")

    assert json.loads(json.dumps(result)) == result
    assert result["total"] == 1
    assert result["reviews"][0]["reviewer"] == "用户cant"
    assert result["reviews"][0]["submitted_at"].endswith("Z")
    assert result["summary"] == {"reviews": 1, "praise_rate": 1.0, "average_grade": 5.0}


@pytest.mark.parametrize(
    ("page", "page_size", "field"),
    [("x", 20, "page"), (0, 20, "page"), (1.5, 20, "page"), (1, 1000, "page_size")],
)
def test_list_store_reviews_refuses_bad_pages(service, page, page_size, field):
    with pytest.raises(Invalid) as caught:
        service.list_store_reviews("store-1", page, page_size)

    assert set(caught.value.fields) == {field}


def test_stats_are_json_ready(completed):
    completed.submit_review(APPLICANT, "app-1", 4)

    result = completed.stats(department="320100-MSA")

    assert json.loads(json.dumps(result)) == result
    assert result["stores"] == [
        {"store_id": "store-1", "rating": {"reviews": 1, "praise_rate": 1.0, "average_grade": 4.0}}
    ]
    assert result["items"][0]["item_name"] == "Food business licence"


def test_stats_refuse_a_bad_filter(service):
    with pytest.raises(Invalid) as caught:
        service.stats(region=320100)

    assert set(caught.value.fields) == {"region"}


def test_staff_list_and_resolve_rectifications(completed, uow):
    completed.submit_review(APPLICANT, "app-1", 1, "态度差")

    listed = completed.list_rectifications(CLERK)
    [entry] = listed["rectifications"]
    resolved = completed.resolve_rectification(CLERK, entry["rectification_id"], "已回访致歉")

    assert json.loads(json.dumps(listed)) == listed
    assert entry["status"] == "open"
    assert entry["review"]["comment"] == "态度差"
    assert date.fromisoformat(entry["due_date"]) > date.fromisoformat(entry["opened_at"][:10])
    assert resolved["status"] == "resolved"
    assert resolved["resolved_by"] == "u-clerk"
    assert resolved["resolved_at"].endswith("Z")
    assert outbox_envelopes(uow)[-1]["type"] == "rectification_resolved"


def test_citizens_may_not_list_rectifications(service):
    with pytest.raises(Forbidden):
        service.list_rectifications(APPLICANT)


@pytest.mark.parametrize(
    ("page", "page_size", "field"), [(-3, 20, "page"), (1, "ten", "page_size")]
)
def test_list_rectifications_refuses_bad_pages(service, page, page_size, field):
    with pytest.raises(Invalid) as caught:
        service.list_rectifications(OPERATOR, page, page_size)

    assert set(caught.value.fields) == {field}


def test_resolve_refuses_an_empty_comment(service):
    with pytest.raises(Invalid) as caught:
        service.resolve_rectification(CLERK, "r-1", " ")

    assert set(caught.value.fields) == {"comment"}
