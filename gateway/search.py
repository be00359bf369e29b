"""Item search answered in the gateway process from an index of the catalogue.

:class:`SearchIndex` is plain Python: it holds every published item's summary
and answers ``GET /api/v1/items`` with the same filters and order as catalog's
``search_items``, without an RPC. :class:`CatalogSearch` keeps one per gateway
process: it loads the index through catalog's ``export_items`` at start and
again every ``CATALOG_INDEX_RESYNC_SECONDS`` (default 600), and the gateway
applies catalog's ``item_published`` / ``item_retired`` events to it as they
arrive (the highest ``revision`` of an item wins, whichever way round events
and loads arrive).

How it stays small and fast at the province's scale (75,000 items whose names
repeat across the three levels, 三级四同): every distinct name, English name and
description is indexed once, by its single characters and character pairs
(bigrams), and maps to the group of items that carry it. Item sets are Python
ints used as bitmaps over item slots; slots follow code order, so a page in
code order is read off a bitmap. Items first seen after the last layout get
slots at the end and are merged into code order per query until the next
layout. Filters are bitmaps per region, level, type, mode and whom an item
serves; a department's items are kept as a list of slots. Descriptions are
mostly the item's own (a county words its guide its own way), so a common word
matches tens of thousands of them: a gram held by many descriptions also keeps
the bitmap of their items, and such a word is answered by intersecting those.

Relevance tiers (then code): 0 the name is the query, 1 the name starts with
it, 2 the name contains every word of it, 3 the pinyin initials of the name
contain it, a synonym of a word matches the name, the code starts with it or
the English name contains it, 4 only the description matches.
"""

from __future__ import annotations

import bisect
import json
import logging
import time
import unicodedata
import uuid
from array import array
from collections.abc import Iterable, Mapping
from pathlib import Path

import eventlet
from nameko.extensions import DependencyProvider
from prometheus_client import Gauge

from services.catalog import contract as catalog
from services.common.errors import Invalid
from services.common.read_cache import ReadCache

log = logging.getLogger(__name__)

INDEXED_ITEMS = Gauge(
    "tongban_search_index_items", "Published items in the gateway's search index."
)
SUMMARY_FIELDS = tuple(catalog.ItemSummary().fields)
CODE = SUMMARY_FIELDS.index("code")
BASIC_CODE = SUMMARY_FIELDS.index("basic_code") if "basic_code" in SUMMARY_FIELDS else None
PUBLISHED = "published"
# Values of these differ from item to item; the others repeat and are shared.
UNIQUE_FIELDS = frozenset({"item_id", "code", "implementing_code"})
SYNONYMS_FILE = Path(__file__).with_name("synonyms.json")

EXACT, PREFIX, NAME, OTHER, DESCRIPTION = range(5)
# A posting holding at least this many slots is kept as a bitmap, a smaller
# one as a sorted array of slots (a bitmap costs its full width whatever it holds).
DENSE_POSTING = 256
DENSE_NAMES = 8192
# Descriptions whose rank shares a high byte with fewer items than this are
# checked item by item.
DENSE_HIGH = 2048
# Up to this many allowed items, tiers are found item by item.
SCAN_LIMIT = 2000
# A gram held by at least this many distinct descriptions keeps, besides its
# descriptions, the bitmap of their items: a query matching that many
# descriptions is answered from these bitmaps, not description by description.
DENSE_DESCRIPTION_GRAM = 1024
RELAYOUT_UNORDERED = 2000
_CHUNK = 4096
_CHUNK_MASK = (1 << _CHUNK) - 1


def normalise(text: str) -> str:
    """Full-width forms folded (ＡＢＣ -> abc), lower case, runs of blanks as one space."""
    return " ".join(unicodedata.normalize("NFKC", text or "").lower().split())


def grams(text: str) -> set[str]:
    """Single characters and character pairs of ``text`` (spaces excluded)."""
    compact = text.replace(" ", "")
    out = set(compact)
    out.update(compact[i : i + 2] for i in range(len(compact) - 1))
    return out


def pinyin_initials(text: str) -> str:
    """``营业执照（个体）`` -> ``yyzzgt``: the first letter of each character's
    pinyin; letters and digits kept; everything else dropped."""
    from pypinyin import Style, lazy_pinyin

    letters = lazy_pinyin(text, style=Style.FIRST_LETTER, errors=lambda chars: list(chars))
    return "".join(ch for ch in "".join(letters).lower() if ch.isascii() and ch.isalnum())


