"""Process definitions as data: what parses, every problem named by its field,
and the default process of an item without one."""

import copy

import pytest

from services.workflow.domain.exceptions import ValidationFailed
from services.workflow.domain.process import (
    Assignment,
    Join,
    ProcessDefinition,
    default_definition,
)

from .conftest import JOINT_A, JOINT_B, OWN

KNOWN = {OWN, JOINT_A, JOINT_B}

ACCEPT = {"id": "accept", "kind": "accept", "role": "window_clerk", "days": 1}
REVIEW = {"id": "review", "kind": "review", "role": "approver", "days": 3}
DECIDE = {"id": "decide", "kind": "approve", "role": "approver", "days": 2}
JOINT = {
    "id": "joint",
    "kind": "parallel",
    "join": "all",
    "branches": [
        {"department_code": JOINT_A, "role": "approver", "days": 4},
        {"department_code": JOINT_B, "role": "approver", "days": 6},
    ],
}
AUTO = {
    "id": "eligibility",
    "kind": "auto",
    "days": 0,
    "rules": {"fact": "applicant.age", "op": "ge", "value": 60},
    "fallback": {"role": "approver", "days": 2},
}


def definition(*steps, **top) -> dict:
    return {"steps": [copy.deepcopy(step) for step in steps], **top}


def problems(data, **kwargs) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        ProcessDefinition.parse(data, **kwargs)
    assert caught.value.message == "the process definition is not valid" or set(
        caught.value.fields
    ) == {"definition"}
    return caught.value.fields


# ------------------------------------------------------------------- parsing


def test_a_full_definition_parses_and_writes_back_as_it_was_given():
    data = definition(ACCEPT, REVIEW, JOINT, DECIDE, supplement_days=15, extension_days=5)
    process = ProcessDefinition.parse(data, statutory_days=20, departments=KNOWN)
    assert [step.id for step in process.steps] == ["accept", "review", "joint", "decide"]
    assert [step.kind for step in process.steps] == ["accept", "review", "parallel", "approve"]
    joint = process.step("joint")
    assert joint.join == Join()
    assert joint.branches == (
        Assignment(JOINT_A, "approver", 4),
        Assignment(JOINT_B, "approver", 6),
    )
    # A parallel step takes as long as its slowest branch.
    assert joint.total_days == 6
    assert process.total_days == 1 + 3 + 6 + 2
    assert (process.supplement_days, process.extension_days) == (15, 5)
    assert process.to_dict() == data
    assert ProcessDefinition.parse(process.to_dict()) == process
    with pytest.raises(KeyError):
        process.step("nowhere")


def test_defaults_fill_what_a_definition_leaves_out():
    process = ProcessDefinition.parse(definition(DECIDE))
    assert (process.supplement_days, process.extension_days) == (30, None)
    assert process.to_dict() == {"steps": [DECIDE], "supplement_days": 30}
    joint = ProcessDefinition.parse(
        definition({k: v for k, v in JOINT.items() if k != "join"})
    ).step("joint")
    assert joint.join == Join()


def test_an_auto_step_keeps_its_rules_and_a_fallback_in_its_department():
    process = ProcessDefinition.parse(
        definition({**AUTO, "department_code": JOINT_A}), departments=KNOWN
    )
    step = process.step("eligibility")
    assert step.rules == AUTO["rules"]
    assert step.fallback == Assignment(JOINT_A, "approver", 2)
    # Without a fallback: an approver of the step's department, within a working day.
    bare = {key: value for key, value in AUTO.items() if key != "fallback"}
    assert ProcessDefinition.parse(definition(bare)).step("eligibility").fallback == Assignment(
        None, "approver", 1
    )


@pytest.mark.parametrize(
    ("join", "needed"),
    [("all", 3), ("any", 1), ({"at_least": 2}, 2), ({"at_least": 3}, 3)],
)
def test_joins(join, needed):
    branches = [{"department_code": code, "role": "approver", "days": 2} for code in KNOWN]
    step = {"id": "joint", "kind": "parallel", "join": join, "branches": branches}
    parsed = ProcessDefinition.parse(definition(step)).step("joint")
    assert parsed.join.needed(3) == needed
    assert parsed.join.to_json() == join


