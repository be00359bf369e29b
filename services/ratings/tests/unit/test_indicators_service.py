"""The indicators' and case data's entrypoints via worker_factory, on a SQLite
unit of work: RPC arguments as the contract names them, events as they arrive;
the live case data and the stores' ratings announced on a timer whose interval
is checked at start."""

from datetime import UTC, date, datetime

import pytest
from nameko.containers import ServiceContainer
from nameko.testing.services import worker_factory
from nameko.testing.utils import get_extension

from services.common.entrypoints import contract_entrypoints
from services.common.errors import Invalid
from services.common.schemas import load
from services.common.testing import assert_documented, envelope, outbox
from services.courier import contract as courier
from services.ratings import contract
from services.ratings.service import Announced, LiveAnnounceTimer, RatingsService
from services.ratings.service_layer import indicators, use_cases
from services.workflow import contract as workflow

SUBMITTED_AT = "2026-11-25T02:00:00Z"
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


@pytest.fixture
def service(uow):
    return worker_factory(RatingsService, uow=uow, announced={"last": None})


def live_announcements(uow) -> list[dict]:
    return [e["payload"] for e in outbox(uow) if e["type"] == "case_stats_changed"]


def review_submitted(review_id="r-1", grade=5, **extra):
    return envelope(
        "ratings",
        "review_submitted",
        {
            "review_id": review_id,
            "application_id": "app-1",
            "visit_id": None,
            "store_id": "store-1",
            "department_code": "320100-MSA",
            "region_code": "320102",
            "item_id": "item-1",
            "item_name": "食品经营许可",
            "grade": grade,
            "channel": "web",
            "real_name": True,
            "indicators": {"efficiency": grade},
            "submitted_at": SUBMITTED_AT,
            **extra,
        },
    )


def application_submitted(application_id="app-1", mode="window"):
    return envelope(
        "workflow",
        "application_submitted",
        {
            "application_id": application_id,
            "item_id": "item-1",
            "item_name": "食品经营许可",
            "applicant_id": "u-applicant",
            "department_code": "320100-MSA",
            "region_code": "320102",
            "store_id": "store-1",
            "delivery": {"mode": mode, "address": None},
            "window": None,
            "due_date": "2026-12-09",
            "submitted_at": SUBMITTED_AT,
        },
    )


def application_ended(application_id="app-1", outcome="completed"):
    return envelope(
        "workflow",
        "application_ended",
        {
            "application_id": application_id,
            "applicant_id": "u-applicant",
            "principal_id": None,
            "item_id": "item-1",
            "item_name": "食品经营许可",
            "department_code": "320100-MSA",
            "handled_by": "320100-MSA",
            "region_code": "320102",
            "store_id": "store-1",
            "mode": "window",
            "outcome": outcome,
            "submitted_at": "2026-11-20T01:00:00Z",
            "ended_at": SUBMITTED_AT,
            "due_date": "2026-11-30",
            "on_time": True,
            "working_days": 3,
        },
    )


# --- handlers ---------------------------------------------------------------


