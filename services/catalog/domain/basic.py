"""Basic items (基本目录) and the rule of 三级四同.

A province-level department publishes a basic item: its 12-digit basic code,
name, item type and legal basis. Every department that offers the matter at
province, city or county level implements it with an item derived from it: the
item's name, type, legal basis and basic code are copied from the basic item and
locked, and its implementing code is the department's USCC, the level digit and
the basic code. When the basic item changes, every derived item follows.

Plain Python; each parser names the field it refuses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .events import BasicItemPublished, Event
from .exceptions import ValidationFailed
from .validation import fail as _fail
from .validation import fields as _fields
from .validation import text as _text

ITEM_TYPES = {
    "01": "行政许可",
    "02": "行政处罚",
    "03": "行政强制",
    "04": "行政征收",
    "05": "行政给付",
    "06": "行政检查",
    "07": "行政确认",
    "08": "行政奖励",
    "09": "行政裁决",
    "10": "其他行政权力",
    "20": "公共服务",
}

# The level digit of an implementing code; "1" is left for national bodies.
LEVEL_DIGITS = {"province": "2", "city": "3", "county": "4"}

NATURAL_PERSON = "natural_person"
LEGAL_PERSON = "legal_person"
SERVES = (NATURAL_PERSON, LEGAL_PERSON)

BASIC_CODE = re.compile(r"[0-9]{12}")
MAX_LEGAL_REFERENCES = 50

# The fields a derived item takes from its basic item and may not change.
LOCKED_FIELDS = ("name", "type", "legal_basis", "basic_code")


def implementing_code(uscc: str, level: str, basic_code: str) -> str:
    """实施编码: the implementing department's USCC (18), the level digit and the
    basic code (12): 31 characters."""
    if level not in LEVEL_DIGITS:
        raise ValueError(f"unknown level {level!r}")
    if not isinstance(uscc, str) or len(uscc) != 18:
        raise ValueError("a USCC has 18 characters")
    if not isinstance(basic_code, str) or not BASIC_CODE.fullmatch(basic_code):
        raise ValueError("a basic code has 12 digits")
    return f"{uscc}{LEVEL_DIGITS[level]}{basic_code}"


# ---------------------------------------------------------------- parsers


@dataclass(frozen=True)
class LegalReference:
    """One source of the item's legal basis: the law (法律法规) and the article."""

    law: str
    article: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"law": self.law, "article": self.article}

    def __str__(self) -> str:
        return f"{self.law}{self.article}"


# "《中华人民共和国食品安全法》第三十五条" -> law in the brackets, the rest the article.
_CITED = re.compile(r"^(《[^》]+》(?:（[^）]*）)?)(.*)$")


def split_reference(text: str) -> LegalReference:
    """A legal reference written as one line, split into law and article."""
    text = text.strip()
    found = _CITED.match(text)
    if found is None:
        return LegalReference(text[:200], "")
    return LegalReference(found.group(1)[:200], found.group(2).strip()[:100])


def parse_basic_code(name: str, value: Any) -> str:
    if not isinstance(value, str) or not BASIC_CODE.fullmatch(value):
        _fail(name, "must be 12 digits")
    return value


def parse_item_type(name: str, value: Any) -> str:
    if value not in ITEM_TYPES:
        _fail(name, f"must be one of {', '.join(ITEM_TYPES)}")
    return value


def parse_optional_item_type(name: str, value: Any) -> str | None:
    return None if value is None else parse_item_type(name, value)


def parse_serves(name: str, value: Any) -> list[str]:
    """Whom the item serves, in canonical order (natural persons first)."""
    if not isinstance(value, (list, tuple)):
        _fail(name, f"must be a list of {', '.join(SERVES)}")
    unknown = [entry for entry in value if entry not in SERVES]
    if unknown:
        _fail(name, f"unknown value {unknown[0]!r}; allowed: {', '.join(SERVES)}")
    if len(set(value)) != len(value):
        _fail(name, "must not repeat a value")
    return [entry for entry in SERVES if entry in value]


def parse_legal_basis(name: str, value: Any) -> list[LegalReference]:
    """A list of ``{law, article}``; a plain string is split into the two."""
    if not isinstance(value, (list, tuple)):
        _fail(name, "must be a list of {law, article}")
    if len(value) > MAX_LEGAL_REFERENCES:
        _fail(name, f"at most {MAX_LEGAL_REFERENCES} references")
    errors: dict[str, str] = {}
    result: list[LegalReference] = []
    for index, entry in enumerate(value):
        where = f"{name}.{index}"
        if isinstance(entry, LegalReference):
            result.append(entry)
            continue
        if isinstance(entry, str) and entry.strip():
            result.append(split_reference(entry))
            continue
        if not isinstance(entry, Mapping):
            errors[where] = "must be an object with law and article"
            continue
        before = len(errors)
        for key in sorted(set(entry) - {"law", "article"}):
            errors[f"{where}.{key}"] = "unknown field"
        law, article = entry.get("law"), entry.get("article", "")
        if not isinstance(law, str) or not law.strip():
            errors[f"{where}.law"] = "is required"
        elif len(law.strip()) > 200:
            errors[f"{where}.law"] = "must be at most 200 characters"
        if not isinstance(article, str):
            errors[f"{where}.article"] = "must be a string"
        elif len(article.strip()) > 100:
            errors[f"{where}.article"] = "must be at most 100 characters"
        if len(errors) == before:
            result.append(LegalReference(law.strip(), article.strip()))
    if errors:
        raise ValidationFailed(errors)
    return result


