"""Process definitions: how an item's applications are handled, as data.

A definition is a list of steps that run in order::

    {"steps": [
      {"id": "accept", "kind": "accept", "role": "window_clerk", "days": 1},
      {"id": "joint", "kind": "parallel", "join": "all",
       "branches": [{"department_code": "js-amr", "role": "approver", "days": 5},
                    {"department_code": "js-ga", "role": "approver", "days": 5}]},
      {"id": "decide", "kind": "approve", "role": "approver", "days": 3}
    ],
     "supplement_days": 30, "extension_days": 10}

Kinds and what may be done at them (:data:`ACTIONS`):

- ``accept`` (受理), first if present: accept, reject, request_supplement;
- ``review`` and ``approve``: approve (the case moves on) or deny (it is denied);
- ``parallel`` (联合审): each branch approves or denies; ``join`` is ``"all"``,
  ``"any"`` or ``{"at_least": n}``;
- ``auto`` (即办): decided by ``rules`` (``services.common.rules``) over facts; when a
  source of facts cannot answer, a person decides instead (``fallback``: role,
  department and days of that human step; an approver of the item's department
  within a working day by default);
- ``assessment`` (区域评): met at once when the zone the form names (``form.zone_id``)
  holds a valid assessment of ``assessment_kind`` (one of :data:`ASSESSMENT_KINDS`);
  otherwise the step's ``role`` (of its ``department_code``) checks the report the
  applicant supplied and approves or denies, within ``days``;
- ``licence``: met at once by a material ``{"licence_no": ...}`` of ``licence_type``
  held by the applicant or the party applied for, valid today; otherwise a person
  checks, as for an assessment;
- ``payment`` (网上支付): the applicant pays the item's fees within ``days``
  *calendar* days (default 15; the clock stands still meanwhile). A process
  has at most one; an item with fees whose process has none gets one after its
  last step (before the licence is issued), see :meth:`ProcessDefinition.with_payment`.

A step without ``department_code`` belongs to the item's department. ``days`` are
working days. When the last step approves, the case is approved.
``supplement_days`` (calendar days, default 30) is how long the applicant has to
supply missing materials; ``extension_days`` (working days, default the item's
statutory days) bounds an extension.

Plain Python: :meth:`ProcessDefinition.parse` checks a definition and names
every problem by its dotted field (``steps.1.join.at_least``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from services.common import rules as rules_module

from .exceptions import ValidationFailed

KINDS = ("accept", "review", "approve", "parallel", "auto", "assessment", "licence", "payment")
# Steps met by evidence found by the platform, else checked by a person.
EVIDENCE_KINDS = ("assessment", "licence")
ASSESSMENT_KINDS = (
    "environmental_impact",
    "energy_saving",
    "soil_and_water",
    "seismic_safety",
    "mineral_overlay",
    "cultural_relics",
    "flood_impact",
)
PAYMENT_STEP_ID = "payment"
DEFAULT_PAYMENT_DAYS = 15
_LICENCE_TYPE = re.compile(r"[0-9A-Z]{2,20}")
ROLES = ("window_clerk", "approver")
ACTIONS: dict[str, tuple[str, ...]] = {
    "accept": ("accept", "reject", "request_supplement"),
    "review": ("approve", "deny"),
    "approve": ("approve", "deny"),
    "parallel": ("approve", "deny"),
    # A person decides an auto step only when its facts could not be fetched.
    "auto": ("approve", "deny"),
    # ... and an evidence step only when no evidence was found.
    "assessment": ("approve", "deny"),
    "licence": ("approve", "deny"),
    # The applicant pays; no staff action.
    "payment": (),
}
STEP_ACTIONS = frozenset(action for actions in ACTIONS.values() for action in actions)
DEFAULT_SUPPLEMENT_DAYS = 30
MAX_DAYS = 365
MAX_STEPS = 30
MAX_BRANCHES = 20
_STEP_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
_STEP_FIELDS = frozenset(
    {
        "id",
        "kind",
        "role",
        "department_code",
        "days",
        "join",
        "branches",
        "rules",
        "fallback",
        "assessment_kind",
        "licence_type",
    }
)
_BRANCH_FIELDS = frozenset({"department_code", "role", "days"})
_TOP_FIELDS = frozenset({"steps", "supplement_days", "extension_days"})


@dataclass(frozen=True)
class Assignment:
    """Who does a piece of work and in how many working days."""

    department_code: str | None
    role: str
    days: int

    def to_dict(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"role": self.role, "days": self.days}
        if self.department_code is not None:
            shown = {"department_code": self.department_code, **shown}
        return shown


@dataclass(frozen=True)
class Join:
    """When a parallel step is met: every branch, any one, or at least ``n``."""

    at_least: int | None = None  # None: every branch
    any: bool = False

    def needed(self, branches: int) -> int:
        if self.any:
            return 1
        return branches if self.at_least is None else self.at_least

    def to_json(self) -> Any:
        if self.any:
            return "any"
        return "all" if self.at_least is None else {"at_least": self.at_least}


@dataclass(frozen=True)
class StepDefinition:
    id: str
    kind: str
    days: int = 0
    role: str | None = None
    department_code: str | None = None
    join: Join | None = None
    branches: tuple[Assignment, ...] = ()
    rules: Mapping[str, Any] | None = None
    fallback: Assignment | None = None
    # An assessment step's kind of report; a licence step's licence type code.
    assessment_kind: str | None = None
    licence_type: str | None = None

    @property
    def total_days(self) -> int:
        """The step's share of the time limit: a parallel step takes as long as
        its slowest branch; a payment step none (its days are calendar days
        during which the clock stands still)."""
        if self.kind == "parallel":
            return max((branch.days for branch in self.branches), default=0)
        if self.kind == "payment":
            return 0
        return self.days

    def to_dict(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"id": self.id, "kind": self.kind}
        if self.kind == "parallel":
            shown["join"] = self.join.to_json() if self.join else "all"
            shown["branches"] = [branch.to_dict() for branch in self.branches]
            return shown
        if self.role is not None:
            shown["role"] = self.role
        if self.department_code is not None:
            shown["department_code"] = self.department_code
        shown["days"] = self.days
        if self.kind == "auto":
            shown["rules"] = self.rules
            if self.fallback is not None:
                shown["fallback"] = self.fallback.to_dict()
        if self.assessment_kind is not None:
            shown["assessment_kind"] = self.assessment_kind
        if self.licence_type is not None:
            shown["licence_type"] = self.licence_type
        return shown


@dataclass(frozen=True)
class ProcessDefinition:
    steps: tuple[StepDefinition, ...]
    supplement_days: int = DEFAULT_SUPPLEMENT_DAYS
    extension_days: int | None = None  # None: the item's statutory days

    @property
    def total_days(self) -> int:
        return sum(step.total_days for step in self.steps)

    @property
    def payment_step(self) -> StepDefinition | None:
        return next((step for step in self.steps if step.kind == "payment"), None)

    def with_payment(self) -> ProcessDefinition:
        """This process with a payment step after its last step (the fees are
        paid once the case is decided, before its licence is issued); itself
        when it has a payment step already."""
        if self.payment_step is not None:
            return self
        step_id = PAYMENT_STEP_ID
        taken = {step.id for step in self.steps}
        while step_id in taken:
            step_id = f"{step_id}_"
        payment = StepDefinition(id=step_id, kind="payment", days=DEFAULT_PAYMENT_DAYS)
        return ProcessDefinition(
            steps=(*self.steps, payment),
            supplement_days=self.supplement_days,
            extension_days=self.extension_days,
        )

    def step(self, step_id: str) -> StepDefinition:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def departments(self, item_department: str) -> list[str]:
        """Every department that has work in this process, the item's first."""
        found = [item_department]
        for step in self.steps:
            for assignment in _assignments(step):
                code = assignment.department_code or item_department
                if code not in found:
                    found.append(code)
        return found

    def to_dict(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"steps": [step.to_dict() for step in self.steps]}
        shown["supplement_days"] = self.supplement_days
        if self.extension_days is not None:
            shown["extension_days"] = self.extension_days
        return shown

    @classmethod
    def parse(
        cls,
        data: Any,
        *,
        statutory_days: int | None = None,
        departments: Iterable[str] | None = None,
        item_department: str | None = None,
    ) -> ProcessDefinition:
        """A checked definition, or ValidationFailed naming every problem.

        ``departments``: the department codes a step may name (None: any);
        ``statutory_days``: the item's legal limit, which the steps' days may
        not exceed (None: no limit); ``item_department``: the item's department,
        which a branch without ``department_code`` belongs to (so that a parallel
        step naming it twice, once implicitly, is caught).
        """
        problems: dict[str, str] = {}
        known = None if departments is None else set(departments)
        if not isinstance(data, Mapping):
            raise ValidationFailed({"definition": "must be an object with steps"})
        for name in sorted(set(data) - _TOP_FIELDS):
            problems[name] = "unknown field"
        raw_steps = data.get("steps")
        steps: list[StepDefinition] = []
        if not isinstance(raw_steps, list) or not raw_steps:
            problems["steps"] = "must be a non-empty list of steps"
        elif len(raw_steps) > MAX_STEPS:
            problems["steps"] = f"at most {MAX_STEPS} steps"
        else:
            seen: set[str] = set()
            for index, raw in enumerate(raw_steps):
                step = _parse_step(raw, f"steps.{index}", known, problems, item_department)
                if step is None:
                    continue
                if step.id in seen:
                    problems[f"steps.{index}.id"] = f"{step.id} is used by an earlier step"
                seen.add(step.id)
                if step.kind == "accept" and index != 0:
                    problems[f"steps.{index}.kind"] = "an accept step comes first"
                if step.kind == "payment" and any(s.kind == "payment" for s in steps):
                    problems[f"steps.{index}.kind"] = "a process has at most one payment step"
                steps.append(step)
        # Judged on the kinds as written: a step with problems of its own is
        # not among ``steps``, yet it may be the deciding one.
        if (
            isinstance(raw_steps, list)
            and raw_steps
            and all(
                isinstance(raw, Mapping) and raw.get("kind") in ("accept", "payment")
                for raw in raw_steps
            )
        ):
            problems["steps"] = "a process needs a step that decides after the accept step"
        supplement_days = _whole(data, "supplement_days", problems, DEFAULT_SUPPLEMENT_DAYS, 1)
        extension_days = _whole(data, "extension_days", problems, None, 0)
        if not problems and statutory_days is not None:
            total = sum(step.total_days for step in steps)
            if total > statutory_days:
                problems["steps"] = (
                    f"the steps take {total} working days, more than the statutory {statutory_days}"
                )
            if extension_days is not None and extension_days > statutory_days:
                problems["extension_days"] = f"at most the statutory {statutory_days} days"
        if problems:
            raise ValidationFailed(problems, "the process definition is not valid")
        return cls(
            steps=tuple(steps), supplement_days=supplement_days, extension_days=extension_days
        )


