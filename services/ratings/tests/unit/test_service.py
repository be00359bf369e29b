"""Entrypoints via worker_factory, on a SQLite unit of work instead of Database."""

import json
from datetime import UTC, date, datetime

import pytest
from nameko.testing.services import worker_factory

from services.common.errors import Conflict, Forbidden, Invalid, NotFound
from services.common.testing import outbox
from services.ratings.adapters.evaluation_dependency import EvaluationSettings
from services.ratings.service import RatingsService

from .conftest import APPLICANT, CLERK, OPERATOR, ended_envelope


@pytest.fixture
def service(uow):
    return worker_factory(RatingsService, uow=uow, evaluation=EvaluationSettings.from_config({}))


@pytest.fixture
def completed(service):
    service.on_application_ended(ended_envelope())
    return service


def test_the_ended_event_makes_the_case_reviewable(completed, uow):
    with uow:
        case = uow.cases.get("app-1")
    assert case is not None
    assert case.ended_at.isoformat() == "2026-11-24T09:30:00+00:00"


def test_a_malformed_event_is_invalid_so_it_is_dead_lettered_at_once(service):
    with pytest.raises(Invalid) as caught:
        service.on_application_ended({"id": "e-1", "payload": {}})

    assert "payload.application_id" in caught.value.fields


def test_a_bad_payload_names_every_field(service, uow):
    event = ended_envelope(store_id=None, ended_at="yesterday")
    del event["payload"]["item_name"]

    with pytest.raises(Invalid) as caught:
        service.on_application_ended(event)

    assert set(caught.value.fields) == {
        "payload.store_id",
        "payload.ended_at",
        "payload.item_name",
    }
    with uow:
        assert uow.cases.get("app-1") is None


def test_an_instant_with_an_offset_is_kept_in_utc(service, uow):
    service.on_application_ended(ended_envelope(ended_at="2026-11-24T17:30:00+08:00"))

    with uow:
        assert uow.cases.get("app-1").ended_at == datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


def test_an_event_workflow_may_extend_is_still_taken(service, uow):
    service.on_application_ended(ended_envelope(licence_no="L-1"))

    with uow:
        assert uow.cases.get("app-1") is not None


def test_an_event_whose_values_the_domain_refuses_is_invalid(service, uow):
    with pytest.raises(Invalid) as caught:
        service.on_application_ended(ended_envelope(store_id=""))

    assert set(caught.value.fields) == {"store_id"}
    with uow:
        assert uow.cases.get("app-1") is None


def test_submit_review_returns_the_review_id(completed, uow):
    result = completed.submit_review(
        actor=APPLICANT, application_id="app-1", grade=2, comment="等了很久"
    )

    assert set(result) == {"review_id"}
    assert [e["type"] for e in outbox(uow)] == ["review_submitted", "bad_review_flagged"]


def test_the_comment_may_be_left_out(completed, uow):
    completed.submit_review(actor=APPLICANT, application_id="app-1", grade=5)

    assert completed.list_store_reviews(store_id="store-1")["items"][0]["comment"] == ""


def test_positional_arguments_are_refused(completed):
    with pytest.raises(TypeError):
        completed.submit_review(APPLICANT, "app-1", 5)


@pytest.mark.parametrize("grade", ["5", 0, 6, True, 4.5])
def test_submit_review_refuses_a_bad_grade(completed, grade):
    with pytest.raises(Invalid) as caught:
        completed.submit_review(actor=APPLICANT, application_id="app-1", grade=grade)

    assert caught.value.fields == {"grade": "must be an integer from 1 to 5"}


def test_submit_review_refuses_a_long_comment(completed):
    with pytest.raises(Invalid) as caught:
        completed.submit_review(
            actor=APPLICANT, application_id="app-1", grade=5, comment="长" * 501
        )

    assert set(caught.value.fields) == {"comment"}


def test_submit_review_refuses_an_unknown_argument(completed):
    with pytest.raises(Invalid) as caught:
        completed.submit_review(actor=APPLICANT, application_id="app-1", grade=5, stars=5)

    assert set(caught.value.fields) == {"stars"}


def test_submit_review_by_someone_else_is_forbidden(completed):
    with pytest.raises(Forbidden) as caught:
        completed.submit_review(
            actor={**APPLICANT, "user_id": "u-other"}, application_id="app-1", grade=5
        )

    assert type(caught.value) is Forbidden  # the shared type crosses the wire


def test_submit_review_before_completion_is_a_conflict(service):
    with pytest.raises(Conflict) as caught:
        service.submit_review(actor=APPLICANT, application_id="app-1", grade=5)

    assert type(caught.value) is Conflict
    assert caught.value.message == "the case has not ended yet"


def test_a_second_review_is_a_conflict_with_its_own_code(completed):
    completed.submit_review(actor=APPLICANT, application_id="app-1", grade=5)

    with pytest.raises(Conflict) as caught:
        completed.submit_review(actor=APPLICANT, application_id="app-1", grade=4)

    assert type(caught.value) is Conflict
    assert caught.value.code == "already_reviewed"


