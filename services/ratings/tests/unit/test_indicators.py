"""The published indicators (GB/T 39735) on a SQLite unit of work: kept by
ratings' and workflow's events, read by ``stats`` and ``store_summary``."""

from datetime import date

import pytest
import sqlalchemy as sa

from services.common.errors import Invalid
from services.common.testing import assert_documented, delivered, envelope
from services.ratings import contract
from services.ratings.service_layer import indicators
from services.workflow import contract as workflow

STORE = "store-1"
DEPARTMENT = "320100-MSA"
REGION = "320102"
ITEM = "item-food"

_review_numbers = iter(range(1, 10_000))


def review_event(
    grade=5,
    review_id=None,
    submitted_at="2026-11-25T02:00:00Z",
    real_name=True,
    indicators_given=None,
    **dims,
):
    """ratings' ``review_submitted``, as the handler gets it."""
    payload = {
        "review_id": review_id or f"r-{next(_review_numbers)}",
        "application_id": "app-1",
        "visit_id": None,
        "store_id": STORE,
        "department_code": DEPARTMENT,
        "region_code": REGION,
        "item_id": ITEM,
        "item_name": "食品经营许可",
        "grade": grade,
        "channel": "web",
        "real_name": real_name,
        "indicators": indicators_given or {},
        "submitted_at": submitted_at,
        **dims,
    }
    return delivered(envelope("ratings", "review_submitted", payload), contract.ReviewSubmitted)


def ratings_event(event_type, **payload):
    return delivered(envelope("ratings", event_type, payload), contract.EVENTS[event_type])


def resolved(review_id, round_=1):
    return ratings_event(
        "rectification_resolved",
        rectification_id=f"rect-{review_id}",
        review_id=review_id,
        application_id="app-1",
        department_code=DEPARTMENT,
        resolved_by="u-clerk",
        resolved_at="2026-11-26T02:00:00Z",
        round=round_,
    )


def return_visit(review_id, reached=True, satisfied=True):
    return ratings_event(
        "return_visit_recorded",
        rectification_id=f"rect-{review_id}",
        review_id=review_id,
        department_code=DEPARTMENT,
        reached=reached,
        satisfied=satisfied if reached else None,
        reopened=False,
        recorded_at="2026-11-27T02:00:00Z",
    )


def appeal_decided(review_id, upheld=True):
    return ratings_event(
        "appeal_decided",
        appeal_id=f"appeal-{review_id}",
        review_id=review_id,
        upheld=upheld,
        decided_at="2026-11-28T02:00:00Z",
    )


def visit_recorded(recorded_at="2026-11-25T01:00:00Z", **dims):
    payload = {
        "visit_id": f"v-{next(_review_numbers)}",
        "store_id": STORE,
        "department_code": DEPARTMENT,
        "region_code": REGION,
        "item_id": ITEM,
        "item_name": "食品经营许可",
        "recorded_at": recorded_at,
        **dims,
    }
    return ratings_event("visit_recorded", **payload)


def ended(outcome="completed", ended_at="2026-11-24T09:00:00Z", **overrides):
    """workflow's ``application_ended``, as the handler gets it."""
    payload = {
        "application_id": f"app-{next(_review_numbers)}",
        "applicant_id": "u-applicant",
        "principal_id": None,
        "item_id": ITEM,
        "item_name": "食品经营许可",
        "department_code": DEPARTMENT,
        "handled_by": DEPARTMENT,
        "region_code": REGION,
        "store_id": STORE,
        "mode": "online",
        "outcome": outcome,
        "submitted_at": "2026-11-20T01:00:00Z",
        "ended_at": ended_at,
        "due_date": "2026-11-30",
        "on_time": True,
        "working_days": 3,
        **overrides,
    }
    return delivered(envelope("workflow", "application_ended", payload), workflow.ApplicationEnded)


def summary(uow, **filters):
    return indicators.stats(uow, **filters)["overall"]


def count(uow, table_name):
    table = uow.metadata.tables[table_name]
    with uow:
        return uow.session.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


# --- reviews ----------------------------------------------------------------


