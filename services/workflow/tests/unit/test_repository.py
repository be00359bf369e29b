"""The repositories on SQLite: a case's pinned process and progress stored and
loaded whole, its tasks as worklist rows, process versions, calendar years, and
the worklist's signal filter and due-date order."""

import threading
import time
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from services.common import errors
from services.common.testing import outbox
from services.workflow.adapters import orm
from services.workflow.adapters.repository import shipped_calendar
from services.workflow.domain.model import Application, ItemSnapshot, State
from services.workflow.domain.process import ProcessDefinition
from services.workflow.domain.progress import warning_of
from services.workflow.service_layer import use_cases
from services.workflow.service_layer.unit_of_work import WorkflowUnitOfWork

from .conftest import (
    APPLICANT,
    APPROVER,
    APPROVER_A,
    CAL,
    CLERK,
    CLERK_A,
    DEPT_ADMIN,
    EXPRESS,
    FORM,
    JOINT_A,
    JOINT_B,
    MATERIALS,
    NOW,
    ONLINE,
    OPERATOR,
    OWN,
    act,
    courier_event,
    item,
    statements_sent,
    submit,
)

PERSON = {"kind": "person", "user_id": "u-principal", "name": "王五"}
# Accept, a joint step any one of two departments meets, an instant check a
# person decides when its facts are missing, then the decision.
ENGINE = ProcessDefinition.parse(
    {
        "steps": [
            {"id": "accept", "kind": "accept", "role": "window_clerk", "days": 1},
            {
                "id": "joint",
                "kind": "parallel",
                "join": "any",
                "branches": [
                    {"department_code": JOINT_A, "role": "approver", "days": 3},
                    {"department_code": JOINT_B, "role": "approver", "days": 3},
                ],
            },
            {
                "id": "check",
                "kind": "auto",
                "days": 0,
                "rules": {"fact": "applicant.age", "op": "ge", "value": 18},
                "fallback": {"role": "approver", "days": 2},
            },
            {"id": "decide", "kind": "approve", "role": "approver", "days": 2},
        ],
        "supplement_days": 10,
        "extension_days": 5,
    }
)
SNAPSHOT = ItemSnapshot.from_catalog(item(joint_departments=[JOINT_A, JOINT_B]))


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour - 8, tzinfo=UTC)


def stored_parts(app: Application) -> dict:
    """Everything of a case the repository keeps, as plain values."""
    return {
        "state": str(app.state),
        "process": app.process.to_dict(),
        "process_version": app.process_version,
        "due_date": app.due_date,
        "legal_due_date": app.legal_due_date,
        "statutory_days": app.statutory_days,
        "steps": [run.to_dict() for run in app.steps],
        "clock": app.clock.to_dict(),
        "missing_materials": app.missing_materials,
        "supplement_due": app.supplement_due,
        "extensions": [extension.to_dict() for extension in app.extensions],
        "suspensions": [suspension.to_dict() for suspension in app.suspensions],
        "calendar_provisional": app.calendar_provisional,
        "timeline": app.timeline,
        "licence_no": app.licence_no,
        "overdue_reported": app.overdue_reported,
        "on_behalf_of": app.on_behalf_of,
        "mandate_id": app.mandate_id,
        "holder_id": app.holder_id,
        "materials": app.materials,
        "window": app.window,
        "joint_departments": app.joint_departments,
        "decision": app.decision,
    }


def task_rows(uow, application_id) -> list[tuple]:
    table = orm.tasks
    with uow:
        return [
            tuple(row)
            for row in uow.session.execute(
                sa.select(
                    table.c.step_id,
                    table.c.position,
                    table.c.department_code,
                    table.c.role,
                    table.c.state,
                    table.c.due_date,
                )
                .where(table.c.application_id == application_id)
                .order_by(table.c.step_id, table.c.position)
            )
        ]


def tasks_of(app: Application) -> list[tuple]:
    return sorted(
        (run.id, position, task.department_code, task.role, str(task.state), task.due_date)
        for run in app.steps
        for position, task in enumerate(run.tasks)
    )


