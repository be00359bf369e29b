"""catalog's items as workflow reads them: from a copy kept in the process.

Every submitted application needs its item's guide (catalog's ``get_item``).
Asking catalog each time costs an RPC per application; instead each workflow
process keeps the published items it has read (:class:`CatalogItems`, a
:class:`~services.common.read_cache.ReadCache`) and drops one as soon as catalog
announces that it changed:

- ``catalog.item_published`` (published, or a published item's guide changed)
  and ``catalog.item_retired`` drop the item they name (:func:`forget_item`);
- ``catalog.basic_item_published`` drops every item (:func:`forget_every_item`):
  the items implementing a basic item take its locked fields, and the event
  does not say which items those are.

So a reader may see an item as it was until the event reaches this process
(its travel time), and at most ``CATALOG_CACHE_SECONDS`` (default 30) after it
was read should the event be missed (a broken broker connection). Only
published items are kept: a draft or retired item changes without an event, so
it is read from catalog each time (and a submit for one is refused anyway).
Errors (NotFound, Unavailable) are never kept.
"""

from collections.abc import Callable, Mapping

from nameko.extensions import DependencyProvider

from services.common.read_cache import ReadCache, cache_key, payload_of
from services.common.values import copy_json

ITEM = "item"
PUBLISHED = "published"
DEFAULT_TTL_SECONDS = 30
DEFAULT_MAX_ENTRIES = 10_000


class CatalogItems(DependencyProvider):
    """One :class:`ReadCache` of catalog's items per process, shared by every
    worker. Config: CATALOG_CACHE_SECONDS (30), CATALOG_CACHE_MAX_ENTRIES
    (10000), as the gateway's."""

    def setup(self):
        config = self.container.config
        self.cache = ReadCache(
            ttl=float(config.get("CATALOG_CACHE_SECONDS", DEFAULT_TTL_SECONDS)),
            max_entries=int(config.get("CATALOG_CACHE_MAX_ENTRIES", DEFAULT_MAX_ENTRIES)),
        )

    def get_dependency(self, worker_ctx):
        return self.cache


def is_published(item) -> bool:
    """Whether catalog's answer is a published item (one an event will drop)."""
    return isinstance(item, Mapping) and item.get("status") == PUBLISHED


def catalog_item(items: ReadCache, item_id: str, load: Callable[[], dict]) -> dict:
    """catalog's ``get_item`` answer for ``item_id``: the kept one, else
    ``load()``'s (kept when published). The caller gets its own copy: the kept
    one is shared by every worker of the process."""
    return copy_json(items.get(cache_key(ITEM, item_id), load, keep=is_published))


def forget_item(items: ReadCache, body) -> None:
    """Drop the item an ``item_published`` or ``item_retired`` event names
    (every item when it names none)."""
    item_id = payload_of(body).get("item_id")
    if item_id is None:
        forget_every_item(items)
        return
    items.invalidate(ITEM, str(item_id))


def forget_every_item(items: ReadCache) -> None:
    """Drop every item (``basic_item_published``: the items implementing the
    basic item follow it)."""
    items.invalidate(ITEM)
