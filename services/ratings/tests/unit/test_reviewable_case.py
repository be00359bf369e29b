import dataclasses
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.common.errors import Conflict, Forbidden
from services.common.working_calendar import WorkingCalendar
from services.ratings.domain.events import BadReviewFlagged, ReviewSubmitted
from services.ratings.domain.exceptions import AlreadyReviewed, ValidationFailed
from services.ratings.domain.model import Rectification, Review, ReviewableCase

from .conftest import APPLICANT, NOW, ended_payload

GRADE_MESSAGE = "must be an integer from 1 to 5"


# --- built from workflow's application_ended --------------------------------


def test_case_is_built_from_the_ended_event():
    case = ReviewableCase.from_application_ended(ended_payload())

    assert case.application_id == "app-1"
    assert case.applicant_id == "u-applicant"
    assert case.item_id == "item-1"
    assert case.item_name == "Food business licence"
    assert case.department_code == "320100-MSA"
    assert case.region_code == "320102"
    assert case.store_id == "store-1"
    assert case.ended_at == datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    assert (case.outcome, case.handled_by, case.principal_id) == ("completed", "320100-MSA", None)
    assert case.reviewed is False
    assert case.events == []


def test_ended_at_with_an_offset_is_kept_in_utc():
    case = ReviewableCase.from_application_ended(
        ended_payload(ended_at="2026-11-24T17:30:00+08:00")
    )

    assert case.ended_at == datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    assert case.ended_at.utcoffset() == timedelta(0)


def test_ended_at_may_already_be_a_datetime():
    instant = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)

    case = ReviewableCase.from_application_ended(ended_payload(ended_at=instant))

    assert case.ended_at == instant


def test_unknown_event_fields_are_ignored():
    case = ReviewableCase.from_application_ended(ended_payload(licence_no="L-1"))

    assert case.application_id == "app-1"


def test_every_missing_or_bad_event_field_is_named_at_once():
    payload = ended_payload(store_id="", region_code=None, ended_at="yesterday")
    del payload["item_name"]

    with pytest.raises(ValidationFailed) as caught:
        ReviewableCase.from_application_ended(payload)

    assert set(caught.value.fields) == {
        "store_id",
        "region_code",
        "item_name",
        "ended_at",
    }


@pytest.mark.parametrize(
    ("field", "longest"),
    [
        ("application_id", 64),
        ("applicant_id", 64),
        ("item_id", 64),
        ("store_id", 64),
        ("item_name", 200),
        ("department_code", 32),
        ("region_code", 12),
    ],
)
def test_event_fields_longer_than_ratings_keeps_are_refused(field, longest):
    assert ReviewableCase.from_application_ended(ended_payload(**{field: "x" * longest}))

    with pytest.raises(ValidationFailed) as caught:
        ReviewableCase.from_application_ended(ended_payload(**{field: "x" * (longest + 1)}))

    assert caught.value.fields == {field: f"must be at most {longest} characters"}


@pytest.mark.parametrize("ended_at", ["2026-11-24T09:30:00", datetime(2026, 11, 24), 17])
def test_ended_at_must_carry_a_timezone(ended_at):
    with pytest.raises(ValidationFailed) as caught:
        ReviewableCase.from_application_ended(ended_payload(ended_at=ended_at))

    assert set(caught.value.fields) == {"ended_at"}


def test_cases_are_the_same_entity_when_the_application_is():
    first = ReviewableCase.from_application_ended(ended_payload())
    again = ReviewableCase.from_application_ended(ended_payload(store_id="store-2"))
    other = ReviewableCase.from_application_ended(ended_payload(application_id="app-2"))

    assert first == again
    assert hash(first) == hash(again)
    assert first != other


# --- the review -------------------------------------------------------------


