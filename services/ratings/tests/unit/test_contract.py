"""The ratings contract holds on both sides: every RPC method, driven with the
arguments the gateway sends, answers exactly what its response schema documents;
every event the domain records is exactly its documented payload; and every bad
input is Invalid naming the field, never a crash."""

from datetime import UTC, date, datetime, timedelta

import pytest
from nameko.testing.services import worker_factory

from services.common import clock
from services.common.entrypoints import ContractRpc, contract_entrypoints
from services.common.errors import Invalid
from services.common.schemas import field_errors, load
from services.common.testing import assert_documented, citizen, envelope, outbox, staff
from services.ratings import contract
from services.ratings.adapters.evaluation_dependency import EvaluationSettings
from services.ratings.service import RatingsService
from services.ratings.service_layer import rectifications
from services.workflow import contract as workflow

from .conftest import APPLICANT, CLERK, DEPARTMENT, OPERATOR, catalog_item, ended_payload

GRADE_MESSAGE = "must be an integer from 1 to 5"


# --- answers and events -----------------------------------------------------


class Catalog:
    """The RPC client pool, answering catalog's ``get_item`` for window visits."""

    def call(self, service, method, correlation_id=None, **kwargs):
        assert (service, method) == ("catalog", "get_item")
        return catalog_item(item_id=kwargs["item_id"])


@pytest.fixture
def service(uow, monkeypatch):
    # The process clock within the review window of the cases completed here.
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 11, 25, 8, 0, tzinfo=UTC))
    return worker_factory(
        RatingsService,
        uow=uow,
        clients=Catalog(),
        evaluation=EvaluationSettings.from_config({}),
        announced={"last": None},
    )


def evaluated(service) -> set[str]:
    """Drive the evaluation methods not driven by ``calls`` (a visit, a reply,
    an appeal decided), as the gateway sends them; the methods called."""
    clerk = staff("u-clerk", DEPARTMENT, "window_clerk")
    admin = staff("u-admin", DEPARTMENT, "dept_admin")
    visit = service.record_visit(actor=clerk, item_id="item-1", phone="13800000001")
    rated = service.review_visit(token=visit["token"], grade=2, channel="sms")
    service.reply_to_review(actor=clerk, review_id=rated["review_id"], reply="已改进")
    service.list_reviews(actor=admin, appealed="false")
    appeal = service.file_appeal(actor=admin, review_id=rated["review_id"], reason="恶意差评")
    service.list_appeals(actor=OPERATOR, state="pending")
    service.decide_appeal(
        actor=OPERATOR, appeal_id=appeal["appeal_id"], uphold=True, comment="属实"
    )
    return {
        "record_visit",
        "review_visit",
        "reply_to_review",
        "list_reviews",
        "file_appeal",
        "list_appeals",
        "decide_appeal",
    }


def completed(service, number: int, **overrides) -> tuple[str, dict]:
    """A case ended completed as workflow emits it: its payload dumped with
    workflow's schema, in workflow's envelope; returns the case and its
    applicant."""
    application_id = f"app-{number}"
    applicant = citizen(f"u-applicant-{number:04d}")
    payload = workflow.ApplicationEnded().dump(
        {
            **ended_payload(
                application_id=application_id, applicant_id=applicant["user_id"], **overrides
            ),
            "submitted_at": datetime(2026, 11, 20, 1, 0, tzinfo=UTC),
            "ended_at": datetime(2026, 11, 24, 9, 30, tzinfo=UTC),
            "due_date": date(2026, 11, 27),
        }
    )
    assert_documented(workflow.ApplicationEnded, payload)
    service.on_application_ended(envelope("workflow", "application_ended", payload))
    return application_id, applicant