def default_definition(
    department_code: str, joint_departments: Iterable[str], promised_days: int
) -> ProcessDefinition:
    """The process of an item that has no definition of its own: the window
    accepts, then the item's department and every joint department approve
    (all of them), within the promised days."""
    # Each department once, in the catalogue's order: a department named twice
    # would get two branches and decide twice.
    joint = list(dict.fromkeys(code for code in joint_departments if code != department_code))
    accept_days = 1 if promised_days > 1 else 0
    review_days = max(promised_days - accept_days, 0)
    accept = StepDefinition(id="accept", kind="accept", role="window_clerk", days=accept_days)
    if not joint:
        decide = StepDefinition(id="approve", kind="approve", role="approver", days=review_days)
    else:
        decide = StepDefinition(
            id="joint",
            kind="parallel",
            join=Join(),
            branches=tuple(
                Assignment(code, "approver", review_days) for code in [department_code, *joint]
            ),
        )
    return ProcessDefinition(steps=(accept, decide))


# ------------------------------------------------------------------ parsing


def _assignments(step: StepDefinition) -> list[Assignment]:
    if step.kind == "parallel":
        return list(step.branches)
    found = []
    if step.role is not None:
        found.append(Assignment(step.department_code, step.role, step.days))
    if step.fallback is not None:
        found.append(step.fallback)
    return found