def test_the_applicant_reviews_the_case(case):
    review = case.review(APPLICANT, 5, "  Fast and friendly.  ", NOW)

    assert isinstance(review, Review)
    assert re.fullmatch(r"[0-9a-f]{32}", review.review_id)
    assert review.application_id == "app-1"
    assert review.reviewer_id == "u-applicant"
    assert review.grade == 5
    assert review.comment == "Fast and friendly."
    assert review.item_id == "item-1"
    assert review.item_name == "Food business licence"
    assert review.store_id == "store-1"
    assert review.department_code == "320100-MSA"
    assert review.region_code == "320102"
    assert review.submitted_at == NOW
    assert case.reviewed is True


def test_review_ids_are_unique(case):
    other = ReviewableCase.from_application_ended(ended_payload(application_id="app-2"))

    assert (
        case.review(APPLICANT, 4, "", NOW).review_id
        != other.review(APPLICANT, 4, "", NOW).review_id
    )


def test_the_comment_is_optional(case):
    assert case.review(APPLICANT, 3, None, NOW).comment == ""


def test_submitted_at_is_kept_in_utc(case):
    beijing = timezone(timedelta(hours=8))

    review = case.review(APPLICANT, 4, "", datetime(2026, 11, 25, 16, 0, tzinfo=beijing))

    assert review.submitted_at == NOW
    assert review.submitted_at.utcoffset() == timedelta(0)


def test_a_naive_now_is_a_programming_error(case):
    with pytest.raises(ValueError):
        case.review(APPLICANT, 4, "", datetime(2026, 11, 25, 8, 0))
    assert case.reviewed is False


def test_review_records_review_submitted(case):
    review = case.review(APPLICANT, 4, "ok", NOW)

    assert review.events == [
        ReviewSubmitted(
            review_id=review.review_id,
            application_id="app-1",
            visit_id=None,
            store_id="store-1",
            department_code="320100-MSA",
            region_code="320102",
            item_id="item-1",
            item_name="Food business licence",
            grade=4,
            channel="web",
            real_name=True,
            indicators={},
            submitted_at=NOW,
        )
    ]
    assert case.events == []


@pytest.mark.parametrize(
    "actor",
    [
        {**APPLICANT, "user_id": "u-someone-else"},
        {
            "user_id": "u-clerk",
            "kind": "staff",
            "roles": ["dept_admin"],
            "department_code": "320100-MSA",
        },
        {"user_id": "u-op", "kind": "operator", "roles": [], "department_code": None},
        {"kind": "citizen", "roles": []},
        {**APPLICANT, "user_id": None},
        {},
        None,
    ],
    ids=[
        "other-citizen",
        "department-staff",
        "operator",
        "no-user-id",
        "null-user-id",
        "empty",
        "none",
    ],
)
def test_only_the_applicant_may_review(case, actor):
    with pytest.raises(Forbidden):
        case.review(actor, 5, "", NOW)
    assert case.reviewed is False
    assert case.events == []


def test_a_case_is_reviewed_once(case):
    case.review(APPLICANT, 5, "", NOW)

    with pytest.raises(AlreadyReviewed) as caught:
        case.review(APPLICANT, 1, "changed my mind", NOW)

    assert isinstance(caught.value, Conflict)


def test_a_reviewed_case_loaded_from_storage_refuses_another_review():
    case = ReviewableCase.from_application_ended(ended_payload())
    case.reviewed = True

    with pytest.raises(Conflict):
        case.review(APPLICANT, 5, "", NOW)


def test_forbidden_comes_before_already_reviewed(case):
    case.review(APPLICANT, 5, "", NOW)

    with pytest.raises(Forbidden):
        case.review({**APPLICANT, "user_id": "u-other"}, 5, "", NOW)


def test_already_reviewed_comes_before_validation(case):
    case.review(APPLICANT, 5, "", NOW)

    with pytest.raises(AlreadyReviewed):
        case.review(APPLICANT, 9, "", NOW)


@pytest.mark.parametrize("grade", [0, 6, -1, 100, True, False, 4.0, 4.5, "4", None, [4]])
def test_grade_must_be_an_integer_from_1_to_5(case, grade):
    with pytest.raises(ValidationFailed) as caught:
        case.review(APPLICANT, grade, "", NOW)

    assert caught.value.fields == {"grade": GRADE_MESSAGE}
    assert case.reviewed is False
    assert case.events == []