def test_reviews_rectifications_visits_and_appeals_feed_the_indicators(service):
    service.count_review_submitted(review_submitted("r-1", 5))
    service.count_review_submitted(review_submitted("r-2", 1))
    service.on_application_ended(application_ended("app-1"))
    service.on_application_ended(application_ended("app-2", outcome="denied"))
    service.count_visit_recorded(
        envelope(
            "ratings",
            "visit_recorded",
            {
                "visit_id": "v-1",
                "store_id": "store-1",
                "department_code": "320100-MSA",
                "region_code": "320102",
                "item_id": "item-1",
                "item_name": "食品经营许可",
                "recorded_at": SUBMITTED_AT,
            },
        )
    )
    service.count_rectification_resolved(
        envelope(
            "ratings",
            "rectification_resolved",
            {
                "rectification_id": "rect-1",
                "review_id": "r-2",
                "application_id": "app-2",
                "department_code": "320100-MSA",
                "resolved_by": "u-clerk",
                "resolved_at": SUBMITTED_AT,
                "round": 1,
            },
        )
    )
    service.count_return_visit(
        envelope(
            "ratings",
            "return_visit_recorded",
            {
                "rectification_id": "rect-1",
                "review_id": "r-2",
                "department_code": "320100-MSA",
                "reached": True,
                "satisfied": True,
                "reopened": False,
                "recorded_at": SUBMITTED_AT,
            },
        )
    )

    answer = service.stats()
    overall = answer["overall"]
    assert (overall["reviews"], overall["evaluable"], overall["evaluation_rate"]) == (2, 3, 0.6667)
    assert (overall["rectification_rate"], overall["callback_rate"]) == (1.0, 1.0)
    assert overall["sub_grades"] == {"efficiency": 3.0}
    assert_documented(contract.RatingStats, answer)

    service.count_appeal_decided(
        envelope(
            "ratings",
            "appeal_decided",
            {"appeal_id": "ap-1", "review_id": "r-2", "upheld": True, "decided_at": SUBMITTED_AT},
        )
    )
    overall = service.stats()["overall"]
    assert (overall["reviews"], overall["bad"], overall["praise_rate"]) == (1, 0, 1.0)


def case_counts(service) -> tuple[int, int]:
    """Completed cases in the case data, evaluable services in the indicators."""
    return service.case_stats()["completed"], service.stats()["overall"]["evaluable"]


def test_an_ended_case_becomes_reviewable_and_its_outcome_counts_once(service, uow):
    event = application_ended("app-1")

    service.on_application_ended(event)
    service.on_application_ended(event)

    with uow:
        assert uow.cases.get("app-1").outcome == "completed"
    assert case_counts(service) == (1, 1)


@pytest.mark.parametrize(
    "done_before",
    [use_cases.record_ended_case, indicators.record_case_ended],
    ids=["made_reviewable", "counted_by_the_retired_count_case_ended"],
)
def test_a_delivery_after_one_part_ran_does_what_is_left_once(service, uow, done_before):
    """A delivery of an older version that made the case reviewable in a
    transaction of its own and then failed, or an event the retired
    ``count_case_ended`` counted and whose queue moved to
    ``on_application_ended``: the delivery again does the other part, once."""
    event = application_ended("app-1")
    done_before(uow, event)

    service.on_application_ended(event)
    service.on_application_ended(event)

    with uow:
        assert uow.cases.get("app-1") is not None
    assert case_counts(service) == (1, 1)


def test_a_payload_that_does_not_load_is_invalid_so_it_is_dead_lettered(service):
    with pytest.raises(Invalid) as caught:
        service.count_review_submitted(review_submitted(grade=9, indicators={}))

    assert set(caught.value.fields) == {"payload.grade"}


def test_workflows_and_couriers_events_feed_the_case_data(service, uow):
    service.count_case_accepted(
        envelope(
            "workflow",
            "application_accepted",
            {"application_id": "app-1", "accepted_at": SUBMITTED_AT},
        )
    )
    service.count_case_submitted(application_submitted("app-1", mode="express"))
    service.count_shipment(
        envelope(
            "courier",
            "shipment_created",
            {
                "shipment_id": "sh-1",
                "tracking_no": "EA123456785CN",
                "application_id": "app-1",
                "direction": "materials",
            },
        )
    )
    service.count_case_overdue(
        envelope("workflow", "case_overdue", {"application_id": "app-1", "due_date": "2026-11-24"})
    )
    service.on_application_ended(application_ended("app-1"))

    answer = service.case_stats(region="320102")
    assert {name: answer[name] for name in ("submitted", "accepted", "completed", "overdue")} == {
        "submitted": 1,
        "accepted": 1,
        "completed": 1,
        "overdue": 1,
    }
    assert (answer["ems"], answer["by_mode"]["express"]) == (1, 1)
    assert_documented(contract.CaseStats, answer)
    assert live_announcements(uow) == []  # the timer announces, not the handlers
    service.announce_live_case_data()
    [payload] = live_announcements(uow)
    assert {name: payload["all_time"][name] for name in ("submitted", "accepted", "ems")} == {
        "submitted": 1,
        "accepted": 1,  # it waited for the submission
        "ems": 1,
    }


