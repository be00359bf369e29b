"""Escalation on a SQLite unit of work: the sweep that raises escalations (in
batches, once per task and level), the query that finds its candidates, the
rows the lists read, and the lists of open escalations."""

from datetime import UTC, date, datetime
from unittest.mock import Mock

import pytest
import sqlalchemy as sa
from nameko.testing.services import worker_factory

from services.common import errors
from services.common.testing import assert_documented, outbox, staff
from services.workflow import contract
from services.workflow import service as service_module
from services.workflow.adapters import orm
from services.workflow.service import OverdueTimer, WorkflowService, operator_days
from services.workflow.service_layer import use_cases

from .conftest import (
    APPLICANT,
    APPROVER,
    APPROVER_A,
    CLERK,
    DEPT_ADMIN,
    FORM,
    JOINT_A,
    MATERIALS,
    ONLINE,
    OPERATOR,
    OWN,
    FakeCatalog,
    item,
)

# 10:00 in Nanjing, Tuesday 29 September 2026. A case accepted then has its
# approval tasks (the item's department and its joint department) due Saturday
# 10 October, a make-up working day: red from Monday 12 October, due to the
# operator three working days on, from Thursday 15 October.
NOW = datetime(2026, 9, 29, 2, 0, tzinfo=UTC)
DUE = date(2026, 10, 10)
FIRST_RED = date(2026, 10, 12)
OPERATOR_DAY = date(2026, 10, 15)
ADMIN_A = staff("u-admin-a", JOINT_A, "dept_admin")


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour - 8, tzinfo=UTC)


def submit(uow, now=NOW, **changes) -> str:
    return use_cases.submit_application(
        uow, item(**changes), APPLICANT, FORM, MATERIALS, ONLINE, now=now
    ).application_id


def accepted(uow, **changes) -> str:
    application_id = submit(uow, **changes)
    use_cases.act(uow, CLERK, application_id, "accept", now=NOW)
    return application_id


def sweep(uow, day: date, **options) -> int:
    return use_cases.escalate_late_tasks(uow, day, now=at(day), **options)


def escalated_events(uow) -> list[dict]:
    return [sent["payload"] for sent in outbox(uow) if sent["type"] == "case_escalated"]


def rows(uow) -> list[tuple]:
    table = orm.escalations
    with uow:
        return sorted(
            (row.application_id, row.step_id, row.department_code, row.level, row.resolved_at)
            for row in uow.session.execute(sa.select(table))
        )


# ------------------------------------------------------------------ the sweep


def test_the_sweep_escalates_each_late_task_once_per_level(uow):
    case = accepted(uow)
    assert sweep(uow, DUE) == 0
    assert sweep(uow, FIRST_RED) == 2  # both branches of the joint review
    assert sweep(uow, FIRST_RED) == 0
    assert sweep(uow, date(2026, 10, 14)) == 0
    assert sweep(uow, OPERATOR_DAY) == 2
    assert sweep(uow, date(2026, 10, 16)) == 0
    assert sweep(uow, date(2026, 12, 1)) == 0

    events = escalated_events(uow)
    for payload in events:
        assert_documented(contract.CaseEscalated, payload)
    assert [(e["department_code"], e["level"]) for e in events] == [
        (OWN, "dept_admin"),
        (JOINT_A, "dept_admin"),
        (OWN, "operator"),
        (JOINT_A, "operator"),
    ]
    assert {(e["application_id"], e["step_id"], e["due_date"]) for e in events} == {
        (case, "joint", "2026-10-10")
    }
    shown = use_cases.get_application(uow, OPERATOR, case, today=OPERATOR_DAY)
    assert [(e.department_code, e.level, e.raised_at) for e in shown.escalations] == [
        (OWN, "dept_admin", at(FIRST_RED)),
        (JOINT_A, "dept_admin", at(FIRST_RED)),
        (OWN, "operator", at(OPERATOR_DAY)),
        (JOINT_A, "operator", at(OPERATOR_DAY)),
    ]
    assert [entry.action for entry in shown.timeline].count("escalate") == 4


def test_the_sweep_takes_the_operators_delay_it_is_given(uow):
    accepted(uow)
    assert sweep(uow, FIRST_RED, operator_days=1) == 2
    assert sweep(uow, date(2026, 10, 13), operator_days=1) == 2


def test_the_sweep_works_in_batches_of_locked_cases(uow, monkeypatch):
    monkeypatch.setattr(use_cases, "OVERDUE_BATCH", 2)
    cases = [submit(uow) for _ in range(5)]  # the window's tasks, due 30 September
    locked = []
    get = type(uow.applications).get

    def spying_get(self, application_id, *, for_update=False):
        locked.append((application_id, for_update))
        return get(self, application_id, for_update=for_update)

    monkeypatch.setattr(type(uow.applications), "get", spying_get)
    assert sweep(uow, date(2026, 10, 8)) == 5
    assert sorted(locked) == sorted((case, True) for case in cases)
    assert len(escalated_events(uow)) == 5


