"""The rectification entrypoints of the ratings service, via worker_factory on a
SQLite unit of work: each RPC method, driven with the arguments the gateway
sends, answers exactly its documented schema; bad input is Invalid naming the
field; workflow's calendar_loaded is taken; the escalation sweep runs on a timer
whose settings are checked at start."""

import shutil
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from nameko.containers import ServiceContainer
from nameko.testing.services import worker_factory
from nameko.testing.utils import get_extension

from services.common.entrypoints import contract_entrypoints
from services.common.errors import Forbidden, Invalid
from services.common.testing import assert_documented, citizen, envelope, outbox
from services.common.working_calendar import SHIPPED_CALENDARS
from services.ratings import contract
from services.ratings.adapters import calendar_repository
from services.ratings.service import RatingsService, RectificationTimer
from services.ratings.service_layer import use_cases
from services.workflow import contract as workflow

from .conftest import CLERK, DEPARTMENT, NOW, OPERATOR, ended_payload

BEIJING = timezone(timedelta(hours=8))
RECTIFICATION_METHODS = {
    "list_rectifications",
    "get_rectification",
    "verify_rectification",
    "resolve_rectification",
    "record_return_visit",
}
RECTIFICATION_EVENTS = {
    "bad_review_flagged",
    "rectification_verified",
    "rectification_resolved",
    "return_visit_recorded",
    "rectification_escalated",
    "rectification_closed",
}


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=BEIJING).astimezone(UTC)


@pytest.fixture(autouse=True)
def only_2026_shipped(monkeypatch, tmp_path):
    shipped = tmp_path / "calendars"
    shipped.mkdir()
    shutil.copy(SHIPPED_CALENDARS / "2026.json", shipped / "2026.json")
    monkeypatch.setattr(calendar_repository, "SHIPPED_CALENDARS", shipped)


@pytest.fixture
def clock(monkeypatch):
    """The process clock, set to NOW; ``clock.move(days)`` moves it."""

    class Clock:
        now = NOW

        def move(self, **delta):
            self.now = self.now + timedelta(**delta)

    moved = Clock()
    monkeypatch.setattr("services.common.clock.now", lambda: moved.now)
    return moved


@pytest.fixture
def service(uow, clock):
    return worker_factory(RatingsService, uow=uow, config={})


def flagged(service, number: int, handled_by: str = DEPARTMENT) -> str:
    """A case ended as workflow emits it, reviewed with grade 1 (evaluation's
    use cases); the rectification's id."""
    application_id = f"app-{number}"
    applicant = citizen(f"u-applicant-{number:04d}", name="张三")
    payload = workflow.ApplicationEnded().dump(
        {
            **ended_payload(
                application_id=application_id,
                applicant_id=applicant["user_id"],
                handled_by=handled_by,
            ),
            "submitted_at": datetime(2026, 11, 20, 1, 0, tzinfo=UTC),
            "ended_at": datetime(2026, 11, 24, 9, 30, tzinfo=UTC),
            "due_date": date(2026, 11, 27),
        }
    )
    assert_documented(workflow.ApplicationEnded, payload)
    delivered = {
        **envelope("workflow", "application_ended", payload),
        "payload": workflow.ApplicationEnded().load(payload),
    }
    use_cases.record_ended_case(service.uow, delivered)
    review_id = use_cases.submit_review(
        service.uow, applicant, application_id, 1, "态度差"
    ).review_id
    [entry] = [
        e
        for e in service.list_rectifications(actor=OPERATOR)["items"]
        if e["review_id"] == review_id
    ]
    return entry["rectification_id"]