# --- RPC --------------------------------------------------------------------


def test_stats_take_their_filters_and_period_as_the_contract_names_them(service):
    service.count_review_submitted(review_submitted("r-1", 4))

    answer = service.stats(store="store-1", item="item-1", **{"from": "2026-11-25"})

    assert answer["overall"]["reviews"] == 1
    assert (answer["store"], answer["item"], answer["from"], answer["to"]) == (
        "store-1",
        "item-1",
        "2026-11-25",
        None,
    )
    assert answer["escalations"] is None
    assert service.stats(to="2026-11-24")["overall"]["reviews"] == 0


@pytest.mark.parametrize("method", ["stats", "case_stats"])
def test_a_period_ending_before_it_begins_is_invalid_naming_to(service, method):
    with pytest.raises(Invalid) as caught:
        getattr(service, method)(**{"from": "2026-11-25", "to": "2026-11-24"})

    assert set(caught.value.fields) == {"to"}


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"from": "25/11/2026"}, "from"),
        ({"to": "2026-02-30"}, "to"),
        ({"region": ""}, "region"),
        ({"department": "x" * 65}, "department"),
        ({"from_": "2026-11-25"}, "from_"),
    ],
)
def test_bad_filters_are_invalid_naming_them(service, arguments, field):
    for method in ("stats", "case_stats"):
        with pytest.raises(Invalid) as caught:
            getattr(service, method)(**arguments)
        assert set(caught.value.fields) == {field}


def test_the_live_case_data_for_a_new_feed(service):
    service.count_case_submitted(application_submitted())

    answer = service.live_case_stats()

    assert answer["all_time"]["submitted"] == 1
    assert date.fromisoformat(answer["day"])
    assert_documented(contract.CaseStatsChanged, answer)


def test_the_live_case_data_takes_no_arguments(service):
    with pytest.raises(Invalid):
        service.live_case_stats(day="2026-11-25")


def test_the_read_models_consume_the_producers_events_with_their_schemas():
    handlers = {
        name: (entrypoint.source_service, entrypoint.event_type, type(entrypoint.payload))
        for name, entrypoint in contract_entrypoints(RatingsService)
        if name.startswith("count_") or name == "on_application_ended"
    }

    assert handlers == {
        "count_review_submitted": ("ratings", "review_submitted", contract.ReviewSubmitted),
        "count_visit_recorded": ("ratings", "visit_recorded", contract.EVENTS["visit_recorded"]),
        "count_rectification_resolved": (
            "ratings",
            "rectification_resolved",
            contract.RectificationResolved,
        ),
        "count_return_visit": ("ratings", "return_visit_recorded", contract.ReturnVisitRecorded),
        "count_appeal_decided": ("ratings", "appeal_decided", contract.AppealDecided),
        "count_case_submitted": (
            "workflow",
            "application_submitted",
            workflow.ApplicationSubmitted,
        ),
        "count_case_accepted": ("workflow", "application_accepted", workflow.ApplicationAccepted),
        "on_application_ended": ("workflow", "application_ended", workflow.ApplicationEnded),
        "count_case_overdue": ("workflow", "case_overdue", workflow.CaseOverdue),
        "count_shipment": ("courier", "shipment_created", courier.ShipmentCreated),
    }


@pytest.mark.parametrize(
    ("method", "schema", "query"),
    [
        (
            "stats",
            contract.StatsQuery,
            {"store": "store-1", "from": "2026-11-25", "to": "2026-11-25"},
        ),
        ("case_stats", contract.CaseStatsQuery, {"region": "320102", "from": "2026-11-01"}),
    ],
)
def test_a_query_the_gateway_loaded_dumps_back_to_the_rpc_arguments(service, method, schema, query):
    """The gateway loads the query string with the contract's schema (``from``
    becomes ``from_``, a date); dumped with the same schema it is the RPC's
    arguments again."""
    loaded = load(schema, query)

    assert loaded["from_"] == date.fromisoformat(query["from"])
    assert schema().dump(loaded) == query
    getattr(service, method)(**schema().dump(loaded))


