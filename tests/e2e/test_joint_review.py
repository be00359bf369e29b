"""Joint review (联合审) through the gateway, across two workflow instances:
each branch of a parallel step is its department's work, on its worklist with
its own due date, acted on from there; "all" needs every branch, one denial
denies the case naming the department; "any" is met by the first approval.

320000-JSSCJG-005 runs on the shared instance with a js-ga branch (js-ga runs
workflow-js-ga); 320000-JSGAT-003 runs on workflow-js-ga with a js-amr branch.
"""

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.approvals import (
    act,
    actions,
    branch,
    case,
    citizen,
    item,
    on_worklist,
    operator,
    staff,
    step,
    submit,
)

pytestmark = pytest.mark.e2e

ONE_STOP = "320000-JSSCJG-005"  # js-amr: licence, then js-ga and js-rs in parallel, all
SECURITY = "320000-JSGAT-003"  # js-ga (workflow-js-ga): js-ga and js-amr in parallel, all
RESIDENCE = "320500-SZGAJ-002"  # sz-ga: js-rs and sz-amr in parallel, any


@pytest.fixture(scope="module", autouse=True)
def watch(log_watch):
    return log_watch()


@pytest.fixture(scope="module")
def the_operator(cluster):
    return operator(cluster.gateway_url)


def one_stop_case_at_its_joint_step(base, the_operator, amr):
    """A JSSCJG-005 case accepted and licensed by js-amr: its parallel step open."""
    applicant, _ = citizen(base, "开办人")
    application_id = submit(applicant, item(applicant, ONE_STOP))
    act(amr, application_id, "accept", step="accept")
    # the licence step is js-amr's; the parallel one is not open yet
    act(amr, application_id, "approve", step="seal-and-insurance", expect=409)
    view = act(amr, application_id, "approve", step="licence")
    assert view["state"] == "accepted"
    return applicant, application_id, view


def test_all_of_two_departments_one_on_its_own_instance(cluster, the_operator):
    base = cluster.gateway_url
    amr = staff(the_operator, "js-amr", "window_clerk", "approver", name="市监经办")
    ga = staff(the_operator, "js-ga", "approver", name="公安审批")
    ga_clerk = staff(the_operator, "js-ga", "window_clerk", name="公安窗口")
    rs = staff(the_operator, "js-rs", "approver", name="人社审批")

    applicant, application_id, view = one_stop_case_at_its_joint_step(base, the_operator, amr)
    assert not application_id.startswith("js-ga.")  # the shared instance's case
    joint = step(view, "seal-and-insurance")
    assert (joint["kind"], joint["state"], joint["join"]) == ("parallel", "active", "all")
    assert {b["department_code"]: b["state"] for b in joint["branches"]} == {
        "js-ga": "active",
        "js-rs": "active",
    }

    # Each branch is on its department's worklist (js-ga's merges workflow-js-ga
    # and the shared instance) with its own task and due date.
    for worker, department in ((ga, "js-ga"), (rs, "js-rs")):
        entry = on_worklist(worker, application_id)
        assert entry is not None, department
        own = branch(joint, department)
        assert entry["task"]["step"] == "seal-and-insurance"
        assert entry["task"]["role"] == "approver"
        assert entry["task"]["due_date"] == own["due_date"]
        assert entry["task"]["signal"] == own["signal"]
        assert actions(case(worker, application_id)) >= {
            ("approve", "seal-and-insurance"),
            ("deny", "seal-and-insurance"),
        }
    assert on_worklist(ga, application_id, state="accepted") is not None

    # Wrong action at the step: 409; wrong department or role: 403.
    act(ga, application_id, "accept", expect=409)
    act(amr, application_id, "approve", step="seal-and-insurance", expect=403)
    act(ga_clerk, application_id, "approve", step="seal-and-insurance", expect=403)
    # A step the process does not have is bad input.
    act(ga, application_id, "approve", step="no-such-step", expect=422)

    view = act(ga, application_id, "approve", step="seal-and-insurance")
    assert view["state"] == "accepted"  # js-rs has not decided
    joint = step(view, "seal-and-insurance")
    assert branch(joint, "js-ga")["state"] == "done"
    assert branch(joint, "js-ga")["decided_by"]
    assert branch(joint, "js-rs")["state"] == "active"
    act(ga, application_id, "approve", step="seal-and-insurance", expect=409)  # decided already
    assert on_worklist(ga, application_id)["task"] is None  # no open work of js-ga left

    view = act(rs, application_id, "approve", step="seal-and-insurance")
    assert view["state"] == "completed"
    assert view["licence_no"] and not view["licence_no"].startswith("js-ga.")
    assert step(view, "seal-and-insurance")["state"] == "done"
    assert {r["department_code"]: r["decision"] for r in view["reviews"]} == {
        "js-amr": "approved",
        "js-ga": "approved",
        "js-rs": "approved",
    }
    assert case(applicant, application_id)["state"] == "completed"


def test_one_denial_under_all_denies_the_case_naming_the_department(cluster, the_operator):
    base = cluster.gateway_url
    amr = staff(the_operator, "js-amr", "window_clerk", "approver")
    ga = staff(the_operator, "js-ga", "approver")
    rs = staff(the_operator, "js-rs", "approver")
    applicant, application_id, _ = one_stop_case_at_its_joint_step(base, the_operator, amr)

    # A denial needs its reason.
    act(rs, application_id, "deny", comment=" ", step="seal-and-insurance", expect=422)
    view = act(rs, application_id, "deny", comment="参保登记信息不全", step="seal-and-insurance")
    assert view["state"] == "denied"
    joint = step(view, "seal-and-insurance")
    assert joint["state"] == "denied"
    assert branch(joint, "js-rs")["state"] == "denied"
    assert branch(joint, "js-ga")["state"] == "closed"  # never decided, no longer needed
    denial = [entry for entry in view["timeline"] if entry["action"] == "deny"][-1]
    assert denial["comment"] == "js-rs: 参保登记信息不全"
    assert denial["step"] == "seal-and-insurance"
    shown = case(applicant, application_id)
    assert shown["state"] == "denied"
    assert "js-rs" in [e for e in shown["timeline"] if e["action"] == "deny"][-1]["comment"]
    # The case has ended: js-ga has nothing left to decide.
    act(ga, application_id, "approve", step="seal-and-insurance", expect=409)
    assert on_worklist(ga, application_id)["task"] is None


