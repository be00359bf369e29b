"""Three-level catalogue statistics (省、市、县三级): online rate and consistency.

Only published items count. An item is "online" when an applicant need not queue:
it offers the online or the express mode.

Consistency is kept simple on purpose: items are matched by *name*. For every
distinct name among published province-level items, a city "has" the item when a
published item with exactly that name sits in the city itself or in one of its
counties. The report lists, per name, the cities that have it and those missing it.
"""

from __future__ import annotations

from collections.abc import Iterable

from .model import LEVELS, Item, Region


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _counts(items: list[Item]) -> dict:
    online = sum(1 for item in items if item.offers_online)
    return {"published": len(items), "online": online, "online_rate": _rate(online, len(items))}


def catalogue_stats(items: Iterable[Item], regions: Iterable[Region]) -> dict:
    """Online rate overall, by level and by region, and the consistency report.

    Returns a JSON-ready dict::

        {"published": n, "online": m, "online_rate": r,
         "by_level": {"province": {published, online, online_rate}, "city": ..., "county": ...},
         "by_region": [{region_code, name, level, published, online, online_rate}],
         "consistency": {"cities": n, "province_items": n, "consistent_items": n,
                         "items": [{name, cities_with_item, cities_missing, coverage}]}}

    ``by_region`` lists every region holding a published item, counted where the
    item sits (a city's figure does not include its counties), in code order.
    Rates are shares in 0..1 rounded to 4 places, None when nothing is counted.
    """
    published = [item for item in items if item.is_published]
    regions_by_code = {region.code: region for region in regions}

    by_level = {
        level: _counts([item for item in published if item.level == level]) for level in LEVELS
    }

    in_region: dict[str, list[Item]] = {}
    for item in published:
        in_region.setdefault(item.region_code, []).append(item)
    by_region = []
    for code in sorted(in_region):
        region = regions_by_code.get(code)
        by_region.append(
            {
                "region_code": code,
                "name": region.name if region else None,
                "level": region.level if region else None,
                **_counts(in_region[code]),
            }
        )

    return {
        **_counts(published),
        "by_level": by_level,
        "by_region": by_region,
        "consistency": _consistency(published, regions_by_code),
    }


def _city_of(region_code: str, regions_by_code: dict[str, Region]) -> str | None:
    region = regions_by_code.get(region_code)
    if region is None:
        return None
    if region.level == "city":
        return region.code
    if region.level == "county":
        return region.parent_code
    return None


def _consistency(published: list[Item], regions_by_code: dict[str, Region]) -> dict:
    cities = sorted(code for code, region in regions_by_code.items() if region.level == "city")
    names_in_city: dict[str, set[str]] = {}
    for item in published:
        city = _city_of(item.region_code, regions_by_code)
        if city is not None:
            names_in_city.setdefault(item.name, set()).add(city)

    province_names = sorted({item.name for item in published if item.level == "province"})
    report = []
    for name in province_names:
        present = names_in_city.get(name, set())
        with_item = [city for city in cities if city in present]
        report.append(
            {
                "name": name,
                "cities_with_item": with_item,
                "cities_missing": [city for city in cities if city not in present],
                "coverage": _rate(len(with_item), len(cities)),
            }
        )
    return {
        "cities": len(cities),
        "province_items": len(province_names),
        "consistent_items": sum(1 for entry in report if not entry["cities_missing"]),
        "items": report,
    }
