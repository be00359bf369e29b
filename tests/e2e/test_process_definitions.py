"""Processes as data, end to end: a department admin publishes a new version
of an item's process through the gateway, new cases run its steps, a case
opened before keeps its version, and a definition that does not hold is
refused naming each field."""

import pytest

from tests.e2e.approvals import (
    act,
    actions,
    case,
    citizen,
    item,
    operator,
    staff,
    step,
    submit,
)
from tests.e2e.test_journey import eventually

pytestmark = pytest.mark.e2e

# 排污许可证核发 (js-sthj, shared instance; statutory 20 days): no other test
# publishes its process or applies for it.
ITEM = "320000-JSSTHJT-001"
DEPARTMENT = "js-sthj"

NEW_DEFINITION = {
    "steps": [
        {"id": "intake", "kind": "accept", "role": "window_clerk", "days": 1},
        {"id": "expert", "kind": "review", "role": "approver", "days": 4},
        {"id": "sign", "kind": "approve", "role": "approver", "days": 3},
    ],
    "supplement_days": 20,
    "extension_days": 5,
}


@pytest.fixture(scope="module", autouse=True)
def watch(log_watch):
    return log_watch()


def process_path(guide: dict, version: int | None = None) -> str:
    path = f"/api/v1/items/{guide['item_id']}/process"
    return path if version is None else f"{path}/{version}"


def test_a_published_definition_runs_new_cases_and_an_older_case_keeps_its_own(cluster):
    base = cluster.gateway_url
    admin = staff(operator(base), DEPARTMENT, "dept_admin", name="环境厅管理员")
    worker = staff(operator(base), DEPARTMENT, "window_clerk", "approver", name="环境厅经办")
    applicant, _ = citizen(base, "环评申请人")
    guide = item(applicant, ITEM)

    before = applicant.get(process_path(guide)).json()
    assert before["item_id"] == guide["item_id"]
    old_steps = [entry["id"] for entry in before["definition"]["steps"]]
    older_case = submit(applicant, guide)

    response = admin.request("PUT", process_path(guide), json={"definition": NEW_DEFINITION})
    assert response.status_code == 201, response.text
    published = response.json()
    assert published["version"] == before["version"] + 1
    assert published["definition"] == NEW_DEFINITION

    # Everyone reads the new version (the gateway drops its cached copy on
    # process_published); the old one stays readable by number.
    eventually(
        lambda: applicant.get(process_path(guide)).json()["version"] == published["version"],
        timeout=15,
        what="GET /process to show the new version",
    )
    assert applicant.get(process_path(guide)).json()["definition"] == NEW_DEFINITION
    old = applicant.get(process_path(guide, before["version"])).json()
    assert old["definition"] == before["definition"]

    # A new case runs the new steps, one after the other.
    newer_case = submit(applicant, guide)
    view = case(worker, newer_case)
    assert view["process_version"] == published["version"]
    assert [(s["id"], s["kind"], s["state"]) for s in view["steps"]] == [
        ("intake", "accept", "active"),
        ("expert", "review", "pending"),
        ("sign", "approve", "pending"),
    ]
    assert [s["days"] for s in view["steps"]] == [1, 4, 3]
    assert actions(view) >= {
        ("accept", "intake"),
        ("reject", "intake"),
        ("request_supplement", "intake"),
    }
    assert not actions(case(applicant, newer_case)) & {("accept", "intake")}
    # approve is not an action of an accept step
    act(worker, newer_case, "approve", step="intake", expect=409)

    view = act(worker, newer_case, "accept", step="intake")
    assert view["state"] == "accepted"
    assert step(view, "expert")["state"] == "active"
    assert actions(view) >= {("approve", "expert"), ("deny", "expert")}
    view = act(worker, newer_case, "approve", step="expert")
    assert [s["state"] for s in view["steps"]] == ["done", "done", "active"]
    assert step(view, "sign")["due_date"] is not None
    view = act(worker, newer_case, "approve", step="sign")
    assert view["state"] == "completed"  # online: the electronic licence is the result
    assert view["licence_no"]
    approvals = [e["step"] for e in view["timeline"] if e["action"] == "approve"]
    assert approvals == ["expert", "sign"]

    # The case opened before the new version keeps its version and its steps.
    kept = case(worker, older_case)
    assert kept["process_version"] == before["version"]
    assert [s["id"] for s in kept["steps"]] == old_steps
    kept = act(worker, older_case, "accept")
    assert [s["state"] for s in kept["steps"]][:2] == ["done", "active"]
    assert kept["steps"][1]["id"] == old_steps[1]