def _whole(
    data: Mapping, name: str, problems: dict, default: int | None, minimum: int
) -> int | None:
    if name not in data:
        return default
    value = data[name]
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= MAX_DAYS:
        problems[name] = f"must be a whole number of days, {minimum}..{MAX_DAYS}"
        return default
    return value


def _parse_step(
    raw: Any,
    where: str,
    known: set[str] | None,
    problems: dict[str, str],
    item_department: str | None = None,
) -> StepDefinition | None:
    if not isinstance(raw, Mapping):
        problems[where] = "must be an object with an id and a kind"
        return None
    before = len(problems)
    for name in sorted(set(raw) - _STEP_FIELDS):
        problems[f"{where}.{name}"] = "unknown field"
    step_id = raw.get("id")
    if not isinstance(step_id, str) or not _STEP_ID.fullmatch(step_id):
        problems[f"{where}.id"] = "must be 1..32 lowercase letters, digits, - or _"
    kind = raw.get("kind")
    if kind not in KINDS:
        problems[f"{where}.kind"] = f"must be one of {', '.join(KINDS)}"
        return None
    for name, needed in (("assessment_kind", "assessment"), ("licence_type", "licence")):
        if name in raw and kind != needed:
            problems[f"{where}.{name}"] = f"only a step of kind {needed} has one"
    if kind == "parallel":
        step = _parse_parallel(raw, where, known, problems, step_id, item_department)
    elif kind == "auto":
        step = _parse_auto(raw, where, known, problems, step_id)
    elif kind == "payment":
        step = _parse_payment(raw, where, problems, step_id)
    else:
        step = _parse_human(raw, where, known, problems, step_id, kind)
    return step if len(problems) == before else None


