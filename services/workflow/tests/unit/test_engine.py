"""The approval engine: a case runs its process definition step by step.

Steps in order (review, then approve), parallel steps and their joins, steps of
another department, auto steps decided by rules or by a person, and who may do
what at each moment.
"""

from datetime import date

import pytest

from services.common.rules import Failure
from services.workflow.domain.events import (
    ApplicationAccepted,
    ApplicationDenied,
    AutoStepStarted,
)
from services.workflow.domain.exceptions import Forbidden, InvalidTransition, ValidationFailed
from services.workflow.domain.model import State
from services.workflow.domain.process import ProcessDefinition

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
    LATER,
    NOW,
    OPERATOR,
    OUTSIDE_APPROVER,
    OWN,
    act,
    ended,
    licence_numbers,
    staff,
    submit,
)

ACCEPT = {"id": "accept", "kind": "accept", "role": "window_clerk", "days": 1}
REVIEW = {"id": "review", "kind": "review", "role": "approver", "days": 2}
DECIDE = {"id": "decide", "kind": "approve", "role": "approver", "days": 2}
AGE = {"fact": "applicant.age", "op": "ge", "value": 60}
LEVEL = {"fact": "applicant.level", "op": "ge", "value": 2}
AUTO = {
    "id": "eligibility",
    "kind": "auto",
    "days": 0,
    "rules": {"all": [LEVEL, AGE]},
    "fallback": {"role": "approver", "department_code": JOINT_A, "days": 2},
}
APPROVER_C = staff("u-approver-c", "320102-JT", "approver")


def process(*steps, **top) -> ProcessDefinition:
    return ProcessDefinition.parse({"steps": list(steps), **top})


def parallel(join, *departments, days=3) -> dict:
    return {
        "id": "joint",
        "kind": "parallel",
        "join": join,
        "branches": [
            {"department_code": code, "role": "approver", "days": days} for code in departments
        ],
    }


def case(*steps, mode="online", **submitting):
    app = submit(mode, process=process(*steps), process_version=3, **submitting)
    return app


def states(app) -> dict[str, str]:
    return {run.id: str(run.state) for run in app.steps}


def branch_states(app, step="joint") -> dict[str, str]:
    (run,) = [run for run in app.steps if run.id == step]
    return {task.department_code: str(task.state) for task in run.tasks}


# ------------------------------------------------------- review, then approve


def test_a_case_runs_its_steps_in_order_and_the_last_approves_it():
    app = case(ACCEPT, REVIEW, DECIDE)
    assert (app.process_version, states(app)) == (
        3,
        {"accept": "active", "review": "pending", "decide": "pending"},
    )
    act(app, CLERK, "accept", now=NOW)
    assert states(app) == {"accept": "done", "review": "active", "decide": "pending"}
    review = app.steps[1]
    # Each step is due in its own working days from the day it starts.
    assert (review.started_on, review.due_date) == (date(2026, 9, 29), date(2026, 10, 8))
    app.events.clear()

    act(app, APPROVER, "approve", "初审通过", now=LATER)
    assert app.state == State.ACCEPTED and app.licence is None and app.events == []
    decide = app.steps[2]
    assert (decide.started_on, decide.due_date) == (date(2026, 10, 8), date(2026, 10, 10))
    assert states(app) == {"accept": "done", "review": "done", "decide": "active"}

    act(app, APPROVER, "approve", "同意", now=LATER)
    assert app.state == State.COMPLETED
    assert [e.type for e in app.events] == [
        "application_approved",
        "licence_issued",
        "application_completed",
        "application_ended",
    ]
    # 30 September and 8 October: National Day lies between.
    assert app.events[-1] == ended(app, "completed", at=LATER, on_time=True, working_days=2)
    assert [(e.action, e.state, e.step) for e in app.timeline] == [
        ("submit", "submitted", None),
        ("accept", "accepted", "accept"),
        ("approve", "accepted", "review"),
        # The entry shows the state after the action.
        ("approve", "approved", "decide"),
        ("issue_licence", "approved", None),
        ("complete", "completed", None),
    ]
    assert app.reviews == {OWN: "approved"}