def test_a_review_counts_in_the_indicators(uow):
    assert indicators.count_review_submitted(uow, review_event(5, indicators_given={"overall": 5}))

    overall = summary(uow)
    assert (overall.reviews, overall.praise, overall.bad) == (1, 1, 0)
    assert (overall.praise_rate, overall.average_grade) == (1.0, 5.0)
    assert overall.sub_grades == {"overall": 5.0}


def test_a_repeated_delivery_counts_once(uow):
    event = review_event(4)

    assert indicators.count_review_submitted(uow, event) is True
    assert indicators.count_review_submitted(uow, event) is False
    assert summary(uow).reviews == 1


def test_the_same_review_in_a_second_event_counts_once(uow):
    indicators.count_review_submitted(uow, review_event(4, review_id="r-same"))
    indicators.count_review_submitted(uow, review_event(4, review_id="r-same"))

    assert summary(uow).reviews == 1


def test_the_rates_of_a_set_of_reviews(uow):
    for grade, real_name, given in [
        (5, True, {"overall": 5, "efficiency": 4}),
        (4, False, {"efficiency": 5}),
        (3, True, {}),
        (2, True, {"overall": 2}),
        (1, False, {}),
    ]:
        indicators.count_review_submitted(
            uow, review_event(grade, real_name=real_name, indicators_given=given)
        )
    for _ in range(8):
        indicators.record_case_ended(uow, ended())

    overall = summary(uow)
    assert (overall.reviews, overall.evaluable, overall.evaluation_rate) == (5, 8, 0.625)
    assert (overall.praise_rate, overall.bad_rate, overall.average_grade) == (0.4, 0.4, 3.0)
    assert (overall.real_name_bad, overall.rectification_rate, overall.callback_rate) == (
        1,
        0.0,
        0.0,
    )
    assert overall.sub_grades == {"efficiency": 4.5, "overall": 3.5}


def test_a_review_counts_on_its_china_day(uow):
    indicators.count_review_submitted(uow, review_event(5, submitted_at="2026-11-24T16:30:00Z"))

    assert summary(uow, from_=date(2026, 11, 25), to=date(2026, 11, 25)).reviews == 1
    assert summary(uow, to=date(2026, 11, 24)).reviews == 0


def test_an_event_without_an_id_is_invalid(uow):
    with pytest.raises(Invalid) as caught:
        indicators.count_review_submitted(uow, {**review_event(), "id": None})

    assert set(caught.value.fields) == {"id"}


def test_a_review_with_a_bad_grade_is_invalid_and_counts_nothing(uow):
    event = review_event()
    event["payload"]["grade"] = 7

    with pytest.raises(Invalid) as caught:
        indicators.count_review_submitted(uow, event)

    assert set(caught.value.fields) == {"payload.grade"}
    assert count(uow, "handled_events") == 0


def test_an_event_from_before_visits_and_sub_grades_is_counted_too(uow):
    """A review_submitted without item_name, real_name and indicators (as sent
    before they were added) loads with the defaults and counts."""
    event = review_event(2)
    for name in ("item_name", "real_name", "indicators", "visit_id", "channel"):
        del event["payload"][name]

    assert indicators.count_review_submitted(uow, event)
    assert (summary(uow).bad, summary(uow).real_name_bad) == (1, 0)


# --- rectified, called back, appeals -----------------------------------------


def test_a_bad_review_is_rectified_once_whatever_the_round(uow):
    indicators.count_review_submitted(uow, review_event(1, review_id="r-bad"))

    assert indicators.count_rectification_resolved(uow, resolved("r-bad", 1))
    assert indicators.count_rectification_resolved(uow, resolved("r-bad", 2))

    overall = summary(uow)
    assert (overall.bad, overall.rectified, overall.rectification_rate) == (1, 1, 1.0)


def test_the_first_reached_return_visit_calls_a_real_name_review_back(uow):
    indicators.count_review_submitted(uow, review_event(2, review_id="r-bad"))

    assert indicators.count_return_visit(uow, return_visit("r-bad", reached=False))
    assert summary(uow).called_back == 0
    assert indicators.count_return_visit(uow, return_visit("r-bad", satisfied=False))
    assert indicators.count_return_visit(uow, return_visit("r-bad"))

    overall = summary(uow)
    assert (overall.real_name_bad, overall.called_back, overall.callback_rate) == (1, 1, 1.0)


