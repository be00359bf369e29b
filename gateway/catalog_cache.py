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

Keys are ``(kind, tag, params)`` (``cache_key``): ``kind`` names the read
(``items``, ``item``, ``stores``, ...), ``tag`` the one thing it is about (an
item id, a store id) so that an event can drop exactly that, and ``params``
every query parameter. The cache itself (TTL, bound, loads shared, invalidation)
is ``services.common.read_cache``'s, which workflow uses too.
"""

from nameko.extensions import DependencyProvider

from services.common.read_cache import ReadCache, payload_of


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
