"""The rules an auto step (即办) decides by: checked, their facts named, evaluated
with every failed condition named."""

import pytest

from services.common.rules import FACTS, Failure, check, evaluate, facts_of, undetermined

ADULT = {"fact": "applicant.age", "op": "ge", "value": 18}
VERIFIED = {"fact": "applicant.level", "op": "ge", "value": 2}
NANJING = {"fact": "applicant.household_region", "op": "startswith", "value": "3201"}
MARRIED = {"fact": "civil_affairs.marital_status", "op": "in", "value": ["married", "widowed"]}
NO_HOME = {"fact": "housing.homes_owned", "op": "lt", "value": 1}
# Nanjing's home purchase eligibility, as the demo process has it.
ELIGIBLE = {
    "all": [
        VERIFIED,
        ADULT,
        NANJING,
        {
            "any": [
                {"all": [MARRIED, {"fact": "housing.homes_owned", "op": "lt", "value": 2}]},
                NO_HOME,
            ]
        },
    ]
}
SENIOR_IN_NANJING = {
    "applicant.level": 3,
    "applicant.age": 66,
    "applicant.household_region": "320102",
    "civil_affairs.marital_status": "married",
    "housing.homes_owned": 1,
}


# --------------------------------------------------------------------- check


@pytest.mark.parametrize(
    "rule",
    [
        ADULT,
        ELIGIBLE,
        {"fact": "applicant.licences", "op": "contains", "value": "食品经营许可"},
        {"fact": "enterprise.registered", "op": "eq", "value": True},
        {"fact": "civil_affairs.marital_status", "op": "not_in", "value": ["married"]},
        {"fact": "applicant.age", "op": "lt", "value": 70.5},
    ],
)
def test_well_formed_rules_have_no_problem(rule):
    assert check(rule) == {}


@pytest.mark.parametrize(
    ("rule", "named"),
    [
        ({"fact": "applicant.shoe_size", "op": "ge", "value": 40}, {"r.fact"}),
        ({"fact": "applicant.age", "op": "older", "value": 40}, {"r.op"}),
        ({"fact": "applicant.age", "op": "ge"}, {"r.value"}),
        ({"fact": "applicant.mood", "op": "sulks"}, {"r.fact", "r.op", "r.value"}),
        ({"fact": "applicant.age", "op": "ge", "value": 18, "unit": "years"}, {"r.unit"}),
        ({"fact": "applicant.age", "op": "ge", "value": "18"}, {"r.value"}),
        ({"fact": "applicant.age", "op": "ge", "value": True}, {"r.value"}),
        ({"fact": "applicant.household_region", "op": "gt", "value": 3}, {"r.op"}),
        ({"fact": "applicant.age", "op": "in", "value": []}, {"r.value"}),
        ({"fact": "applicant.age", "op": "not_in", "value": 60}, {"r.value"}),
        ({"fact": "applicant.age", "op": "startswith", "value": "6"}, {"r.op"}),
        ({"fact": "applicant.age", "op": "contains", "value": 6}, {"r.op"}),
        ({"all": []}, {"r.all"}),
        ({"any": "everything"}, {"r.any"}),
        ({"all": [ADULT], "any": [ADULT]}, {"r"}),
        ({"all": [ADULT], "note": "x"}, {"r"}),
        ("adults only", {"r"}),
        (
            {"all": [ADULT, {"any": [NANJING, {"fact": "x", "op": "eq", "value": 1}]}, "y"]},
            {"r.all.1.any.1.fact", "r.all.2"},
        ),
    ],
)
def test_each_problem_is_named_by_its_path(rule, named):
    assert set(check(rule, "r")) == named


def test_rules_nest_at_most_five_deep():
    rule = ADULT
    for _ in range(5):
        rule = {"all": [rule]}
    assert check(rule) == {}
    deeper = {"any": [rule]}
    assert check(deeper) == {
        "rules.any.0.all.0.all.0.all.0.all.0.all.0": "rules nest at most 5 deep"
    }


# -------------------------------------------------------------------- facts_of


def test_a_rule_names_the_facts_it_needs():
    assert facts_of(ADULT) == {"applicant.age"}
    assert facts_of(ELIGIBLE) == {
        "applicant.level",
        "applicant.age",
        "applicant.household_region",
        "civil_affairs.marital_status",
        "housing.homes_owned",
    }
    assert facts_of(ELIGIBLE) <= set(FACTS)