def test_an_unreached_return_visit_is_taken_once_and_changes_nothing(uow):
    event = return_visit("r-none", reached=False)

    assert indicators.count_return_visit(uow, event) is True
    assert indicators.count_return_visit(uow, event) is False
    assert count(uow, "indicator_reviews") == 0


def test_an_upheld_appeal_takes_the_review_out_of_every_count(uow):
    indicators.count_review_submitted(uow, review_event(5))
    indicators.count_review_submitted(
        uow, review_event(1, review_id="r-unfair", indicators_given={"overall": 1})
    )
    indicators.count_rectification_resolved(uow, resolved("r-unfair"))
    indicators.count_return_visit(uow, return_visit("r-unfair"))
    indicators.record_case_ended(uow, ended())

    assert indicators.count_appeal_decided(uow, appeal_decided("r-unfair"))
    assert indicators.count_appeal_decided(uow, appeal_decided("r-unfair"))  # another event

    overall = summary(uow)
    assert (overall.reviews, overall.bad, overall.rectified, overall.called_back) == (1, 0, 0, 0)
    assert (overall.praise_rate, overall.average_grade, overall.sub_grades) == (1.0, 5.0, {})
    assert overall.evaluable == 1  # the case stays evaluable


def test_a_rejected_appeal_changes_nothing(uow):
    indicators.count_review_submitted(uow, review_event(1, review_id="r-fair"))

    assert indicators.count_appeal_decided(uow, appeal_decided("r-fair", upheld=False))
    assert summary(uow).bad == 1


def test_facts_that_arrive_before_their_review_are_counted_with_it(uow):
    indicators.count_rectification_resolved(uow, resolved("r-late"))
    indicators.count_return_visit(uow, return_visit("r-late"))
    assert summary(uow).reviews == 0

    indicators.count_review_submitted(uow, review_event(2, review_id="r-late"))

    overall = summary(uow)
    assert (overall.bad, overall.rectified, overall.real_name_bad, overall.called_back) == (
        1,
        1,
        1,
        1,
    )


def test_an_appeal_upheld_before_its_review_arrives_keeps_it_out(uow):
    indicators.count_appeal_decided(uow, appeal_decided("r-early"))
    indicators.count_review_submitted(uow, review_event(1, review_id="r-early"))

    assert summary(uow).reviews == 0


# --- evaluable services -----------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "counted"),
    [
        ("completed", 1),
        ("denied", 1),
        ("rejected", 1),
        ("not_supplemented", 0),
        ("withdrawn", 0),
    ],
)
def test_an_ended_case_is_evaluable_when_completed_denied_or_rejected(uow, outcome, counted):
    indicators.record_case_ended(uow, ended(outcome, ended_at="2026-11-24T17:00:00Z"))

    assert summary(uow).evaluable == counted
    assert summary(uow, from_=date(2026, 11, 25)).evaluable == counted  # the China day


def test_a_case_ended_twice_is_evaluable_once(uow):
    first = ended()
    again = ended(application_id=first["payload"]["application_id"])

    indicators.record_case_ended(uow, first)
    indicators.record_case_ended(uow, again)

    assert summary(uow).evaluable == 1


def test_a_window_visit_is_evaluable_on_the_day_recorded(uow):
    event = visit_recorded(recorded_at="2026-11-25T03:00:00Z")

    assert indicators.count_visit_recorded(uow, event) is True
    assert indicators.count_visit_recorded(uow, event) is False

    assert summary(uow, from_=date(2026, 11, 25), to=date(2026, 11, 25)).evaluable == 1
    assert summary(uow, to=date(2026, 11, 24)).evaluable == 0


# --- stats ------------------------------------------------------------------