def describe_legal_basis(references: list[LegalReference]) -> str:
    return "; ".join(str(reference) for reference in references) or "none"


# ---------------------------------------------------------------- basic item

_BASIC_VALIDATORS = {
    "basic_code": parse_basic_code,
    "name": _text(True, 200),
    "name_en": _text(False, 300),
    "type": parse_item_type,
    "legal_basis": parse_legal_basis,
    "department_code": _text(True, 64),
    "serves": parse_serves,
    "description": _text(False, 4000),
}
BASIC_REQUIRED = ("basic_code", "name", "type", "legal_basis", "department_code")
BASIC_EDITABLE = frozenset({"name", "name_en", "type", "legal_basis", "serves", "description"})


def _validate_basic(values: Mapping[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    return _fields(values, allowed, _BASIC_VALIDATORS, "unknown field")


@dataclass
class BasicItem:
    """A basic item (基本目录事项) as a province-level department publishes it.

    ``revision`` starts at 1 and grows by one with every change; each version is
    announced as BasicItemPublished so that derived items follow.
    """

    basic_code: str
    name: str
    type: str
    department_code: str
    legal_basis: list[LegalReference] = field(default_factory=list)
    name_en: str = ""
    serves: list[str] = field(default_factory=list)
    description: str = ""
    revision: int = 1
    events: list[Event] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def create(cls, **data: Any) -> BasicItem:
        """A new basic item at revision 1; records BasicItemPublished."""
        errors = {name: "is required" for name in BASIC_REQUIRED if name not in data}
        try:
            clean = _validate_basic(data, frozenset(_BASIC_VALIDATORS))
        except ValidationFailed as failure:
            errors.update(failure.fields)
            clean = {}
        if errors:
            raise ValidationFailed(errors)
        basic = cls(**clean)
        basic.events.append(basic.published_event())
        return basic

    def update(self, **changes: Any) -> bool:
        """Change the given fields; all or nothing. When anything changes the
        revision grows by one and BasicItemPublished is recorded. Returns whether
        anything changed."""
        clean = _validate_basic(changes, BASIC_EDITABLE)
        changed = {name: value for name, value in clean.items() if getattr(self, name) != value}
        if not changed:
            return False
        for name, value in changed.items():
            setattr(self, name, value)
        self.revision += 1
        self.events.append(self.published_event())
        return True

    def locked_values(self) -> dict[str, Any]:
        """What a derived item takes from this basic item and may not change."""
        return {
            "name": self.name,
            "type": self.type,
            "legal_basis": list(self.legal_basis),
            "basic_code": self.basic_code,
        }

    def published_event(self) -> BasicItemPublished:
        return BasicItemPublished(
            basic_code=self.basic_code,
            name=self.name,
            name_en=self.name_en,
            item_type=self.type,
            legal_basis=tuple(reference.to_dict() for reference in self.legal_basis),
            department_code=self.department_code,
            serves=tuple(self.serves),
            description=self.description,
            revision=self.revision,
        )


# ---------------------------------------------------------------- lock rules

_LOCKED_PARSERS = {
    "name": _text(True, 200),
    "type": parse_item_type,
    "legal_basis": parse_legal_basis,
    "basic_code": parse_basic_code,
}


def _shown(name: str, value: Any) -> str:
    if name == "legal_basis":
        return describe_legal_basis(value)
    return str(value)


def lock_conflicts(basic: BasicItem, requested: Mapping[str, Any]) -> dict[str, str]:
    """The locked fields of ``requested`` whose value differs from the basic
    item's, each with the reason; an equal value (or one absent) is fine. A value
    that does not parse is left for the item's own validation to name."""
    locked = basic.locked_values()
    conflicts: dict[str, str] = {}
    for name in LOCKED_FIELDS:
        if name not in requested:
            continue
        try:
            value = _LOCKED_PARSERS[name](name, requested[name])
        except ValidationFailed:
            continue
        if value != locked[name]:
            conflicts[name] = f"locked to the basic item's: {_shown(name, locked[name])}"
    return conflicts


def derived_values(basic: BasicItem, requested: Mapping[str, Any]) -> dict[str, Any]:
    """A derived item's fields: the request with the basic item's locked values
    (and its English name and whom it serves when the request gives none)."""
    values = dict(requested)
    values.update(basic.locked_values())
    if not values.get("name_en"):
        values["name_en"] = basic.name_en
    if "serves" not in requested:
        values["serves"] = list(basic.serves)
    return values