BAD_DEFINITIONS = [
    # a join that asks more approvals than the step has branches
    (
        [
            {"id": "accept", "kind": "accept", "role": "window_clerk", "days": 1},
            {
                "id": "joint",
                "kind": "parallel",
                "join": {"at_least": 3},
                "branches": [
                    {"department_code": "js-sthj", "role": "approver", "days": 5},
                    {"department_code": "js-zrzy", "role": "approver", "days": 5},
                ],
            },
        ],
        "definition.steps.1.join.at_least",
    ),
    # a branch of a department the catalogue does not know
    (
        [
            {"id": "accept", "kind": "accept", "role": "window_clerk", "days": 1},
            {
                "id": "joint",
                "kind": "parallel",
                "join": "all",
                "branches": [{"department_code": "no-such-dept", "role": "approver", "days": 5}],
            },
        ],
        "definition.steps.1.branches.0.department_code",
    ),
    # a window clerk does not approve
    (
        [
            {"id": "accept", "kind": "accept", "role": "window_clerk", "days": 1},
            {"id": "decide", "kind": "approve", "role": "window_clerk", "days": 5},
        ],
        "definition.steps.1.role",
    ),
    # an accept step comes first
    (
        [
            {"id": "decide", "kind": "approve", "role": "approver", "days": 5},
            {"id": "accept", "kind": "accept", "role": "window_clerk", "days": 1},
        ],
        "definition.steps.1.kind",
    ),
    # two steps of one id
    (
        [
            {"id": "check", "kind": "review", "role": "approver", "days": 2},
            {"id": "check", "kind": "approve", "role": "approver", "days": 2},
        ],
        "definition.steps.1.id",
    ),
    # an auto step's rule on a fact nobody knows
    (
        [
            {
                "id": "instant",
                "kind": "auto",
                "rules": {"fact": "applicant.shoe_size", "op": "ge", "value": 40},
            }
        ],
        "definition.steps.0.rules",
    ),
    # more working days than the item's statutory limit (20)
    (
        [
            {"id": "accept", "kind": "accept", "role": "window_clerk", "days": 1},
            {"id": "decide", "kind": "approve", "role": "approver", "days": 30},
        ],
        "definition.steps",
    ),
]


def test_an_invalid_definition_is_a_422_naming_each_field_and_changes_nothing(cluster):
    base = cluster.gateway_url
    the_operator = operator(base)
    guide = item(the_operator, ITEM)
    current = the_operator.get(process_path(guide)).json()

    for steps, field in BAD_DEFINITIONS:
        response = the_operator.request(
            "PUT", process_path(guide), json={"definition": {"steps": steps}}
        )
        assert response.status_code == 422, (field, response.text)
        fields = response.json()["error"]["fields"]
        assert any(name == field or name.startswith(field + ".") for name in fields), (
            field,
            fields,
        )

    # Only a dept_admin of the item's department, or an operator, publishes.
    valid = {"definition": {"steps": NEW_DEFINITION["steps"]}}
    other_admin = staff(the_operator, "js-amr", "dept_admin")
    own_approver = staff(the_operator, DEPARTMENT, "approver")
    applicant, _ = citizen(base, "路人甲")
    for who in (other_admin, own_approver, applicant):
        response = who.request("PUT", process_path(guide), json=valid)
        assert response.status_code == 403, response.text
    assert the_operator.get(process_path(guide)).json()["version"] == current["version"]


def test_nothing_was_logged_as_an_error(watch):
    assert watch.problems() == []