def escalated(service, department: str, level: str) -> None:
    """Late work escalated, as workflow emits it: the payload dumped with
    workflow's schema, in workflow's envelope."""
    payload = workflow.CaseEscalated().dump(
        {
            "application_id": "app-late",
            "step_id": "approve",
            "department_code": department,
            "level": level,
            "due_date": date(2026, 10, 12),
        }
    )
    assert_documented(workflow.CaseEscalated, payload)
    service.on_case_escalated(envelope("workflow", "case_escalated", payload))


def calls(service) -> list[tuple[str, dict]]:
    """Each RPC method with arguments as the gateway sends them, in an order in
    which each succeeds: on nothing first, then on reviews good and bad."""
    empty = [
        ("list_store_reviews", {"store_id": "store-1"}),
        ("stats", {}),
        ("stats", {"department": DEPARTMENT, "region": "320102"}),
        ("list_rectifications", {"actor": OPERATOR}),
    ]
    praised, praiser = completed(service, 1)
    flagged, flagger = completed(service, 2, region_code="320106")
    reviews = [
        ("submit_review", {"actor": praiser, "application_id": praised, "grade": 5}),
        (
            "submit_review",
            {"actor": flagger, "application_id": flagged, "grade": 1, "comment": "态度差"},
        ),
    ]
    return empty + reviews


def rectification_of(service) -> str:
    [entry] = service.list_rectifications(actor=CLERK)["items"]
    return entry["rectification_id"]


def counted(service, uow) -> None:
    """Hand the ratings events recorded so far to the indicators' handlers, as
    the broker does (each once: a repeat is skipped)."""
    handlers = {
        "review_submitted": service.count_review_submitted,
        "visit_recorded": service.count_visit_recorded,
        "rectification_resolved": service.count_rectification_resolved,
        "return_visit_recorded": service.count_return_visit,
        "appeal_decided": service.count_appeal_decided,
    }
    for recorded in outbox(uow):
        if recorded["type"] in handlers:
            handlers[recorded["type"]](recorded)


def case_data(service) -> None:
    """A case submitted by express and completed, as workflow emits it, for
    the live case data."""
    case = {
        "application_id": "app-live",
        "applicant_id": "u-applicant-live",
        "item_id": "item-1",
        "item_name": "食品经营许可",
        "department_code": DEPARTMENT,
        "region_code": "320102",
        "store_id": "store-1",
        "submitted_at": datetime(2026, 11, 20, 1, 0, tzinfo=UTC),
        "due_date": date(2026, 12, 4),
    }
    submitted = workflow.ApplicationSubmitted().dump(
        {**case, "delivery": {"mode": "express", "address": None}, "window": None}
    )
    service.count_case_submitted(envelope("workflow", "application_submitted", submitted))
    ended = workflow.ApplicationEnded().dump(
        {
            **case,
            "principal_id": None,
            "handled_by": DEPARTMENT,
            "mode": "express",
            "outcome": "completed",
            "ended_at": datetime(2026, 11, 24, 9, 30, tzinfo=UTC),
            "on_time": True,
            "working_days": 3,
        }
    )
    service.on_application_ended(envelope("workflow", "application_ended", ended))


