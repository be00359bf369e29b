"""The clock of a case: stopped while the applicant owes materials or a special
procedure runs, due dates moved when it restarts or when an extension is
granted, and the green, yellow or red signal of each due date."""

from datetime import UTC, date, datetime, timedelta

import pytest

from services.common.working_calendar import year_calendar
from services.workflow.domain.events import (
    ApplicationEnded,
    ApplicationNotSupplemented,
    ApplicationResumed,
    ApplicationSuspended,
    ExtensionDecided,
    ExtensionRequested,
)
from services.workflow.domain.exceptions import (
    Forbidden,
    InvalidTransition,
    NotFound,
    ValidationFailed,
)
from services.workflow.domain.model import State
from services.workflow.domain.process import ProcessDefinition
from services.workflow.domain.progress import Signal, warning_of

from .conftest import (
    APPLICANT,
    APPROVER,
    APPROVER_A,
    APPROVER_B,
    CAL,
    CLERK,
    CLERK_A,
    DEPT_ADMIN,
    JOINT_A,
    JOINT_B,
    NOW,
    OPERATOR,
    OUTSIDE_APPROVER,
    OUTSIDE_CLERK,
    OWN,
    act,
    make_item,
    staff,
    submit,
)
from .test_transitions import case_in


def at(day: date, hour: int = 10) -> datetime:
    """``hour`` o'clock in Nanjing on ``day``."""
    return datetime(day.year, day.month, day.day, hour - 8, tzinfo=UTC)


def joint_case(**submitting):
    """A case in its joint step (the default process of an item with two joint
    departments, statutory limit 20 working days), accepted on Tue 29 Sep."""
    app = submit(item=make_item((JOINT_A, JOINT_B), statutory_days=20), **submitting)
    act(app, CLERK, "accept", now=NOW)
    app.events.clear()
    return app


def open_due_dates(app) -> dict:
    """Every due date the clock moves: the case's, and each open step's and task's."""
    found = {"case": app.due_date, "legal": app.legal_due_date}
    for run in app.steps:
        if run.open:
            found[run.id] = run.due_date
            for task in run.tasks:
                if task.open:
                    found[f"{run.id}/{task.department_code}"] = task.due_date
    return found


def moved(dates: dict, working_days: int) -> dict:
    return {name: CAL.add_working_days(day, working_days) for name, day in dates.items()}


# ---------------------------------------------------------------- supplement


def test_a_supplement_moves_every_open_due_date_by_the_working_days_waited():
    app = submit(item=make_item(statutory_days=20))
    before = open_due_dates(app)
    assert set(before) == {"case", "legal", "accept", "accept/ks-xzsp"}
    act(app, CLERK, "request_supplement", "缺营业执照", now=at(date(2026, 10, 9)))
    # While it waits the due dates stand: the clock is stopped, not the dates.
    assert open_due_dates(app) == before
    # Supplied on Wed 14 Oct: 10, 12, 13 and 14 October are working days waited.
    app.supplement(APPLICANT, [{"name": "营业执照"}], calendar=CAL, now=at(date(2026, 10, 14)))
    assert open_due_dates(app) == moved(before, 4)
    assert app.due_date == date(2026, 10, 16)
    assert app.events[-1].due_date == date(2026, 10, 16)


def test_a_supplement_on_the_day_it_was_asked_for_moves_nothing():
    app = submit()
    before = open_due_dates(app)
    act(app, CLERK, "request_supplement", "缺营业执照", now=NOW)
    app.supplement(APPLICANT, [{"name": "营业执照"}], calendar=CAL, now=NOW + timedelta(hours=3))
    assert open_due_dates(app) == before


def test_the_supplement_deadline_comes_from_the_process():
    quick = ProcessDefinition.parse(
        {
            "steps": [
                {"id": "accept", "kind": "accept", "role": "window_clerk", "days": 1},
                {"id": "decide", "kind": "approve", "role": "approver", "days": 4},
            ],
            "supplement_days": 5,
        }
    )
    app = submit(process=quick, process_version=1)
    act(app, CLERK, "request_supplement", "缺营业执照", now=NOW)
    # Calendar days, not working days: National Day counts.
    assert app.supplement_due == date(2026, 10, 4)