@pytest.fixture
def rated(uow):
    """Reviews across stores, departments, regions and items, on two days."""
    for store, department, region, item, grade, day in [
        ("s-nj", "320100-MSA", "320100", "i-food", 5, "2026-11-24"),
        ("s-nj", "320100-MSA", "320100", "i-food", 1, "2026-11-25"),
        ("s-nj", "320100-MSA", "320102", "i-shop", 4, "2026-11-25"),
        ("s-sz", "320500-MSA", "320500", "i-food2", 3, "2026-11-24"),
        ("s-sz", "320500-MSA", "320500", "i-food2", 5, "2026-11-25"),
    ]:
        dims = {
            "store_id": store,
            "department_code": department,
            "region_code": region,
            "item_id": item,
            "item_name": f"name of {item}",
        }
        indicators.count_review_submitted(
            uow,
            review_event(grade, submitted_at=f"{day}T02:00:00Z", indicators_given={}, **dims),
        )
        indicators.record_case_ended(uow, ended(ended_at=f"{day}T01:00:00Z", **dims))
    return uow


def rates(rows, key):
    return {row[key]: (row["rating"].reviews, row["rating"].praise_rate) for row in rows}


def test_stats_give_the_indicators_per_store_department_item_and_region(rated):
    result = indicators.stats(rated)

    overall = result["overall"]
    assert (overall.reviews, overall.praise_rate, overall.average_grade) == (5, 0.6, 3.6)
    assert (overall.evaluable, overall.evaluation_rate) == (5, 1.0)
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
        "i-food2": (2, 0.5),
        "i-shop": (1, 1.0),
    }
    assert {row["item_id"]: row["item_name"] for row in result["items"]}["i-shop"] == (
        "name of i-shop"
    )


def test_stats_narrow_to_any_filter_and_a_period(rated):
    assert indicators.stats(rated, store="s-sz")["overall"].reviews == 2
    assert indicators.stats(rated, item="i-food")["overall"].reviews == 2
    by_both = indicators.stats(rated, department="320100-MSA", region="320102")
    assert by_both["overall"].reviews == 1
    assert rates(by_both["items"], "item_id") == {"i-shop": (1, 1.0)}
    one_day = indicators.stats(rated, from_=date(2026, 11, 25), to=date(2026, 11, 25))
    assert (one_day["overall"].reviews, one_day["overall"].evaluable) == (3, 3)
    assert rates(one_day["stores"], "store_id") == {"s-nj": (2, 0.5), "s-sz": (1, 1.0)}
    assert indicators.stats(rated, from_=date(2026, 11, 26))["overall"].reviews == 0


def test_stats_echo_their_filters(rated):
    result = indicators.stats(rated, store="s-nj", from_=date(2026, 11, 1))

    assert {name: result[name] for name in ("store", "department", "region", "item", "to")} == {
        "store": "s-nj",
        "department": None,
        "region": None,
        "item": None,
        "to": None,
    }
    assert result["from_"] == date(2026, 11, 1)


def test_a_period_that_ends_before_it_begins_is_invalid_naming_to(uow):
    with pytest.raises(Invalid) as caught:
        indicators.stats(uow, from_=date(2026, 11, 25), to=date(2026, 11, 24))

    assert set(caught.value.fields) == {"to"}


def test_stats_of_nothing_are_empty_with_no_rates(uow):
    result = contract.RatingStats().dump(indicators.stats(uow, region="999999"))

    assert result["overall"]["reviews"] == 0
    assert result["overall"]["praise_rate"] is None
    assert result["overall"]["evaluation_rate"] is None
    assert result["overall"]["sub_grades"] == {}
    assert result["stores"] == result["departments"] == result["items"] == []
    assert_documented(contract.RatingStats, result)


def test_the_stats_answer_is_what_the_contract_documents(rated):
    indicators.count_review_submitted(
        rated, review_event(2, review_id="r-x", indicators_given={"efficiency": 2})
    )
    indicators.count_rectification_resolved(rated, resolved("r-x"))

    answer = contract.RatingStats().dump(indicators.stats(rated, from_=date(2026, 11, 1)))

    assert_documented(contract.RatingStats, answer)
    assert answer["from"] == "2026-11-01" and answer["to"] is None
    overall = answer["overall"]
    assert set(overall) >= {
        "reviews",
        "evaluable",
        "evaluation_rate",
        "praise_rate",
        "bad_rate",
        "rectification_rate",
        "callback_rate",
        "average_grade",
        "sub_grades",
    }
    assert overall["sub_grades"] == {"efficiency": 2.0}
    assert overall["rectification_rate"] == 0.5


# --- escalations beside the indicators --------------------------------------