def test_every_answer_is_exactly_its_documented_schema(service, uow):
    entrypoints = dict(contract_entrypoints(RatingsService))
    rpc_methods = {name for name, entry in entrypoints.items() if isinstance(entry, ContractRpc)}
    called = set()

    def check(method, arguments):
        answer = getattr(service, method)(**arguments)
        assert_documented(entrypoints[method].response, answer)
        called.add(method)
        return answer

    for method, arguments in calls(service):
        check(method, arguments)
    counted(service, uow)
    case_data(service)
    # Non-empty now: a store with reviews, stats with every grouping, an open
    # rectification, then a resolved one (its nullable fields set).
    assert check("list_store_reviews", {"store_id": "store-1", "page": 1, "page_size": 1})["items"]
    assert check("stats", {})["stores"]
    assert check("stats", {"region": "320106"})["overall"]["reviews"] == 1
    # Escalations: of the reviewed department, and of one never reviewed.
    escalated(service, DEPARTMENT, "dept_admin")
    escalated(service, DEPARTMENT, "operator")
    escalated(service, "320100-GA", "dept_admin")
    stats = check("stats", {})
    assert stats["escalations"] == {"dept_admin": 2, "operator": 1}
    assert [(d["department_code"], d["escalations"]) for d in stats["departments"]] == [
        ("320100-GA", {"dept_admin": 1, "operator": 0}),
        (DEPARTMENT, {"dept_admin": 1, "operator": 1}),
    ]
    assert stats["departments"][0]["rating"]["praise_rate"] is None
    assert check("stats", {"department": DEPARTMENT})["escalations"]["operator"] == 1
    by_region = check("stats", {"region": "320102"})
    assert by_region["escalations"] is None
    assert [d["escalations"] for d in by_region["departments"]] == [None]
    period = {"from": "2026-11-01", "to": "2026-11-30"}
    # The two reviewed cases and the live one ended completed, all at store-1;
    # only the live one was submitted here.
    assert check("stats", {"store": "store-1", **period})["overall"]["evaluable"] == 3
    cases = check("case_stats", {})
    assert (cases["submitted"], cases["completed"], cases["on_time_rate"]) == (1, 3, 1.0)
    assert check("case_stats", {"region": "320102", **period})["by_mode"]["express"] == 1
    assert check("live_case_stats", {})["all_time"]["completed"] == 3
    listed = check("list_rectifications", {"actor": CLERK, "page": "1", "page_size": "20"})
    assert listed["items"][0]["resolved_at"] is None
    rectification = {"actor": CLERK, "rectification_id": rectification_of(service)}
    assert check("get_rectification", rectification)["state"] == "awaiting_verification"
    verified = check(
        "verify_rectification", {**rectification, "decision": "deadline", "plan": "整改"}
    )
    assert verified["due_date"] is not None
    resolved = check("resolve_rectification", {**rectification, "comment": "已回访"})
    assert resolved["resolved_at"] is not None
    closed = check("record_return_visit", {**rectification, "reached": True, "satisfied": True})
    assert closed["outcome"] == "satisfied"
    assert check("list_rectifications", {"actor": OPERATOR})["items"][0]["state"] == "closed"

    for method in evaluated(service):
        called.add(method)
    listed_reviews = check("list_reviews", {"actor": OPERATOR, "page": "1", "page_size": "5"})
    # Reviews made at the same instant (the clock stands still here) list in
    # review id order: the one excluded by the upheld appeal is among them.
    assert [item["excluded"] for item in listed_reviews["items"]].count(True) == 1
    assert check("list_appeals", {"actor": OPERATOR})["items"][0]["state"] == "upheld"

    assert called == rpc_methods, "every RPC method is exercised here"
    assert set(entrypoints) - rpc_methods == {
        "on_application_ended",
        "on_case_escalated",
        "on_calendar_loaded",
        "count_review_submitted",
        "count_visit_recorded",
        "count_rectification_resolved",
        "count_return_visit",
        "count_appeal_decided",
        "count_case_submitted",
        "count_case_accepted",
        "count_case_overdue",
        "count_shipment",
    }


def test_empty_answers_are_documented_with_null_rates(service):
    reviews = service.list_store_reviews(store_id="store-none")
    stats = service.stats(region="999999")

    assert (reviews["items"], reviews["page"], reviews["page_size"], reviews["total"]) == (
        [],
        1,
        20,
        0,
    )
    assert (reviews["summary"]["reviews"], reviews["summary"]["praise_rate"]) == (0, None)
    overall = stats["overall"]
    assert (overall["reviews"], overall["evaluable"], overall["sub_grades"]) == (0, 0, {})
    assert {name: overall[name] for name in overall if name.endswith(("_rate", "_grade"))} == {
        "praise_rate": None,
        "average_grade": None,
        "evaluation_rate": None,
        "bad_rate": None,
        "rectification_rate": None,
        "callback_rate": None,
    }
    assert_documented(contract.StoreReviews, reviews)
    assert_documented(contract.RatingStats, stats)


