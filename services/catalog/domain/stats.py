"""The catalogue statistics (三级四同): online rate, basic items implemented and
implementing items that deviate, overall, by level and by region.

Only published items count. An item is "online" when an applicant need not
queue: it offers the online or the express mode. A published item derived from
a basic item "deviates" when its locked fields (name, type, legal basis) differ
from the basic item's latest known ones; an item whose basic item is not known
yet does not deviate (nothing to compare with). A basic item is "implemented"
in a scope when a published item derived from it sits there.

The figures are kept as counters per scope (everything, one level, one region)
by catalog's own events, at the highest revision seen of each item and basic
item (``service_layer.stats``). This module holds the rules: the facts of an
item an event tells, how the counters change when an item's facts change, and
the shape of the answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .model import LEVELS, Region

ALL = "all"
_LEVEL = "level:"
_REGION = "region:"


def scope_filter(scope: str) -> tuple[str | None, str | None]:
    """``(level, region code)`` a scope restricts to (None: not restricted)."""
    if scope.startswith(_LEVEL):
        return scope[len(_LEVEL) :], None
    if scope.startswith(_REGION):
        return None, scope[len(_REGION) :]
    return None, None


def level_scope(level: str) -> str:
    return f"{_LEVEL}{level}"


def region_scope(code: str) -> str:
    return f"{_REGION}{code}"


def legal_basis_key(value: Any) -> tuple[tuple[str, str], ...]:
    """A legal basis as a comparable value: ``((law, article), ...)`` in order.

    Takes the structured list ({law, article}) and, for items recorded before
    it, a list of plain references (each a law with no article).
    """
    references = []
    for reference in value or ():
        if isinstance(reference, Mapping):
            references.append((str(reference.get("law", "")), str(reference.get("article", ""))))
        else:
            references.append((str(reference), ""))
    return tuple(references)


def legal_basis_list(key: Iterable[tuple[str, str]]) -> list[dict]:
    return [{"law": law, "article": article} for law, article in key]


@dataclass(frozen=True)
class BasicFacts:
    """What the statistics know of a basic item: its locked fields."""

    basic_code: str
    revision: int
    name: str
    type: str | None = None
    legal_basis: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> BasicFacts:
        """The facts ``basic_item_published`` tells."""
        return cls(
            basic_code=payload["basic_code"],
            revision=int(payload.get("revision") or 0),
            name=payload["name"],
            type=payload.get("type"),
            legal_basis=legal_basis_key(payload.get("legal_basis")),
        )


@dataclass(frozen=True)
class ItemFacts:
    """What the statistics know of an item, as of ``revision``.

    An item only ever seen retired has no region or level (the retirement does
    not tell them); it counts nowhere.
    """

    item_id: str
    revision: int
    published: bool
    region_code: str | None = None
    level: str | None = None
    online: bool = False
    basic_code: str | None = None
    name: str = ""
    type: str | None = None
    legal_basis: tuple[tuple[str, str], ...] = ()
    deviating: bool = False

    @classmethod
    def from_published(cls, payload: Mapping[str, Any]) -> ItemFacts:
        """The facts ``item_published`` tells (a missing revision is 0: older than any)."""
        return cls(
            item_id=payload["item_id"],
            revision=int(payload.get("revision") or 0),
            published=True,
            region_code=payload["region_code"],
            level=payload["level"],
            online=is_online(payload.get("modes") or ()),
            basic_code=payload.get("basic_code"),
            name=payload.get("name") or "",
            type=payload.get("type"),
            legal_basis=legal_basis_key(payload.get("legal_basis")),
        )

    def retired(self, revision: int) -> ItemFacts:
        """These facts, no longer published, as of ``revision``."""
        return ItemFacts(**{**self.__dict__, "revision": revision, "published": False})

    def compared_with(self, basic: BasicFacts | None) -> ItemFacts:
        """These facts with ``deviating`` set against ``basic`` (its basic item)."""
        deviating = (
            self.basic_code is not None
            and basic is not None
            and (self.name, self.type, self.legal_basis)
            != (basic.name, basic.type, basic.legal_basis)
        )
        if deviating == self.deviating:
            return self
        return ItemFacts(**{**self.__dict__, "deviating": deviating})

    def scopes(self) -> tuple[str, ...]:
        """The scopes the item counts in while published."""
        scopes = [ALL]
        if self.level is not None:
            scopes.append(level_scope(self.level))
        if self.region_code is not None:
            scopes.append(region_scope(self.region_code))
        return tuple(scopes)


def is_online(modes: Iterable[str]) -> bool:
    return any(mode in ("online", "express") for mode in modes)


def supersedes(incoming: int, stored: int | None) -> bool:
    """Whether facts of revision ``incoming`` replace those of ``stored``
    (None: nothing known). An equal revision is the same change told again."""
    return stored is None or incoming > stored


@dataclass
class Counts:
    """The counters of one scope (or a change of them)."""

    published: int = 0
    online: int = 0
    implemented: int = 0
    deviating: int = 0

    def add(self, other: Counts) -> None:
        self.published += other.published
        self.online += other.online
        self.implemented += other.implemented
        self.deviating += other.deviating

    def __bool__(self) -> bool:
        return any((self.published, self.online, self.implemented, self.deviating))


def _contribution(facts: ItemFacts | None, sign: int) -> dict[str, Counts]:
    if facts is None or not facts.published:
        return {}
    counts = Counts(published=sign, online=sign * facts.online, deviating=sign * facts.deviating)
    return {scope: Counts(**counts.__dict__) for scope in facts.scopes()}


def count_changes(old: ItemFacts | None, new: ItemFacts | None) -> dict[str, Counts]:
    """How the published, online and deviating counters of each scope change
    when an item's facts go from ``old`` to ``new`` (either None: unknown).
    Implementation counts need the other items too: ``implementation_keys``."""
    changes: dict[str, Counts] = {}
    for scope, change in [
        *_contribution(old, -1).items(),
        *_contribution(new, +1).items(),
    ]:
        changes.setdefault(scope, Counts()).add(change)
    return {scope: change for scope, change in changes.items() if change}


def implementation_keys(*facts: ItemFacts | None) -> set[tuple[str, str]]:
    """The (scope, basic code) pairs whose "implemented" may change when an
    item's facts change between these."""
    return {
        (scope, entry.basic_code)
        for entry in facts
        if entry is not None and entry.published and entry.basic_code is not None
        for scope in entry.scopes()
    }


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _figures(counts: Counts) -> dict:
    return {
        "published": counts.published,
        "online": counts.online,
        "online_rate": _rate(counts.online, counts.published),
        "implemented": counts.implemented,
        "deviating": counts.deviating,
    }