# --- the live case data's timer -----------------------------------------------


def container(config):
    return ServiceContainer(RatingsService, {"AMQP_URI": "memory://", **config})


def test_the_live_case_data_and_the_stores_ratings_are_announced_on_a_timer():
    built = container({})
    timers = [e for e in built.entrypoints if isinstance(e, LiveAnnounceTimer)]

    assert {timer.method_name for timer in timers} == {
        "announce_live_case_data",
        "announce_store_ratings",
    }
    assert get_extension(built, Announced) is not None


def test_a_pass_announces_every_bucket_due_in_as_many_batches_as_it_takes(
    service, uow, monkeypatch
):
    monkeypatch.setattr(indicators, "ANNOUNCE_BATCH", 2)
    for n in range(5):
        service.count_review_submitted(review_submitted(f"r-{n}", item_id=f"item-{n}"))
    assert [e for e in outbox(uow) if e["type"] == "store_rating_changed"] == []

    service.announce_store_ratings()

    announced = [e["payload"] for e in outbox(uow) if e["type"] == "store_rating_changed"]
    assert sorted(p["item_id"] for p in announced) == [f"item-{n}" for n in range(5)]
    assert {p["reviews"] for p in announced if p["item_id"] == "item-4"} == {5}
    with uow:
        assert uow.indicators.due_ratings(10) == []


@pytest.mark.parametrize(
    ("config", "interval"),
    [
        ({}, 1.0),
        ({"LIVE_ANNOUNCE_SECONDS": None}, 1.0),  # ${LIVE_ANNOUNCE_SECONDS:1}, set empty
        ({"LIVE_ANNOUNCE_SECONDS": ""}, 1.0),
        ({"LIVE_ANNOUNCE_SECONDS": "0.5"}, 0.5),
        ({"LIVE_ANNOUNCE_SECONDS": 3}, 3.0),
    ],
)
def test_the_timer_takes_its_interval_from_the_config(config, interval):
    built = container(config)  # an extension refers to its container weakly
    timer = get_extension(built, LiveAnnounceTimer)
    timer.setup()

    assert timer.interval == interval


@pytest.mark.parametrize("value", ["0", "-1", "soon", "nan", "inf", [1]])
def test_a_bad_interval_stops_the_service_at_start(value):
    built = container({"LIVE_ANNOUNCE_SECONDS": value})
    timer = get_extension(built, LiveAnnounceTimer)

    with pytest.raises(ValueError, match="LIVE_ANNOUNCE_SECONDS"):
        timer.setup()


def test_a_pass_announces_only_when_the_case_data_moved(uow, monkeypatch):
    monkeypatch.setattr("services.common.clock.now", lambda: NOW)
    built = container({})
    # What the process announced, kept by its provider across the workers of
    # the timer's passes.
    announced = get_extension(built, Announced)
    announced.setup()

    def timer_pass():
        worker = worker_factory(RatingsService, uow=uow, announced=announced.get_dependency(None))
        worker.announce_live_case_data()

    handlers = worker_factory(RatingsService, uow=uow)
    handlers.count_case_submitted(application_submitted("app-1"))

    timer_pass()
    timer_pass()  # nothing moved

    [first] = live_announcements(uow)
    assert (first["day"], first["today"]["submitted"], first["all_time"]["submitted"]) == (
        "2026-11-25",
        1,
        1,
    )
    assert_documented(contract.CaseStatsChanged, first)

    handlers.count_case_submitted(application_submitted("app-2"))
    timer_pass()

    assert [p["all_time"]["submitted"] for p in live_announcements(uow)] == [1, 2]