def test_a_case_not_supplemented_in_time_ends():
    app = submit()
    act(app, CLERK, "request_supplement", "缺营业执照", missing_materials=["营业执照"], now=NOW)
    due = app.supplement_due
    assert due == date(2026, 10, 29)
    app.events.clear()
    assert app.expire_supplement(due, now=NOW) is False
    assert app.state == State.SUPPLEMENT_REQUESTED
    assert app.expire_supplement(due + timedelta(days=1), now=at(date(2026, 10, 30))) is True
    assert app.state == State.NOT_SUPPLEMENTED
    assert app.events == [
        ApplicationNotSupplemented(
            application_id=app.application_id, applicant_id=APPLICANT["user_id"], supplement_due=due
        ),
        # Nobody decided it; asked for materials on its first day, it was not late.
        ApplicationEnded(
            application_id=app.application_id,
            applicant_id=APPLICANT["user_id"],
            item_id="item-1",
            item_name="食品经营许可",
            department_code=OWN,
            handled_by=OWN,
            region_code="320102",
            store_id="store-1",
            mode="online",
            outcome="not_supplemented",
            submitted_at=NOW,
            ended_at=at(date(2026, 10, 30)),
            due_date=date(2026, 10, 12),
            on_time=True,
            working_days=None,
        ),
    ]
    entry = app.timeline[-1]
    assert (entry.action, entry.state, entry.actor_id, entry.actor_role) == (
        "not_supplemented",
        "not_supplemented",
        None,
        "system",
    )
    assert [str(run.state) for run in app.steps] == ["closed", "closed"]
    assert app.available_actions(APPLICANT) == []
    with pytest.raises(InvalidTransition):
        app.supplement(APPLICANT, [{"name": "营业执照"}], calendar=CAL)
    # Once is enough.
    assert app.expire_supplement(due + timedelta(days=2)) is False


@pytest.mark.parametrize("state", ["submitted", "accepted", "withdrawn"])
def test_only_a_case_waiting_for_materials_expires(state):
    app = case_in(state)
    assert app.expire_supplement(date(2027, 6, 1)) is False
    assert app.state == state and app.events == []


# ---------------------------------------------------------------- extensions


def test_an_approved_extension_moves_every_open_due_date():
    app = joint_case()
    act(app, APPROVER_A, "approve")
    before = open_due_dates(app)
    assert f"joint/{JOINT_A}" not in before  # decided: its date stays
    extension = app.request_extension(
        APPROVER, 3, " 需组织专家论证 ", now=NOW, extension_id="ext-1"
    )
    assert (extension.state, extension.reason, extension.requested_by) == (
        "requested",
        "需组织专家论证",
        APPROVER["user_id"],
    )
    assert app.events == [
        ExtensionRequested(
            application_id=app.application_id,
            extension_id="ext-1",
            department_code=app.department_code,
            working_days=3,
            reason="需组织专家论证",
        )
    ]
    # Asked for is not granted.
    assert open_due_dates(app) == before
    app.events.clear()

    app.decide_extension(DEPT_ADMIN, True, "同意", calendar=CAL, now=NOW)
    assert (extension.state, extension.decided_by, extension.comment) == (
        "approved",
        DEPT_ADMIN["user_id"],
        "同意",
    )
    after = open_due_dates(app)
    assert after == moved(before, 3)
    assert app.events == [
        ExtensionDecided(
            application_id=app.application_id,
            extension_id="ext-1",
            approved=True,
            working_days=3,
            due_date=after["case"],
            legal_due_date=after["legal"],
        )
    ]
    entry = app.timeline[-1]
    assert (entry.action, entry.actor_role, entry.comment) == (
        "extend",
        "dept_admin",
        "延期 3 个工作日: 需组织专家论证",
    )


def test_a_refused_extension_moves_nothing_and_uses_nothing():
    app = joint_case()
    before = open_due_dates(app)
    app.request_extension(APPROVER, 20, "需听证", now=NOW)
    app.decide_extension(DEPT_ADMIN, False, "理由不足", calendar=CAL, now=NOW)
    assert open_due_dates(app) == before
    assert app.extensions[0].state == "refused"
    assert app.events[-1].approved is False
    assert (app.timeline[-1].action, app.timeline[-1].comment) == ("refuse_extension", "理由不足")
    # The whole limit is still there.
    app.request_extension(APPROVER, 20, "需听证", now=NOW)