def load_synonyms(path: Path = SYNONYMS_FILE) -> dict[str, tuple[str, ...]]:
    with path.open(encoding="utf-8") as handle:
        table = json.load(handle)
    return {normalise(word): tuple(normalise(x) for x in words) for word, words in table.items()}


# --- postings: sets of slots, as bitmaps or sorted arrays -------------------


def _bitmap_of(slots: Iterable[int], width: int) -> int:
    buffer = bytearray((width >> 3) + 1)
    for slot in slots:
        buffer[slot >> 3] |= 1 << (slot & 7)
    return int.from_bytes(buffer, "little")


def _as_bitmap(posting, width: int) -> int:
    if posting is None:
        return 0
    if isinstance(posting, int):
        return posting
    return _bitmap_of(posting, width)


def _compact_posting(slots: list[int], width: int):
    if len(slots) >= DENSE_POSTING:
        return _bitmap_of(slots, width)
    return array("I", sorted(slots))


def _posting_add(postings: dict, key, slot: int) -> None:
    posting = postings.get(key)
    if isinstance(posting, int):
        postings[key] = posting | (1 << slot)
    elif posting is None:
        postings[key] = array("I", [slot])
    else:
        position = bisect.bisect_left(posting, slot)
        if position == len(posting) or posting[position] != slot:
            posting.insert(position, slot)


def _posting_remove(postings: dict, key, slot: int) -> None:
    posting = postings.get(key)
    if isinstance(posting, int):
        postings[key] = posting & ~(1 << slot)
    elif posting is not None:
        position = bisect.bisect_left(posting, slot)
        if position < len(posting) and posting[position] == slot:
            del posting[position]


_BITS_OF_BYTE = tuple(tuple(i for i in range(8) if byte >> i & 1) for byte in range(256))


