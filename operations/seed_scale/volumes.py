"""The seed's volumes, whole or as a fraction (``--scale``)."""

from __future__ import annotations

from dataclasses import dataclass

BASIC_ITEMS = 1_327
CITY_ITEMS = 13_000
COUNTY_ITEMS = 61_000
CITIZENS = 1_090_000
REAL_NAMED = 610_000
SHIPMENTS = 270_000


@dataclass(frozen=True)
class Volumes:
    basic_items: int
    city_items: int
    county_items: int
    citizens: int
    real_named: int
    shipments: int

    @classmethod
    def at(cls, scale: float) -> Volumes:
        """The volumes times ``scale`` (0 < scale <= 1), at least one basic item."""
        if not 0 < scale <= 1:
            raise ValueError("scale must be in (0, 1]")
        return cls(
            basic_items=max(1, round(BASIC_ITEMS * scale)),
            city_items=round(CITY_ITEMS * scale),
            county_items=round(COUNTY_ITEMS * scale),
            citizens=round(CITIZENS * scale),
            real_named=round(REAL_NAMED * scale),
            shipments=round(SHIPMENTS * scale),
        )
