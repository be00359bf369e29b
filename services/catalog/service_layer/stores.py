"""Flagship stores: listing them, and the city stores that gather the
department stores of a city (``domain.stores``)."""

from __future__ import annotations

from services.catalog.domain.model import Region, Store
from services.catalog.domain.stores import city_of, city_store_for, city_store_id, show_aggregate
from services.catalog.service_layer.unit_of_work import CatalogUnitOfWork
from services.common.errors import Invalid, NotFound


def store_view(store: Store) -> dict:
    return {
        "store_id": store.store_id,
        "name": store.name,
        "kind": store.kind,
        "department_code": store.department_code,
        "region_code": store.region_code,
        "rating": {
            "reviews": store.rating.reviews,
            "praise_rate": store.rating.praise_rate,
            "average_grade": store.rating.average_grade,
        },
    }


def list_stores(
    uow: CatalogUnitOfWork,
    kind: str | None = None,
    region: str | None = None,
    page: int = 1,
    page_size: int = 20,
) -> dict:
    """Flagship stores of ``kind`` sitting in ``region`` or a region under it
    (a city includes its counties, the province everything), a page at a
    time in store id order, each with its rating summary. An unknown region is
    Invalid, naming it."""
    with uow:
        regions = None
        if region is not None:
            known = uow.regions.list()
            if region not in {entry.code for entry in known}:
                raise Invalid("unknown filter value", {"region": "unknown region"})
            regions = region_and_below(region, known)
        stores, total = uow.stores.page(
            kind=kind, regions=regions, offset=(page - 1) * page_size, limit=page_size
        )
        return {
            "items": [store_view(store) for store in stores],
            "page": page,
            "page_size": page_size,
            "total": total,
        }


def get_store(uow: CatalogUnitOfWork, store_id: str) -> dict:
    """A flagship store (a department's or a city's) with its rating summary."""
    with uow:
        store = uow.stores.get(store_id)
        if store is None:
            raise NotFound(f"no store {store_id}", {"store_id": "unknown store"})
        return store_view(store)


def region_and_below(code: str, regions: list[Region]) -> set[str]:
    """``code`` and the codes of every region under it."""
    children: dict[str, list[str]] = {}
    for region in regions:
        if region.parent_code is not None:
            children.setdefault(region.parent_code, []).append(region.code)
    found, pending = set(), [code]
    while pending:
        current = pending.pop()
        if current not in found:
            found.add(current)
            pending.extend(children.get(current, ()))
    return found


def add_city_stores(uow: CatalogUnitOfWork) -> int:
    """Open the flagship store of every city that has none, showing the
    aggregate of its department stores' ratings, in the unit of work's
    transaction (the caller commits). Returns how many were opened."""
    regions = uow.regions.list()
    known = uow.stores.ids()
    opened = 0
    for city in regions:
        if city.level != "city" or city_store_id(city.code) in known:
            continue
        store = city_store_for(city)
        department_stores = uow.stores.of_departments_in(region_and_below(city.code, regions))
        show_aggregate(store, [department_store.rating for department_store in department_stores])
        store.events.clear()  # a new store is not a change of rating
        uow.stores.add(store)
        opened += 1
    return opened


def follow_department_store(uow: CatalogUnitOfWork, store: Store) -> None:
    """Show on the city store of ``store``'s department the aggregate of its
    department stores, after ``store``'s rating changed, in the unit of work's
    transaction (the caller commits). Records store_rating_updated for the
    city store when its figures change. A store of a provincial department,
    or of a city that has no store yet, changes nothing."""
    if store.department_code is None:
        return
    # It runs for every review submitted: one read finds the department's
    # region, one the ratings of the city's department stores (those with
    # reviews, the city's area walked in the database, not every region read).
    city_code = city_of(uow.regions.of_department(store.department_code))
    if city_code is None:
        return
    city_store = uow.stores.get(city_store_id(city_code), lock=True)
    if city_store is None:
        return
    if show_aggregate(city_store, uow.stores.department_ratings_in_city(city_code)):
        uow.stores.save_rating(city_store)
        uow.collect(city_store)