def _slots_of(bitmap: int, skip: int, count: int) -> list[int]:
    """The set bits of ``bitmap`` ranked ``skip`` .. ``skip + count - 1``, in order."""
    out: list[int] = []
    base = 0
    while bitmap and len(out) < count:
        chunk = bitmap & _CHUNK_MASK
        present = chunk.bit_count()
        if skip >= present:
            skip -= present
        else:
            found = []
            for offset, byte in enumerate(chunk.to_bytes(_CHUNK // 8, "little")):
                if byte:
                    at = base + offset * 8
                    found.extend([at + bit for bit in _BITS_OF_BYTE[byte]])
            out.extend(found[skip : skip + count - len(out)])
            skip = 0
        bitmap >>= _CHUNK
        base += _CHUNK
    return out


def _basic_code(summary: tuple) -> str | None:
    return summary[BASIC_CODE] if BASIC_CODE is not None else None


class _Texts:
    """Distinct texts (normalised), found by the grams they contain, each with
    the slots of the items that carry it."""

    def __init__(self):
        self.texts: list[str] = []
        self.ids: dict[str, int] = {}
        # gram -> ids of the texts holding it, ascending (ids only grow)
        self.grams: dict[str, array] = {}
        self.members: dict[int, object] = {}

    def id_of(self, text: str) -> int:
        text_id = self.ids.get(text)
        if text_id is None:
            text_id = self.ids[text] = len(self.texts)
            self.texts.append(text)
            for gram in grams(text):
                posting = self.grams.get(gram)
                if posting is None:
                    self.grams[gram] = array("I", [text_id])
                else:
                    posting.append(text_id)
        return text_id

    def containing(self, words: list[str]) -> list[int]:
        """Ids of the texts that contain every word."""
        wanted = [g for word in words for g in ({word} if len(word) <= 2 else _pairs(word))]
        if not wanted:
            return []
        postings = sorted((self.grams.get(g, ()) for g in wanted), key=len)
        candidates = set(postings[0])
        for posting in postings[1:]:
            if not candidates:
                break
            candidates.intersection_update(posting)
        if all(len(word) <= 2 for word in words):
            return list(candidates)  # a text holding the gram holds the word
        texts = self.texts
        return [i for i in candidates if all(word in texts[i] for word in words)]


def _pairs(word: str) -> set[str]:
    compact = word.replace(" ", "")
    return {compact[i : i + 2] for i in range(len(compact) - 1)}


class _Entry:
    __slots__ = ("revision", "summary", "slot", "name", "name_en", "description", "keys", "seen")

    def __init__(self, revision: int):
        self.revision = revision
        self.summary: dict | None = None
        self.slot: int | None = None
        self.name = self.name_en = self.description = -1
        self.keys: tuple = ()
        self.seen = 0


class SearchIndex:
    """Published items' summaries with the text and filter postings to search them."""

    # Below these sizes the cheaper way for few items or descriptions is taken.
    scan_limit = SCAN_LIMIT
    few_descriptions = 64

    def __init__(self, synonyms: Mapping[str, Iterable[str]] | None = None):
        self.synonyms = (
            load_synonyms()
            if synonyms is None
            else {normalise(k): tuple(normalise(x) for x in v) for k, v in synonyms.items()}
        )
        self.loaded = False
        self.loaded_at: float | None = None
        # Moves with every change (items, layout, regions, departments): an
        # answer kept under one version is the answer while it stands.
        self.version = 0
        self._entries: dict[str, _Entry] = {}
        self._slot_entries: list[_Entry] = []
        self._slot_codes: list[str] = []
        self._ordered = 0  # slots below this follow code order
        self._live = 0
        self._filters: dict[tuple, object] = {}
        self._names = _Texts()
        self._names_en = _Texts()
        self._descriptions = _Texts()
        self._initials: dict[int, str] = {}
        # The low byte of each ordered slot's description id, the highest slot
        # first (a binary numeral's order); per high byte, the slots having it.
        self._description_bytes = b""
        self._description_high: dict[int, object] = {}
        self._description_rank: dict[int, int] = {}
        # gram -> items (ordered slots) whose description holds it, for the
        # grams of many descriptions.
        self._description_gram_slots: dict[str, int] = {}
        # Ordered slots republished since the layout (their description may differ).
        self._changed_descriptions: set[int] = set()
        self._basic_codes: dict[str, object] = {}
        self._shared: dict[str, object] = {}
        self._sequence = 0
        self.children: dict[str, list[str]] = {}
        self.regions: set[str] = set()
        self.departments: set[str] | None = None

    def __len__(self) -> int:
        return self._live.bit_count()

    # ------------------------------------------------------------ reference data

    def set_regions(self, regions: Iterable[Mapping]) -> None:
        """The region tree (``list_regions``' items): a region filter includes children."""
        self.version += 1
        children: dict[str, list[str]] = {}
        codes = set()
        for region in regions:
            codes.add(region["code"])
            if region.get("parent_code"):
                children.setdefault(region["parent_code"], []).append(region["code"])
        self.children, self.regions = children, codes

    def set_departments(self, codes: Iterable[str]) -> None:
        self.version += 1
        self.departments = set(codes)

    def knows(self, region: str | None = None, department: str | None = None, **_) -> bool:
        """Whether the filters name a region and a department this index knows
        (else catalog, which may know newer ones, had better answer)."""
        if region is not None and region not in self.regions:
            return False
        return department is None or self.departments is None or department in self.departments

    def region_and_children(self, code: str) -> list[str]:
        out, pending = [], [code]
        while pending:
            current = pending.pop()
            out.append(current)
            pending.extend(self.children.get(current, ()))
        return out

    # ------------------------------------------------------------ changes

    def apply(self, event_type: str, payload: Mapping) -> bool:
        """Apply a catalog event's payload; False when it was older than what is held."""
        if event_type == "item_published":
            return self.publish(payload)
        if event_type == "item_retired":
            return self.retire(payload["item_id"], payload.get("revision"))
        return False

    def publish(self, payload: Mapping) -> bool:
        """Hold the item as ``payload`` (an ``item_published`` payload) shows it,
        unless a higher revision of it is already held."""
        self.version += 1
        item_id, code = payload["item_id"], payload["code"]
        if not isinstance(item_id, str) or not isinstance(code, str):
            raise TypeError("item_id and code must be strings")
        entry = self._fresh_entry(item_id, payload.get("revision"))
        if entry is None:
            return False
        if entry.slot is not None and entry.summary is not None and self.loaded:
            self._unpost(entry)
        entry.summary = self._summary(payload)
        entry.name = self._names.id_of(normalise(payload.get("name") or ""))
        entry.name_en = self._names_en.id_of(normalise(payload.get("name_en") or ""))
        entry.description = self._descriptions.id_of(normalise(payload.get("description") or ""))
        entry.keys = self._keys(payload)
        if entry.slot is None:
            entry.slot = len(self._slot_entries)
            self._slot_entries.append(entry)
            self._slot_codes.append(code)
        else:
            self._slot_codes[entry.slot] = code
            if entry.slot < self._ordered:
                self._changed_descriptions.add(entry.slot)
        if self.loaded:
            self._post(entry)
        return True

    def retire(self, item_id: str, revision: int | None = None) -> bool:
        """Drop the item from results, remembering its revision (a tombstone)."""
        self.version += 1
        entry = self._fresh_entry(item_id, revision)
        if entry is None:
            return False
        self._drop(entry)
        return True

    def _drop(self, entry: _Entry) -> None:
        self.version += 1
        if entry.summary is not None and entry.slot is not None and self.loaded:
            self._unpost(entry)
        entry.summary = None

    def _fresh_entry(self, item_id: str, revision) -> _Entry | None:
        revision = int(revision) if revision is not None else -1
        entry = self._entries.get(item_id)
        if entry is None:
            entry = self._entries[item_id] = _Entry(revision)
        elif revision != -1 and (
            revision < entry.revision or (revision == entry.revision and entry.summary is not None)
        ):
            # Older than what is held, or the same revision again (a load
            # repeating what an event brought): nothing to change.
            entry.seen = self._sequence = self._sequence + 1
            return None
        entry.revision = max(entry.revision, revision)
        self._sequence += 1
        entry.seen = self._sequence
        return entry

    def _share(self, value):
        """One object for equal values: names, departments, modes, fees and
        licence types repeat across the levels."""
        if isinstance(value, list) and all(isinstance(x, str) for x in value):
            return self._shared.setdefault(("list", *value), value)
        if isinstance(value, (list, dict)):
            key = json.dumps(value, sort_keys=True, ensure_ascii=False)
            return self._shared.setdefault(("json", key), value)
        if isinstance(value, str):
            return self._shared.setdefault(value, value)
        return value

    def _summary(self, payload: Mapping) -> tuple:
        """The summary's values in SUMMARY_FIELDS order (a tuple is a fifth of a dict)."""
        return tuple(
            PUBLISHED
            if name == "status"
            else payload.get(name)
            if name in UNIQUE_FIELDS
            else self._share(payload.get(name))
            for name in SUMMARY_FIELDS
        )

    def _keys(self, payload: Mapping) -> tuple:
        keys = [
            ("region", payload.get("region_code")),
            ("level", payload.get("level")),
            ("type", payload.get("type")),
        ]
        keys.extend(("mode", mode) for mode in payload.get("modes") or ())
        keys.extend(("serves", who) for who in payload.get("serves") or ())
        keys.append(("department", payload.get("department_code")))
        shared = self._shared
        return tuple(shared.setdefault(key, key) for key in keys)

    def _post(self, entry: _Entry) -> None:
        slot = entry.slot
        self._live |= 1 << slot
        for key in entry.keys:
            _posting_add(self._filters, key, slot)
        _posting_add(self._names.members, entry.name, slot)
        _posting_add(self._names_en.members, entry.name_en, slot)
        _posting_add(self._descriptions.members, entry.description, slot)
        basic_code = _basic_code(entry.summary)
        if basic_code:
            _posting_add(self._basic_codes, basic_code, slot)
        INDEXED_ITEMS.set(len(self))

    def _unpost(self, entry: _Entry) -> None:
        slot = entry.slot
        self._live &= ~(1 << slot)
        for key in entry.keys:
            _posting_remove(self._filters, key, slot)
        _posting_remove(self._names.members, entry.name, slot)
        _posting_remove(self._names_en.members, entry.name_en, slot)
        _posting_remove(self._descriptions.members, entry.description, slot)
        basic_code = _basic_code(entry.summary)
        if basic_code:
            _posting_remove(self._basic_codes, basic_code, slot)
        INDEXED_ITEMS.set(len(self))

    # ------------------------------------------------------------ loading

    def begin_load(self) -> int:
        """Mark the start of a full load; returns the mark for :meth:`finish_load`."""
        return self._sequence

    def finish_load(self, mark: int, exported: set[str]) -> None:
        """End a full load: an item the load did not export and no event touched
        since ``mark`` is gone from the catalogue (retired while we were not
        listening); then lay the index out in code order."""
        self.version += 1
        for item_id, entry in self._entries.items():
            if entry.summary is not None and item_id not in exported and entry.seen <= mark:
                self._drop(entry)
        if not self.loaded or self.unordered:
            self.layout()
        self._initials_by_name()  # computed here, not by the first query
        if not self.loaded:
            self.loaded = True
        self.loaded_at = time.time()

    def layout(self) -> None:
        """Give every published item a slot in code order and rebuild the postings."""
        self.version += 1
        live = [e for e in self._entries.values() if e.summary is not None]
        live.sort(key=lambda e: e.summary[CODE])
        width = len(live)
        filters: dict[tuple, list[int]] = {}
        names: dict[int, list[int]] = {}
        names_en: dict[int, list[int]] = {}
        descriptions: dict[int, list[int]] = {}
        basic_codes: dict[str, list[int]] = {}
        for entry in self._entries.values():
            entry.slot = None
        for slot, entry in enumerate(live):
            entry.slot = slot
            for key in entry.keys:
                filters.setdefault(key, []).append(slot)
            names.setdefault(entry.name, []).append(slot)
            names_en.setdefault(entry.name_en, []).append(slot)
            descriptions.setdefault(entry.description, []).append(slot)
            basic_code = _basic_code(entry.summary)
            if basic_code:
                basic_codes.setdefault(basic_code, []).append(slot)
        self._slot_entries = live
        self._slot_codes = [e.summary[CODE] for e in live]
        self._ordered = width
        self._live = (1 << width) - 1
        self._filters = {k: _compact_posting(v, width) for k, v in filters.items()}
        self._names_en.members = {k: _compact_posting(v, width) for k, v in names_en.items()}
        self._descriptions.members = {
            k: _compact_posting(v, width) for k, v in descriptions.items()
        }
        self._basic_codes = {k: _compact_posting(v, width) for k, v in basic_codes.items()}
        # Names are few (they repeat across the levels): every name's items as a
        # bitmap makes a union over many names cheap.
        dense_names = len(names) <= DENSE_NAMES
        self._names.members = {
            k: _bitmap_of(v, width) if dense_names else _compact_posting(v, width)
            for k, v in names.items()
        }
        # Descriptions ranked by how many items share them: the common ones
        # share few high bytes, each a bitmap; the rare ones are checked item by item.
        counts: dict[int, int] = {}
        for entry in live:
            counts[entry.description] = counts.get(entry.description, 0) + 1
        ranked = sorted(counts, key=lambda text_id: (-counts[text_id], text_id))
        rank_of = self._description_rank = {text_id: r for r, text_id in enumerate(ranked)}
        self._description_bytes = bytes(rank_of[e.description] & 0xFF for e in reversed(live))
        high: dict[int, list[int]] = {}
        for slot, entry in enumerate(live):
            high.setdefault(rank_of[entry.description] >> 8, []).append(slot)
        self._description_high = {
            k: _bitmap_of(v, width) if len(v) >= DENSE_HIGH else array("I", v)
            for k, v in high.items()
        }
        members = self._descriptions.members
        self._description_gram_slots = {
            gram: self._union(members, text_ids, width)
            for gram, text_ids in self._descriptions.grams.items()
            if len(text_ids) >= DENSE_DESCRIPTION_GRAM
        }
        self._changed_descriptions = set()
        INDEXED_ITEMS.set(width)

    @property
    def unordered(self) -> int:
        """Slots given since the last layout (merged into code order per query)."""
        return len(self._slot_entries) - self._ordered

    # ------------------------------------------------------------ search

    def search(
        self,
        q: str | None = None,
        region: str | None = None,
        department: str | None = None,
        level: str | None = None,
        type: str | None = None,  # noqa: A002  (the query parameter's name)
        mode: str | None = None,
        serves: str | None = None,
        page: int = 1,
        page_size: int = 20,
    ) -> dict:
        """A page of published items matching every filter, by relevance then code
        (by code without ``q``), and how many match."""
        problems = {}
        if region is not None and self.regions and region not in self.regions:
            problems["region"] = "unknown region"
        if department is not None and self.departments is not None:
            if department not in self.departments:
                problems["department"] = "unknown department"
        if problems:
            raise Invalid("unknown filter value", problems)
        width = len(self._slot_entries)
        allowed = self._live
        if region is not None:
            regional = 0
            for code in self.region_and_children(region):
                regional |= _as_bitmap(self._filters.get(("region", code)), width)
            allowed &= regional
        for key in (
            ("department", department),
            ("level", level),
            ("type", type),
            ("mode", mode),
            ("serves", serves),
        ):
            if key[1] is not None:
                allowed &= _as_bitmap(self._filters.get(key), width)
        query = normalise(q or "")
        tiers = self._tiers(query, allowed, width) if query else [allowed]
        total = sum(t.bit_count() for t in tiers)
        skip, wanted = (page - 1) * page_size, page_size
        slots: list[int] = []
        for tier in tiers:
            if wanted <= 0:
                break
            present = tier.bit_count()
            if skip >= present:
                skip -= present
                continue
            taken = self._in_code_order(tier, skip, wanted)
            slots.extend(taken)
            wanted -= len(taken)
            skip = 0
        entries = self._slot_entries
        return {
            "items": [
                dict(zip(SUMMARY_FIELDS, entries[slot].summary, strict=True)) for slot in slots
            ],
            "page": page,
            "page_size": page_size,
            "total": total,
        }

    def _tiers(self, query: str, allowed: int, width: int) -> list[int]:
        words = query.split()
        names = self._names
        found: list[set[int]] = [set(), set(), set()]
        for text_id in names.containing(words):
            text = names.texts[text_id]
            tier = EXACT if text == query else PREFIX if text.startswith(query) else NAME
            found[tier].add(text_id)
        other_names: set[int] = set()
        descriptions: set[int] = set(self._descriptions.containing(words))
        phrasings = [words]
        for alternative in self._alternatives(query):
            alternative_words = alternative.split()
            phrasings.append(alternative_words)
            other_names.update(names.containing(alternative_words))
            descriptions.update(self._descriptions.containing(alternative_words))
        compact = query.replace(" ", "")
        if len(compact) >= 2 and compact.isascii() and compact.isalnum():
            for text_id, initials in self._initials_by_name():
                if compact in initials:
                    other_names.add(text_id)
        names_en = set(self._names_en.containing(words))
        codes = self._code_prefix(query, width)
        if allowed.bit_count() <= self.scan_limit:
            return self._tiers_by_scan(allowed, found, other_names, names_en, codes, descriptions)
        tiers = [
            self._union(names.members, found[EXACT], width),
            self._union(names.members, found[PREFIX], width),
            self._union(names.members, found[NAME], width),
        ]
        other = self._union(names.members, other_names, width)
        other |= self._union(self._names_en.members, names_en, width)
        other |= codes
        tiers.append(other)
        tiers.append(self._descriptions_bitmap(descriptions, width, phrasings))
        out, taken = [], 0
        for tier in tiers:
            tier &= allowed & ~taken
            taken |= tier
            out.append(tier)
        return out

    def _tiers_by_scan(self, allowed, found, other_names, names_en, codes, descriptions):
        """Tiers of the few allowed items, item by item (a narrow filter such as a
        county leaves a few hundred: cheaper than unions over the whole catalogue)."""
        tier_of_name = {text_id: tier for tier, ids in enumerate(found) for text_id in ids}
        for text_id in other_names:
            tier_of_name.setdefault(text_id, OTHER)
        tiers: list[list[int]] = [[], [], [], [], []]
        entries = self._slot_entries
        for slot in _slots_of(allowed, 0, allowed.bit_count()):
            entry = entries[slot]
            tier = tier_of_name.get(entry.name)
            if tier is None:
                if entry.name_en in names_en or (codes >> slot) & 1:
                    tier = OTHER
                elif entry.description in descriptions:
                    tier = DESCRIPTION
                else:
                    continue
            tiers[tier].append(slot)
        width = len(entries)
        return [_bitmap_of(slots, width) if slots else 0 for slots in tiers]

    def _descriptions_bitmap(
        self, text_ids: set[int], width: int, phrasings: list[list[str]] = ()
    ) -> int:
        """Items whose description is one of ``text_ids`` (the descriptions that
        hold every word of one of ``phrasings``).

        When every gram of each phrasing is held by many descriptions, the items
        are the intersection of the grams' item bitmaps (checked against
        ``text_ids`` when a word is longer than its grams).

        Many descriptions (a common word) are looked up together: the low byte
        of each ordered slot's description id is one byte of a string, which a
        byte translation turns into binary digits; a bitmap per high byte keeps
        the slots whose id has that high byte.
        """
        if len(text_ids) <= self.few_descriptions or not self._description_bytes:
            return self._union(self._descriptions.members, text_ids, width)
        bitmap = self._gram_bitmap(phrasings, text_ids) if phrasings else None
        if bitmap is not None:
            return self._with_late_descriptions(bitmap, text_ids)
        by_high: dict[int, list[int]] = {}
        rank_of = self._description_rank
        for text_id in text_ids:
            rank = rank_of.get(text_id)
            if rank is not None:
                by_high.setdefault(rank >> 8, []).append(rank & 0xFF)
        bitmap = 0
        entries = self._slot_entries
        rare: list[int] = []
        for high, lows in by_high.items():
            slots = self._description_high.get(high)
            if isinstance(slots, int):
                table = bytearray(b"0" * 256)
                for low in lows:
                    table[low] = 0x31  # "1"
                bitmap |= int(self._description_bytes.translate(table), 2) & slots
            elif slots is not None:
                rare.extend(slot for slot in slots if entries[slot].description in text_ids)
        if rare:
            bitmap |= _bitmap_of(rare, width)
        return self._with_late_descriptions(bitmap, text_ids)

    def _gram_bitmap(self, phrasings: list[list[str]], text_ids: set[int]) -> int | None:
        """Ordered items whose description holds every word of a phrasing, from
        the dense grams' bitmaps; None when a gram is not dense."""
        dense = self._description_gram_slots
        bitmap = 0
        for words in phrasings:
            wanted = {g for word in words for g in ({word} if len(word) <= 2 else _pairs(word))}
            if not wanted or any(gram not in dense for gram in wanted):
                return None
            found = -1
            for gram in wanted:
                found &= dense[gram]
            if any(len(word) > 2 for word in words) and found:
                entries = self._slot_entries
                slots = _slots_of(found, 0, found.bit_count())
                found = _bitmap_of(
                    (slot for slot in slots if entries[slot].description in text_ids),
                    len(entries),
                )
            bitmap |= found
        return bitmap

    def _with_late_descriptions(self, bitmap: int, text_ids: set[int]) -> int:
        """``bitmap`` of ordered items, corrected for the items published or
        republished since the layout."""
        entries = self._slot_entries
        for slot in (*self._changed_descriptions, *range(self._ordered, len(entries))):
            if entries[slot].description in text_ids:
                bitmap |= 1 << slot
            else:
                bitmap &= ~(1 << slot)
        return bitmap

    def _alternatives(self, query: str) -> list[str]:
        """The query with a colloquial word replaced by an official one."""
        out = []
        for word, officials in self.synonyms.items():
            if word in query:
                out.extend(query.replace(word, official) for official in officials)
        return out

    def _initials_by_name(self):
        names = self._names
        for text_id in range(len(self._initials), len(names.texts)):
            self._initials[text_id] = pinyin_initials(names.texts[text_id])
        return self._initials.items()

    def _code_prefix(self, query: str, width: int) -> int:
        """Items whose code (any case) or basic code starts with the query."""
        if " " in query:
            return 0
        codes = self._slot_codes
        slots = []
        # Codes of ordered slots are sorted: the matches are one run.
        upper = query.upper()
        for probe in {query, upper}:
            start = bisect.bisect_left(codes, probe, 0, self._ordered)
            while start < self._ordered and codes[start].startswith(probe):
                slots.append(start)
                start += 1
        slots.extend(
            slot
            for slot in range(self._ordered, len(codes))
            if codes[slot].lower().startswith(query)
        )
        bitmap = _bitmap_of(slots, width) if slots else 0
        if query.isdigit():
            for basic_code, posting in self._basic_codes.items():
                if basic_code.startswith(query):
                    bitmap |= _as_bitmap(posting, width)
        return bitmap

    @staticmethod
    def _union(members: dict, text_ids: Iterable[int], width: int) -> int:
        bitmap = 0
        sparse: list[int] = []
        for text_id in text_ids:
            posting = members.get(text_id)
            if isinstance(posting, int):
                bitmap |= posting
            elif posting:
                sparse.extend(posting)
        if sparse:
            bitmap |= _bitmap_of(sparse, width)
        return bitmap

    def _in_code_order(self, bitmap: int, skip: int, count: int) -> list[int]:
        """Slots of ``bitmap`` ranked ``skip`` .. ``skip + count - 1`` in code order."""
        ordered = self._ordered
        late = bitmap >> ordered
        if not late:
            return _slots_of(bitmap, skip, count)
        base = bitmap & ((1 << ordered) - 1)
        codes = self._slot_codes
        extras = sorted(
            (ordered + s for s in _slots_of(late, 0, late.bit_count())), key=codes.__getitem__
        )
        # Where each late item falls among the ordered ones.
        positions = []
        for rank, slot in enumerate(extras):
            before = bisect.bisect_left(codes, codes[slot], 0, ordered)
            positions.append((base & ((1 << before) - 1)).bit_count() + rank)
        late_before = bisect.bisect_left(positions, skip)
        base_skip = skip - late_before
        base_slots = _slots_of(base, base_skip, count)
        out, b, e = [], 0, late_before
        position = skip
        while len(out) < count and (b < len(base_slots) or e < len(extras)):
            if e < len(extras) and positions[e] == position:
                out.append(extras[e])
                e += 1
            elif b < len(base_slots):
                out.append(base_slots[b])
                b += 1
            else:
                break
            position += 1
        return out


ANSWER_SECONDS = 300.0
ANSWERS_KEPT = 1024


class CatalogSearch(DependencyProvider):
    """One :class:`SearchIndex` per gateway process, loaded from catalog.

    A greenthread loads the index through ``export_items`` (pages of
    ``CATALOG_INDEX_PAGE_SIZE``, default 1000) with the regions and
    departments, and loads it again every ``CATALOG_INDEX_RESYNC_SECONDS``
    (default 600): a process that missed events (its broadcast queue is
    dropped while the broker is away) is right again by then at the latest.
    Items first seen from events are laid out in code order once events pause
    for a second.
    """

    def __init__(self, rpc_attr: str = "rpc"):
        self.rpc_attr = rpc_attr
        self.index = SearchIndex()
        # Answers of the index, by its version and the question: a popular
        # question is searched once per change of the index.
        self.answers = ReadCache(ttl=ANSWER_SECONDS, max_entries=ANSWERS_KEPT)
        self._loader = None

    def setup(self):
        config = self.container.config
        self.resync_seconds = float(config.get("CATALOG_INDEX_RESYNC_SECONDS", 600))
        self.page_size = int(config.get("CATALOG_INDEX_PAGE_SIZE", 1000))
        self.retry_seconds = float(config.get("CATALOG_INDEX_RETRY_SECONDS", 1))
        self._last_event = 0.0

    def start(self):
        self._loader = self.container.spawn_managed_thread(self._run, identifier="search-index")

    def stop(self):
        if self._loader is not None:
            self._loader.kill()

    kill = stop

    def get_dependency(self, worker_ctx):
        return self

    def apply(self, event_type: str, payload: Mapping) -> None:
        try:
            self.index.apply(event_type, payload)
        except (KeyError, TypeError, ValueError) as exc:
            # A malformed event must not stop the others; the next load corrects.
            log.warning(
                "search index skipped an event",
                extra={"event_type": event_type, "error": f"{type(exc).__name__}: {exc}"},
            )
        self._last_event = time.monotonic()

    def _rpc(self):
        for provider in self.container.dependencies:
            if provider.attr_name == self.rpc_attr:
                return provider.get_dependency(None)
        raise LookupError(f"no dependency named {self.rpc_attr!r}")

    def _call(self, method: str, **kwargs):
        return self._rpc().call("catalog", method, correlation_id=uuid.uuid4().hex, **kwargs)

    def load(self) -> None:
        """One full load from catalog (events keep arriving meanwhile)."""
        started = time.monotonic()
        index = self.index
        index.set_regions(self._call("list_regions")["items"])
        index.set_departments(d["code"] for d in self._call("list_departments")["items"])
        mark = index.begin_load()
        exported: set[str] = set()
        after = None
        while True:
            answer = self._call("export_items", after=after, limit=self.page_size)
            for payload in answer["items"]:
                exported.add(payload["item_id"])
                index.publish(payload)
            after = answer["next"]
            if after is None:
                break
            eventlet.sleep(0)  # let requests and events in between pages
        first = not index.loaded
        index.finish_load(mark, exported)
        log.info(
            "search index loaded" if first else "search index loaded again",
            extra={"items": len(index), "seconds": round(time.monotonic() - started, 3)},
        )

    def _run(self) -> None:
        delay = self.retry_seconds
        next_load = 0.0
        while True:
            if time.monotonic() >= next_load:
                try:
                    self.load()
                    delay = self.retry_seconds
                    next_load = time.monotonic() + self.resync_seconds
                except Exception as exc:  # noqa: BLE001  (catalog may not be up yet)
                    log.info(
                        "search index not loaded; retrying", extra={"error": type(exc).__name__}
                    )
                    next_load = time.monotonic() + delay
                    delay = min(delay * 2, 30.0)
            # Items first seen from events are merged into code order per query
            # until laid out: once events pause, or when they are many.
            unordered = self.index.unordered
            if unordered and (
                time.monotonic() - self._last_event >= 1.0
                or unordered >= max(RELAYOUT_UNORDERED, len(self.index) // 4)
            ):
                self.index.layout()
            eventlet.sleep(0.5)
