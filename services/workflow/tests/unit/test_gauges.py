"""Cases per state and open overdue cases, as the scrape-time gauges read them."""

from datetime import UTC, date, datetime

from services.workflow.service_layer import use_cases
from services.workflow.service_layer.gauges import gauges

from .conftest import (
    APPLICANT,
    APPROVER,
    APPROVER_A,
    CLERK,
    EXPRESS,
    FORM,
    MATERIALS,
    ONLINE,
    OPERATOR,
    item,
)

# 10:00 in Nanjing, Tuesday 29 September 2026: five working days later, with
# National Day in between, is Monday 12 October.
NOW = datetime(2026, 9, 29, 2, 0, tzinfo=UTC)
DUE = date(2026, 10, 12)
LATER = datetime(2026, 10, 12, 2, 0, tzinfo=UTC)
NO_CASES = {
    "submitted": 0,
    "accepted": 0,
    "supplement_requested": 0,
    "approved": 0,
    "denied": 0,
    "completed": 0,
    "withdrawn": 0,
    "rejected": 0,
    "not_supplemented": 0,
}


def submit(uow, delivery=ONLINE, now=NOW, **changes):
    application = use_cases.submit_application(
        uow, item(**changes), APPLICANT, FORM, MATERIALS, delivery, now=now
    )
    return application.application_id


def act(uow, actor, application_id, action, comment="材料已核"):
    return use_cases.act(uow, actor, application_id, action, comment, now=NOW)


def test_no_case_yet_counts_zero_in_every_state(uow):
    assert use_cases.count_cases_by_state(uow) == NO_CASES
    assert use_cases.count_overdue_open_cases(uow, date(2026, 12, 1)) == 0


def test_cases_are_counted_by_their_current_state(uow):
    submit(uow)
    act(uow, CLERK, submit(uow), "accept")
    act(uow, CLERK, submit(uow), "reject", "不属于本部门受理范围")
    use_cases.withdraw(uow, APPLICANT, submit(uow))
    approved = submit(uow, joint_departments=[])
    act(uow, CLERK, approved, "accept")
    act(uow, APPROVER, approved, "approve")  # online delivery: approved and complete
    express = submit(uow, delivery=EXPRESS, joint_departments=[])
    act(uow, CLERK, express, "accept")
    act(uow, APPROVER, express, "approve")  # the result still has to be delivered

    assert use_cases.count_cases_by_state(uow) == {
        **NO_CASES,
        "submitted": 1,
        "accepted": 1,
        "rejected": 1,
        "withdrawn": 1,
        "completed": 1,
        "approved": 1,
    }


def test_open_overdue_cases_are_the_ones_the_overdue_check_finds(uow):
    submit(uow)
    accepted = submit(uow)
    act(uow, CLERK, accepted, "accept")
    waiting = submit(uow)  # on the applicant: the clock is stopped
    act(uow, CLERK, waiting, "request_supplement", "请补交营业执照副本")
    suspended = submit(uow)  # a special procedure: the clock is stopped too
    act(uow, CLERK, suspended, "accept")
    use_cases.suspend(uow, CLERK, suspended, "inspection", "现场核查", now=NOW)
    use_cases.withdraw(uow, APPLICANT, submit(uow))
    submit(uow, now=LATER)  # due a week later

    assert use_cases.count_overdue_open_cases(uow, DUE) == 0
    assert use_cases.count_overdue_open_cases(uow, date(2026, 10, 13)) == 2
    assert use_cases.mark_overdue_cases(uow, date(2026, 10, 13)) == 2
    # Reported or not, a late case still open counts.
    assert use_cases.count_overdue_open_cases(uow, date(2026, 10, 13)) == 2

    act(uow, APPROVER_A, accepted, "approve")
    act(uow, APPROVER, accepted, "approve")
    assert use_cases.count_overdue_open_cases(uow, date(2026, 10, 13)) == 1