def test_both_branches_approving_at_once_both_count(cluster, the_operator):
    """Two departments decide the same case in the same instant: neither
    decision overwrites the other (the case is locked while each is made)."""
    base = cluster.gateway_url
    amr = staff(the_operator, "js-amr", "window_clerk", "approver")
    ga = staff(the_operator, "js-ga", "approver")
    rs = staff(the_operator, "js-rs", "approver")
    applicant, application_id, _ = one_stop_case_at_its_joint_step(base, the_operator, amr)

    def approve(worker):
        return worker.post(
            f"/api/v1/applications/{application_id}/actions",
            json={"action": "approve", "comment": "同意", "step": "seal-and-insurance"},
        )

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(approve, (ga, rs)))
    assert [answer.status_code for answer in answers] == [200, 200]
    assert sorted(answer.json()["state"] for answer in answers) == ["accepted", "completed"]
    view = case(applicant, application_id)
    assert view["state"] == "completed"
    joint = step(view, "seal-and-insurance")
    assert [b["state"] for b in joint["branches"]] == ["done", "done"]


def test_a_department_instance_case_with_a_branch_of_the_shared_instance_department(
    cluster, the_operator
):
    base = cluster.gateway_url
    ga_clerk = staff(the_operator, "js-ga", "window_clerk")
    ga = staff(the_operator, "js-ga", "approver")
    amr = staff(the_operator, "js-amr", "approver")
    applicant, _ = citizen(base, "保安公司负责人")
    application_id = submit(applicant, item(applicant, SECURITY))
    assert application_id.startswith("js-ga.")  # workflow-js-ga's case

    view = act(ga_clerk, application_id, "accept")
    joint = step(view, "joint")
    assert joint["state"] == "active"
    ga_branch, amr_branch = branch(joint, "js-ga"), branch(joint, "js-amr")
    # Each branch has its own time: 8 working days for js-ga, 5 for js-amr.
    assert amr_branch["due_date"] < ga_branch["due_date"]
    assert joint["due_date"] == ga_branch["due_date"]

    # js-amr (shared instance) sees the case on its worklist, from workflow-js-ga.
    entry = on_worklist(amr, application_id)
    assert entry is not None
    assert entry["task"] == {
        "step": "joint",
        "role": "approver",
        "due_date": amr_branch["due_date"],
        "signal": amr_branch["signal"],
    }
    assert on_worklist(ga, application_id)["task"]["due_date"] == ga_branch["due_date"]

    # js-ga's approver has work at joint now and at decide later: step names it.
    act(ga, application_id, "approve", step="decide", expect=409)  # not open yet
    act(amr, application_id, "approve", step="joint")  # routed to workflow-js-ga
    act(amr, application_id, "approve", step="joint", expect=409)
    view = act(ga, application_id, "approve", step="joint")
    assert step(view, "joint")["state"] == "done"
    assert step(view, "decide")["state"] == "active"
    assert on_worklist(amr, application_id)["task"] is None
    act(amr, application_id, "approve", step="decide", expect=403)  # js-ga's step

    view = act(ga, application_id, "approve", step="decide")
    assert view["state"] == "completed"
    # A national number: its issuer's USCC (js-ga's) routes it to js-ga's instance.
    assert view["licence_no"].startswith("1.2.156.3005.2.")
    verified = applicant.get(f"/api/v1/licences/{view['licence_no']}/verify")
    assert verified.status_code == 200 and verified.json()["valid"] is True


def test_any_of_is_met_by_the_first_approval(cluster, the_operator):
    base = cluster.gateway_url
    sz_ga = staff(the_operator, "sz-ga", "window_clerk", "approver")
    rs = staff(the_operator, "js-rs", "approver")
    sz_amr = staff(the_operator, "sz-amr", "approver")
    applicant, _ = citizen(base, "新苏州人")
    application_id = submit(applicant, item(applicant, RESIDENCE))

    view = act(sz_ga, application_id, "accept", step="accept")
    employment = step(view, "employment")
    assert (employment["state"], employment["join"]) == ("active", "any")
    assert on_worklist(sz_amr, application_id)["task"]["step"] == "employment"
    assert on_worklist(rs, application_id)["task"]["step"] == "employment"

    view = act(rs, application_id, "approve", step="employment")
    employment = step(view, "employment")
    assert employment["state"] == "done"
    assert branch(employment, "js-rs")["state"] == "done"
    assert branch(employment, "sz-amr")["state"] == "not_needed"
    assert step(view, "issue")["state"] == "active"

    # sz-amr's branch is no longer needed: nothing to do there.
    entry = on_worklist(sz_amr, application_id)
    assert entry is not None and entry["task"] is None
    act(sz_amr, application_id, "approve", step="employment", expect=409)
    assert not {pair for pair in actions(case(sz_amr, application_id)) if pair[1]}

    view = act(sz_ga, application_id, "approve", step="issue")
    assert view["state"] == "completed"
    assert view["licence_no"]


def test_nothing_was_logged_as_an_error(watch):
    assert watch.problems() == []