def a_case_with_everything() -> Application:
    """Steps done, not needed, handed to a person and pending; extensions
    granted and waiting; a suspension ended and one running; a person applied
    for; submitted late in December, so its due dates reach into 2027."""
    app = submit(
        item=SNAPSHOT,
        process=ENGINE,
        process_version=4,
        on_behalf_of=PERSON,
        mandate_id="m-1",
        now=at(date(2026, 12, 17)),
    )
    act(app, CLERK, "accept", "材料齐全", now=at(date(2026, 12, 17)))
    act(app, APPROVER_A, "approve", "同意", now=at(date(2026, 12, 18)))
    app.hand_to_person("civil_affairs", "timed out", calendar=CAL, now=at(date(2026, 12, 18)))
    app.request_extension(APPROVER, 2, "需论证", now=at(date(2026, 12, 18)))
    app.decide_extension(DEPT_ADMIN, True, "同意", calendar=CAL, now=at(date(2026, 12, 18)))
    ended = app.suspend(CLERK, "inspection", "现场核查", now=at(date(2026, 12, 21)))
    app.end_suspension(
        CLERK, ended.suspension_id, "核查无误", calendar=CAL, now=at(date(2026, 12, 22))
    )
    app.request_extension(APPROVER, 1, "再论证", now=at(date(2026, 12, 22)))
    app.suspend(CLERK, "expert_review", "专家评审", now=at(date(2026, 12, 23)))
    app.overdue_reported = True
    app.events.clear()
    return app


# ------------------------------------------------------------------ round trip


# On PostgreSQL a case's row and its timeline are read in one statement.
@pytest.mark.parametrize("uow", ["sqlite", "postgresql"], indirect=True)
def test_a_case_is_stored_and_loaded_with_every_part_of_its_progress(uow):
    app = a_case_with_everything()
    assert [str(run.state) for run in app.steps] == ["done", "done", "active", "pending"]
    assert [str(task.state) for task in app.steps[1].tasks] == ["done", "not_needed"]
    assert app.calendar_provisional and not app.clock.running
    with uow:
        uow.applications.add(app, SNAPSHOT)
        uow.commit()
    with uow:
        loaded = uow.applications.get(app.application_id)
    assert stored_parts(loaded) == stored_parts(app)
    assert loaded.process == ENGINE
    assert loaded.process.step("joint").join.any
    # The worklists' rows are the case's tasks.
    assert task_rows(uow, app.application_id) == tasks_of(app)
    fallback = app.steps[2].tasks[0]
    assert ("check", 0, app.department_code, "approver", "active", fallback.due_date) in (
        task_rows(uow, app.application_id)
    )
    # The person it is for holds it, and follows it by that.
    with uow:
        holder = uow.session.execute(
            sa.select(orm.applications.c.holder_id).where(
                orm.applications.c.application_id == app.application_id
            )
        ).scalar_one()
    assert holder == "u-principal"
    assert loaded.timeline[0].on_behalf_of == PERSON


# On PostgreSQL a case's row and its timeline are read in one statement.
@pytest.mark.parametrize("uow", ["sqlite", "postgresql"], indirect=True)
def test_a_saved_case_keeps_its_new_progress_and_tasks(uow):
    app = a_case_with_everything()
    with uow:
        uow.applications.add(app, SNAPSHOT)
        uow.commit()
    with uow:
        loaded = uow.applications.get(app.application_id, for_update=True)
        running = loaded.suspensions[-1]
        loaded.end_suspension(CLERK, running.suspension_id, "通过", calendar=CAL, now=NOW)
        act(loaded, APPROVER, "approve", "人工核验", step="check", now=NOW)
        loaded.decide_extension(DEPT_ADMIN, False, "不需要", calendar=CAL, now=NOW)
        uow.applications.save(loaded)
        uow.commit()
    with uow:
        again = uow.applications.get(app.application_id)
    assert stored_parts(again) == stored_parts(loaded)
    assert [str(run.state) for run in again.steps] == ["done", "done", "done", "active"]
    assert [extension.state for extension in again.extensions] == ["approved", "refused"]
    assert again.clock.running and all(not s.open for s in again.suspensions)
    assert task_rows(uow, app.application_id) == tasks_of(again)
    # Only the new timeline entries were written.
    with uow:
        positions = list(
            uow.session.execute(
                sa.select(orm.timeline_entries.c.position)
                .where(orm.timeline_entries.c.application_id == app.application_id)
                .order_by(orm.timeline_entries.c.position)
            ).scalars()
        )
    assert positions == list(range(len(again.timeline)))