def test_extensions_add_up_to_the_items_limit_at_most():
    app = joint_case()  # statutory 20 working days, the process sets no limit of its own
    with pytest.raises(ValidationFailed) as caught:
        app.request_extension(APPROVER, 21, "需论证", now=NOW)
    assert caught.value.fields == {"working_days": "must be 1..20 (the item's limit left)"}
    app.request_extension(APPROVER, 15, "需论证", now=NOW)
    app.decide_extension(DEPT_ADMIN, True, calendar=CAL, now=NOW)
    with pytest.raises(ValidationFailed, match="1..5"):
        app.request_extension(APPROVER, 6, "再论证", now=NOW)
    app.request_extension(APPROVER, 5, "再论证", now=NOW)
    app.decide_extension(DEPT_ADMIN, True, calendar=CAL, now=NOW)
    # Used up: nobody is offered to ask again.
    assert {"action": "request_extension", "step": None} not in app.available_actions(APPROVER)
    with pytest.raises(ValidationFailed):
        app.request_extension(APPROVER, 1, "还要", now=NOW)


def test_a_process_may_set_a_smaller_extension_limit():
    limited = ProcessDefinition.parse(
        {
            "steps": [{"id": "decide", "kind": "approve", "role": "approver", "days": 5}],
            "extension_days": 2,
        },
        statutory_days=20,
    )
    app = submit(item=make_item(statutory_days=20), process=limited, process_version=1)
    with pytest.raises(ValidationFailed, match="1..2"):
        app.request_extension(APPROVER, 3, "需论证", now=NOW)
    app.request_extension(APPROVER, 2, "需论证", now=NOW)


@pytest.mark.parametrize(
    ("working_days", "reason", "field"),
    [(0, "需论证", "working_days"), ("3", "需论证", "working_days"), (3, "  ", "reason")],
)
def test_an_extension_request_says_how_long_and_why(working_days, reason, field):
    app = joint_case()
    with pytest.raises(ValidationFailed) as caught:
        app.request_extension(APPROVER, working_days, reason, now=NOW)
    assert set(caught.value.fields) == {field}
    assert app.extensions == []


@pytest.mark.parametrize(
    "actor",
    [CLERK, APPROVER_A, DEPT_ADMIN, OPERATOR, APPLICANT, OUTSIDE_APPROVER],
    ids=["own clerk", "joint approver", "dept admin", "operator", "applicant", "outsider"],
)
def test_only_an_approver_of_the_items_department_asks_for_an_extension(actor):
    with pytest.raises(Forbidden):
        joint_case().request_extension(actor, 3, "需论证", now=NOW)


@pytest.mark.parametrize(
    "actor",
    [APPROVER, CLERK, staff("u-admin-a", JOINT_A, "dept_admin"), OPERATOR],
    ids=["approver", "clerk", "joint dept admin", "operator"],
)
def test_only_the_items_dept_admin_decides_an_extension(actor):
    app = joint_case()
    app.request_extension(APPROVER, 3, "需论证", now=NOW)
    with pytest.raises(Forbidden):
        app.decide_extension(actor, True, calendar=CAL, now=NOW)
    assert app.extensions[0].state == "requested"


def test_one_extension_request_at_a_time_on_an_open_case():
    app = joint_case()
    with pytest.raises(InvalidTransition, match="no extension request"):
        app.decide_extension(DEPT_ADMIN, True, calendar=CAL, now=NOW)
    app.request_extension(APPROVER, 3, "需论证", now=NOW)
    with pytest.raises(InvalidTransition, match="waiting for its decision"):
        app.request_extension(APPROVER, 2, "还要", now=NOW)
    app.withdraw(APPLICANT, now=NOW)
    # The case closing refused the waiting request: nothing is left to decide.
    assert app.extensions[0].state == "refused"
    assert app.extensions[0].comment == "the case ended (withdrawn)"
    with pytest.raises(InvalidTransition, match="no extension request"):
        app.decide_extension(DEPT_ADMIN, True, calendar=CAL, now=NOW)
    with pytest.raises(InvalidTransition, match="withdrawn"):
        app.request_extension(APPROVER, 2, "还要", now=NOW)


# ---------------------------------------------------------------- suspension


