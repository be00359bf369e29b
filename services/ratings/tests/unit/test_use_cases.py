"""Use cases on a real SQLite unit of work (no broker: events stop at the outbox)."""

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from services.common.errors import Conflict, Forbidden, Invalid
from services.common.schemas import load
from services.common.testing import envelope as event_envelope
from services.common.testing import outbox
from services.ratings import contract
from services.ratings.service_layer import indicators, use_cases
from services.workflow import contract as workflow

from .conftest import (
    APPLICANT,
    DEPARTMENT,
    NOW,
    ended_envelope,
)


def as_delivered(envelope):
    """The envelope as the handler gets it: its payload loaded with workflow's schema."""
    return {**envelope, "payload": load(workflow.ApplicationEnded, envelope["payload"])}


def record(uow, **payload):
    assert use_cases.record_ended_case(uow, as_delivered(ended_envelope(**payload)))


def review(uow, application_id="app-1", grade=5, comment="快", applicant="u-applicant", now=NOW):
    actor = {**APPLICANT, "user_id": applicant}
    return use_cases.submit_review(uow, actor, application_id, grade, comment, now=now)


def count(uow, table_name):
    table = uow.metadata.tables[table_name]
    with uow:
        return uow.session.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


# --- application_ended, outcome completed -----------------------------------


def test_a_completed_application_becomes_a_reviewable_case(uow):
    delivered = as_delivered(ended_envelope(ended_at="2026-11-24T17:30:00+08:00"))

    assert use_cases.record_ended_case(uow, delivered)

    with uow:
        case = uow.cases.get("app-1")
    assert case.applicant_id == "u-applicant"
    assert case.store_id == "store-1"
    assert case.outcome == "completed"
    assert case.ended_at == datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    assert case.reviewed is False


def test_the_same_event_twice_records_one_case(uow):
    envelope = ended_envelope()

    assert use_cases.record_ended_case(uow, envelope) is True
    assert use_cases.record_ended_case(uow, envelope) is False

    assert count(uow, "reviewable_cases") == 1
    assert count(uow, "handled_events") == 1


def test_a_second_event_for_a_recorded_case_changes_nothing(uow):
    record(uow)
    review(uow)

    assert use_cases.record_ended_case(uow, ended_envelope()) is False

    with uow:
        assert uow.cases.get("app-1").reviewed is True
    assert count(uow, "reviewable_cases") == 1


def test_an_event_missing_what_a_review_needs_is_invalid_and_not_marked_handled(uow):
    # Both load with workflow's schema; the domain refuses them.
    delivered = as_delivered(ended_envelope(store_id="", department_code="D" * 33))

    with pytest.raises(Invalid) as caught:
        use_cases.record_ended_case(uow, delivered)

    assert set(caught.value.fields) == {"store_id", "department_code"}
    assert count(uow, "reviewable_cases") == 0
    assert count(uow, "handled_events") == 0


def test_an_event_as_it_arrives_is_taken_too(uow):
    assert use_cases.record_ended_case(uow, ended_envelope())

    with uow:
        assert uow.cases.get("app-1").ended_at == datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


def test_an_envelope_without_an_id_is_invalid_as_it_cannot_be_handled_once(uow):
    delivered = as_delivered(ended_envelope())
    del delivered["id"]

    with pytest.raises(Invalid) as caught:
        use_cases.record_ended_case(uow, delivered)

    assert set(caught.value.fields) == {"id"}
    assert count(uow, "reviewable_cases") == 0


# --- submit_review ----------------------------------------------------------


def test_the_applicant_reviews_a_completed_case(uow):
    record(uow)

    submitted = review(uow, grade=5, comment="  办事很快  ")

    with uow:
        assert uow.cases.get("app-1").reviewed is True
        stored = uow.reviews.get(submitted.review_id)
    assert stored.grade == 5
    assert stored.comment == "办事很快"
    assert stored.reviewer_id == "u-applicant"
    assert stored.submitted_at == NOW
    assert count(uow, "rectifications") == 0


def test_a_review_emits_review_submitted_with_the_contract_payload(uow):
    record(uow)

    submitted = review(uow, grade=4)

    [envelope] = outbox(uow)
    assert envelope["type"] == "review_submitted"
    assert envelope["source"] == "ratings"
    assert envelope["payload"] == {
        "review_id": submitted.review_id,
        "application_id": "app-1",
        "visit_id": None,
        "store_id": "store-1",
        "department_code": DEPARTMENT,
        "region_code": "320102",
        "item_id": "item-1",
        "item_name": "Food business licence",
        "grade": 4,
        "channel": "web",
        "real_name": True,
        "indicators": {},
        "submitted_at": "2026-11-25T08:00:00Z",
    }


@pytest.mark.parametrize("grade", [1, 2])
def test_a_bad_review_opens_a_rectification_and_flags_it(uow, grade):
    record(uow)

    submitted = review(uow, grade=grade)

    with uow:
        rectification = uow.rectifications.for_review(submitted.review_id)
    assert rectification.is_open
    assert rectification.department_code == DEPARTMENT
    assert rectification.verify_due == date(2026, 11, 26)
    assert [e["type"] for e in outbox(uow)] == [
        "review_submitted",
        "bad_review_flagged",
    ]
    assert outbox(uow)[1]["payload"] == {
        "review_id": submitted.review_id,
        "rectification_id": rectification.rectification_id,
        "application_id": "app-1",
        "department_code": DEPARTMENT,
        "grade": grade,
        "verify_due": "2026-11-26",
    }