def test_a_case_waiting_for_materials_keeps_what_it_waits_for(uow):
    application = use_cases.submit_application(
        uow, item(), APPLICANT, FORM, MATERIALS, ONLINE, now=NOW
    )
    use_cases.act(
        uow,
        CLERK,
        application.application_id,
        "request_supplement",
        "缺少卫生许可证",
        missing_materials=["卫生许可证", "营业执照副本"],
        now=NOW,
    )
    with uow:
        loaded = uow.applications.get(application.application_id)
    assert (loaded.state, loaded.missing_materials, loaded.supplement_due) == (
        State.SUPPLEMENT_REQUESTED,
        ["卫生许可证", "营业执照副本"],
        date(2026, 10, 29),
    )
    assert loaded.clock.to_dict() == {
        "stopped_on": "2026-09-29",
        "stopped_for": "supplement",
        "stood_still": 0,
    }
    with uow:
        assert uow.applications.waiting_for_supplement() == [application.application_id]


def test_the_decision_and_the_days_the_clock_stood_still_outlast_the_transaction(uow):
    """An express case ends at the delivery, in a later transaction than its
    approval: the application_ended it records then counts to the approval."""
    case_id = use_cases.submit_application(
        uow, item(), APPLICANT, FORM, MATERIALS, EXPRESS, now=NOW
    ).application_id
    # Asked on Fri 9 October, supplied on Wed 14 October: four working days.
    use_cases.act(
        uow, CLERK, case_id, "request_supplement", "缺营业执照", now=at(date(2026, 10, 9))
    )
    use_cases.supplement(
        uow, APPLICANT, case_id, [{"name": "营业执照"}], now=at(date(2026, 10, 14))
    )
    with uow:
        assert uow.applications.get(case_id).clock.stood_still == 4
    use_cases.act(uow, CLERK, case_id, "accept", now=at(date(2026, 10, 14)))
    use_cases.act(uow, APPROVER_A, case_id, "approve", now=at(date(2026, 10, 16)))
    use_cases.act(uow, APPROVER, case_id, "approve", now=at(date(2026, 10, 16)))
    with uow:
        approved = uow.applications.get(case_id)
    # Nine working days to Fri 16 October, less the four.
    assert approved.decision == {"on": date(2026, 10, 16), "working_days": 5, "handled_by": OWN}

    delivered_at = at(date(2026, 10, 23))
    assert use_cases.on_result_delivered(
        uow, courier_event("result_delivered", case_id), now=delivered_at
    )
    ended = outbox(uow)[-1]
    assert (ended["type"], ended["payload"]["outcome"]) == ("application_ended", "completed")
    # Due Mon 12 October, moved by the four days to Fri 16 October.
    assert {
        key: ended["payload"][key] for key in ("ended_at", "due_date", "on_time", "working_days")
    } == {
        "ended_at": "2026-10-23T02:00:00Z",
        "due_date": "2026-10-16",
        "on_time": True,
        "working_days": 5,
    }


def test_a_licence_issued_by_the_engine_is_stored_once(uow):
    application = use_cases.submit_application(
        uow, item(joint_departments=[]), APPLICANT, FORM, MATERIALS, ONLINE, now=NOW
    )
    use_cases.act(uow, CLERK, application.application_id, "accept", now=NOW)
    done = use_cases.act(uow, APPROVER, application.application_id, "approve", now=NOW)
    with uow:
        loaded = uow.applications.get(application.application_id)
        licence = uow.licences.get(done.licence_no)
    assert loaded.licence.licence_no == done.licence_no == licence["licence_no"]
    assert loaded.licence.holder_id == "u-applicant"
    assert licence["holder_masked"] == "u-ap***cant"  # what is shown of the holder
    assert loaded.licence.document == licence["document"]
    assert licence["document"]["licence"]["licence_no"] == done.licence_no


# --------------------------------------------------------------- the worklist