@pytest.mark.parametrize("grade", [1, 2, 3, 4, 5])
def test_every_grade_from_1_to_5_is_accepted(grade):
    case = ReviewableCase.from_application_ended(ended_payload())

    assert case.review(APPLICANT, grade, "", NOW).grade == grade


def test_a_comment_of_500_characters_is_accepted(case):
    comment = "好" * 500

    assert case.review(APPLICANT, 4, comment, NOW).comment == comment


def test_the_comment_limit_counts_after_stripping(case):
    comment = "  " + "a" * 500 + "\n"

    assert case.review(APPLICANT, 4, comment, NOW).comment == "a" * 500


def test_a_comment_over_500_characters_is_refused(case):
    with pytest.raises(ValidationFailed) as caught:
        case.review(APPLICANT, 4, "a" * 501, NOW)

    assert caught.value.fields == {"comment": "must be at most 500 characters"}


@pytest.mark.parametrize("comment", [42, ["nice"], {"text": "nice"}])
def test_the_comment_must_be_text(case, comment):
    with pytest.raises(ValidationFailed) as caught:
        case.review(APPLICANT, 4, comment, NOW)

    assert caught.value.fields == {"comment": "must be a string"}


def test_every_bad_field_is_named_at_once(case):
    with pytest.raises(ValidationFailed) as caught:
        case.review(APPLICANT, True, "x" * 501, NOW)

    assert caught.value.fields == {
        "grade": GRADE_MESSAGE,
        "comment": "must be at most 500 characters",
    }


# --- praise and bad reviews -------------------------------------------------


@pytest.mark.parametrize(
    ("grade", "praise", "bad"),
    [
        (1, False, True),
        (2, False, True),
        (3, False, False),
        (4, True, False),
        (5, True, False),
    ],
)
def test_grades_4_and_5_are_praise_and_1_and_2_are_bad(grade, praise, bad):
    case = ReviewableCase.from_application_ended(ended_payload())

    review = case.review(APPLICANT, grade, "", NOW)

    assert review.is_praise is praise
    assert review.is_bad is bad


@pytest.mark.parametrize("grade", [1, 2])
def test_a_bad_review_opens_a_rectification(case, grade):
    review = case.review(APPLICANT, grade, "Lost my documents.", NOW)

    rectification = review.open_rectification(NOW, WorkingCalendar())
    assert isinstance(rectification, Rectification)
    assert rectification.review_id == review.review_id
    assert rectification.application_id == "app-1"
    assert rectification.department_code == "320100-MSA"
    assert rectification.is_open
    assert rectification.opened_at == NOW
    assert rectification.resolved_at is None
    assert re.fullmatch(r"[0-9a-f]{32}", rectification.rectification_id)
    assert rectification.rectification_id != review.review_id


@pytest.mark.parametrize("grade", [1, 2])
def test_a_bad_review_records_bad_review_flagged_after_review_submitted(case, grade):
    review = case.review(APPLICANT, grade, "", NOW)
    rectification = review.open_rectification(NOW, WorkingCalendar())

    assert [type(event) for event in review.events] == [ReviewSubmitted, BadReviewFlagged]
    assert review.events[1] == BadReviewFlagged(
        review_id=review.review_id,
        rectification_id=rectification.rectification_id,
        application_id="app-1",
        department_code="320100-MSA",
        grade=grade,
        verify_due=rectification.verify_due,
    )


@pytest.mark.parametrize("grade", [3, 4, 5])
def test_other_grades_open_no_rectification(case, grade):
    review = case.review(APPLICANT, grade, "", NOW)

    assert not review.is_bad
    assert [type(event) for event in review.events] == [ReviewSubmitted]


def test_reviews_are_the_same_entity_when_the_id_is(case):
    review = case.review(APPLICANT, 4, "", NOW)
    other = ReviewableCase.from_application_ended(ended_payload(application_id="app-2"))

    assert dataclasses.replace(review, comment="edited") == review
    assert review != other.review(APPLICANT, 4, "", NOW)
    assert len({review, dataclasses.replace(review, grade=1)}) == 1