def test_a_denial_at_any_step_ends_the_case_and_closes_what_is_left():
    app = case(ACCEPT, REVIEW, DECIDE)
    act(app, CLERK, "accept")
    app.events.clear()
    act(app, APPROVER, "deny", "资质不符", now=LATER)
    assert app.state == State.DENIED
    assert states(app) == {"accept": "done", "review": "denied", "decide": "closed"}
    assert app.events == [
        ApplicationDenied(
            application_id=app.application_id, applicant_id=APPLICANT["user_id"], comment="资质不符"
        ),
        ended(app, "denied", at=LATER, on_time=True, working_days=2),
    ]
    assert (app.timeline[-1].action, app.timeline[-1].step) == ("deny", "review")
    with pytest.raises(InvalidTransition):
        act(app, APPROVER, "approve")


def test_an_approval_at_an_accept_step_or_an_accept_at_a_review_is_a_conflict():
    app = case(ACCEPT, REVIEW, DECIDE)
    with pytest.raises(InvalidTransition, match="accept, reject, request_supplement"):
        act(app, APPROVER, "approve")
    act(app, CLERK, "accept")
    for action in ("accept", "reject", "request_supplement"):
        with pytest.raises(InvalidTransition, match="approve, deny"):
            act(app, CLERK, action, "理由")
    assert states(app)["review"] == "active"


# ---------------------------------------------------------------- parallel


def test_join_all_needs_every_branch_and_one_denial_names_its_department():
    app = case(ACCEPT, parallel("all", OWN, JOINT_A, JOINT_B), DECIDE)
    act(app, CLERK, "accept")
    act(app, APPROVER_A, "approve")
    act(app, APPROVER, "approve")
    assert branch_states(app) == {OWN: "done", JOINT_A: "done", JOINT_B: "active"}
    app.events.clear()
    act(app, APPROVER_B, "deny", "消防验收不合格", now=LATER)
    assert app.state == State.DENIED
    assert app.events[0].comment == f"{JOINT_B}: 消防验收不合格"
    assert states(app) == {"accept": "done", "joint": "denied", "decide": "closed"}


def test_join_any_is_met_by_the_first_approval_and_the_rest_are_not_needed():
    app = case(ACCEPT, parallel("any", JOINT_A, JOINT_B, OWN), DECIDE)
    act(app, CLERK, "accept")
    act(app, APPROVER_B, "approve", "同意", now=LATER)
    assert branch_states(app) == {JOINT_A: "not_needed", JOINT_B: "done", OWN: "not_needed"}
    assert states(app) == {"accept": "done", "joint": "done", "decide": "active"}
    # A branch no longer needed cannot decide any more.
    with pytest.raises(InvalidTransition):
        act(app, APPROVER_A, "approve", step="joint")
    assert app.reviews == {OWN: "pending", JOINT_A: "pending", JOINT_B: "approved"}


def test_join_any_is_denied_only_when_no_branch_can_approve_any_more():
    app = case(ACCEPT, parallel("any", JOINT_A, JOINT_B), DECIDE)
    act(app, CLERK, "accept")
    act(app, APPROVER_A, "deny", "不同意")
    assert app.state == State.ACCEPTED
    assert branch_states(app) == {JOINT_A: "denied", JOINT_B: "active"}
    assert (app.timeline[-1].action, app.timeline[-1].state) == ("deny", "accepted")
    act(app, APPROVER_B, "deny", "也不同意")
    assert app.state == State.DENIED
    assert app.events[-2].comment == f"{JOINT_B}: 也不同意"
    # The branch whose denial ended the case handled it.
    assert app.events[-1] == ended(
        app, "denied", at=NOW, on_time=True, working_days=0, handled_by=JOINT_B
    )


