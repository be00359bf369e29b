"""Development zones and their regional assessments (区域评估).

A development zone (开发区, 园区) is a named area inside a county, run by a
management committee (管委会: a department of kind ``zone_committee``). The
zone has the assessments a project would otherwise commission on its own
(environmental impact, energy saving, ...) done once for the whole area; each
report has a kind, a validity period and the body that approved it. A project
in the zone is covered by the report of a kind valid on the day its case asks.

Plain Python; rules that need other data (is the region a county, is the
department a zone committee) are the service layer's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from .exceptions import ValidationFailed

ASSESSMENT_KINDS = (
    "environmental_impact",  # 环境影响评价
    "energy_saving",  # 节能评价
    "soil_and_water",  # 水土保持
    "seismic_safety",  # 地震安全性评价
    "mineral_overlay",  # 压覆重要矿产资源评估
    "cultural_relics",  # 文物保护评估
    "flood_impact",  # 洪水影响评价
)
ZONE_CODE = re.compile(r"[0-9A-Za-z][0-9A-Za-z-]{0,63}")


def _text(errors: dict, name: str, value: Any, minimum: int, maximum: int) -> str:
    if not isinstance(value, str):
        errors[name] = "must be a string"
        return ""
    value = value.strip()
    if len(value) < minimum:
        errors[name] = "is required"
    elif len(value) > maximum:
        errors[name] = f"must be at most {maximum} characters"
    return value


@dataclass(frozen=True)
class Zone:
    """A development zone: its code (unique, fixed), name, county and the
    committee department that runs it."""

    zone_id: str
    code: str
    name: str
    region_code: str
    committee_department_code: str

    @classmethod
    def create(
        cls, zone_id: str, code: Any, name: Any, region_code: str, committee_department_code: str
    ) -> Zone:
        errors: dict[str, str] = {}
        if not isinstance(code, str) or not ZONE_CODE.fullmatch(code):
            errors["code"] = "must be 1..64 letters, digits or -, starting with a letter or digit"
        name = _text(errors, "name", name, 1, 100)
        if errors:
            raise ValidationFailed(errors)
        return cls(zone_id, code, name, region_code, committee_department_code)

    def summary(self) -> dict[str, Any]:
        """The zone as an assessment's finder names it."""
        return {"zone_id": self.zone_id, "name": self.name, "region_code": self.region_code}


@dataclass(frozen=True)
class Assessment:
    """One regional assessment report of a zone, valid from ``valid_from`` to
    ``valid_to`` (both days included)."""

    assessment_id: str
    zone_id: str
    kind: str
    title: str
    valid_from: date
    valid_to: date
    approved_by: str | None = None

    @classmethod
    def create(
        cls,
        assessment_id: str,
        zone_id: str,
        kind: Any,
        title: Any,
        valid_from: Any,
        valid_to: Any,
        approved_by: Any = None,
    ) -> Assessment:
        errors: dict[str, str] = {}
        if kind not in ASSESSMENT_KINDS:
            errors["kind"] = f"must be one of {', '.join(ASSESSMENT_KINDS)}"
        title = _text(errors, "title", title, 1, 200)
        for name, value in (("valid_from", valid_from), ("valid_to", valid_to)):
            if not isinstance(value, date):
                errors[name] = "must be a day (YYYY-MM-DD)"
        if "valid_from" not in errors and "valid_to" not in errors and valid_to < valid_from:
            errors["valid_to"] = "must not be before valid_from"
        if approved_by is not None:
            approved_by = _text(errors, "approved_by", approved_by, 1, 200)
        if errors:
            raise ValidationFailed(errors)
        return cls(assessment_id, zone_id, kind, title, valid_from, valid_to, approved_by)

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day <= self.valid_to

    def to_dict(self) -> dict[str, Any]:
        return {
            "assessment_id": self.assessment_id,
            "zone_id": self.zone_id,
            "kind": self.kind,
            "title": self.title,
            "approved_by": self.approved_by,
            "valid_from": self.valid_from,
            "valid_to": self.valid_to,
        }


def covering(assessments: list[Assessment], kind: str, day: date) -> Assessment | None:
    """The report of ``kind`` valid on ``day``: of several, the one valid longest."""
    valid = [a for a in assessments if a.kind == kind and a.valid_on(day)]
    return max(valid, key=lambda a: (a.valid_to, a.valid_from), default=None)