def test_stopped_clocks_and_ended_cases_are_left_alone(uow):
    waiting = submit(uow)
    use_cases.act(uow, CLERK, waiting, "request_supplement", "请补交营业执照副本", now=NOW)
    suspended = accepted(uow)
    use_cases.suspend(uow, CLERK, suspended, "inspection", "现场核查", now=NOW)
    use_cases.withdraw(uow, APPLICANT, submit(uow), now=NOW)
    done = accepted(uow, joint_departments=[])
    use_cases.act(uow, APPROVER, done, "approve", now=NOW)

    assert sweep(uow, date(2026, 12, 1)) == 0
    assert rows(uow) == []
    with uow:
        assert uow.applications.late_tasks(date(2026, 12, 1), 3) == []


def test_ended_work_resolves_its_rows(uow):
    case = accepted(uow)
    sweep(uow, OPERATOR_DAY)
    assert [row[2:] for row in rows(uow)] == [
        (JOINT_A, "dept_admin", None),
        (JOINT_A, "operator", None),
        (OWN, "dept_admin", None),
        (OWN, "operator", None),
    ]
    use_cases.act(uow, APPROVER_A, case, "approve", now=at(date(2026, 10, 16)))
    resolved = {row[2:4]: row[4] for row in rows(uow)}
    assert resolved[(JOINT_A, "dept_admin")] is not None
    assert resolved[(JOINT_A, "operator")] is not None
    assert resolved[(OWN, "dept_admin")] is None
    use_cases.withdraw(uow, APPLICANT, case, now=at(date(2026, 10, 16)))
    assert all(row[4] is not None for row in rows(uow))
    # The rows are the case's escalations, as its progress holds them.
    shown = use_cases.get_application(uow, OPERATOR, case)
    assert sorted(
        (case, e.step_id, e.department_code, e.level, e.resolved_at is not None)
        for e in shown.escalations
    ) == [row[:4] + (row[4] is not None,) for row in rows(uow)]


# ----------------------------------------------------------- the candidates


def test_late_tasks_are_the_open_ones_past_due_not_escalated_that_far(uow):
    joint = accepted(uow)  # two branches due 10 October
    window = submit(uow)  # the window's task, due 30 September
    later = submit(uow, now=at(date(2026, 10, 12)))  # due 13 October

    def late(day, days=3):
        with uow:
            return {
                (task.application_id, task.department_code, task.due_date, task.escalated)
                for task in uow.applications.late_tasks(day, days)
            }

    assert late(date(2026, 9, 30)) == set()
    assert late(date(2026, 10, 1)) == {(window, OWN, date(2026, 9, 30), frozenset())}
    assert late(FIRST_RED) == {
        (window, OWN, date(2026, 9, 30), frozenset()),
        (joint, OWN, DUE, frozenset()),
        (joint, JOINT_A, DUE, frozenset()),
    }
    sweep(uow, FIRST_RED)  # the joint branches and the window's task, to the admins
    # The window's task is due to the operator (it was long late); the joint
    # branches wait with their admins until their due date is three days behind.
    assert late(FIRST_RED) == set()
    assert sweep(uow, FIRST_RED) == 0
    assert late(date(2026, 10, 14)) == {
        (joint, OWN, DUE, frozenset({"dept_admin"})),
        (joint, JOINT_A, DUE, frozenset({"dept_admin"})),
        (later, OWN, date(2026, 10, 13), frozenset()),
    }
    sweep(uow, OPERATOR_DAY)
    assert late(OPERATOR_DAY) == set()


# ------------------------------------------------------------------ the lists


def listed(page) -> list[tuple]:
    return [(entry["department_code"], entry["level"]) for entry in page["items"]]


def test_a_dept_admin_lists_the_open_escalations_of_their_department(uow):
    case = accepted(uow)
    sweep(uow, FIRST_RED)
    sweep(uow, OPERATOR_DAY)

    own = use_cases.list_escalations(uow, DEPT_ADMIN, today=OPERATOR_DAY)
    assert (own["page"], own["page_size"], own["total"]) == (1, 20, 2)
    assert listed(own) == [(OWN, "operator"), (OWN, "dept_admin")]  # newest first
    entry = own["items"][1]
    assert entry == {
        "application_id": case,
        "item_name": item()["name"],
        "step_id": "joint",
        "department_code": OWN,
        "level": "dept_admin",
        "raised_at": at(FIRST_RED),
        "due_date": DUE,
        "signal": "red",
    }
    assert_documented(contract.EscalationPage, contract.EscalationPage().dump(own))
    assert listed(use_cases.list_escalations(uow, ADMIN_A, today=OPERATOR_DAY)) == [
        (JOINT_A, "operator"),
        (JOINT_A, "dept_admin"),
    ]
    narrowed = use_cases.list_escalations(uow, DEPT_ADMIN, level="dept_admin")
    assert listed(narrowed) == [(OWN, "dept_admin")]

    # Done, the branch leaves its admin's list.
    use_cases.act(uow, APPROVER, case, "approve", now=at(date(2026, 10, 16)))
    assert use_cases.list_escalations(uow, DEPT_ADMIN)["total"] == 0
    assert use_cases.list_escalations(uow, ADMIN_A)["total"] == 2


