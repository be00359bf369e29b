"""Use cases on a real SQLite unit of work (no broker: events stop at the outbox)."""

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from services.common.errors import Conflict, Forbidden, Invalid, NotFound
from services.common.schemas import load
from services.common.testing import envelope as event_envelope
from services.common.testing import outbox
from services.ratings import contract
from services.ratings.service_layer import use_cases
from services.workflow import contract as workflow

from .conftest import (
    APPLICANT,
    CLERK,
    DEPARTMENT,
    NOW,
    OPERATOR,
    completed_envelope,
)


def as_delivered(envelope):
    """The envelope as the handler gets it: its payload loaded with workflow's schema."""
    return {**envelope, "payload": load(workflow.ApplicationCompleted, envelope["payload"])}


def record(uow, **payload):
    assert use_cases.record_completed_case(uow, as_delivered(completed_envelope(**payload)))


def review(uow, application_id="app-1", grade=5, comment="快", applicant="u-applicant", now=NOW):
    actor = {**APPLICANT, "user_id": applicant}
    return use_cases.submit_review(uow, actor, application_id, grade, comment, now=now)


def count(uow, table_name):
    table = uow.metadata.tables[table_name]
    with uow:
        return uow.session.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


# --- application_completed --------------------------------------------------


def test_a_completed_application_becomes_a_reviewable_case(uow):
    delivered = as_delivered(completed_envelope(completed_at="2026-11-24T17:30:00+08:00"))

    assert use_cases.record_completed_case(uow, delivered)

    with uow:
        case = uow.cases.get("app-1")
    assert case.applicant_id == "u-applicant"
    assert case.store_id == "store-1"
    assert case.completed_at == datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    assert case.reviewed is False


def test_the_same_event_twice_records_one_case(uow):
    envelope = completed_envelope()

    assert use_cases.record_completed_case(uow, envelope) is True
    assert use_cases.record_completed_case(uow, envelope) is False

    assert count(uow, "reviewable_cases") == 1
    assert count(uow, "handled_events") == 1


def test_a_second_event_for_a_recorded_case_changes_nothing(uow):
    record(uow)
    review(uow)

    assert use_cases.record_completed_case(uow, completed_envelope()) is False

    with uow:
        assert uow.cases.get("app-1").reviewed is True
    assert count(uow, "reviewable_cases") == 1


def test_an_event_missing_what_a_review_needs_is_invalid_and_not_marked_handled(uow):
    # Both load with workflow's schema; the domain refuses them.
    delivered = as_delivered(completed_envelope(store_id="", department_code="D" * 33))

    with pytest.raises(Invalid) as caught:
        use_cases.record_completed_case(uow, delivered)

    assert set(caught.value.fields) == {"store_id", "department_code"}
    assert count(uow, "reviewable_cases") == 0
    assert count(uow, "handled_events") == 0


def test_an_event_as_it_arrives_is_taken_too(uow):
    assert use_cases.record_completed_case(uow, completed_envelope())

    with uow:
        assert uow.cases.get("app-1").completed_at == datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


def test_an_envelope_without_an_id_is_invalid_as_it_cannot_be_handled_once(uow):
    delivered = as_delivered(completed_envelope())
    del delivered["id"]

    with pytest.raises(Invalid) as caught:
        use_cases.record_completed_case(uow, delivered)

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
        "store_id": "store-1",
        "department_code": DEPARTMENT,
        "region_code": "320102",
        "item_id": "item-1",
        "grade": 4,
        "submitted_at": "2026-11-25T08:00:00Z",
    }


@pytest.mark.parametrize("grade", [1, 2])
def test_a_bad_review_opens_a_rectification_and_flags_it(uow, grade):
    record(uow)

    submitted = review(uow, grade=grade)

    with uow:
        rectification = uow.rectifications.get(submitted.rectification.rectification_id)
    assert rectification.status == "open"
    assert rectification.department_code == DEPARTMENT
    assert rectification.due_date == date(2026, 11, 30)
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
    }


