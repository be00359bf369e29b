"""RPC inputs: every bad value is Invalid naming the field, never a crash."""

from datetime import UTC, datetime

import pytest

from services.common.errors import Invalid
from services.ratings import schemas
from services.ratings.schemas import load

from .conftest import APPLICANT, CLERK, completed_envelope

GRADE_MESSAGE = "must be an integer from 1 to 5"


def review_args(**overrides):
    args = {"actor": APPLICANT, "application_id": "app-1", "grade": 5, "comment": None}
    args.update(overrides)
    return args


def invalid_fields(schema, data):
    with pytest.raises(Invalid) as caught:
        load(schema, data)
    return caught.value.fields


def test_a_good_review_loads():
    args = load(schemas.SubmitReviewSchema(), review_args(comment="  很好  "))

    assert args["grade"] == 5
    assert args["comment"] == "很好"
    assert args["actor"]["user_id"] == "u-applicant"


@pytest.mark.parametrize("grade", ["5", 0, 6, True, False, 4.5, 4.0, None, [], {}])
def test_a_bad_grade_is_named(grade):
    assert set(invalid_fields(schemas.SubmitReviewSchema(), review_args(grade=grade))) == {"grade"}


@pytest.mark.parametrize("grade", ["5", 0, 6, True, 4.5])
def test_the_grade_message_is_the_domains(grade):
    assert invalid_fields(schemas.SubmitReviewSchema(), review_args(grade=grade)) == {
        "grade": GRADE_MESSAGE
    }


def test_a_comment_over_500_characters_is_refused():
    fields = invalid_fields(schemas.SubmitReviewSchema(), review_args(comment="好" * 501))

    assert set(fields) == {"comment"}


def test_the_comment_limit_counts_after_stripping():
    args = load(schemas.SubmitReviewSchema(), review_args(comment="  " + "好" * 500 + "\n"))

    assert len(args["comment"]) == 500


@pytest.mark.parametrize("comment", [5, ["x"], {"text": "x"}])
def test_a_comment_must_be_text(comment):
    assert set(invalid_fields(schemas.SubmitReviewSchema(), review_args(comment=comment))) == {
        "comment"
    }


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"application_id": None}, "application_id"),
        ({"application_id": ""}, "application_id"),
        ({"application_id": 42}, "application_id"),
        ({"actor": None}, "actor"),
        ({"actor": "u-applicant"}, "actor"),
        ({"actor": {"kind": "citizen"}}, "actor.user_id"),
        ({"actor": {"user_id": "u-1"}}, "actor.kind"),
        ({"actor": {"user_id": "u-1", "kind": "emperor"}}, "actor.kind"),
    ],
)
def test_missing_or_bad_fields_are_named(overrides, field):
    assert field in invalid_fields(schemas.SubmitReviewSchema(), review_args(**overrides))


def test_every_missing_field_is_named_at_once():
    fields = invalid_fields(schemas.SubmitReviewSchema(), {})

    assert set(fields) == {"actor", "application_id", "grade"}


def test_input_that_is_not_an_object_is_invalid():
    assert invalid_fields(schemas.SubmitReviewSchema(), "grade=5") == {
        "_schema": "Invalid input type."
    }


@pytest.mark.parametrize(
    ("page", "page_size"),
    [(0, 20), (-1, 20), ("abc", 20), (True, 20), (1.5, 20), ("1.5", 20), ([1], 20)]
    + [({}, 20), (10_001, 20), (1, 0), (1, 101), (1, "many"), (1, False), (1, 2.0)]
    + [("", 20), (" ", 20), ("-1", 20), ("1e3", 20), ("١", 20)],
)
def test_a_bad_page_is_invalid_naming_the_field(page, page_size):
    fields = invalid_fields(
        schemas.StoreReviewsQuerySchema(),
        {"store_id": "store-1", "page": page, "page_size": page_size},
    )

    expected = {"page"} if page_size == 20 else {"page_size"}
    assert set(fields) == expected


@pytest.mark.parametrize(
    ("page", "page_size", "expected"),
    [(1, 20, (1, 20)), ("2", " 50 ", (2, 50)), (None, None, (1, 20)), (10_000, 100, (10_000, 100))],
)
def test_good_pages_load(page, page_size, expected):
    args = load(
        schemas.StoreReviewsQuerySchema(),
        {"store_id": "s", "page": page, "page_size": page_size},
    )

    assert (args["page"], args["page_size"]) == expected


def test_pages_default_when_left_out():
    args = load(schemas.ListRectificationsSchema(), {"actor": CLERK})

    assert (args["page"], args["page_size"]) == (1, 20)


@pytest.mark.parametrize("store_id", [None, "", 7, "x" * 65])
def test_a_bad_store_id_is_named(store_id):
    fields = invalid_fields(
        schemas.StoreReviewsQuerySchema(), {"store_id": store_id, "page": 1, "page_size": 20}
    )

    assert set(fields) == {"store_id"}


def test_stats_filters_are_optional_and_blank_means_none():
    assert load(schemas.StatsQuerySchema(), {"department": "", "region": None}) == {
        "department": None,
        "region": None,
    }
    assert set(invalid_fields(schemas.StatsQuerySchema(), {"department": 3, "region": []})) == {
        "department",
        "region",
    }


@pytest.mark.parametrize("comment", [None, "", "   ", "好" * 501, 3])
def test_a_resolution_needs_a_comment_of_1_to_500_characters(comment):
    fields = invalid_fields(
        schemas.ResolveRectificationSchema(),
        {"actor": CLERK, "rectification_id": "r-1", "comment": comment},
    )

    assert set(fields) == {"comment"}


# --- events -----------------------------------------------------------------


def test_the_application_completed_envelope_loads_with_an_aware_instant():
    envelope = completed_envelope(completed_at="2026-11-24T17:30:00+08:00", licence_no="L-1")

    loaded = load(schemas.ApplicationCompletedEnvelopeSchema(), envelope)

    assert loaded["id"] == envelope["id"]
    assert loaded["payload"]["completed_at"] == datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    assert "licence_no" not in loaded["payload"]


def test_a_bad_application_completed_payload_names_every_field():
    envelope = completed_envelope(store_id=None, completed_at="yesterday")
    del envelope["payload"]["item_name"]

    fields = invalid_fields(schemas.ApplicationCompletedEnvelopeSchema(), envelope)

    assert set(fields) == {"payload.store_id", "payload.completed_at", "payload.item_name"}


def test_an_envelope_without_an_id_is_invalid():
    envelope = completed_envelope()
    del envelope["id"]

    assert set(invalid_fields(schemas.ApplicationCompletedEnvelopeSchema(), envelope)) == {"id"}


def test_instants_are_dumped_in_utc_with_z():
    schema = schemas.RectificationResolvedSchema()
    payload = {
        "rectification_id": "x",
        "review_id": "r",
        "application_id": "a",
        "department_code": "d",
        "resolved_by": "u",
        "resolved_at": "2026-11-27T10:00:00+08:00",
    }

    assert schema.dump(schema.load(payload))["resolved_at"] == "2026-11-27T02:00:00Z"


def test_flatten_messages_names_nested_and_listed_fields():
    messages = {"actor": {"roles": {0: ["Not a valid string."]}}, "_schema": ["bad"]}

    assert schemas.field_errors(messages) == {
        "actor.roles.0": "Not a valid string.",
        "_schema": "bad",
    }