def test_every_recorded_event_is_exactly_its_documented_payload(service, uow):
    for method, arguments in calls(service):
        getattr(service, method)(**arguments)
    rectification = {"actor": CLERK, "rectification_id": rectification_of(service)}
    due = date.fromisoformat(service.get_rectification(**rectification)["verify_due"])
    rectifications.escalate_late_rectifications(uow, due + timedelta(days=30))
    service.verify_rectification(**rectification, decision="explain", plan="依法须本人办理")
    service.resolve_rectification(**rectification, comment="已回访")
    service.record_return_visit(**rectification, reached=True, satisfied=True)
    evaluated(service)
    counted(service, uow)  # the reviews rate the store and mark it due
    service.announce_store_ratings()  # the timer's pass: store_rating_changed
    case_data(service)
    service.announce_live_case_data()  # the timer's pass: case_stats_changed

    seen = set()
    for recorded in outbox(uow):
        assert recorded["source"] == "ratings"
        assert_documented(contract.EVENTS[recorded["type"]], recorded["payload"])
        seen.add(recorded["type"])
    assert seen == set(contract.EVENTS)


def test_the_fields_catalog_and_the_gateway_read_are_kept():
    assert {"store_id", "grade", "review_id", "department_code", "region_code"} <= set(
        contract.ReviewSubmitted._declared_fields
    )


def test_the_consumed_events_are_workflows():
    handlers = {
        name: (entrypoint.source_service, entrypoint.event_type, type(entrypoint.payload))
        for name, entrypoint in contract_entrypoints(RatingsService)
        if name.startswith("on_")
    }
    assert handlers == {
        "on_case_escalated": ("workflow", "case_escalated", workflow.CaseEscalated),
        "on_calendar_loaded": ("workflow", "calendar_loaded", workflow.CalendarLoaded),
        "on_application_ended": ("workflow", "application_ended", workflow.ApplicationEnded),
    }


def test_an_escalation_is_read_as_workflow_sends_it_once(service, uow):
    escalated(service, DEPARTMENT, "operator")
    event = envelope(
        "workflow",
        "case_escalated",
        {
            "application_id": "app-late",
            "step_id": "approve",
            "department_code": DEPARTMENT,
            "level": "dept_admin",
            "due_date": "2026-10-12",
            "a_field_added_later": True,
        },
    )
    service.on_case_escalated(event)
    service.on_case_escalated(event)
    assert service.stats()["escalations"] == {"dept_admin": 1, "operator": 1}
    with pytest.raises(Invalid):
        service.on_case_escalated(
            envelope("workflow", "case_escalated", {**event["payload"], "level": "mayor"})
        )


# --- requests ---------------------------------------------------------------


def review_args(**overrides):
    args = {"actor": APPLICANT, "application_id": "app-1", "grade": 5}
    args.update(overrides)
    return args


def invalid_fields(schema, data):
    with pytest.raises(Invalid) as caught:
        load(schema, data)
    return caught.value.fields


def test_a_good_review_loads():
    args = load(contract.SubmitReview, review_args(comment="  很好  "))

    assert args["grade"] == 5
    assert args["comment"] == "  很好  "  # the domain strips it
    assert args["actor"]["user_id"] == "u-applicant"


def test_the_comment_defaults_to_empty():
    assert load(contract.SubmitReviewBody, {"grade": 4}) == {
        "grade": 4,
        "comment": "",
        "channel": "web",
        "indicators": {},
    }


@pytest.mark.parametrize("grade", ["5", 0, 6, True, False, 4.5, 4.0, None, [], {}])
def test_a_bad_grade_is_named(grade):
    assert set(invalid_fields(contract.SubmitReview, review_args(grade=grade))) == {"grade"}