def test_join_at_least_counts_approvals_and_tolerates_denials_it_can_afford():
    app = case(ACCEPT, parallel({"at_least": 2}, JOINT_A, JOINT_B, "320102-JT"), DECIDE)
    act(app, CLERK, "accept")
    act(app, APPROVER_A, "approve")
    act(app, APPROVER_B, "deny", "不同意")
    assert app.state == State.ACCEPTED and states(app)["joint"] == "active"
    act(app, APPROVER_C, "approve")
    assert branch_states(app) == {JOINT_A: "done", JOINT_B: "denied", "320102-JT": "done"}
    assert states(app) == {"accept": "done", "joint": "done", "decide": "active"}

    short = case(ACCEPT, parallel({"at_least": 2}, JOINT_A, JOINT_B, "320102-JT"), DECIDE)
    act(short, CLERK, "accept")
    act(short, APPROVER_A, "deny", "不同意")
    assert short.state == State.ACCEPTED
    act(short, APPROVER_C, "deny", "不同意")
    # One branch left cannot make two approvals.
    assert short.state == State.DENIED
    assert branch_states(short) == {JOINT_A: "denied", JOINT_B: "closed", "320102-JT": "denied"}


def test_a_parallel_step_as_the_last_step_issues_the_licence_once():
    app = case(ACCEPT, parallel("all", OWN, JOINT_A))
    act(app, CLERK, "accept")
    app.events.clear()
    act(app, APPROVER, "approve")
    assert [e.type for e in app.events] == []
    act(app, APPROVER_A, "approve")
    assert [e.type for e in app.events] == [
        "application_approved",
        "licence_issued",
        "application_completed",
        "application_ended",
    ]


# ------------------------------------------------- a step of another department


def test_a_step_of_another_department_is_that_departments_work():
    app = case(ACCEPT, {**REVIEW, "department_code": JOINT_A}, DECIDE)
    act(app, CLERK, "accept")
    (task,) = app.steps[1].tasks
    assert (task.department_code, task.role) == (JOINT_A, "approver")
    assert app.reviewing_departments == [OWN, JOINT_A]
    # The item's own approver, or another department's, may not take it: 403.
    for outsider in (APPROVER, APPROVER_B, OUTSIDE_APPROVER, CLERK_A):
        with pytest.raises(Forbidden, match=f"step review: an approver of {JOINT_A}"):
            act(app, outsider, "approve")
    # An action the step does not have: 409, whoever asks.
    with pytest.raises(InvalidTransition):
        act(app, APPROVER_A, "reject", "不属于受理范围")
    act(app, APPROVER_A, "approve", "消防合格", step="review")
    assert states(app) == {"accept": "done", "review": "done", "decide": "active"}
    assert app.steps[2].tasks[0].department_code == OWN
    with pytest.raises(Forbidden):
        act(app, APPROVER_A, "approve")
    act(app, APPROVER, "approve")
    assert app.state == State.COMPLETED
    assert app.reviews == {OWN: "approved", JOINT_A: "approved"}


def test_step_names_the_step_acted_at():
    app = case(ACCEPT, REVIEW, DECIDE)
    with pytest.raises(ValidationFailed) as caught:
        act(app, CLERK, "accept", step="nowhere")
    assert caught.value.fields == {"step": "the process has no step nowhere"}
    # A step of the process that is not open now.
    with pytest.raises(InvalidTransition, match="step decide is not open"):
        act(app, APPROVER, "approve", step="decide")
    act(app, CLERK, "accept", step="accept")
    with pytest.raises(InvalidTransition, match="step accept is not open"):
        act(app, CLERK, "reject", "理由", step="accept")
    act(app, APPROVER, "approve", step="review")
    assert states(app)["decide"] == "active"


# -------------------------------------------------------------- auto steps


