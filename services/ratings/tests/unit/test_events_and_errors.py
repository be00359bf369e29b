import dataclasses
from datetime import UTC, date, datetime

import pytest

from services.common import errors
from services.common.errors import shared_form
from services.ratings.domain import events
from services.ratings.domain.exceptions import (
    AlreadyReviewed,
    CaseNotCompleted,
    InvalidTransition,
    NotPermitted,
    UnknownRectification,
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
                "visit_id",
                "store_id",
                "department_code",
                "region_code",
                "item_id",
                "item_name",
                "grade",
                "channel",
                "real_name",
                "indicators",
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
                "verify_due",
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
                "round",
            ],
        ),
        (
            events.RectificationVerified,
            "rectification_verified",
            [
                "rectification_id",
                "review_id",
                "department_code",
                "decision",
                "due_date",
                "verified_at",
            ],
        ),
        (
            events.ReturnVisitRecorded,
            "return_visit_recorded",
            [
                "rectification_id",
                "review_id",
                "department_code",
                "reached",
                "satisfied",
                "reopened",
                "recorded_at",
            ],
        ),
        (
            events.RectificationEscalated,
            "rectification_escalated",
            [
                "rectification_id",
                "review_id",
                "department_code",
                "level",
                "due_date",
                "escalated_at",
            ],
        ),
        (
            events.RectificationClosed,
            "rectification_closed",
            ["rectification_id", "review_id", "department_code", "outcome", "closed_at"],
        ),
    ],
)
def test_events_carry_their_name_and_the_contract_fields(event_class, name, fields):
    assert event_class.type == name
    assert [f.name for f in dataclasses.fields(event_class)] == fields


def test_type_is_a_class_attribute_not_a_field():
    event = events.BadReviewFlagged("r-1", "x-1", "app-1", "320100-MSA", 1, date(2026, 11, 26))

    assert event.type == "bad_review_flagged"
    assert "type" not in dataclasses.asdict(event)


def test_events_are_immutable():
    event = events.BadReviewFlagged("r-1", "x-1", "app-1", "320100-MSA", 1, date(2026, 11, 26))

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
    ("error_class", "shared", "code"),
    [
        (NotPermitted, errors.Forbidden, "forbidden"),
        (InvalidTransition, errors.Conflict, "invalid_transition"),
        (AlreadyReviewed, errors.Conflict, "already_reviewed"),
    ],
)
def test_errors_carry_a_message_and_leave_as_the_shared_type(error_class, shared, code):
    error = error_class("because")

    assert isinstance(error, shared)
    assert error.message == "because"
    assert error.fields == {}
    assert error.code == code
    assert str(error) == "because"
    sent = shared_form(error)
    assert type(sent) is shared
    assert (sent.message, sent.fields, sent.code) == ("because", {}, code)


def test_validation_failed_leaves_as_invalid_with_its_fields():
    sent = shared_form(ValidationFailed({"grade": "bad"}))

    assert type(sent) is errors.Invalid
    assert (sent.fields, sent.code) == ({"grade": "bad"}, "invalid")


def test_errors_of_the_service_layer_say_what_happened():
    not_completed = CaseNotCompleted()
    unknown = UnknownRectification()

    assert isinstance(not_completed, errors.Conflict)
    assert (not_completed.message, not_completed.code) == (
        "the case has not ended yet",
        "conflict",
    )
    assert isinstance(unknown, errors.NotFound)
    assert unknown.fields == {"rectification_id": "not found"}
    assert AlreadyReviewed().message == "the case has already been reviewed"


def test_state_errors_are_conflicts():
    assert issubclass(AlreadyReviewed, errors.Conflict)
    assert issubclass(InvalidTransition, errors.Conflict)
    assert not issubclass(NotPermitted, errors.Conflict)