@pytest.mark.parametrize("grade", ["5", 0, 6, True, 4.5])
def test_the_grade_message_is_the_domains(grade):
    assert invalid_fields(contract.SubmitReview, review_args(grade=grade)) == {
        "grade": GRADE_MESSAGE
    }


def test_a_comment_over_500_characters_is_refused():
    fields = invalid_fields(contract.SubmitReview, review_args(comment="好" * 501))

    assert set(fields) == {"comment"}


def test_the_comment_limit_counts_what_is_sent():
    # As documented (maxLength 500): white space around it counts.
    assert load(contract.SubmitReviewBody, {"grade": 5, "comment": "好" * 500})
    fields = invalid_fields(contract.SubmitReviewBody, {"grade": 5, "comment": " " + "好" * 500})

    assert set(fields) == {"comment"}


@pytest.mark.parametrize("comment", [5, ["x"], {"text": "x"}, None])
def test_a_comment_must_be_text(comment):
    assert set(invalid_fields(contract.SubmitReview, review_args(comment=comment))) == {"comment"}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"application_id": None}, "application_id"),
        ({"application_id": ""}, "application_id"),
        ({"application_id": 42}, "application_id"),
        ({"application_id": "a" * 65}, "application_id"),
        ({"actor": None}, "actor"),
        ({"actor": "u-applicant"}, "actor"),
        ({"actor": {"kind": "citizen"}}, "actor.user_id"),
        ({"actor": {"user_id": "u-1"}}, "actor.kind"),
        ({"actor": {"user_id": "u-1", "kind": "emperor"}}, "actor.kind"),
        ({"stars": 5}, "stars"),
    ],
)
def test_missing_bad_or_unknown_fields_are_named(overrides, field):
    assert field in invalid_fields(contract.SubmitReview, review_args(**overrides))


def test_every_missing_field_is_named_at_once():
    fields = invalid_fields(contract.SubmitReview, {})

    assert set(fields) == {"actor", "application_id", "grade"}


def test_the_body_refuses_what_the_path_and_the_token_give():
    fields = invalid_fields(
        contract.SubmitReviewBody, {"grade": 5, "application_id": "app-1", "actor": APPLICANT}
    )

    assert set(fields) == {"application_id", "actor"}


def test_input_that_is_not_an_object_is_invalid():
    assert invalid_fields(contract.SubmitReview, "grade=5") == {"_schema": "Invalid input type."}


@pytest.mark.parametrize(
    ("page", "page_size"),
    [(0, 20), (-1, 20), ("abc", 20), (True, 20), (1.5, 20), ("1.5", 20), ([1], 20)]
    + [({}, 20), (10_001, 20), (1, 0), (1, 101), (1, "many"), (1, False), (1, 2.0)]
    + [("", 20), (" ", 20), (" 2", 20), ("-1", 20), ("1e3", 20), ("١", 20), (None, 20), (1, None)],
)
def test_a_bad_page_is_invalid_naming_the_field(page, page_size):
    fields = invalid_fields(
        contract.ListStoreReviews, {"store_id": "store-1", "page": page, "page_size": page_size}
    )

    expected = {"page"} if page_size == 20 else {"page_size"}
    assert set(fields) == expected


@pytest.mark.parametrize(
    ("page", "page_size", "expected"),
    [(1, 20, (1, 20)), ("2", "50", (2, 50)), (10_000, 100, (10_000, 100))],
)
def test_good_pages_load(page, page_size, expected):
    args = load(contract.ListStoreReviews, {"store_id": "s", "page": page, "page_size": page_size})

    assert (args["page"], args["page_size"]) == expected


@pytest.mark.parametrize("schema", [contract.ListRectifications, contract.ListStoreReviews])
def test_pages_default_when_left_out(schema):
    args = load(
        schema, {"actor": CLERK} if schema is contract.ListRectifications else {"store_id": "s"}
    )

    assert (args["page"], args["page_size"]) == (1, 20)