def catalogue_stats(
    counts: Mapping[str, Counts], basic_items: int, regions: Iterable[Region]
) -> dict:
    """The statistics from the counters of every scope.

    Returns a JSON-ready dict::

        {"published", "online", "online_rate", "basic_items", "implemented", "deviating",
         "by_level": {"province": {published, online, online_rate, implemented,
                                   deviating}, "city": ..., "county": ...},
         "by_region": [{region_code, name, level, published, online, online_rate,
                        implemented, implementation_rate, deviating}]}

    ``by_region`` lists every region in code order (and, after them, any region
    an item names that the catalogue does not know, with no name or level);
    an item counts in the region it sits in (a city's figures do not include
    its counties'). ``implemented`` is the number of distinct basic items with a
    published item in the scope. Rates are shares in 0..1 rounded to 4
    places, None when nothing is counted (``implementation_rate``: when there is
    no basic item).
    """
    empty = Counts()
    by_region = []
    known = set()
    for region in sorted(regions, key=lambda region: region.code):
        known.add(region.code)
        by_region.append(
            _region_figures(
                region.code, region.name, region.level, counts.get(region_scope(region.code))
            )
        )
    unknown = sorted(
        scope[len(_REGION) :]
        for scope in counts
        if scope.startswith(_REGION) and scope[len(_REGION) :] not in known and counts[scope]
    )
    for code in unknown:
        by_region.append(_region_figures(code, None, None, counts[region_scope(code)]))
    for entry in by_region:
        entry["implementation_rate"] = _rate(entry["implemented"], basic_items)
    overall = counts.get(ALL, empty)
    return {
        **_figures(overall),
        "basic_items": basic_items,
        "by_level": {level: _figures(counts.get(level_scope(level), empty)) for level in LEVELS},
        "by_region": by_region,
    }


def _region_figures(code: str, name: str | None, level: str | None, counts: Counts | None) -> dict:
    return {
        "region_code": code,
        "name": name,
        "level": level,
        **_figures(counts or Counts()),
    }


@dataclass
class Tally:
    """Counters of every scope computed from scratch over all the facts (to
    fill the read model from items already stored)."""

    counts: dict[str, Counts] = field(default_factory=dict)
    _implementations: dict[str, set[str]] = field(default_factory=dict)

    def add(self, facts: ItemFacts) -> None:
        for scope, change in count_changes(None, facts).items():
            self.counts.setdefault(scope, Counts()).add(change)
        for scope, basic_code in implementation_keys(facts):
            self._implementations.setdefault(scope, set()).add(basic_code)

    def result(self) -> dict[str, Counts]:
        for scope, basic_codes in self._implementations.items():
            self.counts.setdefault(scope, Counts()).implemented = len(basic_codes)
        return self.counts
