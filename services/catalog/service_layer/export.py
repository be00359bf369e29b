"""The published catalogue, a page at a time, for read models kept elsewhere.

The gateway's search index loads itself from here at start and again now and
then; between loads it follows ``item_published`` / ``item_retired``. Each
item is exported as exactly the payload its ``item_published`` event carries,
so a consumer handles both alike and keeps the highest ``revision``.
"""

from __future__ import annotations

from services.catalog.service_layer.unit_of_work import CatalogUnitOfWork

MAX_LIMIT = 5000


def export_items(uow: CatalogUnitOfWork, after: str | None = None, limit: int = 1000) -> dict:
    """Published items with an item_id above ``after`` (from the first when
    None), at most ``limit``, in item_id order, as ``item_published`` payloads;
    ``next`` is the last item_id given (pass it as ``after``), None at the end."""
    limit = max(1, min(limit, MAX_LIMIT))
    with uow:
        listings = uow.items.published_after(after, limit)
    items = []
    for listing in listings:
        payload = listing.item._published_event().payload()
        if not payload.get("department_name"):
            payload["department_name"] = listing.department_name
        items.append(payload)
    last = items[-1]["item_id"] if len(items) == limit else None
    return {"items": items, "next": last}