def test_every_rectification_method_answers_its_documented_schema(service, uow, clock):
    entrypoints = dict(contract_entrypoints(RatingsService))
    assert RECTIFICATION_METHODS <= set(entrypoints)
    assert "on_calendar_loaded" in entrypoints
    called = set()

    def check(method, **arguments):
        answer = getattr(service, method)(**arguments)
        assert_documented(entrypoints[method].response, answer)
        called.add(method)
        return answer

    assert check("list_rectifications", actor=OPERATOR)["items"] == []
    first, second = flagged(service, 1), flagged(service, 2)

    listed = check("list_rectifications", actor=CLERK, page="1", page_size="20")
    assert listed["total"] == 2
    assert listed["items"][0]["decision"] is None
    assert listed["items"][0]["verify_due"] == "2026-11-26"
    opened = check("get_rectification", actor=CLERK, rectification_id=first)
    assert opened["state"] == "awaiting_verification"
    assert opened["submitted_at"] == "2026-11-25T08:00:00Z"

    verified = check(
        "verify_rectification",
        actor=CLERK,
        rectification_id=first,
        decision="deadline",
        plan="补齐告知单",
        working_days=10,
    )
    assert (verified["state"], verified["due_date"]) == ("verified", "2026-12-09")
    resolved = check("resolve_rectification", actor=CLERK, rectification_id=first, comment="已补齐")
    assert resolved["resolved_at"] == "2026-11-25T08:00:00Z"
    reopened = check(
        "record_return_visit",
        actor=CLERK,
        rectification_id=first,
        reached=True,
        satisfied=False,
        comment="仍不满意",
    )
    assert (reopened["state"], reopened["round"]) == ("awaiting_verification", 2)
    assert reopened["return_visits"] == [
        {
            "round": 1,
            "reached": True,
            "satisfied": False,
            "comment": "仍不满意",
            "recorded_at": "2026-11-25T08:00:00Z",
        }
    ]
    check(
        "verify_rectification",
        actor=CLERK,
        rectification_id=first,
        decision="immediate",
        plan="当场重新办理",
    )
    closed = check(
        "record_return_visit", actor=CLERK, rectification_id=first, reached=True, satisfied=True
    )
    assert (closed["outcome"], closed["closed_at"]) == ("satisfied", "2026-11-25T08:00:00Z")

    clock.move(days=8)
    service.escalate_rectifications()
    late = check("get_rectification", actor=OPERATOR, rectification_id=second)
    assert late["overdue"] is True
    assert [(e["level"], e["round"], e["due_date"]) for e in late["escalations"]] == [
        ("dept_admin", 1, "2026-11-26"),
        ("operator", 1, "2026-11-26"),
    ]
    assert (
        check(
            "list_rectifications", actor=OPERATOR, level="operator", state="awaiting_verification"
        )["total"]
        == 1
    )

    assert called == RECTIFICATION_METHODS


def test_every_rectification_event_is_exactly_its_documented_payload(service, uow, clock):
    first = flagged(service, 1)
    flagged(service, 2)  # left unverified: escalated
    service.verify_rectification(
        actor=CLERK, rectification_id=first, decision="explain", plan="依法须本人办理"
    )
    service.resolve_rectification(actor=CLERK, rectification_id=first)
    service.record_return_visit(actor=CLERK, rectification_id=first, reached=False)
    service.record_return_visit(actor=CLERK, rectification_id=first, reached=True, satisfied=True)
    clock.move(days=2)
    service.escalate_rectifications()

    seen = set()
    for recorded in outbox(uow):
        assert recorded["source"] == "ratings"
        assert_documented(contract.EVENTS[recorded["type"]], recorded["payload"])
        seen.add(recorded["type"])
    assert RECTIFICATION_EVENTS <= seen
    assert RECTIFICATION_EVENTS <= set(contract.EVENTS)


@pytest.mark.parametrize(
    ("arguments", "fields"),
    [
        ({"decision": "later", "plan": "x"}, {"decision"}),
        ({"plan": "x"}, {"decision"}),
        ({"decision": "deadline"}, {"plan"}),
        ({"decision": "deadline", "plan": "  "}, {"plan"}),
        ({"decision": "deadline", "plan": "长" * 501}, {"plan"}),
        ({"decision": "deadline", "plan": "x", "working_days": "5"}, {"working_days"}),
        ({"decision": "deadline", "plan": "x", "working_days": 61}, {"working_days"}),
        ({"decision": "deadline", "plan": "x", "working_days": 2.5}, {"working_days"}),
        ({"decision": "immediate", "plan": "x", "working_days": 5}, {"working_days"}),
        ({"decision": "deadline", "plan": "x", "days": 5}, {"days"}),
    ],
    ids=[
        "unknown-decision",
        "no-decision",
        "no-plan",
        "blank-plan",
        "long-plan",
        "days-as-text",
        "too-many-days",
        "fractional-days",
        "days-with-immediate",
        "unknown-field",
    ],
)
def test_a_bad_verification_is_invalid_naming_the_field(service, arguments, fields):
    rectification_id = flagged(service, 1)

    with pytest.raises(Invalid) as caught:
        service.verify_rectification(actor=CLERK, rectification_id=rectification_id, **arguments)

    assert set(caught.value.fields) == fields


@pytest.mark.parametrize("comment", ["", "  ", "长" * 501, 5])
def test_a_fix_given_is_1_to_500_characters(service, comment):
    rectification_id = flagged(service, 1)
    service.verify_rectification(
        actor=CLERK, rectification_id=rectification_id, decision="deadline", plan="计划"
    )

    with pytest.raises(Invalid) as caught:
        service.resolve_rectification(
            actor=CLERK, rectification_id=rectification_id, comment=comment
        )

    assert set(caught.value.fields) == {"comment"}


def test_a_fix_after_a_deadline_is_required(service):
    rectification_id = flagged(service, 1)
    service.verify_rectification(
        actor=CLERK, rectification_id=rectification_id, decision="deadline", plan="计划"
    )

    with pytest.raises(Invalid) as caught:
        service.resolve_rectification(actor=CLERK, rectification_id=rectification_id)

    assert caught.value.fields == {"comment": "must not be empty"}