def _parse_human(raw, where, known, problems, step_id, kind) -> StepDefinition:
    """An accept, review, approve or evidence step: one person's work."""
    for name in ("join", "branches", "rules", "fallback"):
        if name in raw:
            problems[f"{where}.{name}"] = f"a {kind} step has no {name}"
    evidence = kind in EVIDENCE_KINDS
    assignment = _parse_assignment(
        raw, where, known, problems, default_role="approver" if evidence else None
    )
    if kind != "accept" and assignment.role == "window_clerk":
        problems[f"{where}.role"] = f"a {kind} step is an approver's"
    assessment_kind = licence_type = None
    if kind == "assessment":
        assessment_kind = raw.get("assessment_kind")
        if assessment_kind not in ASSESSMENT_KINDS:
            problems[f"{where}.assessment_kind"] = f"must be one of {', '.join(ASSESSMENT_KINDS)}"
    if kind == "licence":
        licence_type = raw.get("licence_type")
        if not isinstance(licence_type, str) or not _LICENCE_TYPE.fullmatch(licence_type):
            problems[f"{where}.licence_type"] = (
                "must be a licence type code: 2..20 digits or capital letters"
            )
    return StepDefinition(
        id=step_id,
        kind=kind,
        days=assignment.days,
        role=assignment.role,
        department_code=assignment.department_code,
        assessment_kind=assessment_kind,
        licence_type=licence_type,
    )


def _parse_payment(raw, where, problems, step_id) -> StepDefinition:
    for name in ("role", "department_code", "join", "branches", "rules", "fallback"):
        if name in raw:
            problems[f"{where}.{name}"] = f"a payment step has no {name}"
    days = raw.get("days", DEFAULT_PAYMENT_DAYS)
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_DAYS:
        problems[f"{where}.days"] = f"must be a whole number of calendar days, 1..{MAX_DAYS}"
        days = DEFAULT_PAYMENT_DAYS
    return StepDefinition(id=step_id, kind="payment", days=days)


