"""The live case data on a SQLite unit of work: fed by workflow's and courier's
events in any order, read by ``case_stats``, announced by
``announce_live_case_data`` (``case_stats_changed``) when it moved, never by the
handlers."""

import dataclasses
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from services.common.errors import Invalid
from services.common.testing import assert_documented, delivered, envelope, outbox
from services.courier import contract as courier
from services.ratings import contract
from services.ratings.domain.events import CaseStatsChanged
from services.ratings.service_layer import indicators
from services.workflow import contract as workflow

NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)  # 12:00 in China, 25 November
REGION = "320102"
DEPARTMENT = "320100-MSA"
ITEM = "item-food"


def workflow_event(event_type, payload, occurred_at=None):
    event = envelope(
        "workflow",
        event_type,
        payload,
        occurred_at=occurred_at or datetime(2026, 11, 25, 1, 0, tzinfo=UTC),
    )
    return delivered(event, workflow.EVENTS[event_type])


def submitted(application_id="app-1", mode="express", at="2026-11-25T01:00:00Z", **dims):
    payload = {
        "application_id": application_id,
        "item_id": ITEM,
        "item_name": "食品经营许可",
        "applicant_id": "u-applicant",
        "department_code": DEPARTMENT,
        "region_code": REGION,
        "store_id": "store-1",
        "delivery": {"mode": mode, "address": None},
        "window": None,
        "due_date": "2026-12-09",
        "submitted_at": at,
        **dims,
    }
    return workflow_event("application_submitted", payload)


def accepted(application_id="app-1", at="2026-11-25T02:00:00Z"):
    return workflow_event(
        "application_accepted", {"application_id": application_id, "accepted_at": at}
    )


def overdue(application_id="app-1", occurred_at=None):
    return workflow_event(
        "case_overdue",
        {"application_id": application_id, "due_date": "2026-11-24"},
        occurred_at=occurred_at,
    )


def ended(application_id="app-1", outcome="completed", on_time=True, working_days=4, **extra):
    payload = {
        "application_id": application_id,
        "applicant_id": "u-applicant",
        "principal_id": None,
        "item_id": ITEM,
        "item_name": "食品经营许可",
        "department_code": DEPARTMENT,
        "handled_by": DEPARTMENT,
        "region_code": REGION,
        "store_id": "store-1",
        "mode": "express",
        "outcome": outcome,
        "submitted_at": "2026-11-20T01:00:00Z",
        "ended_at": "2026-11-25T03:00:00Z",
        "due_date": "2026-11-30",
        "on_time": on_time,
        "working_days": working_days,
        **extra,
    }
    return workflow_event("application_ended", payload)


def shipment(application_id="app-1", direction="materials", occurred_at=None):
    payload = {
        "shipment_id": f"sh-{application_id}-{direction}",
        "tracking_no": "EA123456785CN",
        "application_id": application_id,
        "direction": direction,
    }
    event = envelope(
        "courier",
        "shipment_created",
        payload,
        occurred_at=occurred_at or datetime(2026, 11, 25, 1, 30, tzinfo=UTC),
    )
    return delivered(event, courier.ShipmentCreated)


def figures(uow, **filters):
    return indicators.case_stats(uow, **filters)


def announced(uow) -> list[dict]:
    return [e["payload"] for e in outbox(uow) if e["type"] == "case_stats_changed"]


# --- each event -------------------------------------------------------------


def test_a_submitted_case_is_counted_by_its_delivery_mode(uow):
    assert indicators.record_case_submitted(uow, submitted(mode="express"))
    indicators.record_case_submitted(uow, submitted("app-2", mode="online"))

    result = figures(uow)
    assert result["submitted"] == 2
    assert result["by_mode"] == {"express": 1, "online": 1}
    answer = contract.CaseStats().dump(result)
    assert answer["by_mode"] == {"online": 1, "express": 1, "window": 0}
    assert_documented(contract.CaseStats, answer)


def test_every_measure_of_a_case(uow):
    indicators.record_case_submitted(uow, submitted())
    indicators.record_case_accepted(uow, accepted())
    indicators.record_case_overdue(uow, overdue())
    indicators.record_shipment(uow, shipment())
    indicators.record_shipment(uow, shipment(direction="result"))
    indicators.record_case_ended(uow, ended(on_time=False, working_days=7))

    result = figures(uow)
    assert {name: result[name] for name in contract.LiveCaseTotals._declared_fields} == {
        "submitted": 1,
        "accepted": 1,
        "completed": 1,
        "completed_on_time": 0,
        "overdue": 1,
        "denied": 0,
        "rejected": 0,
        "ems": 1,
    }
    assert (result["on_time_rate"], result["ems_share"], result["average_working_days"]) == (
        0.0,
        1.0,
        7.0,
    )


