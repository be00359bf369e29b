import dataclasses
from datetime import UTC, datetime

import pytest

from services.ratings.domain import events
from services.ratings.domain.exceptions import (
    AlreadyReviewed,
    Conflict,
    Forbidden,
    InvalidTransition,
    NotFound,
    RatingsError,
    ValidationFailed,
)

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("event_class", "name", "fields"),
    [
        (
            events.ReviewSubmitted,
            "review_submitted",
            [
                "review_id",
                "application_id",
                "store_id",
                "department_code",
                "region_code",
                "item_id",
                "grade",
                "submitted_at",
            ],
        ),
        (
            events.BadReviewFlagged,
            "bad_review_flagged",
            [
                "review_id",
                "rectification_id",
                "application_id",
                "department_code",
                "grade",
            ],
        ),
        (
            events.RectificationResolved,
            "rectification_resolved",
            [
                "rectification_id",
                "review_id",
                "application_id",
                "department_code",
                "resolved_by",
                "resolved_at",
            ],
        ),
    ],
)
def test_events_carry_their_name_and_the_contract_fields(event_class, name, fields):
    assert event_class.type == name
    assert [f.name for f in dataclasses.fields(event_class)] == fields


def test_type_is_a_class_attribute_not_a_field():
    event = events.BadReviewFlagged("r-1", "x-1", "app-1", "320100-MSA", 1)

    assert event.type == "bad_review_flagged"
    assert "type" not in dataclasses.asdict(event)


def test_events_are_immutable():
    event = events.BadReviewFlagged("r-1", "x-1", "app-1", "320100-MSA", 1)

    with pytest.raises(dataclasses.FrozenInstanceError):
        event.grade = 5


def test_validation_failed_carries_every_field():
    error = ValidationFailed({"grade": "must be an integer from 1 to 5", "comment": "too long"})

    assert error.fields == {
        "grade": "must be an integer from 1 to 5",
        "comment": "too long",
    }
    assert error.code == "invalid"
    assert (
        str(error) == "validation failed (comment: too long; grade: must be an integer from 1 to 5)"
    )


@pytest.mark.parametrize(
    "error_class", [Forbidden, NotFound, Conflict, InvalidTransition, AlreadyReviewed]
)
def test_errors_carry_a_message(error_class):
    error = error_class("because")

    assert isinstance(error, RatingsError)
    assert error.message == "because"
    assert error.fields == {}
    assert str(error) == "because"


def test_state_errors_are_conflicts():
    assert issubclass(AlreadyReviewed, Conflict)
    assert issubclass(InvalidTransition, Conflict)
    assert not issubclass(Forbidden, Conflict)
