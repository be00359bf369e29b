"""The simulated registers, in memory: civil affairs' marriage records and
housing's homes owned per city, both keyed by resident ID number.

A person may be on one register and not the other, and "no record" is an answer
of its own (``None``), never an empty default. A register can be taken down
(``set_down``) so that tests see what an outage looks like.

Nothing here logs an ID number.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

CIVIL_AFFAIRS = "civil_affairs"
HOUSING = "housing"
REGISTERS = (CIVIL_AFFAIRS, HOUSING)
MARITAL_STATUSES = ("single", "married", "divorced", "widowed")
MARRIED = "married"
MAX_HOMES = 99

# GB 11643-1999: 17 digits and a check character (ISO 7064 MOD 11-2).
_ID_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
_ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_ID_CHECK_CHARS = "10X98765432"
# A city (prefecture) code: six digits ending in 00, not a province's 0000.
_CITY_CODE = re.compile(r"[1-9][0-9]{3}00")


class RegisterDown(Exception):
    """The register is taken down (``Registers.set_down``): it answers 503."""

    def __init__(self, register: str):
        super().__init__(f"the {register} register is unavailable")
        self.register = register


def id_number_problem(value: Any) -> str | None:
    """Why ``value`` is not a resident ID number (GB 11643), or None."""
    if not isinstance(value, str):
        return "must be a string"
    number = value.strip().upper()
    if not _ID_SHAPE.fullmatch(number):
        return "must be 17 digits and a digit or X"
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return "bad birth date"
    if born.year < 1900:
        return "bad birth date"
    total = sum(int(digit) * weight for digit, weight in zip(number[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK_CHARS[total % 11] != number[17]:
        return "bad check digit"
    return None


def normalise_id_number(value: str) -> str:
    return value.strip().upper()


def city_code_problem(value: Any) -> str | None:
    if not isinstance(value, str) or not _CITY_CODE.fullmatch(value) or value.endswith("0000"):
        return "must be a city's six-digit division code ending in 00, such as 320100"
    return None


@dataclass(frozen=True)
class MarriageRecord:
    marital_status: str
    spouse_id_number: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"marital_status": self.marital_status, "spouse_id_number": self.spouse_id_number}


@dataclass(frozen=True)
class Person:
    """One person's entries as the admin endpoint takes them: for each register,
    the record, ``None`` to remove the person from it, or absent (``KEEP``)."""

    id_number: str
    civil_affairs: MarriageRecord | None | object
    housing: Mapping[str, int] | None | object


KEEP = object()


def _check_marriage(value: Any, own: str, problems: dict[str, str]) -> MarriageRecord | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        problems[CIVIL_AFFAIRS] = "must be an object or null"
        return None
    unknown = set(value) - {"marital_status", "spouse_id_number"}
    for name in sorted(unknown):
        problems[f"{CIVIL_AFFAIRS}.{name}"] = "unknown field"
    status = value.get("marital_status")
    if status not in MARITAL_STATUSES:
        allowed = ", ".join(MARITAL_STATUSES)
        problems[f"{CIVIL_AFFAIRS}.marital_status"] = f"must be one of {allowed}"
        return None
    spouse = value.get("spouse_id_number")
    if status == MARRIED:
        problem = id_number_problem(spouse)
        if problem is None and normalise_id_number(spouse) == own:
            problem = "must be another person's"
        if problem:
            problems[f"{CIVIL_AFFAIRS}.spouse_id_number"] = f"required when married: {problem}"
            return None
        return MarriageRecord(status, normalise_id_number(spouse))
    if spouse is not None:
        problems[f"{CIVIL_AFFAIRS}.spouse_id_number"] = "only a married person has a spouse"
        return None
    return MarriageRecord(status)


def _check_housing(value: Any, problems: dict[str, str]) -> dict[str, int] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or set(value) != {"homes_owned"}:
        problems[HOUSING] = "must be {homes_owned: {city code: count}} or null"
        return None
    homes = value["homes_owned"]
    if not isinstance(homes, Mapping):
        problems[f"{HOUSING}.homes_owned"] = "must be an object of city code: count"
        return None
    clean: dict[str, int] = {}
    for city, count in homes.items():
        problem = city_code_problem(city)
        if problem is None and (
            not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= MAX_HOMES
        ):
            problem = f"must be a whole number 0..{MAX_HOMES}"
        if problem:
            problems[f"{HOUSING}.homes_owned.{city}"] = problem
        else:
            clean[city] = count
    return clean


def check_person(body: Any) -> tuple[Person | None, dict[str, str]]:
    """The admin endpoint's body as a :class:`Person`, or the problems by field."""
    if not isinstance(body, Mapping):
        return None, {"body": "must be a JSON object"}
    problems: dict[str, str] = {}
    for name in sorted(set(body) - {"id_number", CIVIL_AFFAIRS, HOUSING}):
        problems[name] = "unknown field"
    problem = id_number_problem(body.get("id_number"))
    if problem:
        problems["id_number"] = problem
        return None, problems
    own = normalise_id_number(body["id_number"])
    if CIVIL_AFFAIRS not in body and HOUSING not in body:
        problems["body"] = f"give {CIVIL_AFFAIRS}, {HOUSING} or both (null removes a record)"
    marriage = (
        _check_marriage(body[CIVIL_AFFAIRS], own, problems) if CIVIL_AFFAIRS in body else KEEP
    )
    homes = _check_housing(body[HOUSING], problems) if HOUSING in body else KEEP
    if problems:
        return None, problems
    return Person(own, marriage, homes), {}