def escalated(department="320100-MSA", level="dept_admin"):
    payload = {
        "application_id": "a-late",
        "step_id": "approve",
        "department_code": department,
        "level": level,
        "due_date": "2026-10-12",
    }
    return delivered(envelope("workflow", "case_escalated", payload), workflow.CaseEscalated)


def escalations(result) -> dict:
    return {
        entry["department_code"]: (
            entry["rating"].reviews,
            None
            if entry["escalations"] is None
            else (entry["escalations"].dept_admin, entry["escalations"].operator),
        )
        for entry in result["departments"]
    }


def test_stats_count_escalations_overall_and_per_department(rated):
    from services.ratings.service_layer import use_cases

    for department, level in [
        ("320100-MSA", "dept_admin"),
        ("320100-MSA", "dept_admin"),
        ("320100-MSA", "operator"),
        ("320600-MSA", "dept_admin"),  # escalated, never reviewed
    ]:
        use_cases.record_escalation(rated, escalated(department, level))

    result = indicators.stats(rated)
    assert escalations(result) == {
        "320100-MSA": (3, (2, 1)),
        "320500-MSA": (2, (0, 0)),
        "320600-MSA": (0, (1, 0)),
    }
    assert (result["escalations"].dept_admin, result["escalations"].operator) == (3, 1)
    unrated = result["departments"][-1]["rating"]
    assert (unrated.reviews, unrated.praise_rate) == (0, None)

    by_department = indicators.stats(rated, department="320600-MSA")
    assert escalations(by_department) == {"320600-MSA": (0, (1, 0))}
    assert by_department["overall"].reviews == 0


@pytest.mark.parametrize(
    "narrowed",
    [
        {"region": "320100"},
        {"store": "s-nj"},
        {"item": "i-food"},
        {"from_": date(2026, 11, 25)},
        {"to": date(2026, 11, 25)},
    ],
)
def test_escalations_name_no_region_store_item_or_day_so_such_filters_give_none(rated, narrowed):
    from services.ratings.service_layer import use_cases

    use_cases.record_escalation(rated, escalated())

    result = indicators.stats(rated, **narrowed)

    assert result["escalations"] is None
    assert all(entry["escalations"] is None for entry in result["departments"])
    dumped = contract.RatingStats().dump(result)
    assert dumped["escalations"] is None
    assert_documented(contract.RatingStats, dumped)


# --- a store's summary ------------------------------------------------------


def test_a_stores_summary_is_its_indicators_over_all_time(rated):
    store = indicators.store_summary(rated, "s-nj")

    assert (store.reviews, store.evaluable, store.praise_rate, store.average_grade) == (
        3,
        3,
        0.6667,
        3.33,
    )
    assert contract.Rating().dump(store) == {
        "reviews": 3,
        "praise_rate": 0.6667,
        "average_grade": 3.33,
    }
    assert_documented(contract.Indicators, contract.Indicators().dump(store))


def test_a_stores_summary_reads_within_the_callers_transaction(rated):
    with rated:
        store = indicators.store_summary(rated, "s-sz")
        assert rated.session is not None  # the caller's transaction is still open

    assert store.reviews == 2


def test_a_store_nobody_reviewed_has_no_rates(uow):
    store = indicators.store_summary(uow, "nobody")

    assert (store.reviews, store.praise_rate, store.average_grade) == (0, None, None)


def test_the_province_praise_rate_leaves_out_excluded_reviews(uow):
    assert indicators.province_praise_rate(uow) is None
    indicators.count_review_submitted(uow, review_event(5))
    indicators.count_review_submitted(uow, review_event(1, review_id="r-unfair"))
    assert indicators.province_praise_rate(uow) == 0.5

    indicators.count_appeal_decided(uow, appeal_decided("r-unfair"))

    assert indicators.province_praise_rate(uow) == 1.0


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"efficiency": 0}, "payload.indicators.efficiency"),
        ({"attitude": "5"}, "payload.indicators.attitude"),
    ],
)
def test_a_review_with_a_bad_sub_grade_is_invalid(uow, given, field):
    event = review_event(4)
    event["payload"]["indicators"] = given

    with pytest.raises(Invalid) as caught:
        indicators.count_review_submitted(uow, event)

    assert set(caught.value.fields) == {field}
