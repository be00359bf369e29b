"""The demo process definitions fit the catalog's demo items, one each."""

import json
from collections import Counter

import pytest

from services.catalog.demo import load_departments, load_items
from services.catalog.service_layer.use_cases import item_id_for
from services.common import rules
from services.workflow.demo import load_processes
from services.workflow.domain.process import ProcessDefinition

ITEMS = {item["code"]: item for item in load_items()}
DEPARTMENTS = [department["code"] for department in load_departments()]
ENTRIES = load_processes()
OWN_INSTANCE = "workflow-js-ga"

NANJING_HOUSING = "320100-NJFCJ-001"
YANGZHOU_ELDERLY = "321000-YZMZJ-002"


def parsed(entry) -> ProcessDefinition:
    item = ITEMS[entry["code"]]
    return ProcessDefinition.parse(
        entry["definition"], statutory_days=item["statutory_days"], departments=DEPARTMENTS
    )


def definition_of(code) -> ProcessDefinition:
    return parsed(next(entry for entry in ENTRIES if entry["code"] == code))


def test_every_entry_names_its_item_by_the_catalogs_id():
    for entry in ENTRIES:
        assert set(entry) == {"item_id", "code", "definition"}
        assert entry["item_id"] == item_id_for(entry["code"]), entry["code"]


def test_every_demo_item_has_exactly_one_definition():
    counts = Counter(entry["code"] for entry in ENTRIES)
    assert set(counts) == set(ITEMS)
    assert set(counts.values()) == {1}


@pytest.mark.parametrize("entry", ENTRIES, ids=[entry["code"] for entry in ENTRIES])
def test_every_definition_parses_within_the_items_time_limits(entry):
    item = ITEMS[entry["code"]]
    definition = parsed(entry)
    # the plan keeps the promise, and the promise is within the statutory limit
    assert definition.total_days <= item["promised_days"] <= item["statutory_days"]


@pytest.mark.parametrize("entry", ENTRIES, ids=[entry["code"] for entry in ENTRIES])
def test_the_departments_at_work_are_the_items_and_its_joint_departments(entry):
    item = ITEMS[entry["code"]]
    departments = parsed(entry).departments(item["department_code"])
    assert departments[0] == item["department_code"]
    # an approval bureau may consult the department it took the item over from
    consulted = {item.get("transferred_from")} - {None}
    assert set(departments[1:]) - consulted == set(item["joint_departments"])


def test_a_bureau_consults_the_departments_it_took_items_over_from():
    bureau = {code: item for code, item in ITEMS.items() if item["department_code"] == "jn-xzsp"}
    consulting = {}
    for code, item in bureau.items():
        for step in definition_of(code).steps:
            if step.kind == "review" and step.department_code == item["transferred_from"]:
                consulting[code] = step.department_code
    assert len(set(consulting.values())) >= 2, consulting


def test_definitions_differ_from_item_to_item():
    shown = [json.dumps(parsed(entry).to_dict(), sort_keys=True) for entry in ENTRIES]
    assert len(set(shown)) == len(shown)


def kinds(definition: ProcessDefinition) -> list[str]:
    return [step.kind for step in definition.steps]


def test_the_demo_shows_every_kind_of_step_and_join():
    definitions = {entry["code"]: parsed(entry) for entry in ENTRIES}
    joins = {
        json.dumps(step.join.to_json())
        for definition in definitions.values()
        for step in definition.steps
        if step.kind == "parallel"
    }
    assert {'"all"', '"any"'} <= joins
    assert any(join.startswith('{"at_least"') for join in joins)
    reviewed = [
        code
        for code, definition in definitions.items()
        if "review" in kinds(definition)
        and kinds(definition).index("review") < kinds(definition).index("approve")
    ]
    assert reviewed
    instant = {code for code, definition in definitions.items() if "auto" in kinds(definition)}
    assert instant == {NANJING_HOUSING, YANGZHOU_ELDERLY}


def test_joint_review_across_instances_both_ways():
    # An item of the shared instance with a branch for js-ga (its own instance) ...
    shared = definition_of("320000-JSSCJG-005")
    assert ITEMS["320000-JSSCJG-005"]["handled_by"] == "workflow"
    joint = [step for step in shared.steps if step.kind == "parallel"]
    assert [step.join.to_json() for step in joint] == ["all"]
    assert {branch.department_code for branch in joint[0].branches} == {"js-ga", "js-rs"}
    # ... and an item of js-ga's instance with a branch for js-amr (shared instance).
    own = definition_of("320000-JSGAT-003")
    assert ITEMS["320000-JSGAT-003"]["handled_by"] == OWN_INSTANCE
    joint = [step for step in own.steps if step.kind == "parallel"]
    assert "js-amr" in {branch.department_code for branch in joint[0].branches}
    assert all(item["handled_by"] != "workflow-js-amr" for item in ITEMS.values())


def auto_step(code):
    definition = definition_of(code)
    assert kinds(definition) == ["auto"]
    step = definition.steps[0]
    assert step.days == 0 and step.fallback is not None and step.fallback.role == "approver"
    assert rules.facts_of(step.rules) <= set(rules.FACTS)
    return step


def nanjing(**facts):
    known = {
        "applicant.level": 2,
        "applicant.age": 35,
        "applicant.household_region": "320102",
        "civil_affairs.marital_status": "married",
        "housing.homes_owned": 1,
    }
    return {**known, **facts}


@pytest.mark.parametrize(
    ("facts", "eligible"),
    [
        (nanjing(), True),
        (nanjing(**{"housing.homes_owned": 0}), True),
        (nanjing(**{"housing.homes_owned": 2}), False),
        (nanjing(**{"civil_affairs.marital_status": "widowed"}), True),
        (
            nanjing(**{"civil_affairs.marital_status": "divorced", "housing.homes_owned": 0}),
            True,
        ),
        (nanjing(**{"civil_affairs.marital_status": "single", "housing.homes_owned": 1}), False),
        (nanjing(**{"applicant.household_region": "320583"}), False),
        (nanjing(**{"applicant.level": 1}), False),
        (nanjing(**{"applicant.age": 17, "civil_affairs.marital_status": "single"}), False),
        ({k: v for k, v in nanjing().items() if k != "housing.homes_owned"}, False),
    ],
)
def test_nanjing_home_purchase_eligibility(facts, eligible):
    step = auto_step(NANJING_HOUSING)
    assert (rules.evaluate(step.rules, facts) == []) is eligible


@pytest.mark.parametrize(
    ("age", "region", "level", "eligible"),
    [
        (60, "321002", 2, True),
        (82, "321084", 3, True),
        (59, "321002", 2, False),
        (70, "320102", 2, False),
        (70, "321002", 1, False),
    ],
)
def test_yangzhou_senior_concession_card(age, region, level, eligible):
    step = auto_step(YANGZHOU_ELDERLY)
    facts = {
        "applicant.age": age,
        "applicant.household_region": region,
        "applicant.level": level,
    }
    assert (rules.evaluate(step.rules, facts) == []) is eligible
