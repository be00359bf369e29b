"""The clock of a case, end to end, with the cluster's clock moved days ahead
(the ``clock`` fixture): a supplement request stops it and the supplement
restarts it, moving every due date by the working days waited; a supplement
that never comes ends the case; an approved extension and a suspension move
the due dates; signals turn yellow and red on the case and on its worklist
task, and the worklist filters and sorts by them; late work escalates to the
department's admin, then to the operator, and ratings counts it.

Expected dates are counted on the calendar the cluster holds (read through the
operator's calendar route), never on today's weekday.
"""

from datetime import timedelta

import pytest

from tests.e2e.approvals import (
    ONE_DAY,
    Calendar,
    act,
    actions,
    case,
    citizen,
    day_of,
    iso,
    item,
    on_worklist,
    operator,
    staff,
    step,
    submit,
    worklist,
)
from tests.e2e.test_journey import eventually

pytestmark = pytest.mark.e2e

FOREIGN_FIRM = "320000-JSSCJG-004"  # js-amr: accept 1, register 2; supplement within 15 days
MARRIAGE = "321000-YZMZJ-001"  # yz-mz, at the window: supplement within 3 days
INDUSTRY = "320000-JSSCJG-002"  # js-amr: accept, inspect 12, decide 7; extensions up to 30
PASSPORT = "320000-JSGAT-001"  # js-ga on workflow-js-ga: accept 1, issue 6
DOCTORS = "320000-JSWJW-001"  # js-wjw: accept 2, register 8 (no other test applies)


@pytest.fixture(scope="module", autouse=True)
def watch(log_watch):
    return log_watch()


@pytest.fixture(scope="module")
def the_operator(cluster):
    return operator(cluster.gateway_url)


def calendar_around(the_operator, *days) -> Calendar:
    """The cluster's calendar over the years of ``days`` and the next."""
    years = [day.year for day in days]
    return Calendar.of_cluster(the_operator, min(years), max(years) + 1)


def moved(before: dict, after: dict, working_days: int, calendar: Calendar, *steps: str):
    """Assert every due date of ``after`` is ``before``'s moved by ``working_days``."""
    for name in ("due_date", "legal_due_date"):
        assert after[name] == iso(calendar.add(day_of(before[name]), working_days)), name
    for step_id in steps:
        was = day_of(step(before, step_id)["due_date"])
        assert step(after, step_id)["due_date"] == iso(calendar.add(was, working_days)), step_id


def test_a_supplement_stops_the_clock_and_restarts_it_moving_the_due_dates(
    cluster, clock, the_operator
):
    base = cluster.gateway_url
    clerk = staff(the_operator, "js-amr", "window_clerk", name="市监窗口")
    applicant, _ = citizen(base, "外资企业代表")
    application_id = submit(applicant, item(applicant, FOREIGN_FIRM))
    before = case(clerk, application_id)
    assert before["clock"] == {"running": True, "stopped_on": None, "stopped_for": None}

    missing = ["公司章程", "法定代表人身份证明"]
    # A supplement request says why.
    act(
        clerk,
        application_id,
        "request_supplement",
        comment="",
        missing_materials=missing,
        expect=422,
    )
    view = act(
        clerk,
        application_id,
        "request_supplement",
        comment="请一次性补齐以下材料",
        missing_materials=missing,
    )
    assert view["state"] == "supplement_requested"
    stopped_on = day_of(view["clock"]["stopped_on"])
    assert view["clock"] == {
        "running": False,
        "stopped_on": iso(stopped_on),
        "stopped_for": "supplement",
    }
    assert view["missing_materials"] == missing
    assert view["supplement_due"] == iso(stopped_on + timedelta(days=15))
    assert view["due_date"] == before["due_date"]
    # While the applicant owes materials the window can only reject.
    act(clerk, application_id, "accept", expect=409)
    assert actions(view) == {("reject", "accept")}
    assert ("supplement", None) in actions(case(applicant, application_id))

    calendar = calendar_around(the_operator, stopped_on, day_of(before["legal_due_date"]))
    today = clock.move_to(calendar.add(stopped_on, 5))
    assert calendar.between(stopped_on, today) == 5
    response = applicant.post(
        f"/api/v1/applications/{application_id}/supplement",
        json={"materials": [{"name": name} for name in missing]},
    )
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["state"] == "submitted"
    assert view["clock"] == {"running": True, "stopped_on": None, "stopped_for": None}
    assert view["missing_materials"] == [] and view["supplement_due"] is None
    moved(before, view, 5, calendar, "accept")
    assert [e["action"] for e in view["timeline"]][-2:] == ["request_supplement", "supplement"]
    response = applicant.post(
        f"/api/v1/applications/{application_id}/supplement", json={"materials": [{"name": "x"}]}
    )
    assert response.status_code == 409, response.text

    assert act(clerk, application_id, "accept")["state"] == "accepted"