def test_a_case_due_on_friday_is_late_on_the_next_working_day(uow):
    # Monday 2 November, four working days: due Friday 6 November.
    submit(uow, now=datetime(2026, 11, 2, 2, 0, tzinfo=UTC), promised_days=4)

    assert use_cases.count_overdue_open_cases(uow, date(2026, 11, 7)) == 0
    assert use_cases.count_overdue_open_cases(uow, date(2026, 11, 8)) == 0
    assert use_cases.count_overdue_open_cases(uow, date(2026, 11, 9)) == 1

    # The calendar loaded counts: Monday declared a day off.
    shipped = use_cases.get_calendar_year(uow, 2026)
    use_cases.put_calendar_year(
        uow, OPERATOR, 2026, [*shipped["holidays"], date(2026, 11, 9)], shipped["workdays"]
    )
    assert use_cases.count_overdue_open_cases(uow, date(2026, 11, 9)) == 0
    assert use_cases.count_overdue_open_cases(uow, date(2026, 11, 10)) == 1


def test_the_gauges_carry_the_instance_name(uow):
    submit(uow)
    act(uow, CLERK, submit(uow), "accept")
    # Due in 2027, whose calendar is not loaded: counted on weekdays only.
    submit(uow, now=datetime(2026, 12, 28, 2, 0, tzinfo=UTC))
    late = submit(uow)
    act(uow, CLERK, late, "accept")
    # Three working days and more after Monday 12 October: both levels.
    use_cases.escalate_late_tasks(uow, date(2026, 10, 19))
    cases, overdue, provisional, escalations = gauges(
        lambda: uow, "workflow-js-ga", today=lambda: date(2026, 10, 13)
    )

    assert (cases.name, cases.labels) == ("tongban_workflow_cases", ("service", "state"))
    assert dict(cases.read()) == {
        ("workflow-js-ga", state): count
        for state, count in {**NO_CASES, "submitted": 2, "accepted": 2}.items()
    }
    assert (overdue.name, overdue.labels) == ("tongban_workflow_cases_overdue_open", ("service",))
    assert overdue.read() == [(("workflow-js-ga",), 3)]
    assert (provisional.name, provisional.labels) == (
        "tongban_workflow_cases_calendar_provisional",
        ("service",),
    )
    assert provisional.read() == [(("workflow-js-ga",), 1)]
    assert (escalations.name, escalations.labels) == (
        "tongban_workflow_escalations_open",
        ("service", "level"),
    )
    # The two accepted cases' two joint branches each, and the accept task of
    # the case submitted in September (December's is not due yet).
    assert dict(escalations.read()) == {
        ("workflow-js-ga", "dept_admin"): 5,
        ("workflow-js-ga", "operator"): 5,
    }


def test_open_escalations_are_counted_per_level_until_their_task_is_done(uow):
    assert use_cases.count_open_escalations(uow) == {"dept_admin": 0, "operator": 0}
    accepted = submit(uow, joint_departments=[])
    act(uow, CLERK, accepted, "accept")
    # Due Saturday 10 October (a make-up working day): red from Monday 12th,
    # and three working days on (Wednesday 14th) from Thursday 15th.
    use_cases.escalate_late_tasks(uow, date(2026, 10, 13))
    assert use_cases.count_open_escalations(uow) == {"dept_admin": 1, "operator": 0}
    use_cases.escalate_late_tasks(uow, date(2026, 10, 16))
    assert use_cases.count_open_escalations(uow) == {"dept_admin": 1, "operator": 1}
    act(uow, APPROVER, accepted, "approve")
    assert use_cases.count_open_escalations(uow) == {"dept_admin": 0, "operator": 0}


def test_provisional_cases_are_counted_while_open(uow):
    december = datetime(2026, 12, 28, 2, 0, tzinfo=UTC)
    assert use_cases.count_provisional_cases(uow) == 0
    open_case = submit(uow, now=december)
    waiting = submit(uow, now=december)
    act(uow, CLERK, waiting, "request_supplement", "请补交营业执照副本")
    use_cases.withdraw(uow, APPLICANT, submit(uow, now=december))
    submit(uow)  # due in 2026: sure
    assert use_cases.count_provisional_cases(uow) == 2
    use_cases.withdraw(uow, APPLICANT, open_case)
    assert use_cases.count_provisional_cases(uow) == 1