def test_store_reviews_are_json_ready(completed):
    completed.submit_review(actor=APPLICANT, application_id="app-1", grade=5, comment="好")

    result = completed.list_store_reviews(store_id="store-1")

    assert json.loads(json.dumps(result)) == result
    assert (result["page"], result["page_size"], result["total"]) == (1, 20, 1)
    assert result["items"][0]["reviewer"] == "u***"
    assert result["items"][0]["submitted_at"].endswith("Z")
    assert result["items"][0]["reply"] is None
    assert result["summary"]["reviews"] == 0  # the indicators count from events


def test_pages_may_come_as_query_text(completed):
    result = completed.list_store_reviews(store_id="store-1", page="2", page_size="5")

    assert (result["page"], result["page_size"]) == (2, 5)


@pytest.mark.parametrize(
    ("page", "page_size", "field"),
    [("x", 20, "page"), (0, 20, "page"), (1.5, 20, "page"), (1, 1000, "page_size")],
)
def test_list_store_reviews_refuses_bad_pages(service, page, page_size, field):
    with pytest.raises(Invalid) as caught:
        service.list_store_reviews(store_id="store-1", page=page, page_size=page_size)

    assert set(caught.value.fields) == {field}


def test_stats_are_json_ready(completed, uow):
    completed.submit_review(actor=APPLICANT, application_id="app-1", grade=4)
    for event in outbox(uow):
        if event["type"] == "review_submitted":
            completed.count_review_submitted(event)

    result = completed.stats(department="320100-MSA")

    assert json.loads(json.dumps(result)) == result
    assert (result["department"], result["region"]) == ("320100-MSA", None)
    [store] = result["stores"]
    rating = store["rating"]
    assert store["store_id"] == "store-1"
    assert (rating["reviews"], rating["praise_rate"], rating["average_grade"]) == (1, 1.0, 4.0)
    assert result["items"][0]["item_name"] == "Food business licence"


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"region": 320100}, "region"),
        ({"region": ""}, "region"),
        ({"department": ""}, "department"),
        ({"region": "3" * 13}, "region"),
        ({"department": None}, "department"),
        ({"city": "320100"}, "city"),
    ],
)
def test_stats_refuse_a_bad_filter(service, filters, field):
    with pytest.raises(Invalid) as caught:
        service.stats(**filters)

    assert set(caught.value.fields) == {field}


def test_staff_list_and_resolve_rectifications(completed, uow):
    completed.submit_review(actor=APPLICANT, application_id="app-1", grade=1, comment="态度差")

    listed = completed.list_rectifications(actor=CLERK)
    [entry] = listed["items"]
    completed.verify_rectification(
        actor=CLERK, rectification_id=entry["rectification_id"], decision="deadline", plan="整改"
    )
    resolved = completed.resolve_rectification(
        actor=CLERK, rectification_id=entry["rectification_id"], comment="已回访致歉"
    )

    assert json.loads(json.dumps(listed)) == listed
    assert (listed["page"], listed["page_size"], listed["total"]) == (1, 20, 1)
    assert entry["state"] == "awaiting_verification"
    assert entry["overdue"] is False
    assert entry["review_comment"] == "态度差"
    assert date.fromisoformat(entry["verify_due"]) > date.fromisoformat(entry["opened_at"][:10])
    assert resolved["state"] == "resolved"
    assert resolved["resolved_by"] == "u-clerk"
    assert resolved["resolved_at"].endswith("Z")
    assert outbox(uow)[-1]["type"] == "rectification_resolved"


def test_citizens_may_not_list_rectifications(service):
    with pytest.raises(Forbidden):
        service.list_rectifications(actor=APPLICANT)


@pytest.mark.parametrize(
    ("page", "page_size", "field"), [(-3, 20, "page"), (1, "ten", "page_size")]
)
def test_list_rectifications_refuses_bad_pages(service, page, page_size, field):
    with pytest.raises(Invalid) as caught:
        service.list_rectifications(actor=OPERATOR, page=page, page_size=page_size)

    assert set(caught.value.fields) == {field}


def test_list_rectifications_needs_an_actor(service):
    with pytest.raises(Invalid) as caught:
        service.list_rectifications()

    assert set(caught.value.fields) == {"actor"}


def test_resolve_refuses_an_empty_comment(service):
    with pytest.raises(Invalid) as caught:
        service.resolve_rectification(actor=CLERK, rectification_id="r-1", comment=" ")

    assert set(caught.value.fields) == {"comment"}


def test_resolving_an_unknown_rectification_is_not_found(service):
    with pytest.raises(NotFound) as caught:
        service.resolve_rectification(actor=CLERK, rectification_id="r-1", comment="已回访")

    assert caught.value.fields == {"rectification_id": "not found"}