def test_a_case_never_supplemented_ends_after_the_supplement_days(cluster, clock, the_operator):
    base = cluster.gateway_url
    clerk = staff(the_operator, "yz-mz", "window_clerk", name="民政窗口")
    applicant, _ = citizen(base, "待补正人", region="321002")
    application_id = submit(applicant, item(applicant, MARRIAGE))
    view = act(
        clerk,
        application_id,
        "request_supplement",
        comment="缺少户口簿原件",
        missing_materials=["户口簿"],
    )
    supplement_due = day_of(view["supplement_due"])
    assert supplement_due == day_of(view["clock"]["stopped_on"]) + timedelta(days=3)

    clock.move_to(supplement_due + ONE_DAY)

    def ended():
        current = case(applicant, application_id)
        return current if current["state"] == "not_supplemented" else None

    view = eventually(ended, timeout=20, what="the sweep to end the unsupplemented case")
    assert view["timeline"][-1]["action"] == "not_supplemented"
    assert view["timeline"][-1]["actor_role"] == "system"
    assert not actions(view)
    response = applicant.post(
        f"/api/v1/applications/{application_id}/supplement",
        json={"materials": [{"name": "户口簿"}]},
    )
    assert response.status_code == 409, response.text
    assert on_worklist(clerk, application_id)["task"] is None


def test_an_approved_extension_moves_the_promised_and_legal_due_dates(cluster, the_operator):
    base = cluster.gateway_url
    approver = staff(the_operator, "js-amr", "window_clerk", "approver", name="市监审批")
    admin = staff(the_operator, "js-amr", "dept_admin", name="市监管理员")
    other_admin = staff(the_operator, "js-ga", "dept_admin")
    applicant, _ = citizen(base, "工业企业代表")
    application_id = submit(applicant, item(applicant, INDUSTRY))
    before = act(approver, application_id, "accept")
    path = f"/api/v1/applications/{application_id}/extension"
    reason = {"working_days": 5, "reason": "需组织专家论证"}

    # An approver of the item's department asks, within the item's limit (30).
    assert admin.post(path, json=reason).status_code == 403
    response = approver.post(path, json={**reason, "working_days": 31})
    assert response.status_code == 422, response.text
    assert "working_days" in response.json()["error"]["fields"]
    response = approver.post(path, json=reason)
    assert response.status_code == 200, response.text
    view = response.json()
    assert [(e["state"], e["working_days"]) for e in view["extensions"]] == [("requested", 5)]
    assert view["due_date"] == before["due_date"]
    assert approver.post(path, json=reason).status_code == 409  # one request at a time
    assert ("decide_extension", None) in actions(case(admin, application_id))

    # The department admin decides it.
    decision = f"{path}/decision"
    assert approver.post(decision, json={"approve": True}).status_code == 403
    assert other_admin.post(decision, json={"approve": True}).status_code == 404
    response = admin.post(decision, json={"approve": True, "comment": "同意延期"})
    assert response.status_code == 200, response.text
    view = response.json()
    calendar = calendar_around(
        the_operator, day_of(before["submitted_at"]), day_of(view["legal_due_date"])
    )
    moved(before, view, 5, calendar, "inspect")
    assert view["extensions"][0]["state"] == "approved"
    assert view["extensions"][0]["decided_by"]
    extend = [e for e in view["timeline"] if e["action"] == "extend"]
    assert len(extend) == 1 and "5" in extend[0]["comment"]
    assert case(applicant, application_id)["due_date"] == view["due_date"]
    assert admin.post(decision, json={"approve": True}).status_code == 409  # none waiting