# -------------------------------------------------------------------- evaluate


def test_a_rule_that_holds_fails_nothing():
    assert evaluate(ELIGIBLE, SENIOR_IN_NANJING) == []


def test_an_all_group_names_every_condition_that_failed():
    facts = {**SENIOR_IN_NANJING, "applicant.level": 1, "applicant.household_region": "320502"}
    assert evaluate(ELIGIBLE, facts) == [
        Failure("applicant.level", "ge", 2, 1),
        Failure("applicant.household_region", "startswith", "3201", "320502"),
    ]


def test_an_any_group_fails_only_when_every_member_fails_and_names_them_all():
    # Married with two homes: the first branch fails on homes, the second too.
    facts = {**SENIOR_IN_NANJING, "housing.homes_owned": 2}
    assert evaluate(ELIGIBLE, facts) == [
        Failure("housing.homes_owned", "lt", 2, 2),
        Failure("housing.homes_owned", "lt", 1, 2),
    ]
    # Single without a home: the second branch holds.
    single = {**facts, "civil_affairs.marital_status": "single", "housing.homes_owned": 0}
    assert evaluate(ELIGIBLE, single) == []


def test_a_failure_says_what_was_asked_and_what_was_found():
    (failure,) = evaluate(ADULT, {"applicant.age": 17})
    assert failure.describe() == "applicant.age ge 18 (is 17)"
    (failure,) = evaluate(MARRIED, {"civil_affairs.marital_status": "single"})
    assert failure.describe() == (
        "civil_affairs.marital_status in ['married', 'widowed'] (is 'single')"
    )


def test_an_unknown_fact_fails_every_comparison_but_the_negative_ones():
    assert evaluate(ADULT, {}) == [Failure("applicant.age", "ge", 18, None)]
    assert evaluate(NANJING, {}) != []
    assert evaluate({"fact": "applicant.age", "op": "ne", "value": 18}, {}) == []
    assert evaluate({"fact": "applicant.age", "op": "not_in", "value": [18]}, {}) == []


def test_a_fact_of_another_type_fails_rather_than_raising():
    assert evaluate(ADULT, {"applicant.age": "sixty"}) == [
        Failure("applicant.age", "ge", 18, "sixty")
    ]


@pytest.mark.parametrize(
    ("rule", "fact", "holds"),
    [
        ({"fact": "applicant.level", "op": "eq", "value": 2}, 2, True),
        ({"fact": "applicant.level", "op": "ne", "value": 2}, 2, False),
        ({"fact": "applicant.age", "op": "gt", "value": 60}, 60, False),
        ({"fact": "applicant.age", "op": "ge", "value": 60}, 60, True),
        ({"fact": "applicant.age", "op": "lt", "value": 60}, 59, True),
        ({"fact": "applicant.age", "op": "le", "value": 60}, 61, False),
        ({"fact": "applicant.licences", "op": "contains", "value": "A"}, ["A", "B"], True),
        ({"fact": "applicant.licences", "op": "contains", "value": "C"}, ["A", "B"], False),
        ({"fact": "applicant.licences", "op": "contains", "value": "C"}, None, False),
        ({"fact": "enterprise.registered", "op": "eq", "value": True}, True, True),
    ],
)
def test_operators(rule, fact, holds):
    assert (evaluate(rule, {rule["fact"]: fact}) == []) is holds


def test_undetermined_names_the_facts_that_had_no_value():
    rule = {
        "all": [
            {"fact": "applicant.level", "op": "ge", "value": 2},
            {"fact": "applicant.age", "op": "ge", "value": 60},
            {"fact": "housing.homes_owned", "op": "lt", "value": 2},
        ]
    }
    failures = evaluate(
        rule, {"applicant.level": None, "applicant.age": 40, "housing.homes_owned": None}
    )
    assert undetermined(failures) == ["applicant.level", "housing.homes_owned"]
    assert undetermined(evaluate(rule, {"applicant.level": 2, "applicant.age": 40})) == [
        "housing.homes_owned"
    ]
    assert undetermined([]) == []
