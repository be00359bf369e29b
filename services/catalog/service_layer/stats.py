"""The catalogue statistics: the read model catalog keeps from its own events,
and the answer read from it.

Each handler takes the envelope with its payload loaded, once per event
(``first_delivery``), and keeps the highest revision it saw of each item and
basic item: an older change arriving after a newer one changes nothing. The
counters of every scope change in the same transaction as the facts, so the
statistics are read from a few rows whatever the size of the catalogue.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from services.catalog.domain.stats import (
    BasicFacts,
    Counts,
    ItemFacts,
    catalogue_stats,
    count_changes,
    implementation_keys,
    supersedes,
)
from services.catalog.service_layer.unit_of_work import CatalogUnitOfWork

log = logging.getLogger(__name__)

ITEM_PUBLISHED_CONSUMER = "catalog.count_item_published"
ITEM_RETIRED_CONSUMER = "catalog.count_item_retired"
BASIC_ITEM_PUBLISHED_CONSUMER = "catalog.count_basic_item_published"


def catalog_stats(uow: CatalogUnitOfWork) -> dict:
    """Online rate, basic items implemented and deviating items, overall, by
    level and by region (``domain.stats.catalogue_stats``)."""
    with uow:
        return catalogue_stats(
            uow.catalogue.counts(), uow.catalogue.basic_items(), uow.regions.list()
        )


def record_item_published(uow: CatalogUnitOfWork, envelope: Mapping) -> bool:
    """Count an item published or changed (``catalog.item_published``).
    Returns whether the statistics took it (False: told before, or older than
    what they hold)."""
    incoming = ItemFacts.from_published(envelope["payload"])
    with uow:
        if not uow.first_delivery(envelope, ITEM_PUBLISHED_CONSUMER):
            return False
        uow.catalogue.lock()
        stored = uow.catalogue.item(incoming.item_id)
        taken = _replace(uow, stored, incoming)
        uow.commit()
        return taken


def record_item_retired(uow: CatalogUnitOfWork, envelope: Mapping) -> bool:
    """Stop counting a retired item (``catalog.item_retired``). A retirement
    of an item not seen yet is kept, so that its older publication, arriving
    later, is ignored."""
    payload = envelope["payload"]
    revision = int(payload.get("revision") or 0)
    with uow:
        if not uow.first_delivery(envelope, ITEM_RETIRED_CONSUMER):
            return False
        uow.catalogue.lock()
        stored = uow.catalogue.item(payload["item_id"])
        if stored is None:
            incoming = ItemFacts(item_id=payload["item_id"], revision=revision, published=False)
        else:
            incoming = stored.retired(revision)
        taken = _replace(uow, stored, incoming)
        uow.commit()
        return taken


def record_basic_item_published(uow: CatalogUnitOfWork, envelope: Mapping) -> bool:
    """Take a basic item's locked fields (``catalog.basic_item_published``)
    and check its derived items against them again."""
    incoming = BasicFacts.from_payload(envelope["payload"])
    with uow:
        if not uow.first_delivery(envelope, BASIC_ITEM_PUBLISHED_CONSUMER):
            return False
        uow.catalogue.lock()
        stored = uow.catalogue.basic(incoming.basic_code)
        if not supersedes(incoming.revision, stored.revision if stored else None):
            _kept_newer("basic item", incoming.basic_code, envelope)
            uow.commit()
            return False
        uow.catalogue.save_basic(incoming)
        changes: dict[str, Counts] = {}
        for facts in uow.catalogue.items_of_basic(incoming.basic_code):
            checked = facts.compared_with(incoming)
            if checked is not facts:
                uow.catalogue.save_item(checked)
                _merge(changes, count_changes(facts, checked))
        uow.catalogue.add_counts(changes)
        uow.commit()
        return True


def _replace(uow: CatalogUnitOfWork, stored: ItemFacts | None, incoming: ItemFacts) -> bool:
    """Replace an item's facts with newer ones and change the counters to match."""
    if not supersedes(incoming.revision, stored.revision if stored else None):
        _kept_newer("item", incoming.item_id, None)
        return False
    incoming = incoming.compared_with(uow.catalogue.basic(incoming.basic_code))
    keys = implementation_keys(stored, incoming)
    before = {key: uow.catalogue.implements(*key) for key in keys}
    uow.catalogue.save_item(incoming)
    changes = count_changes(stored, incoming)
    for key in keys:
        difference = uow.catalogue.implements(*key) - before[key]
        if difference:
            changes.setdefault(key[0], Counts()).implemented += difference
    uow.catalogue.add_counts(changes)
    return True


def _merge(changes: dict[str, Counts], more: Mapping[str, Counts]) -> None:
    for scope, change in more.items():
        changes.setdefault(scope, Counts()).add(change)


def _kept_newer(what: str, key: str, envelope: Mapping | None) -> None:
    log.info(
        "kept the newer revision of a %s the statistics hold",
        what,
        extra={"key": key, "event_id": envelope["id"] if envelope else None},
    )