def test_a_suspension_stops_the_clock_and_moves_the_due_dates_by_the_days_it_took(
    cluster, clock, the_operator
):
    base = cluster.gateway_url
    worker = staff(the_operator, "js-ga", "window_clerk", "approver", name="出入境民警")
    stranger = staff(the_operator, "js-amr", "approver")
    applicant, _ = citizen(base, "出境人员")
    guide = item(applicant, PASSPORT)
    application_id = submit(applicant, guide, mode="window")
    running = submit(applicant, guide, mode="window")  # the same limits, never suspended
    assert application_id.startswith("js-ga.")
    path = f"/api/v1/applications/{application_id}/suspensions"
    procedure = {"kind": "inspection", "reason": "需核查出境事由"}

    assert worker.post(path, json=procedure).status_code == 409  # not accepted yet
    before = act(worker, application_id, "accept")
    act(worker, running, "accept")
    assert stranger.post(path, json=procedure).status_code == 404  # not js-amr's case
    response = worker.post(path, json=procedure)
    assert response.status_code == 201, response.text
    suspension_id = response.json()["suspension_id"]
    view = response.json()["application"]
    assert view["clock"]["running"] is False
    assert view["clock"]["stopped_for"] == "suspension"
    stopped_on = day_of(view["clock"]["stopped_on"])
    assert worker.post(path, json=procedure).status_code == 409  # already stopped
    act(worker, application_id, "approve", expect=409)  # suspended: no decision
    assert ("end_suspension", None) in actions(case(worker, application_id))

    # Past the promised due date: the running case is reported late, the
    # suspended one is not (its clock stands still).
    due = day_of(before["due_date"])
    calendar = calendar_around(the_operator, stopped_on, day_of(before["legal_due_date"]))
    today = clock.move_to(calendar.add(due, 2))
    eventually(
        lambda: case(worker, running)["overdue"], timeout=20, what="the sweep to report it late"
    )
    view = case(worker, application_id)
    assert view["overdue"] is False
    assert view["signal"] == "green"  # shown as if the clock restarted today

    waited = calendar.between(stopped_on, today)
    end = f"{path}/{suspension_id}/end"
    assert worker.post(f"{path}/0000/end", json={"result": "x"}).status_code == 404
    response = worker.post(end, json={"result": "核查无异常"})
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["clock"]["running"] is True
    [suspension] = view["suspensions"]
    assert suspension["suspension_id"] == suspension_id
    assert suspension["working_days"] == waited
    assert suspension["ended_at"] and suspension["result"] == "核查无异常"
    moved(before, view, waited, calendar, "issue")
    assert [e["action"] for e in view["timeline"]][-2:] == ["suspend", "resume"]
    assert worker.post(end, json={"result": "again"}).status_code == 409

    # Issued: the passport's fee is due next (the clock stops for it, too).
    view = act(worker, application_id, "approve")
    assert step(view, "issue")["state"] == "done"
    assert step(view, "payment")["state"] == "active"
    assert view["clock"]["stopped_for"] == "payment"


def test_signals_turn_yellow_then_red_on_the_case_and_its_worklist_task(
    cluster, clock, the_operator
):
    base = cluster.gateway_url
    worker = staff(the_operator, "js-wjw", "window_clerk", "approver", name="卫健委经办")
    applicant, _ = citizen(base, "执业医师")
    guide = item(applicant, DOCTORS)
    waiting = submit(applicant, guide)  # its accept step: 2 working days
    accepted = submit(applicant, guide)
    view = act(worker, accepted, "accept")  # its register step: 8 working days
    task_due = day_of(step(view, "register")["due_date"])
    case_due = day_of(view["due_date"])
    calendar = calendar_around(the_operator, task_due, case_due)

    def signals(application_id):
        """(the case's signal, its worklist task's) on the department's worklist."""
        entry = on_worklist(worker, application_id)
        return entry["signal"], entry["task"]["signal"]

    def listed(signal):
        return {entry["application_id"] for entry in worklist(worker, signal=signal)}

    assert calendar.between(day_of(step(view, "register")["started_on"]), task_due) == 8
    assert calendar.between(task_due, case_due) == 2
    assert signals(accepted) == ("green", "green")
    assert signals(waiting) == ("green", "yellow")  # due within 2 working days
    assert accepted in listed("green") and waiting in listed("yellow")

    # Two working days before the register step is due.
    clock.move_to(calendar.before(task_due, 2))
    assert signals(accepted) == ("green", "yellow")
    assert signals(waiting) == ("green", "red")  # its accept step is past due
    view = case(worker, accepted)
    assert (view["signal"], step(view, "register")["signal"]) == ("green", "yellow")
    yellow, red, green = listed("yellow"), listed("red"), listed("green")
    assert accepted in yellow and waiting not in yellow
    assert waiting in red and accepted not in red
    assert accepted not in green and waiting not in green
    order = [entry["application_id"] for entry in worklist(worker, sort="due")]
    assert order.index(waiting) < order.index(accepted)  # the soonest due first

    # A working day after the task's due date: the task is red, the case (due
    # two working days after it) yellow.
    clock.move_to(calendar.add(task_due, 1))
    assert signals(accepted) == ("yellow", "red")
    view = case(worker, accepted)
    assert (view["signal"], step(view, "register")["signal"]) == ("yellow", "red")
    assert view["overdue"] is False  # the case itself is not late yet
    assert accepted in listed("red") and accepted not in listed("yellow")

    # A working day after the promised due date: red everywhere, reported late.
    clock.move_to(calendar.add(case_due, 1))
    assert signals(accepted) == ("red", "red")
    assert signals(waiting) == ("red", "red")
    assert accepted in listed("red")

    def reported():
        current = case(worker, accepted)
        return current if current["overdue"] else None

    view = eventually(reported, timeout=20, what="the sweep to report the case late")
    assert view["signal"] == "red"
    assert step(view, "register")["signal"] == "red"
    assert "overdue" in [entry["action"] for entry in view["timeline"]]


