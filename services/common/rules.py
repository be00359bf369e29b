"""Declarative rules over facts: what an instant decision (即办件) or a fee waiver is made by.

A rule is a condition on one fact, ``{"fact": "applicant.age", "op": "ge",
"value": 60}``, or a group, ``{"all": [...]}`` / ``{"any": [...]}``, nested as
deep as needed. Facts are plain values the platform holds or fetches (the
applicant's real-name level, age and household region, licences held, other
departments' records); their names are :data:`FACTS`.

Plain Python: :func:`check` validates a rule as a process definition carries
it, :func:`facts_of` says which facts it needs, :func:`evaluate` decides and
names every condition that failed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# The facts a rule may name, and the type of value each has.
FACTS: dict[str, tuple[type, ...]] = {
    "applicant.level": (int,),
    "applicant.age": (int,),
    "applicant.household_region": (str,),
    "applicant.licences": (list,),
    "enterprise.registered": (bool,),
    "civil_affairs.marital_status": (str,),
    "housing.homes_owned": (int,),
}

_NUMBER = (int, float)


def _contains(fact, value) -> bool:
    return isinstance(fact, (list, str)) and value in fact


OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda fact, value: fact == value,
    "ne": lambda fact, value: fact != value,
    "gt": lambda fact, value: fact is not None and fact > value,
    "ge": lambda fact, value: fact is not None and fact >= value,
    "lt": lambda fact, value: fact is not None and fact < value,
    "le": lambda fact, value: fact is not None and fact <= value,
    "in": lambda fact, value: fact in value,
    "not_in": lambda fact, value: fact not in value,
    "startswith": lambda fact, value: isinstance(fact, str) and fact.startswith(value),
    "contains": _contains,
}
ORDERED = frozenset({"gt", "ge", "lt", "le"})
MAX_DEPTH = 5


@dataclass(frozen=True)
class Failure:
    """A condition that did not hold, as a refusal names it."""

    fact: str
    op: str
    value: Any
    actual: Any

    def describe(self) -> str:
        return f"{self.fact} {self.op} {self.value!r} (is {self.actual!r})"


def check(rule: Any, where: str = "rules") -> dict[str, str]:
    """What is wrong with ``rule``, by dotted field name; empty when it is well formed."""
    return _check(rule, where, 0)


def _check(rule: Any, where: str, depth: int) -> dict[str, str]:
    if depth > MAX_DEPTH:
        return {where: f"rules nest at most {MAX_DEPTH} deep"}
    if not isinstance(rule, Mapping):
        return {where: 'must be {"all": [...]}, {"any": [...]} or {"fact", "op", "value"}'}
    groups = [key for key in ("all", "any") if key in rule]
    if groups:
        if len(rule) != 1:
            return {where: 'a group is {"all": [...]} or {"any": [...]} and nothing else'}
        members = rule[groups[0]]
        if not isinstance(members, list) or not members:
            return {f"{where}.{groups[0]}": "must be a non-empty list of rules"}
        problems: dict[str, str] = {}
        for index, member in enumerate(members):
            problems.update(_check(member, f"{where}.{groups[0]}.{index}", depth + 1))
        return problems
    return _check_condition(rule, where)


def _check_condition(rule: Mapping, where: str) -> dict[str, str]:
    unknown = sorted(set(rule) - {"fact", "op", "value"})
    if unknown:
        return {f"{where}.{unknown[0]}": "unknown field"}
    problems: dict[str, str] = {}
    fact, op = rule.get("fact"), rule.get("op")
    if fact not in FACTS:
        problems[f"{where}.fact"] = f"must be one of {', '.join(sorted(FACTS))}"
    if op not in OPERATORS:
        problems[f"{where}.op"] = f"must be one of {', '.join(OPERATORS)}"
    if "value" not in rule:
        problems[f"{where}.value"] = "is required"
    if problems:
        return problems
    value = rule["value"]
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            problems[f"{where}.value"] = f"{op} takes a non-empty list"
    elif op in ORDERED:
        if not isinstance(value, _NUMBER) or isinstance(value, bool):
            problems[f"{where}.value"] = f"{op} compares with a number"
        elif not set(FACTS[fact]) & {int, float}:
            problems[f"{where}.op"] = f"{fact} is not a number"
    elif op == "startswith":
        if not isinstance(value, str) or FACTS[fact] != (str,):
            problems[f"{where}.op"] = "startswith compares a text fact with a text"
    elif op == "contains" and FACTS[fact] not in ((list,), (str,)):
        problems[f"{where}.op"] = f"{fact} is not a list or a text"
    return problems


def facts_of(rule: Mapping) -> set[str]:
    """The facts ``rule`` names (a well-formed rule)."""
    for key in ("all", "any"):
        if key in rule:
            return set().union(*(facts_of(member) for member in rule[key]))
    return {rule["fact"]}


def undetermined(failures: list[Failure]) -> list[str]:
    """The facts among ``failures`` that had no value: a refusal on them would
    be a guess, so a person decides instead."""
    return sorted({failure.fact for failure in failures if failure.actual is None})


def evaluate(rule: Mapping, facts: Mapping[str, Any]) -> list[Failure]:
    """The conditions that make ``rule`` fail on ``facts``; empty when it holds.

    An "any" group that fails names each of its conditions that failed; an
    unknown fact (absent from ``facts``) is None and fails every comparison but
    ``ne`` and ``not_in``.
    """
    if "all" in rule:
        return [failure for member in rule["all"] for failure in evaluate(member, facts)]
    if "any" in rule:
        failures = [evaluate(member, facts) for member in rule["any"]]
        if any(not failed for failed in failures):
            return []
        return [failure for failed in failures for failure in failed]
    actual = facts.get(rule["fact"])
    try:
        holds = OPERATORS[rule["op"]](actual, rule["value"])
    except TypeError:  # a fact of another type than the rule expects
        holds = False
    if holds:
        return []
    return [Failure(rule["fact"], rule["op"], rule["value"], actual)]
