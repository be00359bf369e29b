"""Rectification use cases on a real SQLite unit of work (no broker: events stop
at the outbox): bad reviews made through evaluation's use cases, then staff's
lists, the verification, the fix, the return visit, the escalation sweep, the
calendar ratings keeps, and the figures the gauges read."""

import shutil
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from services.common.errors import Conflict, Forbidden, Invalid, NotFound
from services.common.testing import assert_documented, citizen, clear_outbox, delivered, outbox
from services.common.testing import envelope as event_envelope
from services.common.working_calendar import SHIPPED_CALENDARS, shipped_schedule
from services.ratings import contract
from services.ratings.adapters import calendar_repository
from services.ratings.service_layer import rectifications, use_cases
from services.ratings.service_layer.gauges import gauges
from services.workflow import contract as workflow

from .conftest import CLERK, DEPARTMENT, NOW, OPERATOR, ended_envelope

BEIJING = timezone(timedelta(hours=8))
OTHER_DEPARTMENT = "320500-MSA"
OTHER_CLERK = {**CLERK, "user_id": "u-clerk-sz", "department_code": OTHER_DEPARTMENT}
ADMIN = {**CLERK, "user_id": "u-admin", "roles": ["dept_admin"]}


def at(day: date, hour: int = 10) -> datetime:
    """``hour`` o'clock in Nanjing on ``day``, as a UTC instant."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=BEIJING).astimezone(UTC)


@pytest.fixture(autouse=True)
def only_2026_shipped(monkeypatch, tmp_path):
    """The code ships the 2026 schedule only: a later year's file, once added,
    does not change what these tests count with."""
    shipped = tmp_path / "calendars"
    shipped.mkdir()
    shutil.copy(SHIPPED_CALENDARS / "2026.json", shipped / "2026.json")
    monkeypatch.setattr(calendar_repository, "SHIPPED_CALENDARS", shipped)


def bad_review(uow, application_id, handled_by=DEPARTMENT, grade=1, now=NOW):
    """A case handled by ``handled_by`` ended, and its applicant gave it a bad
    grade (through evaluation's use cases); the rectification's id."""
    applicant = citizen(f"u-{application_id}", name="张三")
    assert use_cases.record_ended_case(
        uow,
        delivered(
            ended_envelope(
                application_id=application_id,
                applicant_id=applicant["user_id"],
                handled_by=handled_by,
            ),
            workflow.ApplicationEnded,
        ),
    )
    review = use_cases.submit_review(uow, applicant, application_id, grade, "等了很久", now=now)
    with uow:
        rectification = uow.rectifications.for_review(review.review_id)
    return rectification.rectification_id


@pytest.fixture
def flagged(uow):
    """Two bad reviews handled by DEPARTMENT (the second two days later), one by
    another department; the outbox emptied."""
    ids = {
        "old": bad_review(uow, "app-old"),
        "new": bad_review(uow, "app-new", now=NOW + timedelta(days=2)),
        "sz": bad_review(uow, "app-sz", handled_by=OTHER_DEPARTMENT),
    }
    clear_outbox(uow)
    return ids


def last_event(uow, event_type):
    [found] = [e for e in outbox(uow) if e["type"] == event_type][-1:]
    assert_documented(contract.EVENTS[event_type], found["payload"])
    return found["payload"]


# --- a bad review opens one -----------------------------------------------------


def test_a_bad_review_opens_a_rectification_to_verify_by_the_next_working_day(uow):
    rectification_id = bad_review(uow, "app-1", grade=2)

    view = rectifications.get_rectification(uow, CLERK, rectification_id, now=NOW)

    # Wednesday 25 November 2026: verify by Thursday.
    assert view["state"] == "awaiting_verification"
    assert view["verify_due"] == date(2026, 11, 26)
    assert (view["application_id"], view["visit_id"]) == ("app-1", None)
    assert (view["grade"], view["review_comment"]) == (2, "等了很久")
    assert view["department_code"] == DEPARTMENT
    flagged_payload = last_event(uow, "bad_review_flagged")
    assert flagged_payload["rectification_id"] == rectification_id
    assert flagged_payload["verify_due"] == "2026-11-26"
    assert_documented(contract.Rectification, contract.Rectification().dump(view))


def test_the_rectification_goes_to_the_department_that_handled_the_case(uow):
    rectification_id = bad_review(uow, "app-1", handled_by=OTHER_DEPARTMENT)

    with pytest.raises(NotFound):
        rectifications.get_rectification(uow, CLERK, rectification_id)
    assert (
        rectifications.get_rectification(uow, OTHER_CLERK, rectification_id)["department_code"]
        == OTHER_DEPARTMENT
    )


# --- lists ----------------------------------------------------------------------


def application_ids(page):
    return [entry["application_id"] for entry in page["items"]]


def test_staff_see_their_departments_rectifications_earliest_due_first(uow, flagged):
    page = rectifications.list_rectifications(uow, CLERK, page=1, page_size=20, now=NOW)

    assert application_ids(page) == ["app-old", "app-new"]
    assert page["total"] == 2
    assert page["items"][0]["grade"] == 1
    assert page["items"][0]["item_name"] == "Food business licence"
    assert_documented(contract.RectificationPage, contract.RectificationPage().dump(page))


def test_an_operator_sees_every_rectification_a_page_at_a_time(uow, flagged):
    page = rectifications.list_rectifications(uow, OPERATOR, page=2, page_size=2, now=NOW)

    assert page["total"] == 3
    assert len(page["items"]) == 1


@pytest.mark.parametrize(
    "actor",
    [
        citizen("u-app-old"),
        {**CLERK, "department_code": None},
        {**OPERATOR, "user_id": None},
        {},
        None,
    ],
    ids=["citizen", "staff-without-department", "no-user-id", "empty", "none"],
)
def test_no_one_else_sees_rectifications(uow, flagged, actor):
    with pytest.raises(Forbidden):
        rectifications.list_rectifications(uow, actor, page=1, page_size=20)
    with pytest.raises(Forbidden):
        rectifications.get_rectification(uow, actor, flagged["old"])


def test_open_ones_come_first_then_those_awaiting_a_call_then_the_closed(uow, flagged):
    rectifications.verify_rectification(
        uow, CLERK, flagged["old"], "immediate", "已当场补办", now=NOW
    )  # resolved, awaiting the return visit
    rectifications.verify_rectification(
        uow, CLERK, flagged["new"], "deadline", "补齐告知单", 2, now=NOW
    )
    closed = bad_review(uow, "app-closed", now=NOW - timedelta(days=1))
    rectifications.verify_rectification(uow, CLERK, closed, "immediate", "已改", now=NOW)
    rectifications.record_return_visit(uow, CLERK, closed, True, True, now=NOW)
    waiting = bad_review(uow, "app-waiting", now=NOW + timedelta(days=1))

    page = rectifications.list_rectifications(uow, CLERK, 1, 20, now=NOW)

    # Awaiting verification by Friday 27, verified and due Friday 27 (the
    # older first), then resolved, then closed.
    assert application_ids(page) == ["app-new", "app-waiting", "app-old", "app-closed"]
    assert [entry["state"] for entry in page["items"]] == [
        "verified",
        "awaiting_verification",
        "resolved",
        "closed",
    ]
    assert waiting in [entry["rectification_id"] for entry in page["items"]]


def test_lists_filter_by_state(uow, flagged):
    rectifications.verify_rectification(uow, CLERK, flagged["old"], "deadline", "计划", now=NOW)

    verified = rectifications.list_rectifications(uow, OPERATOR, 1, 20, state="verified")
    awaiting = rectifications.list_rectifications(
        uow, OPERATOR, 1, 20, state="awaiting_verification"
    )

    assert application_ids(verified) == ["app-old"]
    assert verified["total"] == 1
    assert sorted(application_ids(awaiting)) == ["app-new", "app-sz"]


@pytest.mark.parametrize(
    ("filters", "field"), [({"state": "open"}, "state"), ({"level": "mayor"}, "level")]
)
def test_an_unknown_filter_is_invalid(uow, filters, field):
    with pytest.raises(Invalid) as caught:
        rectifications.list_rectifications(uow, OPERATOR, 1, 20, **filters)

    assert set(caught.value.fields) == {field}


def test_overdue_is_a_working_day_after_the_current_due_date(uow, flagged):
    thursday = rectifications.list_rectifications(uow, CLERK, 1, 20, now=at(date(2026, 11, 26)))
    friday = rectifications.list_rectifications(uow, CLERK, 1, 20, now=at(date(2026, 11, 27)))

    # app-old was due Thursday 26; app-new (opened Friday 27) is due Monday 30.
    assert [entry["overdue"] for entry in thursday["items"]] == [False, False]
    assert [entry["overdue"] for entry in friday["items"]] == [True, False]


# --- verification, fix, return visit --------------------------------------------


def test_staff_verify_with_a_deadline(uow, flagged):
    verified_at = at(date(2026, 11, 26))

    view = rectifications.verify_rectification(
        uow, ADMIN, flagged["old"], "deadline", "  补齐一次性告知单 ", 10, now=verified_at
    )

    assert view["state"] == "verified"
    assert (view["decision"], view["plan"], view["working_days"]) == (
        "deadline",
        "补齐一次性告知单",
        10,
    )
    assert view["due_date"] == date(2026, 12, 10)
    assert (view["verified_by"], view["verified_at"]) == ("u-admin", verified_at)
    with uow:
        stored = uow.rectifications.get(flagged["old"])
    assert stored.due_date == date(2026, 12, 10)
    payload = last_event(uow, "rectification_verified")
    assert payload == {
        "rectification_id": flagged["old"],
        "review_id": stored.review_id,
        "department_code": DEPARTMENT,
        "decision": "deadline",
        "due_date": "2026-12-10",
        "verified_at": "2026-11-26T02:00:00Z",
    }


def test_immediate_resolves_it_with_the_verification(uow, flagged):
    view = rectifications.verify_rectification(
        uow, OPERATOR, flagged["sz"], "immediate", "已当场补办并致歉", now=NOW
    )

    assert view["state"] == "resolved"
    assert view["resolution_comment"] == "已当场补办并致歉"
    assert [e["type"] for e in outbox(uow)] == ["rectification_verified", "rectification_resolved"]
    assert last_event(uow, "rectification_resolved")["round"] == 1


def test_a_bad_verification_changes_nothing(uow, flagged):
    with pytest.raises(Invalid) as caught:
        rectifications.verify_rectification(uow, CLERK, flagged["old"], "deadline", " ", 61)

    assert set(caught.value.fields) == {"plan", "working_days"}
    with uow:
        assert uow.rectifications.get(flagged["old"]).state == "awaiting_verification"
    assert outbox(uow) == []


def test_staff_of_another_department_may_not_act(uow, flagged):
    with pytest.raises(Forbidden):
        rectifications.verify_rectification(uow, CLERK, flagged["sz"], "immediate", "已改")

    with uow:
        assert uow.rectifications.get(flagged["sz"]).state == "awaiting_verification"


@pytest.mark.parametrize(
    "command",
    [
        lambda uow: rectifications.verify_rectification(uow, CLERK, "nope", "immediate", "x"),
        lambda uow: rectifications.resolve_rectification(uow, CLERK, "nope", "x"),
        lambda uow: rectifications.record_return_visit(uow, CLERK, "nope", True, True),
        lambda uow: rectifications.get_rectification(uow, CLERK, "nope"),
    ],
    ids=["verify", "resolve", "return-visit", "get"],
)
def test_an_unknown_rectification_is_not_found(uow, command):
    with pytest.raises(NotFound) as caught:
        command(uow)

    assert caught.value.fields == {"rectification_id": "not found"}


def test_staff_resolve_a_verified_rectification(uow, flagged):
    rectifications.verify_rectification(uow, CLERK, flagged["old"], "deadline", "计划", now=NOW)
    later = NOW + timedelta(days=3)

    view = rectifications.resolve_rectification(
        uow, CLERK, flagged["old"], "  已补齐告知单  ", now=later
    )

    assert view["state"] == "resolved"
    assert (view["resolution_comment"], view["resolved_by"], view["resolved_at"]) == (
        "已补齐告知单",
        "u-clerk",
        later,
    )
    payload = last_event(uow, "rectification_resolved")
    assert payload["resolved_at"] == "2026-11-28T08:00:00Z"
    assert (payload["round"], payload["application_id"]) == (1, "app-old")


def test_resolving_before_verifying_is_a_conflict(uow, flagged):
    with pytest.raises(Conflict) as caught:
        rectifications.resolve_rectification(uow, CLERK, flagged["old"], "已改")

    assert caught.value.code == "invalid_transition"


def test_after_explain_the_explanation_is_the_answer(uow, flagged):
    rectifications.verify_rectification(
        uow, CLERK, flagged["old"], "explain", "依法须本人到场办理", now=NOW
    )

    view = rectifications.resolve_rectification(uow, CLERK, flagged["old"], now=NOW)

    assert view["resolution_comment"] == "依法须本人到场办理"


def test_a_satisfied_return_visit_closes_it(uow, flagged):
    rectifications.verify_rectification(uow, CLERK, flagged["old"], "immediate", "已改", now=NOW)
    called = NOW + timedelta(days=1)

    view = rectifications.record_return_visit(
        uow, CLERK, flagged["old"], True, True, "群众满意", now=called
    )

    assert (view["state"], view["outcome"], view["closed_at"]) == ("closed", "satisfied", called)
    assert [
        (visit.round, visit.reached, visit.satisfied, visit.comment)
        for visit in view["return_visits"]
    ] == [(1, True, True, "群众满意")]
    assert last_event(uow, "return_visit_recorded")["reopened"] is False
    assert last_event(uow, "rectification_closed")["outcome"] == "satisfied"
    assert_documented(contract.Rectification, contract.Rectification().dump(view))


def test_an_unsatisfied_citizen_reopens_it_and_it_is_verified_again(uow, flagged):
    rectifications.verify_rectification(uow, CLERK, flagged["old"], "immediate", "已改", now=NOW)
    friday = at(date(2026, 11, 27))

    view = rectifications.record_return_visit(
        uow, CLERK, flagged["old"], True, False, "仍未解决", now=friday
    )

    assert (view["state"], view["round"], view["verify_due"]) == (
        "awaiting_verification",
        2,
        date(2026, 11, 30),
    )
    assert view["decision"] is None and view["resolution_comment"] is None
    assert last_event(uow, "return_visit_recorded")["reopened"] is True

    rectifications.verify_rectification(uow, CLERK, flagged["old"], "immediate", "再改", now=friday)
    assert last_event(uow, "rectification_resolved")["round"] == 2
    view = rectifications.record_return_visit(uow, CLERK, flagged["old"], True, False, now=friday)
    assert (view["state"], view["outcome"]) == ("closed", "closed_after_reopen")
    assert [visit.round for visit in view["return_visits"]] == [1, 2]


def test_the_third_unreachable_call_closes_it(uow, flagged):
    rectifications.verify_rectification(uow, CLERK, flagged["old"], "immediate", "已改", now=NOW)

    for call in range(3):
        view = rectifications.record_return_visit(
            uow, CLERK, flagged["old"], False, None, "未接通", now=NOW + timedelta(hours=call)
        )

    assert (view["state"], view["outcome"]) == ("closed", "unreachable")
    assert [visit.reached for visit in view["return_visits"]] == [False, False, False]


def test_a_return_visit_before_the_fix_is_a_conflict(uow, flagged):
    with pytest.raises(Conflict):
        rectifications.record_return_visit(uow, CLERK, flagged["old"], True, True)

    with uow:
        assert uow.rectifications.get(flagged["old"]).return_visits == []


def test_a_bad_return_visit_names_its_field(uow, flagged):
    rectifications.verify_rectification(uow, CLERK, flagged["old"], "immediate", "已改", now=NOW)

    with pytest.raises(Invalid) as caught:
        rectifications.record_return_visit(uow, CLERK, flagged["old"], True, None)

    assert set(caught.value.fields) == {"satisfied"}


# --- an upheld appeal -----------------------------------------------------------


def test_an_upheld_appeal_closes_the_open_rectification(uow, flagged):
    with uow:
        review_id = uow.rectifications.get(flagged["old"]).review_id
        closed = rectifications.close_for_appeal(uow, review_id, NOW)
        uow.commit()

    assert closed.outcome == "appeal_upheld"
    view = rectifications.get_rectification(uow, OPERATOR, flagged["old"])
    assert (view["state"], view["outcome"]) == ("closed_for_appeal", "appeal_upheld")
    assert last_event(uow, "rectification_closed")["outcome"] == "appeal_upheld"
    with uow:
        assert rectifications.close_for_appeal(uow, review_id, NOW) is None
        assert rectifications.close_for_appeal(uow, "no-such-review", NOW) is None


# --- escalation (督办) -----------------------------------------------------------


def test_a_late_verification_is_escalated_to_the_admin_then_the_operator(uow, flagged):
    # app-old and app-sz were due Thursday 26, app-new Monday 30.
    assert rectifications.escalate_late_rectifications(uow, date(2026, 11, 26), now=NOW) == 0
    friday = at(date(2026, 11, 27), 9)

    assert rectifications.escalate_late_rectifications(uow, now=friday) == 2
    assert rectifications.escalate_late_rectifications(uow, now=friday) == 0

    payloads = [e["payload"] for e in outbox(uow) if e["type"] == "rectification_escalated"]
    assert sorted((p["department_code"], p["level"], p["due_date"]) for p in payloads) == [
        (DEPARTMENT, "dept_admin", "2026-11-26"),
        (OTHER_DEPARTMENT, "dept_admin", "2026-11-26"),
    ]
    for payload in payloads:
        assert_documented(contract.RectificationEscalated, payload)
        assert payload["escalated_at"] == "2026-11-27T01:00:00Z"
    view = rectifications.get_rectification(uow, CLERK, flagged["old"])
    assert [(e.level, e.round) for e in view["escalations"]] == [("dept_admin", 1)]

    # Three working days on (Wednesday 2 December) both go to the operator;
    # app-new, due Monday 30, reaches the admin.
    assert rectifications.escalate_late_rectifications(uow, date(2026, 12, 2), now=NOW) == 3
    by_operator = rectifications.list_rectifications(uow, OPERATOR, 1, 20, level="operator")
    assert sorted(application_ids(by_operator)) == ["app-old", "app-sz"]
    by_admin = rectifications.list_rectifications(uow, CLERK, 1, 20, level="dept_admin")
    assert application_ids(by_admin) == ["app-old", "app-new"]
    assert rectifications.escalate_late_rectifications(uow, date(2026, 12, 31), now=NOW) == 1


def test_the_operator_days_are_passed_in(uow, flagged):
    raised = rectifications.escalate_late_rectifications(
        uow, date(2026, 11, 27), now=NOW, operator_days=1
    )
    # Monday 30 November is one working day past Friday 27: app-old and app-sz
    # go to the operator; app-new is due that day.
    later = rectifications.escalate_late_rectifications(
        uow, date(2026, 11, 30), now=NOW, operator_days=1
    )

    assert (raised, later) == (2, 2)


def test_a_rectification_acted_on_is_not_escalated(uow, flagged):
    rectifications.verify_rectification(uow, CLERK, flagged["old"], "immediate", "已改", now=NOW)
    rectifications.verify_rectification(uow, OTHER_CLERK, flagged["sz"], "deadline", "计划", 20)

    assert rectifications.escalate_late_rectifications(uow, date(2026, 11, 27), now=NOW) == 0


def test_a_late_fix_is_escalated_on_its_due_date(uow, flagged):
    rectifications.verify_rectification(
        uow, CLERK, flagged["old"], "deadline", "计划", 1, now=at(date(2026, 11, 26))
    )  # due Friday 27

    assert rectifications.escalate_late_rectifications(uow, date(2026, 11, 29), now=NOW) == 1
    [payload] = [e["payload"] for e in outbox(uow) if e["type"] == "rectification_escalated"]
    assert payload["department_code"] == OTHER_DEPARTMENT  # app-sz, still unverified
    assert rectifications.escalate_late_rectifications(uow, date(2026, 11, 30), now=NOW) == 1
    assert last_event(uow, "rectification_escalated")["due_date"] == "2026-11-27"


def test_the_sweep_takes_today_from_the_process_clock(uow, flagged, monkeypatch):
    monkeypatch.setattr("services.common.clock.now", lambda: at(date(2026, 11, 27)))

    assert rectifications.escalate_late_rectifications(uow) == 2


# --- the working calendar -------------------------------------------------------


def calendar_loaded(year, holidays, workdays, occurred_at=None, event_id=None):
    payload = workflow.CalendarLoaded().dump(
        {"year": year, "holidays": holidays, "workdays": workdays}
    )
    assert_documented(workflow.CalendarLoaded, payload)
    return delivered(
        event_envelope(
            "workflow",
            "calendar_loaded",
            payload,
            occurred_at=occurred_at or NOW,
            event_id=event_id,
        ),
        workflow.CalendarLoaded,
    )


def shipped_2026():
    shipped = shipped_schedule(2026, calendar_repository.SHIPPED_CALENDARS)
    return shipped["holidays"], shipped["workdays"]


def test_a_year_workflow_loads_moves_the_deadlines(uow):
    holidays, workdays = shipped_2026()
    # The province declares Thursday 26 November 2026 a day off.
    event = calendar_loaded(2026, [*holidays, date(2026, 11, 26)], workdays)

    assert rectifications.record_calendar_year(uow, event) is True
    assert rectifications.record_calendar_year(uow, event) is False  # delivered again

    rectification_id = bad_review(uow, "app-1")
    assert rectifications.get_rectification(uow, CLERK, rectification_id)["verify_due"] == date(
        2026, 11, 27
    )
    with uow:
        stored = uow.calendar.year(2026)
    assert stored["source"] == "workflow"
    assert date(2026, 11, 26) in stored["holidays"]


def test_a_year_not_shipped_counts_once_loaded(uow):
    assert rectifications.record_calendar_year(
        uow, calendar_loaded(2027, [date(2027, 1, 1)], [date(2027, 1, 2)])
    )

    with uow:
        calendar = rectifications.rectification_calendar(uow)
    assert calendar.covers(date(2027, 1, 1), date(2027, 12, 31))
    assert not calendar.is_working_day(date(2027, 1, 1))
    assert calendar.is_working_day(date(2027, 1, 2))  # a make-up Saturday


def test_two_instances_announcing_a_new_year_at_once_store_it_once(uow, monkeypatch):
    """Each workflow instance announces the year it loaded, at the same moment:
    the one that inserts it second (it found no row to lock) is refused by the
    primary key, and does it again."""
    put = calendar_repository.CalendarRepository.put
    tries = []

    def raced(self, year, *args, **kwargs):
        tries.append(year)
        if len(tries) == 1:
            raise sa.exc.IntegrityError("INSERT INTO calendar_years", {}, Exception("pk"))
        return put(self, year, *args, **kwargs)

    monkeypatch.setattr(calendar_repository.CalendarRepository, "put", raced)

    event = calendar_loaded(2027, [date(2027, 1, 1)], [])
    assert rectifications.record_calendar_year(uow, event) is True

    assert tries == [2027, 2027]
    with uow:
        assert uow.calendar.year(2027)["holidays"] == [date(2027, 1, 1)]
    assert rectifications.record_calendar_year(uow, event) is False  # handled once


def test_an_older_correction_arriving_late_does_not_replace_a_newer_one(uow):
    holidays, workdays = shipped_2026()
    newer = calendar_loaded(
        2026, [*holidays, date(2026, 11, 26)], workdays, occurred_at=NOW + timedelta(hours=1)
    )
    older = calendar_loaded(2026, holidays, workdays, occurred_at=NOW)

    assert rectifications.record_calendar_year(uow, newer) is True
    assert rectifications.record_calendar_year(uow, older) is False

    with uow:
        assert date(2026, 11, 26) in uow.calendar.year(2026)["holidays"]


@pytest.mark.parametrize(
    ("holidays", "workdays"),
    [([date(2027, 1, 1)], []), ([date(2026, 10, 10)], [date(2026, 10, 10)])],
    ids=["day-of-another-year", "holiday-and-workday"],
)
def test_a_calendar_that_does_not_hold_together_is_invalid(uow, holidays, workdays):
    with pytest.raises(Invalid) as caught:
        rectifications.record_calendar_year(uow, calendar_loaded(2026, holidays, workdays))

    assert set(caught.value.fields) == {"payload"}
    with uow:
        assert uow.calendar.year(2026)["source"] == "shipped"


def test_the_shipped_years_are_stored_once_and_a_loaded_year_is_kept(uow):
    holidays, workdays = shipped_2026()
    assert rectifications.store_shipped_calendars(uow) == [2026]
    assert rectifications.store_shipped_calendars(uow) == []
    with uow:
        assert uow.calendar.year(2026)["source"] == "shipped"
        assert uow.calendar.year(2026)["holidays"] == holidays
        assert uow.calendar.year(2025) is None

    rectifications.record_calendar_year(uow, calendar_loaded(2026, holidays[:-1], workdays))
    assert rectifications.store_shipped_calendars(uow) == []
    with uow:
        assert uow.calendar.year(2026)["source"] == "workflow"


def test_the_demo_loader_stores_the_shipped_calendars(uow):
    from services.ratings.bootstrap import load_demo

    assert load_demo(uow) == {"calendar_years": [2026]}
    assert load_demo(uow) == {"calendar_years": []}


def test_a_year_in_no_calendar_counts_weekdays_and_says_so(uow, caplog):
    with uow, caplog.at_level("WARNING"):
        calendar = rectifications.rectification_calendar(uow, at(date(2028, 5, 1)))

    assert calendar.is_working_day(date(2028, 5, 1))  # a Monday: no schedule known
    assert "no working calendar for 2028" in caplog.text


# --- figures --------------------------------------------------------------------


def test_rectifications_are_counted_per_state_and_late(uow, flagged):
    rectifications.verify_rectification(uow, CLERK, flagged["old"], "immediate", "已改", now=NOW)

    assert rectifications.count_rectifications_by_state(uow) == {
        "awaiting_verification": 2,
        "verified": 0,
        "resolved": 1,
        "closed": 0,
        "closed_for_appeal": 0,
    }
    friday = at(date(2026, 11, 27))
    assert rectifications.count_late_rectifications(uow, friday) == 1  # app-sz
    assert rectifications.count_late_rectifications(uow, at(date(2026, 12, 1))) == 2
    assert rectifications.count_late_rectifications(uow, NOW) == 0


def test_the_gauges_read_the_rectification_figures(uow, flagged, monkeypatch):
    monkeypatch.setattr("services.common.clock.now", lambda: at(date(2026, 11, 27)))
    readings = {reading.name: reading for reading in gauges(lambda: uow, "ratings")}

    by_state = dict(readings["tongban_ratings_rectifications"].read())
    late = readings["tongban_ratings_rectifications_late"].read()

    assert readings["tongban_ratings_rectifications"].labels == ("state",)
    assert by_state[("awaiting_verification",)] == 3
    assert by_state[("closed",)] == 0
    assert late == [((), 2)]


# --- settings -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "days"),
    [
        ({}, 3),
        ({"RECTIFICATION_ESCALATE_TO_OPERATOR_DAYS": ""}, 3),
        ({"RECTIFICATION_ESCALATE_TO_OPERATOR_DAYS": "5"}, 5),
        ({"RECTIFICATION_ESCALATE_TO_OPERATOR_DAYS": 2}, 2),
    ],
)
def test_the_operator_days_come_from_the_config(config, days):
    assert rectifications.operator_days_of(config) == days


@pytest.mark.parametrize("value", ["0", "61", "-1", "2.5", "three", "３"])
def test_bad_operator_days_name_the_setting(value):
    with pytest.raises(ValueError, match="RECTIFICATION_ESCALATE_TO_OPERATOR_DAYS"):
        rectifications.operator_days_of({"RECTIFICATION_ESCALATE_TO_OPERATOR_DAYS": value})


@pytest.mark.parametrize(
    ("config", "seconds"),
    [
        ({}, 60.0),
        ({"RECTIFICATION_CHECK_SECONDS": "5"}, 5.0),
        ({"RECTIFICATION_CHECK_SECONDS": 0.5}, 0.5),
    ],
)
def test_the_sweep_interval_comes_from_the_config(config, seconds):
    assert rectifications.check_seconds_of(config) == seconds


@pytest.mark.parametrize("value", ["0", "-1", "soon", "nan", "inf"])
def test_a_bad_sweep_interval_names_the_setting(value):
    with pytest.raises(ValueError, match="RECTIFICATION_CHECK_SECONDS"):
        rectifications.check_seconds_of({"RECTIFICATION_CHECK_SECONDS": value})
