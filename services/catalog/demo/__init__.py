"""Demo data for the catalog: Jiangsu regions, departments, basic items, service
items and development zones.

The JSON files beside this module are the seed a laptop run or a test loads; each
loader returns the parsed list of plain dicts, in file order.
"""

import json
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def _load(name: str) -> list[dict]:
    with (_HERE / name).open(encoding="utf-8") as f:
        return json.load(f)


def load_regions() -> list[dict]:
    """Province, its 13 cities and some counties: code, name, name_en, level, parent_code."""
    return _load("regions.json")


def load_departments() -> list[dict]:
    """Departments at all three levels, each with its flagship store and window."""
    return _load("departments.json")


def load_basic_items() -> list[dict]:
    """Basic items (三级四同): basic_code, name, name_en, type, legal_basis,
    department_code (provincial), serves, description. Every demo item names one."""
    return _load("basic_items.json")


def load_items() -> list[dict]:
    """Service items with their full guides (no item_id or status: the seed assigns them)."""
    return _load("items.json")


def load_zones() -> list[dict]:
    """Development zones: code, name, region_code, committee_department_code and
    their regional assessments (kind, title, approved_by, valid_from, valid_to as
    ISO days)."""
    return _load("zones.json")