def test_the_operator_lists_the_escalations_that_reached_them(uow):
    accepted(uow)
    sweep(uow, FIRST_RED)
    assert use_cases.list_escalations(uow, OPERATOR)["items"] == []
    # Raised at one instant: in the order of their department codes.
    assert listed(use_cases.list_escalations(uow, OPERATOR, level="dept_admin")) == [
        (JOINT_A, "dept_admin"),
        (OWN, "dept_admin"),
    ]
    sweep(uow, OPERATOR_DAY)
    assert listed(use_cases.list_escalations(uow, OPERATOR)) == [
        (JOINT_A, "operator"),
        (OWN, "operator"),
    ]


def test_the_lists_are_paged_newest_first(uow):
    older = submit(uow)  # the window's task: to the admin on 8 October
    sweep(uow, date(2026, 10, 8))
    newer = accepted(uow)
    sweep(uow, FIRST_RED)  # the approval's, to the admin (and the window's to the operator)

    def page(number):
        return use_cases.list_escalations(
            uow, DEPT_ADMIN, level="dept_admin", page=number, page_size=1
        )

    first, second = page(1), page(2)
    assert (first["total"], second["total"]) == (2, 2)
    assert [e["application_id"] for e in first["items"] + second["items"]] == [newer, older]
    assert page(3)["items"] == []
    assert use_cases.list_escalations(uow, DEPT_ADMIN)["total"] == 3


def test_the_signal_is_the_tasks_today_on_its_due_date_as_it_stands(uow):
    case = accepted(uow, joint_departments=[])
    sweep(uow, FIRST_RED)
    assert use_cases.list_escalations(uow, DEPT_ADMIN, today=FIRST_RED)["items"][0]["signal"] == (
        "red"
    )
    # An extension of five working days moves the task's due date past today.
    use_cases.request_extension(uow, APPROVER, case, 5, "需组织专家论证", now=at(FIRST_RED))
    use_cases.decide_extension(uow, DEPT_ADMIN, case, True, now=at(FIRST_RED))
    (entry,) = use_cases.list_escalations(uow, DEPT_ADMIN, today=FIRST_RED)["items"]
    assert (entry["due_date"], entry["signal"]) == (DUE, "green")


@pytest.mark.parametrize(
    "actor",
    [APPLICANT, CLERK, APPROVER, staff("u-admin-x", None, "dept_admin")],
    ids=["citizen", "window clerk", "approver", "admin without a department"],
)
def test_only_a_dept_admin_or_the_operator_lists_escalations(uow, actor):
    with pytest.raises(errors.Forbidden):
        use_cases.list_escalations(uow, actor)


# ------------------------------------------------------------------ the timer


@pytest.mark.parametrize(
    ("config", "days"),
    [({}, 3), ({"ESCALATE_TO_OPERATOR_DAYS": ""}, 3), ({"ESCALATE_TO_OPERATOR_DAYS": "5"}, 5)]
    + [({"ESCALATE_TO_OPERATOR_DAYS": 2}, 2)],
)
def test_the_operators_delay_comes_from_config(config, days):
    assert operator_days(config) == days


@pytest.mark.parametrize("value", ["0", "-1", "2.5", "three", "366", "٣"])
def test_a_bad_operators_delay_stops_the_service_at_start(value):
    config = {"ESCALATE_TO_OPERATOR_DAYS": value}
    with pytest.raises(ValueError, match="ESCALATE_TO_OPERATOR_DAYS"):
        operator_days(config)
    timer = OverdueTimer(interval=3600)
    timer.container = Mock(config=config)
    with pytest.raises(ValueError, match="ESCALATE_TO_OPERATOR_DAYS"):
        timer.setup()


def test_the_timers_sweep_escalates_with_the_configured_delay(uow, monkeypatch):
    service = worker_factory(
        WorkflowService,
        uow=uow,
        clients=FakeCatalog(item()),
        config={"DEPARTMENT_CODE": "", "ESCALATE_TO_OPERATOR_DAYS": "1"},
    )
    case = accepted(uow)
    monkeypatch.setattr(service_module, "china_today", lambda: date(2026, 10, 13))
    service.sweep()
    shown = use_cases.get_application(uow, OPERATOR, case)
    assert sorted((e.department_code, e.level) for e in shown.escalations) == [
        (JOINT_A, "dept_admin"),
        (JOINT_A, "operator"),
        (OWN, "dept_admin"),
        (OWN, "operator"),
    ]
    page = service.list_escalations(actor=OPERATOR)
    assert (page["total"], page["items"][0]["raised_at"][-1]) == (2, "Z")