def test_a_case_ratings_has_not_heard_of_is_not_completed_yet(uow):
    with pytest.raises(Conflict) as caught:
        review(uow, application_id="app-unknown")

    assert caught.value.message == "the case has not ended yet"


def test_only_the_applicant_may_review(uow):
    record(uow)

    with pytest.raises(Forbidden):
        review(uow, applicant="u-someone-else")

    assert count(uow, "reviews") == 0
    assert outbox(uow) == []


def test_a_case_is_reviewed_once(uow):
    record(uow)
    review(uow, grade=5)

    with pytest.raises(Conflict) as caught:
        review(uow, grade=1)

    assert caught.value.code == "already_reviewed"
    assert count(uow, "reviews") == 1
    assert count(uow, "rectifications") == 0
    assert len(outbox(uow)) == 1


@pytest.mark.parametrize("grade", [0, 6, True, 4.5, "5", None])
def test_a_bad_grade_is_invalid_and_changes_nothing(uow, grade):
    record(uow)

    with pytest.raises(Invalid) as caught:
        review(uow, grade=grade)

    assert caught.value.fields == {"grade": "must be an integer from 1 to 5"}
    with uow:
        assert uow.cases.get("app-1").reviewed is False
    assert outbox(uow) == []


def test_emitted_payloads_load_with_the_published_schemas(uow):
    record(uow)
    review(uow, grade=1)

    envelopes = outbox(uow)
    assert [e["type"] for e in envelopes] == [
        "review_submitted",
        "bad_review_flagged",
    ]
    for envelope in envelopes:
        schema = contract.EVENTS[envelope["type"]]()
        assert schema.dump(schema.load(envelope["payload"])) == envelope["payload"]


# --- list_store_reviews -----------------------------------------------------


def seed_store(uow, grades, store_id="store-1"):
    for number, grade in enumerate(grades):
        application_id = f"{store_id}-app-{number}"
        record(
            uow,
            application_id=application_id,
            applicant_id=f"u-{number:06d}",
            store_id=store_id,
        )
        review(
            uow,
            application_id=application_id,
            grade=grade,
            applicant=f"u-{number:06d}",
            now=NOW + timedelta(minutes=number),
        )


def test_store_reviews_are_paged_newest_first_with_the_summary(uow):
    seed_store(uow, [5, 4, 1, 3, 5])
    seed_store(uow, [1], store_id="store-2")
    for envelope in outbox(uow):
        if envelope["type"] == "review_submitted":
            indicators.count_review_submitted(uow, envelope)

    first = use_cases.list_store_reviews(uow, "store-1", page=1, page_size=2)
    last = use_cases.list_store_reviews(uow, "store-1", page=3, page_size=2)

    assert [r.grade for r in first["items"]] == [5, 3]
    assert [r.grade for r in last["items"]] == [5]
    assert (first["page"], first["page_size"], first["total"]) == (1, 2, 5)
    summary = first["summary"]
    assert (summary.reviews, summary.praise_rate, summary.average_grade) == (5, 0.6, 3.6)


def test_reviewers_are_shown_masked(uow):
    seed_store(uow, [5])

    page = use_cases.list_store_reviews(uow, "store-1", page=1, page_size=20)
    dumped = contract.StoreReviews().dump(page)

    [shown] = dumped["items"]
    assert shown["reviewer"] == "u***"
    assert "reviewer_id" not in shown
    assert "application_id" not in shown
    assert dumped["summary"]["reviews"] == 0  # the indicators count from events


def test_a_store_without_reviews_has_no_rates(uow):
    page = use_cases.list_store_reviews(uow, "store-none", page=1, page_size=20)

    assert page["items"] == []
    assert page["total"] == 0
    assert page["summary"].praise_rate is None
    assert page["summary"].average_grade is None


def test_a_page_past_the_end_is_empty(uow):
    seed_store(uow, [5, 5])

    page = use_cases.list_store_reviews(uow, "store-1", page=5, page_size=20)

    assert page["items"] == []
    assert page["total"] == 2


# --- escalations -------------------------------------------------------------


def escalated(department="320100-MSA", level="dept_admin", application_id="a-late"):
    """workflow's ``case_escalated``, as the handler gets it."""
    payload = {
        "application_id": application_id,
        "step_id": "approve",
        "department_code": department,
        "level": level,
        "due_date": "2026-10-12",
    }
    return {
        **event_envelope("workflow", "case_escalated", payload),
        "payload": load(workflow.CaseEscalated, payload),
    }


def counts(result) -> dict:
    return {
        entry["department_code"]: (
            entry["rating"].reviews,
            None
            if entry["escalations"] is None
            else (entry["escalations"].dept_admin, entry["escalations"].operator),
        )
        for entry in result["departments"]
    }


def test_an_escalation_is_counted_once_per_event(uow):
    event = escalated()

    assert use_cases.record_escalation(uow, event) is True
    assert use_cases.record_escalation(uow, event) is False
    assert use_cases.record_escalation(uow, escalated(level="operator")) is True

    assert counts(indicators.stats(uow)) == {"320100-MSA": (0, (1, 1))}
    assert count(uow, "handled_events") == 2


def test_an_event_without_an_id_is_invalid(uow):
    with pytest.raises(Invalid):
        use_cases.record_escalation(uow, {**escalated(), "id": None})
