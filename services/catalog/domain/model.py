"""The catalog domain: regions, departments, flagship stores and service items.

Plain Python only. An :class:`Item` is the aggregate whose rules matter: it moves
draft -> published -> retired (and back to published), refuses an incomplete guide
at publication and records the events other services build on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.common import instances, uscc

from .basic import (
    SERVES,
    BasicItem,
    LegalReference,
    parse_basic_code,
    parse_legal_basis,
    parse_optional_item_type,
    parse_serves,
)
from .events import Event, ItemPublished, ItemRetired, StoreRatingUpdated
from .exceptions import InvalidTransition, ValidationFailed
from .fees import (
    Fee,
    FeeWaiver,
    LicenceType,
    parse_fee_waiver,
    parse_fees,
    parse_licence_type,
    waiver_problems,
)
from .validation import fail as _fail
from .validation import fields as _fields
from .validation import text as _text

LEVELS = ("province", "city", "county")
MODES = ("online", "express", "window")

DRAFT = "draft"
PUBLISHED = "published"
RETIRED = "retired"
STATUSES = (DRAFT, PUBLISHED, RETIRED)

SHARED_WORKFLOW = instances.SHARED_WORKFLOW
# a department's own instance is named "workflow-<department code>"
OWN_WORKFLOW_PREFIX = instances.INSTANCE_PREFIX

MIN_GRADE, MAX_GRADE = 1, 5

# 即办件 (handled on the spot) or 承诺件 (within the promised limit).
CASE_TYPES = ("immediate", "promised")
LIMIT_UNITS = ("working_days", "calendar_days")
NECESSITIES = ("required", "conditional", "optional")
MATERIAL_SOURCES = ("applicant", "government", "other")
MAX_VISITS = 5
ONLINE_DEPTHS = range(1, 8)
MAX_COPIES = 99

# A department, an administrative approval bureau (行政审批局: holds items taken
# over from other departments, 集中批) or a development zone's management
# committee (管委会: runs a zone and its regional assessments).
DEPARTMENT = "department"
APPROVAL_BUREAU = "approval_bureau"
ZONE_COMMITTEE = "zone_committee"
DEPARTMENT_KINDS = (DEPARTMENT, APPROVAL_BUREAU, ZONE_COMMITTEE)


@dataclass(frozen=True)
class Region:
    """An administrative division (GB/T 2260 code) at province, city or county level."""

    code: str
    name: str
    level: str
    parent_code: str | None = None
    name_en: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Region:
        return cls(
            code=data["code"],
            name=data["name"],
            level=data["level"],
            parent_code=data.get("parent_code"),
            name_en=data.get("name_en", ""),
        )


@dataclass(frozen=True)
class Window:
    """The counter that receives applicants and mailed materials."""

    name: str
    address: str
    phone: str
    postcode: str

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Window:
        return cls(
            name=data["name"],
            address=data["address"],
            phone=data["phone"],
            postcode=data["postcode"],
        )


@dataclass(frozen=True)
class StoreRating:
    """A store's rating as ratings publishes it: its reviews over all time (one
    excluded by an upheld appeal left out), the share graded 4 or 5 (0..1) and
    the average grade; both rates None when no review counts. Ratings keeps the
    counts; catalog keeps what it was told."""

    reviews: int = 0
    praise_rate: float | None = None
    average_grade: float | None = None

    def __post_init__(self) -> None:
        problems = {}
        reviews = self.reviews
        if isinstance(reviews, bool) or not isinstance(reviews, int) or reviews < 0:
            problems["reviews"] = "must be a whole number, 0 or more"
            reviews = None  # whether rates are due is then unknown
        for name, low, high in (
            ("praise_rate", 0, 1),
            ("average_grade", MIN_GRADE, MAX_GRADE),
        ):
            value = getattr(self, name)
            if value is None:
                if reviews:
                    problems[name] = "is required when there are reviews"
            elif isinstance(value, bool) or not isinstance(value, (int, float)):
                problems[name] = f"must be a number from {low} to {high}"
            elif not low <= value <= high:
                problems[name] = f"must be a number from {low} to {high}"
            elif reviews == 0:
                problems[name] = "must be null when there is no review"
        if problems:
            raise ValidationFailed(problems)


@dataclass
class Store:
    """A flagship store: its items' shop front and rating.

    ``kind`` is "department" (one department's store) or "city" (a city's
    store, no department: see ``domain.stores``). ``rating_as_of`` is when
    ratings recorded the rating the store shows (None: never told): changes
    may arrive out of order, and an older one never replaces a newer one.
    """

    store_id: str
    name: str
    department_code: str | None
    region_code: str
    rating: StoreRating = field(default_factory=StoreRating)
    rating_as_of: datetime | None = None
    kind: str = "department"
    events: list[Event] = field(default_factory=list, compare=False, repr=False)

    def rate(self, rating: StoreRating, as_of: datetime) -> bool:
        """Show ``rating``, the store's rating as ratings recorded it at
        ``as_of`` (timezone-aware), unless the store shows one recorded later.
        Records StoreRatingUpdated when the figures change. Returns whether
        ``rating`` was taken (the same figures, newer, are taken too: an older
        change arriving after it must not replace them)."""
        if as_of.tzinfo is None or as_of.utcoffset() is None:
            raise ValueError("as_of must be timezone-aware")
        if self.rating_as_of is not None and as_of < self.rating_as_of:
            return False
        self.rating_as_of = as_of
        if rating != self.rating:
            self.rating = rating
            self.events.append(
                StoreRatingUpdated(
                    store_id=self.store_id,
                    reviews=rating.reviews,
                    praise_rate=rating.praise_rate,
                    average_grade=rating.average_grade,
                )
            )
        return True


@dataclass
class Department:
    """A government department with its flagship store and handling window.

    ``kind`` is one of :data:`DEPARTMENT_KINDS`; ``uscc`` its Unified Social
    Credit Code, which its licences name as the issuer (None: not recorded yet).
    """

    code: str
    name: str
    region_code: str
    level: str
    store: Store
    window: Window
    name_en: str = ""
    kind: str = DEPARTMENT
    uscc: str | None = None

    def __post_init__(self) -> None:
        problems = {}
        if self.kind not in DEPARTMENT_KINDS:
            problems["kind"] = f"must be one of {', '.join(DEPARTMENT_KINDS)}"
        if self.uscc is not None:
            problem = uscc.problem(self.uscc)
            if problem:
                problems["uscc"] = problem
        if problems:
            raise ValidationFailed(problems)

    @property
    def is_approval_bureau(self) -> bool:
        return self.kind == APPROVAL_BUREAU

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Department:
        store = data["store"]
        return cls(
            code=data["code"],
            name=data["name"],
            name_en=data.get("name_en", ""),
            region_code=data["region_code"],
            level=data["level"],
            store=Store(
                store_id=store["store_id"],
                name=store["name"],
                department_code=data["code"],
                region_code=data["region_code"],
            ),
            window=Window.from_dict(data["window"]),
            kind=data.get("kind", DEPARTMENT),
            uscc=data.get("uscc"),
        )


@dataclass(frozen=True)
class Material:
    """One document the applicant hands in (or mails) for an item.

    ``necessity`` says whether it is always needed, needed in some cases or
    optional; ``source`` who provides it (the applicant, or a government body
    that shares it); ``copies`` the paper copies (0: none on paper);
    ``blank_form`` and ``sample`` are file references (a URL or a path).
    """

    name: str
    copies: int = 1
    original: bool = False
    note: str = ""
    necessity: str = "required"
    source: str = "applicant"
    paper_size: str = "A4"
    blank_form: str | None = None
    sample: str | None = None
    acceptance_standard: str = ""


# --------------------------------------------------------------------- validation
# Each validator takes the field name and the raw value and returns the value in
# its domain form, or raises ValidationFailed keyed by the field (or a sub-field).


def _text_list(max_length: int) -> Callable[[str, Any], list[str]]:
    def validate(name: str, value: Any) -> list[str]:
        if not isinstance(value, (list, tuple)):
            _fail(name, "must be a list of strings")
        errors, result = {}, []
        for index, entry in enumerate(value):
            if not isinstance(entry, str) or not entry.strip():
                errors[f"{name}.{index}"] = "must be a non-empty string"
            elif len(entry) > max_length:
                errors[f"{name}.{index}"] = f"must be at most {max_length} characters"
            else:
                result.append(entry.strip())
        if errors:
            raise ValidationFailed(errors)
        return result

    return validate


def _level(name: str, value: Any) -> str:
    if value not in LEVELS:
        _fail(name, f"must be one of {', '.join(LEVELS)}")
    return value


def _modes(name: str, value: Any) -> list[str]:
    if not isinstance(value, (list, tuple)):
        _fail(name, f"must be a list of {', '.join(MODES)}")
    unknown = [mode for mode in value if mode not in MODES]
    if unknown:
        _fail(name, f"unknown mode {unknown[0]!r}; allowed: {', '.join(MODES)}")
    if len(set(value)) != len(value):
        _fail(name, "must not repeat a mode")
    # keep a canonical order so equal sets compare and publish equal
    return [mode for mode in MODES if mode in value]


def _days(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(name, "must be a whole number of working days")
    if not 0 <= value <= 365:
        _fail(name, "must be between 0 and 365")
    return value


_MATERIAL_FIELDS = (
    "name",
    "copies",
    "original",
    "note",
    "necessity",
    "source",
    "paper_size",
    "blank_form",
    "sample",
    "acceptance_standard",
)


def _material(prefix: str, entry: Mapping, errors: dict[str, str]) -> Material | None:
    before = len(errors)
    for key in sorted(set(entry) - set(_MATERIAL_FIELDS)):
        errors[f"{prefix}.{key}"] = "unknown field"
    material_name = entry.get("name")
    copies = entry.get("copies", 1)
    original = entry.get("original", False)
    necessity = entry.get("necessity", "required")
    source = entry.get("source", "applicant")
    if not isinstance(material_name, str) or not material_name.strip():
        errors[f"{prefix}.name"] = "is required"
    elif len(material_name.strip()) > 200:
        errors[f"{prefix}.name"] = "must be at most 200 characters"
    if isinstance(copies, bool) or not isinstance(copies, int) or not 0 <= copies <= MAX_COPIES:
        errors[f"{prefix}.copies"] = f"must be a whole number from 0 to {MAX_COPIES}"
    if not isinstance(original, bool):
        errors[f"{prefix}.original"] = "must be true or false"
    if necessity not in NECESSITIES:
        errors[f"{prefix}.necessity"] = f"must be one of {', '.join(NECESSITIES)}"
    if source not in MATERIAL_SOURCES:
        errors[f"{prefix}.source"] = f"must be one of {', '.join(MATERIAL_SOURCES)}"
    texts = {}
    for key, default, maximum in (
        ("note", "", 500),
        ("paper_size", "A4", 20),
        ("acceptance_standard", "", 500),
    ):
        value = entry.get(key, default)
        if not isinstance(value, str):
            errors[f"{prefix}.{key}"] = "must be a string"
        elif len(value.strip()) > maximum:
            errors[f"{prefix}.{key}"] = f"must be at most {maximum} characters"
        else:
            texts[key] = value.strip()
    for key in ("blank_form", "sample"):
        value = entry.get(key)
        if value is None:
            texts[key] = None
        elif not isinstance(value, str) or not value.strip() or len(value.strip()) > 500:
            errors[f"{prefix}.{key}"] = "must be a file reference of 1..500 characters, or null"
        else:
            texts[key] = value.strip()
    if len(errors) != before:
        return None
    return Material(
        material_name.strip(), copies, original, necessity=necessity, source=source, **texts
    )


def _materials(name: str, value: Any) -> list[Material]:
    if not isinstance(value, (list, tuple)):
        _fail(name, "must be a list of materials")
    errors: dict[str, str] = {}
    result = []
    for index, entry in enumerate(value):
        prefix = f"{name}.{index}"
        if isinstance(entry, Material):
            entry = dataclasses.asdict(entry)
        if not isinstance(entry, Mapping):
            errors[prefix] = "must be an object with a name"
            continue
        material = _material(prefix, entry, errors)
        if material is not None:
            result.append(material)
    if errors:
        raise ValidationFailed(errors)
    return result


def _one_of(choices: tuple[str, ...]) -> Callable[[str, Any], str]:
    def validate(name: str, value: Any) -> str:
        if value not in choices:
            _fail(name, f"must be one of {', '.join(choices)}")
        return value

    return validate


def _whole_number(low: int, high: int, optional: bool = False) -> Callable[[str, Any], Any]:
    def validate(name: str, value: Any) -> int | None:
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            _fail(name, f"must be a whole number from {low} to {high}")
        return value

    return validate


def _implementing_code(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) != 31:
        _fail(name, "must be 31 characters (USCC, level digit, basic code)")
    return value


def _department_codes(name: str, value: Any) -> list[str]:
    if not isinstance(value, (list, tuple)) or not all(
        isinstance(code, str) and code for code in value
    ):
        _fail(name, "must be a list of department codes")
    if len(set(value)) != len(value):
        _fail(name, "must not repeat a department")
    return list(value)


def _handled_by(name: str, value: Any) -> str:
    if value == SHARED_WORKFLOW:
        return value
    if (
        isinstance(value, str)
        and value.startswith(OWN_WORKFLOW_PREFIX)
        and instances.is_department_code(value[len(OWN_WORKFLOW_PREFIX) :])
    ):
        return value
    _fail(name, 'must be "workflow" or "workflow-<department code>"')


def _window(name: str, value: Any) -> Window | None:
    if value is None or isinstance(value, Window):
        return value
    if isinstance(value, Mapping):
        try:
            return Window.from_dict(value)
        except KeyError as missing:
            _fail(f"{name}.{missing.args[0]}", "is required")
    _fail(name, "must be an object with name, address, phone, postcode")


def _optional_text(name: str, value: Any) -> str | None:
    if value is None:
        return None
    return _text(True, 64)(name, value)


_VALIDATORS: dict[str, Callable[[str, Any], Any]] = {
    "code": _text(True, 64),
    "name": _text(True, 200),
    "name_en": _text(False, 300),
    "department_code": _text(True, 64),
    "region_code": _text(True, 12),
    "level": _level,
    "modes": _modes,
    "promised_days": _days,
    "statutory_days": _days,
    "description": _text(False, 4000),
    "conditions": _text_list(500),
    "materials": _materials,
    "fees": parse_fees,
    "fee_waiver": parse_fee_waiver,
    "licence_type": parse_licence_type,
    "transferred_from": _optional_text,
    "legal_basis": parse_legal_basis,
    "joint_departments": _department_codes,
    "basic_code": parse_basic_code,
    "implementing_code": _implementing_code,
    "type": parse_optional_item_type,
    "case_type": _one_of(CASE_TYPES),
    "visits": _whole_number(0, MAX_VISITS),
    "online_depth": _whole_number(ONLINE_DEPTHS.start, ONLINE_DEPTHS.stop - 1, optional=True),
    "limit_unit": _one_of(LIMIT_UNITS),
    "limit_note": _text(False, 500),
    "process_summary": _text(False, 2000),
    "place": _text(False, 300),
    "hours": _text(False, 200),
    "consultation_phone": _text(False, 50),
    "complaint_phone": _text(False, 50),
    "serves": parse_serves,
    "handled_by": _handled_by,
    "store_id": _optional_text,
    "window": _window,
    "department_name": _text(False, 200),
}

# Identity fields (code, department, region, level) are fixed once the item exists;
# the store and window follow the department and are set by the service layer.
EDITABLE_FIELDS = frozenset(
    {
        "name",
        "name_en",
        "modes",
        "promised_days",
        "statutory_days",
        "description",
        "conditions",
        "materials",
        "fees",
        "fee_waiver",
        "licence_type",
        "transferred_from",
        "legal_basis",
        "joint_departments",
        "handled_by",
        "type",
        "case_type",
        "visits",
        "online_depth",
        "limit_unit",
        "limit_note",
        "process_summary",
        "place",
        "hours",
        "consultation_phone",
        "complaint_phone",
        "serves",
    }
)


def _validate(
    values: Mapping[str, Any],
    allowed: frozenset[str],
    rejected: str = "not an editable field",
) -> dict[str, Any]:
    """Validate every value; raise one ValidationFailed naming every bad field."""
    return _fields(values, allowed, _VALIDATORS, rejected)


# --------------------------------------------------------------------------- item


@dataclass
class Item:
    """A service item and its guide (办事指南); the catalog's aggregate."""

    item_id: str
    code: str
    name: str
    department_code: str
    region_code: str
    level: str
    name_en: str = ""
    modes: list[str] = field(default_factory=list)
    promised_days: int = 0
    statutory_days: int = 0
    description: str = ""
    conditions: list[str] = field(default_factory=list)
    materials: list[Material] = field(default_factory=list)
    # Fees one by one ([]: free), who is spared the waivable ones, the licence
    # issued, and the department the item was taken over from (集中批).
    fees: list[Fee] = field(default_factory=list)
    fee_waiver: FeeWaiver | None = None
    licence_type: LicenceType | None = None
    transferred_from: str | None = None
    legal_basis: list[LegalReference] = field(default_factory=list)
    joint_departments: list[str] = field(default_factory=list)
    handled_by: str = SHARED_WORKFLOW
    store_id: str | None = None
    window: Window | None = None
    status: str = DRAFT
    # The national elements (GB/T 39554.1): basic and implementing code (null on
    # items made before basic items existed), item type, case type, visits to
    # the site, online depth, the unit of the limits, the process, place, hours
    # and phone numbers, and whom the item serves.
    basic_code: str | None = None
    implementing_code: str | None = None
    type: str | None = None
    case_type: str = "promised"
    visits: int = 1
    online_depth: int | None = None
    limit_unit: str = "working_days"
    limit_note: str = ""
    process_summary: str = ""
    place: str = ""
    hours: str = ""
    consultation_phone: str = ""
    complaint_phone: str = ""
    serves: list[str] = field(default_factory=list)
    # Starts at 1; every publish, retire and change adds one.
    revision: int = 1
    # The department's name as events and guides show it (not part of the item).
    department_name: str = field(default="", compare=False)
    events: list[Event] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def create(cls, item_id: str, **data: Any) -> Item:
        """A new draft item; validates every given field (completeness waits for publish).

        Required: code, name, department_code, region_code, level. Optional: the
        guide fields in EDITABLE_FIELDS plus store_id and window.
        """
        required = ("code", "name", "department_code", "region_code", "level")
        errors = {name: "is required" for name in required if name not in data}
        allowed = EDITABLE_FIELDS | {
            *required,
            "store_id",
            "window",
            "basic_code",
            "implementing_code",
            "department_name",
        }
        try:
            clean = _validate(data, allowed, rejected="unknown field")
        except ValidationFailed as failure:
            errors.update(failure.fields)
            clean = {}
        if not errors:
            errors.update(_joint_problems(clean["department_code"], clean))
            errors.update(_transfer_problems(clean["department_code"], clean))
            errors.update(waiver_problems(clean.get("fees", []), clean.get("fee_waiver")))
        if errors:
            raise ValidationFailed(errors)
        if "visits" not in clean:
            clean["visits"] = 1 if "window" in clean.get("modes", ()) else 0
        return cls(item_id=item_id, **clean)

    # ------------------------------------------------------------------ rules

    def publish_problems(self) -> dict[str, str]:
        """What keeps the guide from publication, by field; empty when complete."""
        problems: dict[str, str] = {}
        if not self.name.strip():
            problems["name"] = "is required"
        if not self.modes:
            problems["modes"] = "at least one mode is required"
        if self.statutory_days < 1:
            problems["statutory_days"] = "must be at least 1"
        if self.promised_days < 1:
            problems["promised_days"] = "must be at least 1"
        elif self.promised_days > self.statutory_days:
            problems["promised_days"] = "must not exceed statutory_days"
        if not self.materials:
            problems["materials"] = "at least one material is required"
        if self.type is None:
            problems["type"] = "is required"
        if not self.serves:
            problems["serves"] = f"name whom the item serves: {', '.join(SERVES)}"
        if self.visits == 0 and self.modes and not self.offers_online:
            problems["visits"] = "0 visits needs online or express among the modes"
        return problems

    def publish(self) -> None:
        """Make the item public (from draft or retired) and record ItemPublished."""
        if self.status == PUBLISHED:
            raise InvalidTransition(f"item {self.item_id} is already published")
        problems = self.publish_problems()
        if problems:
            raise ValidationFailed(problems, "the guide is incomplete")
        self.status = PUBLISHED
        self.revision += 1
        self.events.append(self._published_event())

    def retire(self) -> None:
        """Withdraw a published item and record ItemRetired."""
        if self.status != PUBLISHED:
            raise InvalidTransition(
                f"only a published item can be retired; item {self.item_id} is {self.status}"
            )
        self.status = RETIRED
        self.revision += 1
        self.events.append(ItemRetired(item_id=self.item_id, revision=self.revision))

    def update(self, **changes: Any) -> None:
        """Change guide fields; all or nothing.

        A published item must stay complete, and its change is announced again as
        ItemPublished so read models built from events see the new guide.
        """
        clean = _validate(changes, EDITABLE_FIELDS)
        problems = {
            **_joint_problems(self.department_code, clean),
            **_transfer_problems(self.department_code, clean),
            **waiver_problems(
                clean.get("fees", self.fees), clean.get("fee_waiver", self.fee_waiver)
            ),
        }
        if problems:
            raise ValidationFailed(problems)
        if self.status == PUBLISHED:
            candidate = dataclasses.replace(self, events=[], **clean)
            problems = candidate.publish_problems()
            if problems:
                raise ValidationFailed(problems, "a published item must keep a complete guide")
        self._apply(clean)

    def follow(self, basic: BasicItem) -> bool:
        """Take the basic item's current locked values (name, type, legal basis).
        Returns whether anything changed; a published item announces it."""
        if basic.basic_code != self.basic_code:
            raise ValueError(f"item {self.item_id} is not derived from {basic.basic_code}")
        values = basic.locked_values()
        del values["basic_code"]
        return self._apply(values)

    def _apply(self, clean: Mapping[str, Any]) -> bool:
        changed = {name: value for name, value in clean.items() if getattr(self, name) != value}
        if not changed:
            return False
        for name, value in changed.items():
            setattr(self, name, value)
        self.revision += 1
        if self.status == PUBLISHED:
            self.events.append(self._published_event())
        return True

    @property
    def is_published(self) -> bool:
        return self.status == PUBLISHED

    @property
    def offers_online(self) -> bool:
        """Whether an applicant can apply without queuing (online or by express)."""
        return any(mode in ("online", "express") for mode in self.modes)

    def _published_event(self) -> ItemPublished:
        return ItemPublished(
            item_id=self.item_id,
            code=self.code,
            name=self.name,
            department_code=self.department_code,
            region_code=self.region_code,
            level=self.level,
            store_id=self.store_id,
            promised_days=self.promised_days,
            modes=tuple(self.modes),
            joint_departments=tuple(self.joint_departments),
            window=self.window,
            handled_by=self.handled_by,
            name_en=self.name_en,
            department_name=self.department_name,
            status=self.status,
            transferred_from=self.transferred_from,
            fees=tuple(self.fees),
            licence_type=self.licence_type,
            basic_code=self.basic_code,
            implementing_code=self.implementing_code,
            item_type=self.type,
            case_type=self.case_type,
            serves=tuple(self.serves),
            visits=self.visits,
            online_depth=self.online_depth,
            description=self.description,
            legal_basis=tuple(reference.to_dict() for reference in self.legal_basis),
            statutory_days=self.statutory_days,
            revision=self.revision,
        )


def _joint_problems(department_code: str, values: Mapping[str, Any]) -> dict[str, str]:
    if department_code in values.get("joint_departments", ()):
        return {"joint_departments": "must not include the item's own department"}
    return {}


def _transfer_problems(department_code: str, values: Mapping[str, Any]) -> dict[str, str]:
    if values.get("transferred_from") == department_code:
        return {"transferred_from": "must be another department than the item's own"}
    return {}


def transfer_problems(
    holder: Department, source: Department | None, transferred_from: str | None
) -> dict[str, str]:
    """集中批: only an approval bureau holds items taken over from another
    department, and that department must be known (``source`` None: unknown)."""
    if transferred_from is None:
        return {}
    if source is None:
        return {"transferred_from": "unknown department"}
    if source.code == holder.code:
        return {"transferred_from": "must be another department than the item's own"}
    if not holder.is_approval_bureau:
        return {
            "transferred_from": f"only an approval bureau holds transferred items;"
            f" {holder.code} is a {holder.kind}"
        }
    return {}
