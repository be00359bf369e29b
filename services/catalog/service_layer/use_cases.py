"""Use cases of the catalog: one function per query or command.

Each takes the unit of work first and runs in one transaction; a command's events
go to the outbox in that same transaction. Inputs arrive already shaped by the
``contract`` (types, enums, ranges); rules that need the database (does the
department exist, may this actor act) are checked here, the item's own rules in
the domain. Results are plain JSON-ready dicts, exactly the contract's answers.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from services.catalog.adapters.repository import Listing
from services.catalog.domain.exceptions import ValidationFailed
from services.catalog.domain.model import (
    Department,
    Item,
    Region,
    StoreRating,
    transfer_problems,
)
from services.catalog.service_layer.authorisation import OPERATOR, authorise_admin
from services.catalog.service_layer.basic_items import derive_item, locked_changes
from services.catalog.service_layer.stores import follow_department_store, store_view
from services.catalog.service_layer.unit_of_work import CatalogUnitOfWork
from services.common.errors import Conflict, Invalid, NotFound

log = logging.getLogger(__name__)

RATING_CONSUMER = "catalog.on_store_rating_changed"

# item_id is derived from the item's code (unique and fixed for life), so a
# seed loaded twice, or on two machines, names every item the same way.
_ITEM_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:tongban:catalog:item")


def item_id_for(code: str) -> str:
    """The item id of the item with this code: uuid5 of the code, as 32 hex digits."""
    return uuid.uuid5(_ITEM_NAMESPACE, code).hex


# Zones are named by their code the same way, so the demo zone has one id everywhere.
_ZONE_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:tongban:catalog:zone")


def zone_id_for(code: str) -> str:
    """The zone id of the zone with this code: uuid5 of the code, as 32 hex digits."""
    return uuid.uuid5(_ZONE_NAMESPACE, code).hex


def assessment_id_for(zone_code: str, kind: str, valid_from: date) -> str:
    """A seeded report's id: the same on every machine and in every load."""
    return uuid.uuid5(_ZONE_NAMESPACE, f"{zone_code}/{kind}/{valid_from.isoformat()}").hex


# ---------------------------------------------------------------------- views


def region_view(region: Region) -> dict:
    return {
        "code": region.code,
        "name": region.name,
        "level": region.level,
        "parent_code": region.parent_code,
    }


def department_view(department: Department) -> dict:
    return {
        "code": department.code,
        "name": department.name,
        "region_code": department.region_code,
        "level": department.level,
        "store_id": department.store.store_id,
        "kind": department.kind,
        "uscc": department.uscc,
    }


def item_summary(item: Item, department_name: str) -> dict:
    return {
        "item_id": item.item_id,
        "code": item.code,
        "name": item.name,
        "name_en": item.name_en,
        "department_code": item.department_code,
        "department_name": department_name,
        "region_code": item.region_code,
        "level": item.level,
        "modes": list(item.modes),
        "promised_days": item.promised_days,
        "status": item.status,
        "transferred_from": item.transferred_from,
        "fees": [fee.to_dict() for fee in item.fees],
        "licence_type": item.licence_type.to_dict() if item.licence_type else None,
        "basic_code": item.basic_code,
        "implementing_code": item.implementing_code,
        "type": item.type,
        "case_type": item.case_type,
        "serves": list(item.serves),
        "visits": item.visits,
        "online_depth": item.online_depth,
    }


def item_guide(listing: Listing) -> dict:
    item = listing.item
    return {
        **item_summary(item, listing.department_name),
        "description": item.description,
        "conditions": list(item.conditions),
        "materials": [dataclasses.asdict(material) for material in item.materials],
        "fee_waiver": item.fee_waiver.to_dict() if item.fee_waiver else None,
        "issuer_uscc": listing.issuer_uscc,
        "legal_basis": [reference.to_dict() for reference in item.legal_basis],
        "statutory_days": item.statutory_days,
        "joint_departments": list(item.joint_departments),
        "window": (
            {
                "name": item.window.name,
                "address": item.window.address,
                "phone": item.window.phone,
                "postcode": item.window.postcode,
            }
            if item.window
            else None
        ),
        "handled_by": item.handled_by,
        "store_id": item.store_id,
        "limit_unit": item.limit_unit,
        "limit_note": item.limit_note,
        "process_summary": item.process_summary,
        "place": item.place,
        "hours": item.hours,
        "consultation_phone": item.consultation_phone,
        "complaint_phone": item.complaint_phone,
        "revision": item.revision,
    }


# -------------------------------------------------------------------- queries


def list_regions(uow: CatalogUnitOfWork) -> dict:
    """``{"items": [...]}``: every region (province, cities, counties) in code order."""
    with uow:
        return {"items": [region_view(region) for region in uow.regions.list()]}