def _parse_assignment(
    raw: Mapping,
    where: str,
    known: set[str] | None,
    problems: dict[str, str],
    default_role: str | None,
    default_days: int | None = None,
) -> Assignment:
    role = raw.get("role", default_role)
    if role not in ROLES:
        problems[f"{where}.role"] = f"must be one of {', '.join(ROLES)}"
    department = raw.get("department_code")
    if department is not None and (
        not isinstance(department, str)
        or not department
        or (known is not None and department not in known)
    ):
        problems[f"{where}.department_code"] = "is not a department of the catalogue"
    days = raw.get("days", default_days)
    if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= MAX_DAYS:
        problems[f"{where}.days"] = f"must be a whole number of working days, 0..{MAX_DAYS}"
        days = 0
    return Assignment(department, role if role in ROLES else "approver", days)


def _parse_parallel(raw, where, known, problems, step_id, item_department) -> StepDefinition:
    for name in ("role", "department_code", "days", "rules", "fallback"):
        if name in raw:
            problems[f"{where}.{name}"] = f"a parallel step has no {name}; its branches do"
    raw_branches = raw.get("branches")
    branches: list[Assignment] = []
    if not isinstance(raw_branches, list) or not raw_branches:
        problems[f"{where}.branches"] = "a parallel step needs at least one branch"
    elif len(raw_branches) > MAX_BRANCHES:
        problems[f"{where}.branches"] = f"at most {MAX_BRANCHES} branches"
    else:
        for index, branch in enumerate(raw_branches):
            here = f"{where}.branches.{index}"
            if not isinstance(branch, Mapping):
                problems[here] = "must be an object with a role and days"
                continue
            for name in sorted(set(branch) - _BRANCH_FIELDS):
                problems[f"{here}.{name}"] = "unknown field"
            branches.append(_parse_assignment(branch, here, known, problems, default_role=None))
        codes = [branch.department_code or item_department for branch in branches]
        if len(set(codes)) != len(codes):
            problems[f"{where}.branches"] = "each department has one branch"
    join = _parse_join(raw.get("join", "all"), f"{where}.join", len(branches), problems)
    return StepDefinition(id=step_id, kind="parallel", join=join, branches=tuple(branches))


def _parse_join(raw: Any, where: str, branches: int, problems: dict[str, str]) -> Join:
    if raw == "all":
        return Join()
    if raw == "any":
        return Join(any=True)
    if isinstance(raw, Mapping) and set(raw) == {"at_least"}:
        n = raw["at_least"]
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            problems[f"{where}.at_least"] = "must be a whole number from 1"
        elif branches and n > branches:
            problems[f"{where}.at_least"] = f"the step has only {branches} branches"
        else:
            return Join(at_least=n)
        return Join()
    problems[where] = 'must be "all", "any" or {"at_least": n}'
    return Join()


def _parse_auto(raw, where, known, problems, step_id) -> StepDefinition:
    for name in ("role", "join", "branches"):
        if name in raw:
            problems[f"{where}.{name}"] = f"an auto step has no {name}"
    department = raw.get("department_code")
    if department is not None and (known is not None and department not in known):
        problems[f"{where}.department_code"] = "is not a department of the catalogue"
    days = raw.get("days", 0)
    if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= MAX_DAYS:
        problems[f"{where}.days"] = f"must be a whole number of working days, 0..{MAX_DAYS}"
        days = 0
    rule = raw.get("rules")
    if rule is None:
        problems[f"{where}.rules"] = "an auto step decides by rules"
    else:
        problems.update(rules_module.check(rule, f"{where}.rules"))
    fallback_raw = raw.get("fallback", {})
    if not isinstance(fallback_raw, Mapping) or set(fallback_raw) - _BRANCH_FIELDS:
        problems[f"{where}.fallback"] = "must be {role, department_code?, days}"
        fallback_raw = {}
    fallback = _parse_assignment(
        {"department_code": department, **fallback_raw},
        f"{where}.fallback",
        known,
        problems,
        default_role="approver",
        default_days=1,
    )
    return StepDefinition(
        id=step_id,
        kind="auto",
        days=days,
        department_code=department,
        rules=rule,
        fallback=fallback,
    )