def test_the_departments_with_work_the_items_first():
    process = ProcessDefinition.parse(
        definition(
            ACCEPT,
            {**REVIEW, "department_code": JOINT_B},
            JOINT,
            {**AUTO, "fallback": {"role": "approver", "department_code": JOINT_A, "days": 1}},
        )
    )
    assert process.departments(OWN) == [OWN, JOINT_B, JOINT_A]


# ------------------------------------------------------- every problem named


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (definition({**REVIEW, "kind": "vote"}), {"steps.0.kind": "must be one of"}),
        (definition({**REVIEW, "role": "mayor"}), {"steps.0.role": "must be one of"}),
        (definition({**REVIEW, "role": "window_clerk"}), {"steps.0.role": "an approver's"}),
        (
            definition({**REVIEW, "department_code": "js-nowhere"}),
            {"steps.0.department_code": "is not a department of the catalogue"},
        ),
        (
            definition(
                {
                    **JOINT,
                    "branches": [{"department_code": "js-nowhere", "role": "approver", "days": 1}],
                }
            ),
            {"steps.0.branches.0.department_code": "is not a department of the catalogue"},
        ),
        (
            definition({**JOINT, "branches": []}),
            {"steps.0.branches": "at least one branch"},
        ),
        (
            definition({key: value for key, value in JOINT.items() if key != "branches"}),
            {"steps.0.branches": "at least one branch"},
        ),
        (
            definition({**JOINT, "join": {"at_least": 3}}),
            {"steps.0.join.at_least": "only 2 branches"},
        ),
        (
            definition({**JOINT, "join": {"at_least": 0}}),
            {"steps.0.join.at_least": "from 1"},
        ),
        (definition({**JOINT, "join": "most"}), {"steps.0.join": '"all", "any"'}),
        (
            definition({**JOINT, "branches": [JOINT["branches"][0]] * 2}),
            {"steps.0.branches": "each department has one branch"},
        ),
        (
            definition({**JOINT, "role": "approver"}),
            {"steps.0.role": "its branches do"},
        ),
        (definition(ACCEPT, REVIEW, {**DECIDE, "id": "review"}), {"steps.2.id": "earlier step"}),
        (definition({**REVIEW, "id": "Review Step"}), {"steps.0.id": "lowercase"}),
        (definition(REVIEW, ACCEPT), {"steps.1.kind": "an accept step comes first"}),
        (definition(ACCEPT), {"steps": "a step that decides"}),
        (definition(), {"steps": "non-empty list"}),
        ({"steps": "accept, approve"}, {"steps": "non-empty list"}),
        (definition(*[{**REVIEW, "id": f"r{i}"} for i in range(31)]), {"steps": "at most 30"}),
        ({**definition(DECIDE), "owner": "me"}, {"owner": "unknown field"}),
        (definition({**DECIDE, "colour": "red"}), {"steps.0.colour": "unknown field"}),
        (
            definition({**JOINT, "branches": [{**JOINT["branches"][0], "join": "any"}]}),
            {"steps.0.branches.0.join": "unknown field"},
        ),
        (definition({**DECIDE, "days": -1}), {"steps.0.days": "0..365"}),
        (definition({**DECIDE, "days": True}), {"steps.0.days": "0..365"}),
        (definition({**DECIDE, "days": 2.5}), {"steps.0.days": "0..365"}),
        (definition({**DECIDE, "branches": []}), {"steps.0.branches": "has no branches"}),
        (
            definition({key: value for key, value in AUTO.items() if key != "rules"}),
            {"steps.0.rules": "decides by rules"},
        ),
        (
            definition({**AUTO, "rules": {"fact": "applicant.age", "op": "older", "value": 60}}),
            {"steps.0.rules.op": "must be one of"},
        ),
        (
            definition({**AUTO, "fallback": {"role": "window_clerk", "days": 1, "x": 1}}),
            {"steps.0.fallback": "must be {role"},
        ),
        (
            definition({**AUTO, "fallback": {"role": "mayor", "days": 1}}),
            {"steps.0.fallback.role": "must be one of"},
        ),
        (definition({**AUTO, "role": "approver"}), {"steps.0.role": "has no role"}),
        (definition(DECIDE, supplement_days=0), {"supplement_days": "1..365"}),
        (definition(DECIDE, extension_days=400), {"extension_days": "0..365"}),
        (definition("accept"), {"steps.0": "must be an object"}),
        ("accept, approve", {"definition": "must be an object"}),
    ],
)
def test_each_problem_is_named_by_its_field(data, named):
    found = problems(data, departments=KNOWN)
    assert set(found) == set(named)
    for field, part in named.items():
        assert part in found[field]