def test_the_worklist_filters_by_the_signal_of_the_departments_task_and_sorts_by_due(uow):
    # Each case's open task is the window's, due a working day after submission.
    submitted = {
        "30 Sep": date(2026, 9, 29),
        "10 Oct": date(2026, 10, 9),  # Fri: due on the make-up Saturday
        "13 Oct": date(2026, 10, 12),
        "16 Oct": date(2026, 10, 15),
    }
    ids = {}
    for due, day in submitted.items():
        ids[due] = use_cases.submit_application(
            uow, item(), APPLICANT, FORM, MATERIALS, ONLINE, now=at(day)
        ).application_id
    rejected = use_cases.submit_application(
        uow, item(), APPLICANT, FORM, MATERIALS, ONLINE, now=at(date(2026, 10, 12))
    ).application_id
    use_cases.act(uow, CLERK, rejected, "reject", "不属于受理范围", now=at(date(2026, 10, 12)))
    today = date(2026, 10, 12)

    def listed(**query):
        found = use_cases.worklist(uow, CLERK, today=today, **query)
        return [case.application_id for case in found["items"]], found["total"]

    assert listed(signal="red") == ([ids["10 Oct"], ids["30 Sep"]], 2)
    assert listed(signal="yellow") == ([ids["13 Oct"]], 1)
    assert listed(signal="green") == ([ids["16 Oct"]], 1)
    # Soonest first; a case without open work of the department comes last.
    assert listed(sort="due") == (
        [ids["30 Sep"], ids["10 Oct"], ids["13 Oct"], ids["16 Oct"], rejected],
        5,
    )
    assert listed(signal="red", sort="due") == ([ids["30 Sep"], ids["10 Oct"]], 2)
    # Each item's task carries the signal the filter selected it by.
    for signal in ("red", "yellow", "green"):
        for case in use_cases.worklist(uow, CLERK, today=today, signal=signal)["items"]:
            assert case.task["signal"] == signal
            assert case.task["step"] == "accept" and case.task["role"] == "window_clerk"
    # Another department's tasks are not this department's.
    assert use_cases.worklist(uow, CLERK_A, today=today, signal="red")["total"] == 0


def test_the_signal_filter_agrees_with_the_signal_when_a_due_date_became_a_day_off(uow):
    # Submitted Thu 15 Oct: the window's task is due Fri 16 Oct.
    case = use_cases.submit_application(
        uow, item(), APPLICANT, FORM, MATERIALS, ONLINE, now=at(date(2026, 10, 15))
    )
    # Then Friday is declared a day off; the due date stays where it was.
    shipped = use_cases.get_calendar_year(uow, 2026)
    use_cases.put_calendar_year(
        uow, OPERATOR, 2026, [*shipped["holidays"], date(2026, 10, 16)], shipped["workdays"]
    )
    # On Tue 13 Oct the task is two working days away (14 and 15 October): yellow.
    today = date(2026, 10, 13)
    (shown,) = use_cases.worklist(uow, CLERK, today=today)["items"]
    assert shown.task["due_date"] == date(2026, 10, 16) and shown.task["signal"] == "yellow"
    for signal in ("red", "yellow", "green"):
        found = use_cases.worklist(uow, CLERK, today=today, signal=signal)["items"]
        expected = [case.application_id] if signal == "yellow" else []
        assert [item.application_id for item in found] == expected, signal


days_of_2026 = st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 20))


@given(today=days_of_2026, due=days_of_2026)
def test_the_due_dates_the_worklist_filters_by_are_those_of_the_signal(today, due):
    # A day off as due date too (holidays, weekends, a closure declared later).
    spans = {signal: use_cases._due_span(signal, today, CAL) for signal in use_cases.SIGNALS}
    found = [
        signal
        for signal, (first, last) in spans.items()
        if (first is None or first <= due) and (last is None or due <= last)
    ]
    assert found == [str(warning_of(due, today, CAL))]


def test_the_worklist_is_for_staff_of_a_department(uow):
    for actor in (APPLICANT, OPERATOR, {**CLERK, "department_code": None}):
        with pytest.raises(errors.Forbidden):
            use_cases.worklist(uow, actor)


# -------------------------------------------------------- process versions


def test_process_versions_are_added_never_changed(uow):
    first = ProcessDefinition.parse(
        {"steps": [{"id": "decide", "kind": "approve", "role": "approver", "days": 3}]}
    )
    with uow:
        assert uow.processes.current("item-food-licence") is None
        assert uow.processes.add("item-food-licence", first, "u-admin") == 1
        assert uow.processes.add("item-food-licence", ENGINE, "u-admin") == 2
        assert uow.processes.add("item-other", first, None) == 1
        uow.commit()
    with uow:
        assert uow.processes.current("item-food-licence") == (2, ENGINE)
        assert uow.processes.get("item-food-licence", 1) == first
        assert uow.processes.get("item-food-licence", 3) is None
        assert uow.processes.current("item-other") == (1, first)