def check_query(body: Any, *, with_city: bool) -> tuple[dict[str, str], dict[str, str]]:
    """A query's ``{id_number[, city_code]}``, normalised, or the problems by field."""
    if not isinstance(body, Mapping):
        return {}, {"body": "must be a JSON object"}
    allowed = {"id_number", "city_code"} if with_city else {"id_number"}
    problems = {name: "unknown field" for name in sorted(set(body) - allowed)}
    problem = id_number_problem(body.get("id_number"))
    if problem:
        problems["id_number"] = problem
    if with_city and (problem := city_code_problem(body.get("city_code"))):
        problems["city_code"] = problem
    if problems:
        return {}, problems
    query = {"id_number": normalise_id_number(body["id_number"])}
    if with_city:
        query["city_code"] = body["city_code"]
    return query, {}


class Registers:
    """Both registers, safe to use from the server's threads."""

    def __init__(self, people: Iterable[Person] = ()):
        self._lock = threading.Lock()
        self._marriages: dict[str, MarriageRecord] = {}
        self._homes: dict[str, dict[str, int]] = {}
        self._down: set[str] = set()
        for person in people:
            self.put(person)

    def marriage(self, id_number: str) -> dict[str, Any] | None:
        """The person's marriage record, or None when civil affairs has none."""
        with self._lock:
            self._require_up(CIVIL_AFFAIRS)
            record = self._marriages.get(normalise_id_number(id_number))
        return None if record is None else record.as_dict()

    def homes_owned(self, id_number: str, city_code: str) -> dict[str, Any] | None:
        """``{city_code, homes_owned}`` for a person the housing register knows
        (0 when they own nothing in that city), or None when it knows nothing of them."""
        with self._lock:
            self._require_up(HOUSING)
            homes = self._homes.get(normalise_id_number(id_number))
        if homes is None:
            return None
        return {"city_code": city_code, "homes_owned": homes.get(city_code, 0)}

    def put(self, person: Person) -> list[str]:
        """Store the person's entries; returns the registers changed."""
        changed = []
        with self._lock:
            if person.civil_affairs is not KEEP:
                _store(self._marriages, person.id_number, person.civil_affairs)
                changed.append(CIVIL_AFFAIRS)
            if person.housing is not KEEP:
                homes = None if person.housing is None else dict(person.housing)
                _store(self._homes, person.id_number, homes)
                changed.append(HOUSING)
        return changed

    def set_down(self, register: str, down: bool) -> list[str]:
        """Take a register down (it answers 503) or bring it back; returns those down."""
        if register not in REGISTERS:
            raise ValueError(register)
        with self._lock:
            (self._down.add if down else self._down.discard)(register)
            return sorted(self._down)

    def _require_up(self, register: str) -> None:
        if register in self._down:
            raise RegisterDown(register)


def _store(table: dict, key: str, value: Any) -> None:
    if value is None:
        table.pop(key, None)
    else:
        table[key] = value