def test_late_work_goes_to_the_department_admin_then_to_the_operator(cluster, clock, the_operator):
    base = cluster.gateway_url
    worker = staff(the_operator, "js-wjw", "window_clerk", "approver", name="卫健委经办")
    admin = staff(the_operator, "js-wjw", "dept_admin", name="卫健委管理员")
    applicant, _ = citizen(base, "执业医师")
    application_id = submit(applicant, item(applicant, DOCTORS))
    view = act(worker, application_id, "accept")
    task_due = day_of(step(view, "register")["due_date"])
    calendar = calendar_around(the_operator, task_due)
    counted = escalation_counts(the_operator, "js-wjw")
    open_before = escalated(admin)

    def listed(client, **params):
        """This case's open escalations on ``client``'s list, as (level, step, due, signal)."""
        return sorted(
            (entry["level"], entry["step_id"], entry["due_date"], entry["signal"])
            for entry in escalations(client, **params)
            if entry["application_id"] == application_id
        )

    def counted_as_raised():
        """Ratings' counts once every escalation of the department raised since
        the test began (still open: nobody else acts on its cases) is in."""
        raised = escalated(admin) - open_before
        expected = {
            level: counted[level] + sum(1 for entry in raised if entry[1] == level)
            for level in ("dept_admin", "operator")
        }
        now = escalation_counts(the_operator, "js-wjw")
        return now if now == expected else None

    assert listed(admin) == [] and listed(the_operator) == []
    assert worker.get("/api/v1/escalations").status_code == 403  # not an admin

    # Red: a working day after the register step was due.
    clock.move_to(calendar.add(task_due, 1))
    late = ("dept_admin", "register", iso(task_due), "red")
    eventually(lambda: listed(admin) == [late] or None, timeout=20, what="the escalation")
    assert listed(the_operator) == []
    assert listed(the_operator, level="dept_admin") == [late]
    view = case(admin, application_id)
    assert [(e["level"], e["step_id"], e["resolved_at"]) for e in view["escalations"]] == [
        ("dept_admin", "register", None)
    ]
    eventually(counted_as_raised, timeout=20, what="ratings to count the escalations")

    # Still red three working days on (ESCALATE_TO_OPERATOR_DAYS): the operator.
    clock.move_to(calendar.add(task_due, 1 + 3))
    to_operator = ("operator", "register", iso(task_due), "red")
    eventually(
        lambda: listed(the_operator) == [to_operator] or None, timeout=20, what="the operator"
    )
    assert listed(admin) == [late, to_operator]
    counts = eventually(counted_as_raised, timeout=20, what="ratings to count the escalations")
    assert counts["dept_admin"] > counted["dept_admin"] and counts["operator"] > counted["operator"]

    # The work done, the escalations close and leave both lists.
    assert act(worker, application_id, "approve")["state"] == "completed"
    assert listed(admin) == [] and listed(the_operator) == []
    view = case(admin, application_id)
    assert len(view["escalations"]) == 2
    assert all(entry["resolved_at"] for entry in view["escalations"])


def escalations(client, **params) -> list[dict]:
    """Every open escalation on ``client``'s list, page by page."""
    found, page = [], 1
    while True:
        response = client.get(
            "/api/v1/escalations", params={"page": page, "page_size": 100, **params}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        found += body["items"]
        if page * body["page_size"] >= body["total"]:
            return found
        page += 1


def escalated(admin) -> set[tuple[str, str, str]]:
    """The open escalations of ``admin``'s department, as (case, level, step)."""
    return {
        (entry["application_id"], entry["level"], entry["step_id"]) for entry in escalations(admin)
    }


def escalation_counts(the_operator, department: str) -> dict:
    """How often the department's late work went to each level, as ratings counts."""
    response = the_operator.get("/api/v1/stats/ratings", params={"department": department})
    assert response.status_code == 200, response.text
    return response.json()["escalations"]


def test_nothing_was_logged_as_an_error(watch):
    assert watch.problems() == []