def test_a_case_keeps_the_version_it_started_on(uow):
    first = ProcessDefinition.parse(
        {
            "steps": [
                {"id": "accept", "kind": "accept", "role": "window_clerk", "days": 1},
                {"id": "decide", "kind": "approve", "role": "approver", "days": 3},
            ]
        }
    )
    with uow:
        uow.processes.add("item-food-licence", first, "u-admin")
        uow.commit()
    before = use_cases.submit_application(uow, item(), APPLICANT, FORM, MATERIALS, ONLINE, now=NOW)
    with uow:
        uow.processes.add("item-food-licence", ENGINE, "u-admin")
        uow.commit()
    after = use_cases.submit_application(uow, item(), APPLICANT, FORM, MATERIALS, ONLINE, now=NOW)
    with uow:
        old = uow.applications.get(before.application_id)
        new = uow.applications.get(after.application_id)
    assert (old.process_version, old.process) == (1, first)
    assert (new.process_version, new.process) == (2, ENGINE)
    # The old case still runs to its end on its own version.
    use_cases.act(uow, CLERK, before.application_id, "accept", now=NOW)
    done = use_cases.act(uow, APPROVER, before.application_id, "approve", now=NOW)
    assert done.state == "completed"


# ---------------------------------------------------------------- calendars


def test_a_year_is_the_stored_one_else_the_shipped_one_else_none(uow):
    shipped = shipped_calendar(2026)
    with uow:
        year = uow.calendar.year(2026)
        assert year["holidays"] == [date.fromisoformat(day) for day in shipped["holidays"]]
        assert year["workdays"] == [date.fromisoformat(day) for day in shipped["workdays"]]
        assert (year["source"], year["updated_by"], year["updated_at"]) == (
            shipped["source"],
            None,
            None,
        )
        assert uow.calendar.year(2027) is None
        assert uow.calendar.stored() == {}
        # The shipped year counts before anything is stored.
        assert uow.calendar.load() == CAL

        uow.calendar.put(2027, [date(2027, 1, 1)], [], "通知", "u-op")
        uow.calendar.put(2026, [date(2026, 12, 31)], [], "本省", "u-op")
        uow.commit()
    with uow:
        loaded = uow.calendar.load()
        assert loaded.years == frozenset({2026, 2027})
        # The stored 2026 replaces the shipped one.
        assert not loaded.is_working_day(date(2026, 12, 31))
        assert loaded.is_working_day(date(2026, 10, 8)) and loaded.is_working_day(date(2026, 10, 1))
        assert uow.calendar.year(2026)["updated_by"] == "u-op"
        # Storing the shipped years stores none that is stored already.
        assert uow.calendar.store_shipped() == []


def test_the_calendar_is_built_again_only_when_a_stored_year_changes(uow, monkeypatch):
    with uow:
        first = uow.calendar.load()
        assert uow.calendar.load() is first  # kept: nothing stored changed
        uow.calendar.put(2026, [date(2026, 12, 31)], [], "本省", "u-op")
        uow.commit()
    with uow:
        changed = uow.calendar.load()
        assert changed is not first and not changed.is_working_day(date(2026, 12, 31))
        assert uow.calendar.load() is changed
        # Holidays and workdays of a year are told apart.
        uow.calendar.put(2026, [], [date(2026, 12, 31)], "本省", "u-op")
        uow.commit()
    with uow:
        swapped = uow.calendar.load()
        assert swapped is not changed and swapped.is_working_day(date(2026, 12, 31))


def test_the_shipped_years_are_stored_once(uow):
    with uow:
        assert uow.calendar.store_shipped() == [2026]
        uow.commit()
    with uow:
        assert uow.calendar.store_shipped() == []
        stored = uow.calendar.year(2026)
        assert stored["updated_at"] is not None and stored["updated_by"] is None
        shipped = shipped_calendar(2026)
        assert [day.isoformat() for day in stored["holidays"]] == shipped["holidays"]
        assert [day.isoformat() for day in stored["workdays"]] == shipped["workdays"]
        assert stored["source"] == shipped["source"]
        assert uow.calendar.load() == CAL