@pytest.mark.parametrize(
    "outcome", ["completed", "denied", "rejected", "not_supplemented", "withdrawn"]
)
def test_each_outcome_is_counted(uow, outcome):
    indicators.record_case_ended(uow, ended(outcome=outcome, working_days=None))

    result = figures(uow)
    assert result[outcome] == 1
    assert result["average_working_days"] == (0.0 if outcome == "completed" else None)


def test_a_repeated_delivery_counts_once_and_the_handler_announces_nothing(uow):
    event = submitted()

    assert indicators.record_case_submitted(uow, event) is True
    assert indicators.record_case_submitted(uow, event) is False
    assert indicators.record_case_submitted(uow, submitted()) is True  # another event

    assert figures(uow)["submitted"] == 1
    assert announced(uow) == []
    indicators.announce_live_case_data(uow, now=NOW)
    [payload] = announced(uow)
    assert payload["all_time"]["submitted"] == 1


def test_ems_counts_a_case_once_whatever_its_shipments(uow):
    indicators.record_case_submitted(uow, submitted())
    indicators.record_shipment(uow, shipment(direction="materials"))
    indicators.record_shipment(uow, shipment(direction="result"))

    assert (figures(uow)["ems"], figures(uow)["ems_share"]) == (1, 1.0)


def test_an_event_from_before_submitted_at_counts_on_the_day_it_occurred(uow):
    event = submitted()
    del event["payload"]["submitted_at"]
    event["occurred_at"] = "2026-11-23T17:00:00Z"  # 24 November in China

    indicators.record_case_submitted(uow, event)

    assert figures(uow, from_=date(2026, 11, 24), to=date(2026, 11, 24))["submitted"] == 1


def test_facts_count_on_their_own_china_day(uow):
    indicators.record_case_submitted(uow, submitted(at="2026-11-23T16:30:00Z"))
    indicators.record_case_accepted(uow, accepted(at="2026-11-25T02:00:00Z"))

    on_the_24th = figures(uow, from_=date(2026, 11, 24), to=date(2026, 11, 24))
    on_the_25th = figures(uow, from_=date(2026, 11, 25), to=date(2026, 11, 25))
    assert (on_the_24th["submitted"], on_the_24th["accepted"]) == (1, 0)
    assert (on_the_25th["submitted"], on_the_25th["accepted"]) == (0, 1)
    assert on_the_25th["from_"] == on_the_25th["to"] == date(2026, 11, 25)


# --- out of order -----------------------------------------------------------


def test_an_acceptance_before_its_submission_waits_and_then_counts(uow):
    last = indicators.announce_live_case_data(uow, now=NOW)

    indicators.record_case_accepted(uow, accepted())
    indicators.record_case_overdue(uow, overdue())
    indicators.record_shipment(uow, shipment())

    assert figures(uow)["accepted"] == 0
    assert indicators.pending_cases(uow) == 1
    assert indicators.announce_live_case_data(uow, last, now=NOW) == last
    assert len(announced(uow)) == 1  # nothing visible changed

    indicators.record_case_submitted(uow, submitted())

    result = figures(uow, department=DEPARTMENT, region=REGION, item=ITEM)
    assert (result["submitted"], result["accepted"], result["overdue"], result["ems"]) == (
        1,
        1,
        1,
        1,
    )
    assert indicators.pending_cases(uow) == 0
    assert len(announced(uow)) == 1  # the handler announces nothing
    indicators.announce_live_case_data(uow, last, now=NOW)
    assert [payload["all_time"]["accepted"] for payload in announced(uow)] == [0, 1]


def test_an_ended_case_whose_submission_never_came_counts_by_its_own_facts(uow):
    indicators.record_case_accepted(uow, accepted())
    indicators.record_case_ended(uow, ended())

    result = figures(uow, region=REGION)
    assert (result["submitted"], result["accepted"], result["completed"]) == (0, 1, 1)
    assert result["by_mode"] == {}


# --- bad events -------------------------------------------------------------