@pytest.mark.parametrize("store_id", [None, "", 7, "x" * 65])
def test_a_bad_store_id_is_named(store_id):
    fields = invalid_fields(
        contract.ListStoreReviews, {"store_id": store_id, "page": 1, "page_size": 20}
    )

    assert set(fields) == {"store_id"}


def test_the_queries_take_only_the_query():
    assert set(invalid_fields(contract.ListStoreReviewsQuery, {"store_id": "s"})) == {"store_id"}
    assert set(invalid_fields(contract.ListRectificationsQuery, {"actor": CLERK})) == {"actor"}


def test_stats_filters_are_optional_but_never_empty():
    assert load(contract.StatsQuery, {}) == {}
    assert load(contract.StatsQuery, {"department": DEPARTMENT, "region": "320102"}) == {
        "department": DEPARTMENT,
        "region": "320102",
    }
    assert set(invalid_fields(contract.StatsQuery, {"department": "", "region": ""})) == {
        "department",
        "region",
    }
    assert set(invalid_fields(contract.StatsQuery, {"department": 3, "region": []})) == {
        "department",
        "region",
    }


@pytest.mark.parametrize("comment", ["", "   ", "\n\t", "好" * 501, 3])
def test_a_resolution_given_is_a_comment_of_1_to_500_characters(comment):
    fields = invalid_fields(
        contract.Resolve,
        {"actor": CLERK, "rectification_id": "r-1", "comment": comment},
    )

    assert set(fields) == {"comment"}


def test_a_resolution_loads():
    clerk = staff("u-clerk", DEPARTMENT, "dept_admin")
    args = load(
        contract.Resolve,
        {"actor": clerk, "rectification_id": "r-1", "comment": " 已回访 "},
    )

    assert args["comment"] == " 已回访 "
    assert args["actor"]["roles"] == ["dept_admin"]


@pytest.mark.parametrize("body", [{}, {"comment": None}])
def test_a_resolution_may_leave_the_comment_out(body):
    """After an explain decision the explanation is the answer; the domain
    refuses a missing comment after the others."""
    args = load(contract.Resolve, {"actor": CLERK, "rectification_id": "r-1", **body})

    assert args["comment"] is None


# --- events -----------------------------------------------------------------


def test_instants_are_dumped_in_utc_with_z():
    schema = contract.RectificationResolved()
    payload = {
        "rectification_id": "x",
        "review_id": "r",
        "application_id": "a",
        "department_code": "d",
        "resolved_by": "u",
        "resolved_at": "2026-11-27T10:00:00+08:00",
        "round": 1,
    }

    assert schema.dump(schema.load(payload))["resolved_at"] == "2026-11-27T02:00:00Z"


def test_flatten_messages_names_nested_and_listed_fields():
    messages = {"actor": {"roles": {0: ["Not a valid string."]}}, "_schema": ["bad"]}

    assert field_errors(messages) == {"actor.roles.0": "Not a valid string.", "_schema": "bad"}


# --- the documentation itself -------------------------------------------------


def _examples(node, path=""):
    """(path, example, the schema it illustrates) for every example under ``node``."""
    if isinstance(node, dict):
        if "example" in node:
            yield path, node["example"], {k: v for k, v in node.items() if k != "example"}
        for key, value in node.items():
            yield from _examples(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _examples(value, f"{path}/{index}")


def test_every_example_is_valid_for_its_field():
    import jsonschema_rs
    from marshmallow import Schema

    from services.common.testing import json_schema_of

    schemas = [
        value
        for value in vars(contract).values()
        if isinstance(value, type) and issubclass(value, Schema) and value is not Schema
    ]
    checked = 0
    for schema in schemas:
        for path, example, documented in _examples(json_schema_of(schema)):
            validator = jsonschema_rs.Draft7Validator(documented, validate_formats=True)
            assert validator.is_valid(example), f"{schema.__name__}{path}: {example!r}"
            checked += 1
    assert checked