def test_every_problem_is_named_at_once():
    found = problems(
        {
            "steps": [
                {**REVIEW, "kind": "vote"},
                {**ACCEPT, "colour": "red"},
                {**JOINT, "join": {"at_least": 5}},
                {**DECIDE, "id": "joint", "department_code": "js-nowhere"},
            ],
            "supplement_days": "thirty",
            "owner": "me",
        },
        departments=KNOWN,
    )
    assert set(found) == {
        "steps.0.kind",
        "steps.1.colour",
        "steps.2.join.at_least",
        "steps.3.department_code",
        "supplement_days",
        "owner",
    }


def test_the_steps_may_not_take_longer_than_the_statutory_limit():
    data = definition(ACCEPT, REVIEW, JOINT, DECIDE)  # 1 + 3 + 6 + 2 working days
    assert ProcessDefinition.parse(data, statutory_days=12).total_days == 12
    assert problems(data, statutory_days=11) == {
        "steps": "the steps take 12 working days, more than the statutory 11"
    }
    assert problems(definition(DECIDE, extension_days=5), statutory_days=4) == {
        "extension_days": "at most the statutory 4 days"
    }
    # Without a limit (the repository's own reading of a stored version) it parses.
    assert ProcessDefinition.parse(data).total_days == 12


def test_any_department_is_known_when_the_catalogue_is_not_asked():
    step = {**REVIEW, "department_code": "js-elsewhere"}
    assert ProcessDefinition.parse(definition(step)).step("review").department_code == (
        "js-elsewhere"
    )
    assert "steps.0.department_code" in problems(definition(step), departments=KNOWN)


# --------------------------------------------------------- the default process


def test_an_item_of_one_department_is_accepted_then_approved():
    process = default_definition(OWN, (), 5)
    assert process.to_dict() == {
        "steps": [
            {"id": "accept", "kind": "accept", "role": "window_clerk", "days": 1},
            {"id": "approve", "kind": "approve", "role": "approver", "days": 4},
        ],
        "supplement_days": 30,
    }
    assert process.total_days == 5
    assert process.departments(OWN) == [OWN]


def test_joint_departments_approve_in_parallel_each_once():
    process = default_definition(OWN, (JOINT_B, OWN, JOINT_A, JOINT_B), 5)
    joint = process.step("joint")
    assert (joint.kind, joint.join) == ("parallel", Join())
    assert joint.branches == (
        Assignment(OWN, "approver", 4),
        Assignment(JOINT_B, "approver", 4),
        Assignment(JOINT_A, "approver", 4),
    )
    assert process.departments(OWN) == [OWN, JOINT_B, JOINT_A]
    # It is a definition like any other: it parses back to itself.
    assert ProcessDefinition.parse(process.to_dict()) == process


@pytest.mark.parametrize(("promised", "days"), [(1, (0, 1)), (0, (0, 0)), (20, (1, 19))])
def test_the_promise_is_shared_between_the_window_and_the_approval(promised, days):
    process = default_definition(OWN, (), promised)
    assert tuple(step.days for step in process.steps) == days
    assert process.total_days == promised