def test_an_event_without_an_id_is_invalid(uow):
    with pytest.raises(Invalid) as caught:
        indicators.record_case_submitted(uow, {**submitted(), "id": ""})

    assert set(caught.value.fields) == {"id"}


def test_an_unknown_outcome_is_invalid_and_counts_nothing(uow):
    event = ended()
    event["payload"]["outcome"] = "lost"

    with pytest.raises(Invalid) as caught:
        indicators.record_case_ended(uow, event)

    assert set(caught.value.fields) == {"payload.outcome"}
    assert figures(uow)["completed"] == 0


def test_a_submission_without_a_delivery_mode_is_invalid(uow):
    event = submitted()
    event["payload"]["delivery"] = {}

    with pytest.raises(Invalid) as caught:
        indicators.record_case_submitted(uow, event)

    assert set(caught.value.fields) == {"payload.delivery.mode"}


# --- the query --------------------------------------------------------------


@pytest.fixture
def counted(uow):
    """Cases in two regions, two departments and three modes, on two days."""
    cases = [
        # application, region, department, mode, day, outcome, on_time, working days
        ("a1", "320102", "320100-MSA", "online", "2026-11-24", "completed", True, 2),
        ("a2", "320102", "320100-MSA", "express", "2026-11-24", "completed", False, 8),
        ("a3", "320102", "320100-MSA", "window", "2026-11-25", "denied", True, 3),
        ("a4", "320500", "320500-MSA", "online", "2026-11-25", "completed", True, 5),
        ("a5", "320500", "320500-MSA", "express", "2026-11-25", None, None, None),
    ]
    for application_id, region, department, mode, day, outcome, on_time, days in cases:
        dims = {"region_code": region, "department_code": department}
        indicators.record_case_submitted(
            uow, submitted(application_id, mode=mode, at=f"{day}T01:00:00Z", **dims)
        )
        if mode == "express":
            booked = datetime.fromisoformat(f"{day}T02:00:00+00:00")
            indicators.record_shipment(uow, shipment(application_id, occurred_at=booked))
        if outcome is not None:
            indicators.record_case_ended(
                uow,
                ended(
                    application_id,
                    outcome=outcome,
                    on_time=on_time,
                    working_days=days,
                    mode=mode,
                    ended_at=f"{day}T06:00:00Z",
                    **dims,
                ),
            )
    return uow


def test_case_stats_of_the_province(counted):
    result = figures(counted)

    assert (result["submitted"], result["completed"], result["denied"]) == (5, 3, 1)
    assert result["on_time_rate"] == 0.6667
    assert result["average_working_days"] == 5.0
    assert result["by_mode"] == {"express": 2, "online": 2, "window": 1}
    assert (result["ems"], result["ems_share"]) == (2, 0.4)
    assert_documented(contract.CaseStats, contract.CaseStats().dump(result))


def test_case_stats_narrow_to_region_department_item_and_days(counted):
    assert figures(counted, region="320500")["submitted"] == 2
    assert figures(counted, department="320100-MSA")["completed"] == 2
    assert figures(counted, item="other")["submitted"] == 0
    one_day = figures(counted, from_=date(2026, 11, 25), to=date(2026, 11, 25))
    assert (one_day["submitted"], one_day["completed"], one_day["denied"]) == (3, 1, 1)
    assert one_day["by_mode"] == {"express": 1, "online": 1, "window": 1}
    narrowed = figures(counted, region="320102", from_=date(2026, 11, 25))
    assert (narrowed["submitted"], narrowed["region"], narrowed["department"]) == (
        1,
        "320102",
        None,
    )


def test_case_stats_of_nothing_have_no_rates(uow):
    answer = contract.CaseStats().dump(figures(uow, region="999999"))

    assert answer["submitted"] == 0
    assert answer["on_time_rate"] is answer["ems_share"] is answer["average_working_days"] is None
    assert answer["by_mode"] == {"online": 0, "express": 0, "window": 0}
    assert_documented(contract.CaseStats, answer)


def test_a_period_that_ends_before_it_begins_is_invalid_naming_to(uow):
    with pytest.raises(Invalid) as caught:
        figures(uow, from_=date(2026, 11, 25), to=date(2026, 11, 1))

    assert set(caught.value.fields) == {"to"}


# --- the live feed's event --------------------------------------------------


TODAY = {
    "submitted": 3,
    "accepted": 0,
    "completed": 1,
    "completed_on_time": 1,
    "overdue": 0,
    "denied": 1,
    "rejected": 0,
    "ems": 1,
}