def test_a_suspension_stops_the_clock_and_its_end_moves_every_open_due_date():
    app = joint_case()
    act(app, APPROVER_B, "approve")
    before = open_due_dates(app)
    suspension = app.suspend(
        APPROVER_A, "hearing", " 申请人申请听证 ", now=at(date(2026, 10, 8)), suspension_id="s-1"
    )
    assert (suspension.kind, suspension.reason, suspension.started_on) == (
        "hearing",
        "申请人申请听证",
        date(2026, 10, 8),
    )
    assert (app.clock.running, app.clock.stopped_for) == (False, "suspension")
    assert app.events == [
        ApplicationSuspended(application_id=app.application_id, suspension_id="s-1", kind="hearing")
    ]
    assert (app.timeline[-1].action, app.timeline[-1].comment) == (
        "suspend",
        "hearing: 申请人申请听证",
    )
    # Nobody decides while it runs.
    with pytest.raises(InvalidTransition, match="suspended"):
        act(app, APPROVER, "approve")
    with pytest.raises(InvalidTransition, match="already stands still"):
        app.suspend(CLERK, "testing", "检测", now=NOW)
    app.events.clear()

    # Ended on Fri 16 Oct: 9, 10 (make-up Saturday), 12..16 October stood still.
    ended = app.end_suspension(
        CLERK, "s-1", " 听证已举行 ", calendar=CAL, now=at(date(2026, 10, 16))
    )
    assert ended is suspension
    assert (suspension.working_days, suspension.result, suspension.ended_by) == (
        7,
        "听证已举行",
        CLERK["user_id"],
    )
    assert app.clock.running
    assert open_due_dates(app) == moved(before, 7)
    assert app.events == [
        ApplicationResumed(
            application_id=app.application_id,
            suspension_id="s-1",
            working_days=7,
            due_date=app.due_date,
        )
    ]
    with pytest.raises(InvalidTransition, match="ended already"):
        app.end_suspension(CLERK, "s-1", "again", calendar=CAL, now=NOW)
    act(app, APPROVER, "approve")
    assert app.state == State.ACCEPTED


def test_a_suspension_is_started_and_ended_by_staff_with_work_on_the_case():
    app = joint_case()
    for nobody in (APPLICANT, OPERATOR, OUTSIDE_CLERK, OUTSIDE_APPROVER, DEPT_ADMIN):
        with pytest.raises(Forbidden):
            app.suspend(nobody, "inspection", "现场核查", now=NOW)
    # A joint department's clerk: its department has an open branch.
    suspension = app.suspend(CLERK_A, "inspection", "现场核查", now=NOW)
    with pytest.raises(Forbidden):
        app.end_suspension(OUTSIDE_CLERK, suspension.suspension_id, "完成", calendar=CAL)
    with pytest.raises(NotFound):
        app.end_suspension(CLERK, "no-such-suspension", "完成", calendar=CAL)
    with pytest.raises(ValidationFailed) as caught:
        app.end_suspension(CLERK, suspension.suspension_id, " ", calendar=CAL)
    assert set(caught.value.fields) == {"result"}
    app.end_suspension(APPROVER_A, suspension.suspension_id, "完成", calendar=CAL, now=NOW)
    # A department whose branch is decided has no work left to suspend.
    act(app, APPROVER_A, "approve")
    with pytest.raises(Forbidden):
        app.suspend(CLERK_A, "testing", "检测", now=NOW)


@pytest.mark.parametrize(
    ("kind", "reason", "field"), [("party", "理由", "kind"), ("hearing", "", "reason")]
)
def test_a_suspension_names_its_kind_and_reason(kind, reason, field):
    app = joint_case()
    with pytest.raises(ValidationFailed) as caught:
        app.suspend(CLERK, kind, reason, now=NOW)
    assert set(caught.value.fields) == {field}
    assert app.clock.running and app.suspensions == []


def test_only_an_accepted_case_with_a_running_clock_is_suspended():
    waiting = submit()
    with pytest.raises(InvalidTransition, match="submitted"):
        waiting.suspend(CLERK, "inspection", "现场核查", now=NOW)
    act(waiting, CLERK, "request_supplement", "缺材料", now=NOW)
    with pytest.raises(InvalidTransition, match="supplement_requested"):
        waiting.suspend(CLERK, "inspection", "现场核查", now=NOW)


# ------------------------------------------------------------------- signals