@pytest.mark.parametrize(
    ("arguments", "fields"),
    [
        ({}, {"reached"}),
        ({"reached": "yes"}, {"reached"}),
        ({"reached": 1}, {"reached"}),
        ({"reached": True}, {"satisfied"}),
        ({"reached": False, "satisfied": True}, {"satisfied"}),
        ({"reached": True, "satisfied": "no"}, {"satisfied"}),
        ({"reached": True, "satisfied": True, "comment": "长" * 501}, {"comment"}),
    ],
)
def test_a_bad_return_visit_is_invalid_naming_the_field(service, arguments, fields):
    rectification_id = flagged(service, 1)
    service.verify_rectification(
        actor=CLERK, rectification_id=rectification_id, decision="immediate", plan="已改"
    )

    with pytest.raises(Invalid) as caught:
        service.record_return_visit(actor=CLERK, rectification_id=rectification_id, **arguments)

    assert set(caught.value.fields) == fields


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"state": "open"}, "state"),
        ({"state": ""}, "state"),
        ({"level": "mayor"}, "level"),
        ({"page": "0"}, "page"),
        ({"page_size": "101"}, "page_size"),
    ],
)
def test_list_rectifications_refuses_bad_filters(service, arguments, field):
    with pytest.raises(Invalid) as caught:
        service.list_rectifications(actor=OPERATOR, **arguments)

    assert set(caught.value.fields) == {field}


def test_citizens_see_no_rectification(service):
    rectification_id = flagged(service, 1)

    with pytest.raises(Forbidden):
        service.get_rectification(
            actor=citizen("u-applicant-0001"), rectification_id=rectification_id
        )
    with pytest.raises(Invalid) as caught:
        service.get_rectification(rectification_id=rectification_id)
    assert set(caught.value.fields) == {"actor"}


# --- workflow's calendar --------------------------------------------------------


def test_a_year_loaded_in_workflow_moves_the_verification_deadline(service, uow):
    from services.common.working_calendar import shipped_schedule

    shipped = shipped_schedule(2026, calendar_repository.SHIPPED_CALENDARS)
    payload = workflow.CalendarLoaded().dump(
        {
            "year": 2026,
            "holidays": [*shipped["holidays"], date(2026, 11, 26)],
            "workdays": shipped["workdays"],
        }
    )

    service.on_calendar_loaded(envelope("workflow", "calendar_loaded", payload))

    rectification_id = flagged(service, 1)
    answer = service.get_rectification(actor=CLERK, rectification_id=rectification_id)
    assert answer["verify_due"] == "2026-11-27"


def test_a_malformed_calendar_event_is_invalid_so_it_is_dead_lettered(service):
    with pytest.raises(Invalid) as caught:
        service.on_calendar_loaded(
            envelope("workflow", "calendar_loaded", {"year": 2026, "holidays": ["soon"]})
        )

    assert {"payload.holidays.0", "payload.workdays"} <= set(caught.value.fields)


# --- the escalation timer -------------------------------------------------------


def container(config):
    return ServiceContainer(RatingsService, {"AMQP_URI": "memory://", **config})


def test_the_sweep_runs_on_a_timer():
    built = container({})
    timer = get_extension(built, RectificationTimer)

    assert timer is not None and timer.method_name == "escalate_rectifications"


@pytest.mark.parametrize(
    ("config", "interval"), [({}, 60.0), ({"RECTIFICATION_CHECK_SECONDS": "15"}, 15.0)]
)
def test_the_timer_takes_its_interval_from_the_config(config, interval):
    built = container(config)  # an extension refers to its container weakly
    timer = get_extension(built, RectificationTimer)
    timer.setup()

    assert timer.interval == interval


@pytest.mark.parametrize(
    "config",
    [
        {"RECTIFICATION_CHECK_SECONDS": "0"},
        {"RECTIFICATION_ESCALATE_TO_OPERATOR_DAYS": "0"},
        {"RECTIFICATION_ESCALATE_TO_OPERATOR_DAYS": "a week"},
    ],
)
def test_a_bad_setting_stops_the_service_at_start(config):
    built = container(config)
    timer = get_extension(built, RectificationTimer)

    with pytest.raises(ValueError, match=next(iter(config))):
        timer.setup()


def test_the_sweep_counts_the_operator_days_of_the_config(uow, clock):
    service = worker_factory(
        RatingsService, uow=uow, config={"RECTIFICATION_ESCALATE_TO_OPERATOR_DAYS": "1"}
    )
    rectification_id = flagged(service, 1)  # verify by Thursday 26 November
    clock.now = at(date(2026, 11, 30))

    service.escalate_rectifications()

    answer = service.get_rectification(actor=OPERATOR, rectification_id=rectification_id)
    assert [e["level"] for e in answer["escalations"]] == ["dept_admin", "operator"]