def test_the_handlers_announce_nothing(counted):
    # 5 submitted, 2 EMS, 4 ended: the counts moved, the outbox has no
    # case_stats_changed (the timer announces them).
    assert figures(counted)["submitted"] == 5
    assert announced(counted) == []


def test_the_announcement_is_the_provinces_totals_of_today_and_all_time(counted):
    answer = indicators.announce_live_case_data(counted, now=NOW)

    [payload] = announced(counted)
    assert payload["day"] == "2026-11-25"
    assert payload["today"] == TODAY
    assert payload["all_time"] == {
        "submitted": 5,
        "accepted": 0,
        "completed": 3,
        "completed_on_time": 2,
        "overdue": 0,
        "denied": 1,
        "rejected": 0,
        "ems": 2,
    }
    assert contract.CaseStatsChanged().dump(answer) == payload
    assert_documented(contract.CaseStatsChanged, payload)


def test_nothing_is_announced_again_until_the_totals_move(counted):
    first = indicators.announce_live_case_data(counted, now=NOW)

    assert indicators.announce_live_case_data(counted, first, now=NOW) == first
    assert len(announced(counted)) == 1

    indicators.record_case_submitted(counted, submitted("a6", mode="online"))
    second = indicators.announce_live_case_data(counted, first, now=NOW)

    assert second != first
    assert [p["all_time"]["submitted"] for p in announced(counted)] == [5, 6]
    assert announced(counted)[-1]["today"] == {**TODAY, "submitted": 4}
    assert contract.CaseStatsChanged().dump(second) == announced(counted)[-1]
    assert indicators.announce_live_case_data(counted, second, now=NOW) == second
    assert len(announced(counted)) == 2


def test_a_process_that_announced_nothing_yet_announces_even_no_change(uow):
    assert indicators.announce_live_case_data(uow, now=NOW) is not None
    assert indicators.announce_live_case_data(uow, None, now=NOW) is not None

    assert [payload["all_time"]["submitted"] for payload in announced(uow)] == [0, 0]


def test_today_follows_the_clock(uow):
    later = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
    indicators.record_case_submitted(uow, submitted())
    assert announced(uow) == []

    on_the_25th = indicators.announce_live_case_data(uow, now=NOW)
    indicators.announce_live_case_data(uow, on_the_25th, now=later)

    # The totals did not move; the day did, so today's counts start again.
    first, second = announced(uow)
    assert (first["day"], first["today"]["submitted"], first["all_time"]["submitted"]) == (
        "2026-11-25",
        1,
        1,
    )
    assert (second["day"], second["today"]["submitted"], second["all_time"]["submitted"]) == (
        "2026-11-26",
        0,  # submitted on the 25th
        1,
    )


def test_the_live_data_a_new_feed_starts_from(counted):
    live = indicators.live_case_data(counted, now=NOW)

    answer = contract.CaseStatsChanged().dump(live)
    assert answer["day"] == "2026-11-25"
    assert answer["today"]["submitted"] == 3 and answer["all_time"]["submitted"] == 5
    indicators.announce_live_case_data(counted, now=NOW)
    assert answer == announced(counted)[-1]
    assert_documented(contract.CaseStatsChanged, answer)


def test_todays_counts_for_the_gauges(counted):
    today = indicators.cases_today(counted, now=NOW)

    assert (today.submitted, today.completed, today.denied, today.ems) == (3, 1, 1, 1)


def test_the_province_rows_agree_with_the_detailed_ones(counted):
    tables = counted.metadata.tables
    with counted:
        detailed = counted.session.execute(
            sa.select(sa.func.sum(tables["case_stats"].c.submitted))
        ).scalar_one()
        province = counted.session.execute(
            sa.select(sa.func.sum(tables["case_stats_province"].c.submitted))
        ).scalar_one()

    assert detailed == province == 5


def test_the_domain_event_carries_exactly_the_contracts_fields():
    assert CaseStatsChanged.type == "case_stats_changed"
    assert contract.EVENTS["case_stats_changed"] is contract.CaseStatsChanged
    assert [field.name for field in dataclasses.fields(CaseStatsChanged)] == list(
        contract.CaseStatsChanged._declared_fields
    )
    assert list(contract.LiveCaseTotals._declared_fields) == [
        "submitted",
        "accepted",
        "completed",
        "completed_on_time",
        "overdue",
        "denied",
        "rejected",
        "ems",
    ]