@pytest.mark.parametrize(
    ("today", "signal"),
    [
        (date(2026, 10, 7), Signal.GREEN),  # a holiday; 8, 9, 10 and 12 Oct left
        (date(2026, 10, 8), Signal.GREEN),  # 9, 10 and 12 Oct left
        (date(2026, 10, 9), Signal.YELLOW),  # 10 (make-up Saturday) and 12 Oct left
        (date(2026, 10, 11), Signal.YELLOW),  # a Sunday: 12 Oct left
        (date(2026, 10, 12), Signal.YELLOW),  # the due date itself
        (date(2026, 10, 13), Signal.RED),
        (date(2026, 12, 1), Signal.RED),
    ],
)
def test_a_due_date_is_green_yellow_then_red(today, signal):
    due = date(2026, 10, 12)
    assert warning_of(due, today, CAL) == signal
    assert submit().signal(today, CAL) == signal  # due Mon 12 Oct


def test_a_due_date_on_friday_is_red_on_monday_not_at_the_weekend():
    due = date(2026, 10, 16)
    assert warning_of(due, date(2026, 10, 18), CAL) == Signal.YELLOW
    assert warning_of(due, date(2026, 10, 19), CAL) == Signal.RED


def test_each_open_due_date_has_its_own_signal():
    app = joint_case()
    task_due = app.steps[1].tasks[0].due_date  # Sat 10 Oct (make-up day)
    assert app.signal(date(2026, 10, 12), CAL, due=task_due) == "red"
    assert app.signal(date(2026, 10, 12), CAL) == "yellow"


def test_a_stopped_clock_freezes_the_signal_and_a_closed_case_has_none():
    app = submit()  # due Mon 12 Oct
    act(app, CLERK, "request_supplement", "缺材料", now=at(date(2026, 10, 9)))
    # Weeks on, the case is measured as if its clock restarted today: two
    # working days were left when it stopped, so it is still yellow, not red.
    assert app.signal(date(2026, 11, 20), CAL) == "yellow"
    assert app.signal(date(2026, 10, 9), CAL) == "yellow"
    # The same due date on a running clock is long past.
    assert submit().signal(date(2026, 11, 20), CAL) == "red"
    app.withdraw(APPLICANT, now=NOW)
    assert app.signal(date(2026, 11, 20), CAL) is None


# ------------------------------------------------------------ the calendar


def test_a_due_date_in_a_year_not_loaded_is_provisional():
    # Mon 28 Dec 2026, five working days: into 2027, which is not loaded.
    app = submit(now=at(date(2026, 12, 28)))
    assert app.due_date == date(2027, 1, 4)  # 1 January counted as a working day
    assert app.calendar_provisional
    assert not submit().calendar_provisional


def test_the_years_a_case_spans_are_its_days_in_nanjing():
    # 1 January 2027, 07:00 in Nanjing, is still 31 December 2026 in UTC.
    new_year = datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
    only_2027 = year_calendar(2027, [date(2027, 1, 1)], [])
    app = submit(now=new_year, calendar=only_2027)
    assert not app.calendar_provisional
    act(app, CLERK, "request_supplement", "缺材料", now=new_year, calendar=only_2027)
    app.supplement(APPLICANT, [{"name": "材料"}], calendar=only_2027, now=at(date(2027, 1, 8)))
    # Moved within 2027 only: 2026 never mattered to this case.
    assert not app.calendar_provisional


def test_a_due_date_moved_into_a_year_not_loaded_becomes_provisional():
    app = submit(now=at(date(2026, 12, 14)))  # due Mon 21 Dec
    assert not app.calendar_provisional
    act(app, CLERK, "request_supplement", "缺材料", now=at(date(2026, 12, 15)))
    # Ten working days waited: 21 December moves into January.
    app.supplement(APPLICANT, [{"name": "材料"}], calendar=CAL, now=at(date(2026, 12, 29)))
    assert app.due_date == date(2027, 1, 4)
    assert app.calendar_provisional


def test_a_case_that_ends_ends_its_suspension_where_the_clock_stopped():
    app = joint_case()
    app.suspend(APPROVER_A, "hearing", "听证", now=at(date(2026, 10, 8)), suspension_id="s-1")
    due = app.due_date
    app.withdraw(APPLICANT, now=at(date(2026, 10, 12)))
    suspension = app.suspensions[0]
    assert not suspension.open and suspension.result == "the case ended (withdrawn)"
    assert app.due_date == due  # the clock is not restarted for a closed case
    assert {"action": "end_suspension", "step": None} not in app.available_actions(APPROVER_A)
