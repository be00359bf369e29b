"""What an item costs and what it issues: fees as items, a waiver rule, the
licence type.

Fees are listed one by one (收费项目) with the amount in fen, an integer, never a
float; an empty list means the item is free. A waiver (减免) is a rule of
``services.common.rules`` over the applicant's facts (``applicant.age`` ge 70):
when it holds, the waivable fees are not charged. The licence type names the
licence (证照) the item issues and how many years it is valid (None: no end).

Plain Python; each parser names the field it refuses, dotted
(``fees.0.amount_fen``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from services.common import rules

from .exceptions import ValidationFailed

MAX_FEES = 20
MAX_AMOUNT_FEN = 10_000_000_000  # 100 million yuan: more is a typing error
MAX_VALID_YEARS = 100
LICENCE_TYPE_CODE = re.compile(r"[0-9A-Z]{2,20}")

_FEE_FIELDS = ("name", "amount_fen", "standard", "legal_basis", "waivable")


def _fail(name: str, reason: str) -> NoReturn:
    raise ValidationFailed({name: reason})


def _string(errors: dict, where: str, value: Any, minimum: int, maximum: int) -> str:
    if not isinstance(value, str):
        errors[where] = "must be a string"
        return ""
    value = value.strip()
    if len(value) < minimum:
        errors[where] = "is required"
    elif len(value) > maximum:
        errors[where] = f"must be at most {maximum} characters"
    return value


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Fee:
    """One fee (收费项目): its name, amount in fen, the charging standard and its
    legal basis as the guide states them, and whether a waiver may remove it."""

    name: str
    amount_fen: int
    standard: str = ""
    legal_basis: str = ""
    waivable: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "amount_fen": self.amount_fen,
            "standard": self.standard,
            "legal_basis": self.legal_basis,
            "waivable": self.waivable,
        }


@dataclass(frozen=True)
class FeeWaiver:
    """Who pays nothing of the waivable fees: ``rule`` over the applicant's facts."""

    description: str
    rule: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"description": self.description, "rule": self.rule}


@dataclass(frozen=True)
class LicenceType:
    """The licence an item issues: its type code, name and validity in years
    (None: valid without end)."""

    code: str
    name: str
    valid_years: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "valid_years": self.valid_years}


def parse_fees(name: str, value: Any) -> list[Fee]:
    """A list of fees, naming every bad entry's field."""
    if not isinstance(value, (list, tuple)):
        _fail(name, "must be a list of fees ([] when free)")
    if len(value) > MAX_FEES:
        _fail(name, f"at most {MAX_FEES} fees")
    errors: dict[str, str] = {}
    fees: list[Fee] = []
    for index, entry in enumerate(value):
        where = f"{name}.{index}"
        if isinstance(entry, Fee):
            entry = entry.to_dict()
        if not isinstance(entry, Mapping):
            errors[where] = "must be an object with name, amount_fen, standard, legal_basis"
            continue
        before = len(errors)
        for key in sorted(set(entry) - set(_FEE_FIELDS)):
            errors[f"{where}.{key}"] = "unknown field"
        fee_name = _string(errors, f"{where}.name", entry.get("name"), 1, 100)
        amount = entry.get("amount_fen")
        if not _whole(amount) or not 0 <= amount <= MAX_AMOUNT_FEN:
            errors[f"{where}.amount_fen"] = f"must be a whole number of fen, 0..{MAX_AMOUNT_FEN}"
        standard = _string(errors, f"{where}.standard", entry.get("standard", ""), 0, 500)
        basis = _string(errors, f"{where}.legal_basis", entry.get("legal_basis", ""), 0, 500)
        waivable = entry.get("waivable", False)
        if not isinstance(waivable, bool):
            errors[f"{where}.waivable"] = "must be true or false"
        if len(errors) == before:
            fees.append(Fee(fee_name, amount, standard, basis, waivable))
    names = [fee.name for fee in fees]
    if len(set(names)) != len(names):
        errors.setdefault(name, "each fee is named once")
    if errors:
        raise ValidationFailed(errors)
    return fees


def parse_fee_waiver(name: str, value: Any) -> FeeWaiver | None:
    """``{description, rule}`` or None; the rule checked as rules check it."""
    if value is None or isinstance(value, FeeWaiver):
        return value
    if not isinstance(value, Mapping):
        _fail(name, "must be an object with description and rule, or null")
    errors: dict[str, str] = {}
    for key in sorted(set(value) - {"description", "rule"}):
        errors[f"{name}.{key}"] = "unknown field"
    description = _string(errors, f"{name}.description", value.get("description"), 1, 500)
    if "rule" not in value:
        errors[f"{name}.rule"] = "is required"
    else:
        errors.update(rules.check(value["rule"], f"{name}.rule"))
    if errors:
        raise ValidationFailed(errors)
    return FeeWaiver(description, value["rule"])


def parse_licence_type(name: str, value: Any) -> LicenceType | None:
    """``{code, name, valid_years}`` or None."""
    if value is None or isinstance(value, LicenceType):
        return value
    if not isinstance(value, Mapping):
        _fail(name, "must be an object with code, name and valid_years, or null")
    errors: dict[str, str] = {}
    for key in sorted(set(value) - {"code", "name", "valid_years"}):
        errors[f"{name}.{key}"] = "unknown field"
    code = value.get("code")
    if not isinstance(code, str) or not LICENCE_TYPE_CODE.fullmatch(code):
        errors[f"{name}.code"] = "must be 2..20 digits or capital letters"
    licence_name = _string(errors, f"{name}.name", value.get("name"), 1, 100)
    years = value.get("valid_years")
    if years is not None and (not _whole(years) or not 1 <= years <= MAX_VALID_YEARS):
        errors[f"{name}.valid_years"] = (
            f"must be a whole number of years, 1..{MAX_VALID_YEARS}, or null (no end)"
        )
    if errors:
        raise ValidationFailed(errors)
    return LicenceType(code, licence_name, years)


def waiver_problems(fees: list[Fee], waiver: FeeWaiver | None) -> dict[str, str]:
    """A waiver needs a fee it may waive."""
    if waiver is not None and not any(fee.waivable for fee in fees):
        return {"fee_waiver": "there is no waivable fee to waive"}
    return {}
