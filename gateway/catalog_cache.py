"""Public catalogue reads answered in the gateway process.

Regions, departments, item search and guides, stores and their reviews are read
far more than they change. Each answer is kept here for at most
``CATALOG_CACHE_SECONDS`` (default 30) and dropped earlier when catalog or
ratings announces a change (``item_published``, ``item_retired``,
``store_rating_updated``, ``basic_item_published`` for basic items; ratings'
``review_submitted``, ``review_replied`` and
``store_rating_changed`` for a store's board; workflow's ``process_published``
for items' processes; the gateway subscribes with one broadcast queue per
process). A miss costs one RPC; concurrent misses of the
same key share it. The cache holds at most ``CATALOG_CACHE_MAX_ENTRIES``
answers, the least recently used going first.

Keys are ``(kind, tag, params)``: ``kind`` names the read (``items``,
``item``, ``stores``, ...), ``tag`` the one thing it is about (an item id, a
store id) so that an event can drop exactly that, and ``params`` every query
parameter.
"""

import time
from collections import OrderedDict

from eventlet.event import Event
from nameko.extensions import DependencyProvider


def cache_key(kind: str, tag: str | None = None, **params) -> tuple:
    return (kind, tag, tuple(sorted(params.items())))


class ReadCache:
    def __init__(self, ttl: float = 30.0, max_entries: int = 10_000, clock=None):
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock or time.monotonic
        self._entries: OrderedDict[tuple, tuple[float, object]] = OrderedDict()
        self._loading: dict[tuple, Event] = {}
        # Bumped by every invalidation: a load that started before one must not
        # store what it read, or the cache could hold the old answer for a TTL.
        self._generation = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: tuple, load):
        """The cached answer for ``key``, or ``load()``'s (stored for the TTL)."""
        entry = self._entries.get(key)
        if entry is not None:
            expires, value = entry
            if self.clock() < expires:
                self._entries.move_to_end(key)
                self.hits += 1
                return value
            del self._entries[key]
        pending = self._loading.get(key)
        if pending is not None:
            return pending.wait()
        self.misses += 1
        pending = self._loading[key] = Event()
        generation = self._generation
        try:
            value = load()
        except BaseException as exc:
            pending.send_exception(exc)
            raise
        finally:
            self._loading.pop(key, None)
        if generation == self._generation:
            self._store(key, value)
        pending.send(value)
        return value

    def _store(self, key: tuple, value) -> None:
        self._entries[key] = (self.clock() + self.ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def invalidate(self, kind: str, tag: str | None = None) -> int:
        """Drop every answer of ``kind`` (only those about ``tag`` when given)."""
        self._generation += 1
        doomed = [key for key in self._entries if key[0] == kind and (tag is None or key[1] == tag)]
        for key in doomed:
            del self._entries[key]
        return len(doomed)

    def clear(self) -> None:
        self._generation += 1
        self._entries.clear()


def payload_of(body) -> dict:
    """The event's payload, whether it came in an envelope or bare."""
    if isinstance(body, dict) and isinstance(body.get("payload"), dict):
        return body["payload"]
    return body if isinstance(body, dict) else {}


class CatalogCache(DependencyProvider):
    """One :class:`ReadCache` per gateway process, shared by every worker."""

    def setup(self):
        config = self.container.config
        self.cache = ReadCache(
            ttl=float(config.get("CATALOG_CACHE_SECONDS", 30)),
            max_entries=int(config.get("CATALOG_CACHE_MAX_ENTRIES", 10_000)),
        )

    def get_dependency(self, worker_ctx):
        return self.cache


class FiguresCache(DependencyProvider):
    """Published figures (case data, rating indicators) answered in the gateway
    process: kept at most ``FIGURES_CACHE_SECONDS`` (default 5), dropped earlier
    when ratings announces that they changed."""

    def setup(self):
        config = self.container.config
        self.cache = ReadCache(
            ttl=float(config.get("FIGURES_CACHE_SECONDS", 5)),
            max_entries=int(config.get("CATALOG_CACHE_MAX_ENTRIES", 10_000)),
        )

    def get_dependency(self, worker_ctx):
        return self.cache


def apply_event(cache: ReadCache, event_type: str, body) -> None:
    """Drop what the event makes stale."""
    payload = payload_of(body)
    if event_type in ("item_published", "item_retired"):
        item_id = payload.get("item_id")
        cache.invalidate("item", str(item_id) if item_id is not None else None)
        cache.invalidate("items")
        # An item's default process follows its guide.
        cache.invalidate("process", str(item_id) if item_id is not None else None)
    elif event_type == "basic_item_published":
        cache.invalidate("basic")
    elif event_type == "process_published":
        item_id = payload.get("item_id")
        cache.invalidate("process", str(item_id) if item_id is not None else None)
    elif event_type == "store_rating_updated":
        store_id = payload.get("store_id")
        cache.invalidate("store", str(store_id) if store_id is not None else None)
        cache.invalidate("stores")
    elif event_type in ("review_submitted", "review_replied", "store_rating_changed"):
        store_id = payload.get("store_id")
        cache.invalidate("reviews", str(store_id) if store_id is not None else None)