def test_an_auto_step_that_opens_asks_for_its_decision():
    app = case(AUTO)
    assert app.events[-1] == AutoStepStarted(
        application_id=app.application_id, step_id="eligibility"
    )
    run, definition = app.auto_step()
    assert (run.id, definition.rules) == ("eligibility", AUTO["rules"])
    assert run.tasks == [] and run.due_date == date(2026, 9, 29)
    # Nobody acts at it while it waits for its rules.
    assert app.available_actions(APPROVER_A) == []
    with pytest.raises(InvalidTransition):
        act(app, APPROVER_A, "approve")


def test_an_auto_step_approved_by_its_rules_issues_the_licence_with_no_human():
    app = case(AUTO)
    app.events.clear()
    app.decide_automatically([], calendar=CAL, licence_numbers=licence_numbers(), now=LATER)
    assert app.state == State.COMPLETED
    assert app.licence_no is not None
    assert app.steps[0].auto == {"outcome": "approved", "failures": []}
    assert [e.type for e in app.events] == [
        "application_approved",
        "licence_issued",
        "application_completed",
        "application_ended",
    ]
    assert app.events[-1] == ended(app, "completed", at=LATER, on_time=True, working_days=2)
    assert [(e.action, e.state, e.actor_id, e.actor_role) for e in app.timeline[1:]] == [
        ("auto_approve", "approved", None, "system"),
        ("issue_licence", "approved", None, "system"),
        ("complete", "completed", None, "system"),
    ]
    assert app.auto_step() is None


def test_an_auto_step_before_others_takes_the_case_on_and_moves_on():
    app = case(ACCEPT, AUTO, DECIDE)
    act(app, CLERK, "accept")
    assert app.events[-2:] == [
        ApplicationAccepted(application_id=app.application_id, accepted_at=NOW),
        AutoStepStarted(application_id=app.application_id, step_id="eligibility"),
    ]
    app.decide_automatically([], calendar=CAL, licence_numbers=licence_numbers(), now=LATER)
    assert app.state == State.ACCEPTED
    assert states(app) == {"accept": "done", "eligibility": "done", "decide": "active"}

    first = case(AUTO, DECIDE)
    first.decide_automatically([], calendar=CAL, licence_numbers=licence_numbers(), now=LATER)
    assert first.state == State.ACCEPTED
    assert (first.timeline[-1].action, first.timeline[-1].state) == ("auto_approve", "accepted")


def test_an_auto_step_denied_by_its_rules_names_each_failed_rule():
    app = case(AUTO)
    app.events.clear()
    failures = [Failure("applicant.level", "ge", 2, 1), Failure("applicant.age", "ge", 60, 35)]
    app.decide_automatically(failures, calendar=CAL, licence_numbers=licence_numbers(), now=LATER)
    assert app.state == State.DENIED
    reasons = ["applicant.level ge 2 (is 1)", "applicant.age ge 60 (is 35)"]
    assert app.steps[0].auto == {"outcome": "denied", "failures": reasons}
    comment = "不符合条件: applicant.level ge 2 (is 1); applicant.age ge 60 (is 35)"
    assert app.events == [
        ApplicationDenied(
            application_id=app.application_id, applicant_id=APPLICANT["user_id"], comment=comment
        ),
        ended(app, "denied", at=LATER, on_time=True, working_days=2),
    ]
    assert (app.timeline[-1].action, app.timeline[-1].comment) == ("auto_deny", comment)
    assert app.licence is None