def list_departments(uow: CatalogUnitOfWork, region: str | None = None) -> dict:
    """``{"items": [...]}``: departments in code order, only those seated in
    ``region`` when given (an unknown region is Invalid, naming it)."""
    with uow:
        if region is not None:
            _require_known(uow, region=region)
        return {"items": [department_view(d) for d in uow.departments.list(region=region)]}


def search_items(
    uow: CatalogUnitOfWork,
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
    """Published items matching every filter, a page at a time.

    The gateway answers from its own index and asks this only while that
    loads. ``q``'s words must all occur in the name, English name, code or
    description, ignoring case (empty or blank: no keyword); a name match ranks
    before one in the English name or code, which ranks before a description
    match, code order within each (and without ``q``). ``region`` includes its
    children (a city its counties). An unknown region or department is Invalid,
    naming the filter.
    """
    keyword = " ".join((q or "").split()) or None
    with uow:
        _require_known(uow, region=region, department=department)
        listings, total = uow.items.search(
            q=keyword,
            region=region,
            department=department,
            level=level,
            type=type,
            mode=mode,
            serves=serves,
            offset=(page - 1) * page_size,
            limit=page_size,
        )
        return {
            "items": [item_summary(x.item, x.department_name) for x in listings],
            "page": page,
            "page_size": page_size,
            "total": total,
        }


# ``get_item`` asked by another service, not on someone's behalf.
INTERNAL = object()


def get_item(uow: CatalogUnitOfWork, item_id: str, actor: Any = INTERNAL) -> dict:
    """The full service guide of an item (its status in it).

    Asked for someone (``actor``, None: the public), a draft or retired item is
    answered only to staff of its department and the operator, NotFound to
    everyone else; another service asking (no actor) gets every item.
    """
    with uow:
        listing = _listing(uow, item_id)
        if actor is not INTERNAL and not _may_see(actor, listing.item):
            raise NotFound(f"no item {item_id}", {"item_id": "unknown item"})
        return item_guide(listing)


def _may_see(actor: Mapping | None, item: Item) -> bool:
    if item.is_published:
        return True
    if not actor:
        return False
    if actor.get("kind") == OPERATOR:
        return True
    return actor.get("kind") == "staff" and actor.get("department_code") == item.department_code


# ------------------------------------------------------------------- commands


def create_item(uow: CatalogUnitOfWork, actor: Mapping, **data: Any) -> dict:
    """Add a draft item to a department's catalogue, implementing a basic item.

    ``data`` has basic_code and department_code, optionally code (default: the
    implementing code), region_code and level (default: the department's) and
    any guide field. Name, type and legal basis are the basic item's (see
    ``basic_items.derive_item``). The store and window are the department's.
    The item id follows from the code.
    """
    department_code = data.get("department_code")
    _authorise(actor, department_code)
    with uow:
        department = uow.departments.get(department_code)
        if department is None:
            raise Invalid("invalid input", {"department_code": "unknown department"})
        data.setdefault("region_code", department.region_code)
        data.setdefault("level", department.level)
        data = derive_item(uow, department, data)
        problems = {
            **_unknown_references(
                uow, region=data["region_code"], joint_departments=data.get("joint_departments")
            ),
            **_transfer_references(uow, department, data.get("transferred_from")),
        }
        item_id = item_id_for(data.get("code", ""))
        try:
            item = Item.create(
                item_id,
                **{
                    **data,
                    "store_id": department.store.store_id,
                    "window": department.window,
                    "department_name": department.name,
                },
            )
        except ValidationFailed as failure:
            problems = {**failure.fields, **problems}
        if problems:
            raise Invalid("invalid input", problems)
        taken = Conflict(f"an item with code {item.code} exists", {"code": "already in use"})
        if uow.items.ids_by_code([item.code]):
            raise taken
        try:
            uow.items.add(item)
            uow.commit()
        except IntegrityError as race:  # created by another request since the check
            raise taken from race
        return item_guide(Listing(item, department.name, department.uscc))


def update_item(uow: CatalogUnitOfWork, actor: Mapping, item_id: str, **changes: Any) -> dict:
    """Change guide fields; a published item's change is announced as item_published."""
    with uow:
        listing = _listing(uow, item_id, lock=True)
        item = listing.item
        _authorise(actor, item.department_code)
        locked_changes(uow, item, changes)
        changes.pop("basic_code", None)
        problems = _unknown_references(uow, joint_departments=changes.get("joint_departments"))
        if changes.get("transferred_from") is not None:
            holder = uow.departments.get(item.department_code)
            problems.update(_transfer_references(uow, holder, changes["transferred_from"]))
        if problems:
            raise Invalid("invalid input", problems)
        item.update(**changes)
        uow.items.update(item)
        uow.collect(item)
        uow.commit()
        return item_guide(listing)


def publish_item(uow: CatalogUnitOfWork, actor: Mapping, item_id: str) -> dict:
    """Make a draft or retired item public (event item_published)."""
    return _transition(uow, actor, item_id, Item.publish)


def retire_item(uow: CatalogUnitOfWork, actor: Mapping, item_id: str) -> dict:
    """Withdraw a published item (event item_retired)."""
    return _transition(uow, actor, item_id, Item.retire)


def record_store_rating(uow: CatalogUnitOfWork, envelope: Mapping) -> dict | None:
    """Show the rating ratings announced for a store (``ratings.store_rating_changed``,
    the envelope with its payload loaded), once per event.

    Two changes of one store may arrive in either order: the one ratings
    recorded last (the envelope's ``occurred_at``) is kept, an older one
    arriving after it changes nothing. Records ``store_rating_updated`` when the
    figures change (for the city store of the department's city too, when
    its aggregate changes). Returns the store as ``get_store`` answers it, or None when
    this event was handled before. An unknown store is NotFound: the event is
    retried and then dead-lettered for an operator, never silently dropped. An
    envelope without an instant ``occurred_at``, or figures that do not agree
    (rates without reviews), are Invalid.
    """
    as_of = _occurred_at(envelope)
    payload = envelope["payload"]
    rating = StoreRating(payload["reviews"], payload["praise_rate"], payload["average_grade"])
    with uow:
        if not uow.first_delivery(envelope, RATING_CONSUMER):
            return None
        store = uow.stores.get(payload["store_id"], lock=True)
        if store is None:
            raise NotFound(f"no store {payload['store_id']}", {"store_id": "unknown store"})
        if store.rate(rating, as_of):
            uow.stores.save_rating(store)
            uow.collect(store)
            # A city store shows the aggregate of its department stores.
            follow_department_store(uow, store)
        else:
            log.info(
                "kept a store rating ratings recorded later than the one received",
                extra={"store_id": store.store_id, "event_id": envelope["id"]},
            )
        uow.commit()
        return store_view(store)


def _occurred_at(envelope: Mapping) -> datetime:
    """When the producer recorded the event, as an aware instant."""
    value = envelope.get("occurred_at")
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            value = None
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise Invalid(
            "not an event envelope",
            {"occurred_at": "must be an ISO 8601 instant with a timezone"},
        )
    return value


# -------------------------------------------------------------------- helpers


def _transition(uow: CatalogUnitOfWork, actor: Mapping, item_id: str, change) -> dict:
    with uow:
        listing = _listing(uow, item_id, lock=True)
        _authorise(actor, listing.item.department_code)
        change(listing.item)
        uow.items.update(listing.item)
        uow.collect(listing.item)
        uow.commit()
        return item_guide(listing)


def _listing(uow: CatalogUnitOfWork, item_id: str, lock: bool = False) -> Listing:
    listing = uow.items.get_listing(item_id, lock=lock)
    if listing is None:
        raise NotFound(f"no item {item_id}", {"item_id": "unknown item"})
    return listing


def _authorise(actor: Mapping, department_code: str | None) -> None:
    """An operator, or a dept_admin of the item's own department, may change it."""
    authorise_admin(actor, department_code, "change its items")


def _unknown_references(
    uow: CatalogUnitOfWork,
    region: str | None = None,
    joint_departments=None,
) -> dict[str, str]:
    problems: dict[str, str] = {}
    if region is not None and uow.regions.get(region) is None:
        problems["region_code"] = "unknown region"
    if isinstance(joint_departments, (list, tuple)) and joint_departments:
        unknown = sorted(set(joint_departments) - uow.departments.codes())
        if unknown:
            problems["joint_departments"] = f"unknown department(s): {', '.join(unknown)}"
    return problems


def _transfer_references(
    uow: CatalogUnitOfWork, holder: Department, transferred_from: Any
) -> dict[str, str]:
    """集中批's rules that need the catalogue: see ``transfer_problems``."""
    if not isinstance(transferred_from, str) or not transferred_from:
        return {}  # absent, or a bad value the domain names
    return transfer_problems(holder, uow.departments.get(transferred_from), transferred_from)


def _require_known(
    uow: CatalogUnitOfWork, region: str | None = None, department: str | None = None
) -> None:
    problems = {}
    if region is not None and uow.regions.get(region) is None:
        problems["region"] = "unknown region"
    if department is not None and uow.departments.get(department) is None:
        problems["department"] = "unknown department"
    if problems:
        raise Invalid("unknown filter value", problems)