def test_a_case_ratings_has_not_heard_of_is_not_completed_yet(uow):
    with pytest.raises(Conflict) as caught:
        review(uow, application_id="app-unknown")

    assert caught.value.message == "the case is not completed yet"


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
    submitted = review(uow, grade=1)
    use_cases.resolve_rectification(
        uow, CLERK, submitted.rectification.rectification_id, "已回访", now=NOW
    )

    envelopes = outbox(uow)
    assert [e["type"] for e in envelopes] == [
        "review_submitted",
        "bad_review_flagged",
        "rectification_resolved",
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
    assert shown["reviewer"] == "用户0000"
    assert "reviewer_id" not in shown
    assert "application_id" not in shown
    assert dumped["summary"] == {"reviews": 1, "praise_rate": 1.0, "average_grade": 5.0}


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


# --- stats ------------------------------------------------------------------


@pytest.fixture
def rated(uow):
    cases = [
        # application, store, department, region, item, grade
        ("a1", "s-nj", "320100-MSA", "320100", "i-food", 5),
        ("a2", "s-nj", "320100-MSA", "320100", "i-food", 1),
        ("a3", "s-nj", "320100-MSA", "320102", "i-shop", 4),
        ("a4", "s-sz", "320500-MSA", "320500", "i-food2", 3),
        ("a5", "s-sz", "320500-MSA", "320500", "i-food2", 5),
    ]
    for application_id, store, department, region, item, grade in cases:
        applicant = f"u-{application_id}"
        record(
            uow,
            application_id=application_id,
            applicant_id=applicant,
            store_id=store,
            department_code=department,
            region_code=region,
            item_id=item,
            item_name=f"name of {item}",
        )
        review(uow, application_id=application_id, grade=grade, applicant=applicant)
    return uow


def rates(rows, key):
    return {row[key]: (row["rating"].reviews, row["rating"].praise_rate) for row in rows}


def test_stats_give_praise_rates_per_store_department_item_and_region(rated):
    result = use_cases.stats(rated)

    overall = result["overall"]
    assert (overall.reviews, overall.praise_rate, overall.average_grade) == (5, 0.6, 3.6)
    assert rates(result["stores"], "store_id") == {"s-nj": (3, 0.6667), "s-sz": (2, 0.5)}
    assert rates(result["departments"], "department_code") == {
        "320100-MSA": (3, 0.6667),
        "320500-MSA": (2, 0.5),
    }
    assert rates(result["regions"], "region_code") == {
        "320100": (2, 0.5),
        "320102": (1, 1.0),
        "320500": (2, 0.5),
    }
    assert rates(result["items"], "item_id") == {
        "i-food": (2, 0.5),
        "i-shop": (1, 1.0),
        "i-food2": (2, 0.5),
    }
    assert {row["item_id"]: row["item_name"] for row in result["items"]}["i-shop"] == (
        "name of i-shop"
    )


def test_stats_narrow_to_a_department_and_a_region(rated):
    by_department = use_cases.stats(rated, department="320100-MSA")
    by_both = use_cases.stats(rated, department="320100-MSA", region="320102")

    assert rates(by_department["stores"], "store_id") == {"s-nj": (3, 0.6667)}
    assert set(rates(by_department["regions"], "region_code")) == {"320100", "320102"}
    assert by_both["overall"].reviews == 1
    assert rates(by_both["items"], "item_id") == {"i-shop": (1, 1.0)}
    assert (by_both["department"], by_both["region"]) == ("320100-MSA", "320102")


def test_stats_of_nothing_are_empty_with_no_rates(uow):
    result = contract.RatingStats().dump(use_cases.stats(uow, region="999999"))

    assert result["overall"] == {"reviews": 0, "praise_rate": None, "average_grade": None}
    assert result["stores"] == result["departments"] == result["items"] == []


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

    assert counts(use_cases.stats(uow)) == {"320100-MSA": (0, (1, 1))}
    assert count(uow, "handled_events") == 2


def test_an_event_without_an_id_is_invalid(uow):
    with pytest.raises(Invalid):
        use_cases.record_escalation(uow, {**escalated(), "id": None})


def test_stats_count_escalations_overall_and_per_department(rated):
    for department, level in [
        ("320100-MSA", "dept_admin"),
        ("320100-MSA", "dept_admin"),
        ("320100-MSA", "operator"),
        ("320600-MSA", "dept_admin"),  # escalated, never reviewed
    ]:
        use_cases.record_escalation(rated, escalated(department, level))

    result = use_cases.stats(rated)
    assert counts(result) == {
        "320100-MSA": (3, (2, 1)),
        "320500-MSA": (2, (0, 0)),
        "320600-MSA": (0, (1, 0)),
    }
    assert (result["escalations"].dept_admin, result["escalations"].operator) == (3, 1)
    unrated = result["departments"][-1]["rating"]
    assert (unrated.reviews, unrated.praise_rate) == (0, None)

    by_department = use_cases.stats(rated, department="320600-MSA")
    assert counts(by_department) == {"320600-MSA": (0, (1, 0))}
    assert by_department["overall"].reviews == 0
    assert (by_department["escalations"].dept_admin, by_department["escalations"].operator) == (
        1,
        0,
    )

    # An escalation names no region: with the region filter, no count is given.
    by_region = use_cases.stats(rated, region="320100")
    assert counts(by_region) == {"320100-MSA": (2, None)}
    assert by_region["escalations"] is None
    dumped = contract.RatingStats().dump(by_region)
    assert dumped["escalations"] is None
    assert dumped["departments"][0]["escalations"] is None


# --- rectifications ---------------------------------------------------------


@pytest.fixture
def flagged(uow):
    """Two bad reviews in DEPARTMENT (one older), one in another department."""
    for application_id, department, minutes in [
        ("app-old", DEPARTMENT, 0),
        ("app-new", DEPARTMENT, 60 * 24 * 2),
        ("app-sz", "320500-MSA", 0),
    ]:
        applicant = f"u-{application_id}"
        record(
            uow,
            application_id=application_id,
            applicant_id=applicant,
            department_code=department,
        )
        review(
            uow,
            application_id=application_id,
            grade=1,
            applicant=applicant,
            now=NOW + timedelta(minutes=minutes),
        )
    return uow


def ids(page):
    return [entry["rectification"].application_id for entry in page["items"]]


def test_staff_see_their_departments_rectifications(flagged):
    page = use_cases.list_rectifications(flagged, CLERK, page=1, page_size=20, now=NOW)

    assert ids(page) == ["app-old", "app-new"]
    assert page["total"] == 2
    assert page["items"][0]["review"].grade == 1


def test_an_operator_sees_every_rectification(flagged):
    page = use_cases.list_rectifications(flagged, OPERATOR, page=1, page_size=2, now=NOW)

    assert page["total"] == 3
    assert len(page["items"]) == 2


@pytest.mark.parametrize(
    "actor",
    [APPLICANT, {**CLERK, "department_code": None}, {**OPERATOR, "user_id": None}, {}, None],
    ids=["citizen", "staff-without-department", "no-user-id", "empty", "none"],
)
def test_no_one_else_sees_rectifications(flagged, actor):
    with pytest.raises(Forbidden):
        use_cases.list_rectifications(flagged, actor, page=1, page_size=20)


def test_overdue_rectifications_are_marked_and_resolved_ones_come_last(flagged):
    [old, new] = use_cases.list_rectifications(flagged, CLERK, 1, 20, now=NOW)["items"]
    use_cases.resolve_rectification(
        flagged, CLERK, old["rectification"].rectification_id, "已回访", now=NOW
    )

    later = NOW + timedelta(days=8)  # app-new was due 2026-12-02
    page = use_cases.list_rectifications(flagged, CLERK, 1, 20, now=later)

    assert ids(page) == ["app-new", "app-old"]
    assert [entry["overdue"] for entry in page["items"]] == [True, False]
    dumped = contract.RectificationPage().dump(page)
    assert dumped["items"][1]["status"] == "resolved"
    assert dumped["items"][0]["overdue"] is True
    assert dumped["items"][0]["review"]["grade"] == 1


def rectification_id_of(uow, application_id):
    page = use_cases.list_rectifications(uow, OPERATOR, 1, 100)
    [match] = [
        e["rectification"].rectification_id
        for e in page["items"]
        if e["rectification"].application_id == application_id
    ]
    return match


def test_staff_resolve_a_rectification(flagged):
    rectification_id = rectification_id_of(flagged, "app-old")

    resolved = use_cases.resolve_rectification(
        flagged, CLERK, rectification_id, "  已电话回访并致歉  ", now=NOW + timedelta(days=1)
    )

    assert resolved.status == "resolved"
    assert resolved.resolution_comment == "已电话回访并致歉"
    with flagged:
        stored = flagged.rectifications.get(rectification_id)
    assert stored.status == "resolved"
    assert stored.resolved_by == "u-clerk"
    assert stored.resolved_at == NOW + timedelta(days=1)
    last = outbox(flagged)[-1]
    assert last["type"] == "rectification_resolved"
    assert last["payload"]["resolved_at"] == "2026-11-26T08:00:00Z"


def test_a_resolved_rectification_cannot_be_resolved_again(flagged):
    rectification_id = rectification_id_of(flagged, "app-old")
    use_cases.resolve_rectification(flagged, CLERK, rectification_id, "已回访")

    with pytest.raises(Conflict) as caught:
        use_cases.resolve_rectification(flagged, OPERATOR, rectification_id, "再次")

    assert caught.value.code == "invalid_transition"


def test_staff_of_another_department_may_not_resolve(flagged):
    rectification_id = rectification_id_of(flagged, "app-sz")

    with pytest.raises(Forbidden):
        use_cases.resolve_rectification(flagged, CLERK, rectification_id, "已回访")

    with flagged:
        assert flagged.rectifications.get(rectification_id).is_open


def test_a_citizen_may_not_resolve(flagged):
    rectification_id = rectification_id_of(flagged, "app-old")

    with pytest.raises(Forbidden):
        use_cases.resolve_rectification(
            flagged, {**APPLICANT, "user_id": "u-app-old"}, rectification_id, "好了"
        )


def test_an_unknown_rectification_is_not_found(uow):
    with pytest.raises(NotFound) as caught:
        use_cases.resolve_rectification(uow, CLERK, "nope", "已回访")

    assert caught.value.fields == {"rectification_id": "not found"}


def test_a_resolution_needs_a_comment(flagged):
    rectification_id = rectification_id_of(flagged, "app-old")

    with pytest.raises(Invalid) as caught:
        use_cases.resolve_rectification(flagged, CLERK, rectification_id, "   ")

    assert set(caught.value.fields) == {"comment"}