def test_facts_unavailable_hand_the_step_to_the_fallback_person():
    app = case(AUTO, DECIDE)
    app.hand_to_person("civil_affairs", "timed out", calendar=CAL, now=NOW)
    run = app.steps[0]
    assert run.auto == {"outcome": "unavailable", "source": "civil_affairs", "failures": []}
    (task,) = run.tasks
    assert (task.department_code, task.role, task.due_date) == (
        JOINT_A,
        "approver",
        date(2026, 10, 8),
    )
    assert run.due_date == task.due_date
    assert (app.timeline[-1].action, app.timeline[-1].comment) == (
        "auto_unavailable",
        "civil_affairs: timed out",
    )
    # Nothing is left for the rules: a repeat of the event finds no auto step.
    assert app.auto_step() is None
    with pytest.raises(InvalidTransition):
        app.decide_automatically([], calendar=CAL, licence_numbers=licence_numbers())
    with pytest.raises(InvalidTransition):
        app.hand_to_person("civil_affairs", "again", calendar=CAL)
    assert app.available_actions(APPROVER_A) == [
        {"action": "approve", "step": "eligibility"},
        {"action": "deny", "step": "eligibility"},
    ]
    with pytest.raises(Forbidden):
        act(app, APPROVER, "approve", step="eligibility")
    act(app, APPROVER_A, "approve", "已人工核验", now=LATER)
    # As if the rules had passed: taken on, the next step open.
    assert app.state == State.ACCEPTED
    assert states(app) == {"eligibility": "done", "decide": "active"}
    act(app, APPROVER, "approve", now=LATER)
    assert app.state == State.COMPLETED


def test_the_fallback_person_may_deny():
    app = case(AUTO)
    app.hand_to_person("housing", "down", calendar=CAL, now=NOW)
    act(app, APPROVER_A, "deny", "户籍不符")
    assert app.state == State.DENIED
    assert app.events[-2].comment == "户籍不符"
    assert app.events[-1] == ended(
        app, "denied", at=NOW, on_time=True, working_days=0, handled_by=JOINT_A
    )


# -------------------------------------------------------- available actions


def test_available_actions_per_actor_as_the_case_moves():
    app = case(ACCEPT, {**REVIEW, "department_code": JOINT_A}, DECIDE, mode="express")

    def actions(actor):
        return [(a["action"], a["step"]) for a in app.available_actions(actor)]

    window = [("accept", "accept"), ("reject", "accept"), ("request_supplement", "accept")]
    assert actions(CLERK) == window
    # The item's approver may also act at the window, and asks for more time.
    assert actions(APPROVER) == [*window, ("request_extension", None)]
    assert actions(APPLICANT) == [("withdraw", None)]
    for nobody in (APPROVER_A, DEPT_ADMIN, OPERATOR, OUTSIDE_APPROVER):
        assert actions(nobody) == []

    act(app, CLERK, "request_supplement", "补交材料")
    assert actions(CLERK) == [("reject", "accept")]
    assert actions(APPLICANT) == [("withdraw", None), ("supplement", None)]
    app.supplement(APPLICANT, [{"name": "身份证"}], calendar=CAL, now=NOW)
    act(app, CLERK, "accept")
    assert actions(CLERK) == [("suspend", None)]
    assert actions(APPROVER_A) == [("approve", "review"), ("deny", "review"), ("suspend", None)]
    assert actions(APPROVER) == [("request_extension", None), ("suspend", None)]

    app.request_extension(APPROVER, 2, "需论证", now=NOW)
    assert actions(APPROVER) == [("suspend", None)]
    assert actions(DEPT_ADMIN) == [("decide_extension", None)]
    suspension = app.suspend(APPROVER_A, "expert_review", "专家评审", now=NOW)
    assert actions(APPROVER_A) == [("end_suspension", None)]
    assert actions(APPLICANT) == [("withdraw", None)]
    app.end_suspension(CLERK, suspension.suspension_id, "评审通过", calendar=CAL, now=NOW)

    act(app, APPROVER_A, "approve")
    act(app, APPROVER, "approve")
    assert app.state == State.APPROVED
    # Decided: the result goes out by EMS, nobody acts any more.
    for anybody in (CLERK, APPROVER, APPROVER_A, APPLICANT, OPERATOR):
        assert actions(anybody) == []
    assert actions(DEPT_ADMIN) == [("decide_extension", None)]