@pytest.mark.parametrize("uow", ["sqlite", "postgresql"], indirect=True)
def test_the_calendar_read_with_a_case_is_the_one_read_alone(uow):
    """On PostgreSQL the calendar's stamps come with the case's row, or with
    the item's current process on a submit: the calendar a command counts on
    is the one a read of its own finds, before and after a year is stored."""
    app = a_case_with_everything()
    with uow:
        uow.applications.add(app, SNAPSHOT)
        uow.commit()
    for year in (None, 2031):
        if year is not None:
            with uow:
                uow.calendar.put(year, [date(year, 1, 1)], [], "test", None)
                uow.commit()
        with uow:
            alone = uow.calendar.load()
        for read_first in (
            lambda: uow.applications.get(app.application_id, for_update=True),
            lambda: uow.processes.current(app.item_id),
        ):
            with uow:
                read_first()
                engine = uow.session.get_bind()
                with statements_sent(engine) as statements:
                    with_case = uow.calendar.load()
            assert with_case is alone
            if engine.dialect.name == "postgresql":
                assert statements == []
    assert not alone.is_working_day(date(2031, 1, 1))


@pytest.mark.parametrize("uow", ["sqlite", "postgresql"], indirect=True)
def test_a_case_locked_after_another_transaction_held_it_has_that_transactions_timeline(uow):
    """The second of two commands on one case waits for the first one's lock,
    then reads the case as the first one left it, timeline included."""
    app = a_case_with_everything()
    with uow:
        uow.applications.add(app, SNAPSHOT)
        uow.commit()
    other = WorkflowUnitOfWork(uow._session_factory, source="workflow", config=uow.config)
    waited: list = []

    def second():
        with other:
            waited.append(other.applications.get(app.application_id, for_update=True))

    with uow:
        engine = uow.session.get_bind()
    with statements_sent(engine) as statements, uow:
        first = uow.applications.get(app.application_id, for_update=True)
        running = first.suspensions[-1]
        first.end_suspension(CLERK, running.suspension_id, "通过", calendar=CAL, now=NOW)
        uow.applications.save(first)
        if engine.dialect.name == "postgresql":
            thread = threading.Thread(target=second)
            thread.start()
            time.sleep(0.3)  # the second now waits for the row's lock
            assert waited == []
            uow.commit()
            thread.join(10)
        else:  # one writer at a time: the second comes after the commit
            uow.commit()
            second()

    assert [entry.action for entry in waited[0].timeline] == [
        entry.action for entry in first.timeline
    ]
    assert stored_parts(waited[0]) == stored_parts(first)
    if engine.dialect.name == "postgresql":
        # The first read its timeline with its row; the one that waited, again.
        assert len(_timeline_reads(statements)) == 1


@pytest.mark.parametrize("uow", ["sqlite", "postgresql"], indirect=True)
def test_a_case_locked_without_waiting_reads_its_timeline_with_its_row(uow):
    app = a_case_with_everything()
    with uow:
        uow.applications.add(app, SNAPSHOT)
        uow.commit()
    with uow:
        alone = uow.applications.get(app.application_id)
    with uow:
        engine = uow.session.get_bind()
        with statements_sent(engine) as statements:
            locked = uow.applications.get(app.application_id, for_update=True)
    assert locked.timeline == alone.timeline and len(locked.timeline) > 1
    assert stored_parts(locked) == stored_parts(alone)
    if engine.dialect.name == "postgresql":
        assert _timeline_reads(statements) == []


@pytest.mark.parametrize("uow", ["postgresql"], indirect=True)
def test_a_connection_that_locks_cases_often_prepares_the_read(uow):
    """The server can tell the type of every parameter of the locked read, so
    a connection prepares it (pgdialect) rather than parsing and planning it
    at every command."""
    app = a_case_with_everything()
    with uow:
        uow.applications.add(app, SNAPSHOT)
        uow.commit()
    reads = []
    for _ in range(5):
        with uow:
            reads.append(uow.applications.get(app.application_id, for_update=True))
            prepared = (
                uow.session.execute(sa.text("SELECT statement FROM pg_prepared_statements"))
                .scalars()
                .all()
            )
    assert [stored_parts(read) for read in reads] == [stored_parts(reads[0])] * 5
    assert [text for text in prepared if "timeline_current" in text]


def _timeline_reads(statements: list) -> list:
    """The statements that read a timeline on its own (not with its case)."""
    return [s for s in statements if s.lstrip().startswith("SELECT timeline_entries.")]
