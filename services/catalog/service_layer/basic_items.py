"""Use cases of basic items (三级四同): publishing and changing them, deriving
implementing items from them, and carrying a change to every derived item.

A basic item is published by a province-level department (a dept_admin of that
department, for its own department) or the operator. An item is created from a
basic item: its name, type and legal basis are copied and locked, its
implementing code is the department's USCC, the level digit and the basic code.
A change of the basic item is announced as ``basic_item_published``; catalog
handles it itself and brings every derived item to the new values.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from services.catalog.domain.basic import (
    ITEM_TYPES,
    LEVEL_DIGITS,
    BasicItem,
    derived_values,
    implementing_code,
    lock_conflicts,
)
from services.catalog.domain.exceptions import ValidationFailed
from services.catalog.domain.model import Department, Item
from services.catalog.service_layer.authorisation import authorise_admin
from services.catalog.service_layer.unit_of_work import CatalogUnitOfWork
from services.common.errors import Conflict, Invalid, NotFound

PROPAGATION_CONSUMER = "catalog.on_basic_item_published"
# Derived items loaded and changed at a time while a change propagates.
PROPAGATION_BATCH = 200


def basic_item_view(basic: BasicItem) -> dict:
    return {
        "basic_code": basic.basic_code,
        "name": basic.name,
        "name_en": basic.name_en,
        "type": basic.type,
        "type_name": ITEM_TYPES[basic.type],
        "legal_basis": [reference.to_dict() for reference in basic.legal_basis],
        "department_code": basic.department_code,
        "serves": list(basic.serves),
        "description": basic.description,
        "revision": basic.revision,
    }


# -------------------------------------------------------------------- queries


def get_basic_item(uow: CatalogUnitOfWork, basic_code: str) -> dict:
    with uow:
        return basic_item_view(_basic_item(uow, basic_code))


def list_basic_items(
    uow: CatalogUnitOfWork,
    department: str | None = None,
    type: str | None = None,
    q: str | None = None,
    page: int = 1,
    page_size: int = 20,
) -> dict:
    """Basic items of one department, of one type, with ``q`` in the name (each
    when given), a page at a time in basic code order."""
    keyword = (q or "").strip() or None
    with uow:
        found, total = uow.basic_items.page(
            department=department,
            type=type,
            q=keyword,
            offset=(page - 1) * page_size,
            limit=page_size,
        )
        return {
            "items": [basic_item_view(basic) for basic in found],
            "page": page,
            "page_size": page_size,
            "total": total,
        }


# ------------------------------------------------------------------- commands


def create_basic_item(
    uow: CatalogUnitOfWork, actor: Mapping, now: datetime | None = None, **data: Any
) -> dict:
    """Publish a basic item (event basic_item_published, revision 1)."""
    now = now or datetime.now(UTC)
    department_code = data.get("department_code")
    with uow:
        department = uow.departments.get(department_code) if department_code else None
        _authorise(actor, department_code)
        _require_provincial(department)
        basic = BasicItem.create(**data)
        taken = Conflict(f"basic item {basic.basic_code} exists", {"basic_code": "already in use"})
        if uow.basic_items.get(basic.basic_code) is not None:
            raise taken
        try:
            uow.basic_items.add(basic, now)
            uow.collect(basic)
            uow.commit()
        except IntegrityError as race:  # published by another request since the check
            raise taken from race
        return basic_item_view(basic)


def update_basic_item(
    uow: CatalogUnitOfWork,
    actor: Mapping,
    basic_code: str,
    now: datetime | None = None,
    **changes: Any,
) -> dict:
    """Change a basic item; when anything changes its revision grows and
    basic_item_published is recorded, which its derived items follow."""
    now = now or datetime.now(UTC)
    with uow:
        basic = _basic_item(uow, basic_code, lock=True)
        _authorise(actor, basic.department_code)
        if basic.update(**changes):
            uow.basic_items.update(basic, now)
            uow.collect(basic)
            uow.commit()
        return basic_item_view(basic)


def follow_basic_item(
    uow: CatalogUnitOfWork, envelope: Mapping, batch_size: int = PROPAGATION_BATCH
) -> int | None:
    """Bring every item derived from the basic item of ``basic_item_published``
    to its current name, type and legal basis, once per event. Derived items
    are read and changed ``batch_size`` at a time; each one that changes grows
    its revision, and a published one records item_published. The basic item
    is read as it is now, so an older event arriving late changes nothing back.
    Returns how many items changed, or None when the event was handled before.
    """
    basic_code = envelope["payload"]["basic_code"]
    with uow:
        if not uow.first_delivery(envelope, PROPAGATION_CONSUMER):
            return None
        basic = _basic_item(uow, basic_code)
        changed, after = 0, ""
        while True:
            batch = uow.items.derived_from(basic_code, after=after, limit=batch_size, lock=True)
            if not batch:
                break
            for item in batch:
                if item.follow(basic):
                    uow.items.update(item)
                    uow.collect(item)
                    changed += 1
            after = batch[-1].item_id
        uow.commit()
        return changed


# ---------------------------------------------------------------- derivation


def derive_item(
    uow: CatalogUnitOfWork, department: Department, data: Mapping[str, Any]
) -> dict[str, Any]:
    """The fields of a new item implementing ``data["basic_code"]`` in
    ``department``: the request with the basic item's locked values, its
    implementing code, and ``code`` defaulting to that code.

    An unknown basic item, or a department without a USCC, is Invalid naming
    the field; a locked field given differently is a Conflict naming it, and so
    is a basic item the department implements already.
    """
    basic_code = data.get("basic_code")
    basic = uow.basic_items.get(basic_code) if isinstance(basic_code, str) else None
    if basic is None:
        raise Invalid("invalid input", {"basic_code": "unknown basic item"})
    conflicts = lock_conflicts(basic, data)
    if conflicts:
        raise Conflict("a locked field differs from the basic item's", conflicts)
    if department.uscc is None:
        raise Invalid(
            "invalid input",
            {"department_code": "the department has no USCC recorded; it cannot implement items"},
        )
    values = derived_values(basic, data)
    level = values.get("level", department.level)
    if level in LEVEL_DIGITS:
        code = implementing_code(department.uscc, level, basic.basic_code)
        if uow.items.implementing_code_taken(code):
            raise Conflict(
                f"department {department.code} implements basic item {basic_code} already",
                {"basic_code": f"implemented already by {department.code}"},
            )
        values["implementing_code"] = code
        values.setdefault("code", code)
    return values


def locked_changes(uow: CatalogUnitOfWork, item: Item, changes: Mapping[str, Any]) -> None:
    """A change of a derived item's locked field is a Conflict naming it (the
    same value is fine); an item's basic code is fixed once it exists."""
    if "basic_code" in changes and changes["basic_code"] != item.basic_code:
        reason = (
            f"locked to the basic item's: {item.basic_code}"
            if item.basic_code
            else "fixed once the item exists"
        )
        raise Conflict("the basic code of an item is fixed", {"basic_code": reason})
    if item.basic_code is None:
        return
    basic = uow.basic_items.get(item.basic_code)
    if basic is None:  # the foreign key makes this a broken database
        raise NotFound(f"no basic item {item.basic_code}", {"basic_code": "unknown basic item"})
    conflicts = lock_conflicts(basic, changes)
    if conflicts:
        raise Conflict("a locked field differs from the basic item's", conflicts)


# -------------------------------------------------------------------- helpers


def _basic_item(uow: CatalogUnitOfWork, basic_code: str, lock: bool = False) -> BasicItem:
    basic = uow.basic_items.get(basic_code, lock=lock)
    if basic is None:
        raise NotFound(f"no basic item {basic_code}", {"basic_code": "unknown basic item"})
    return basic


def _authorise(actor: Mapping, department_code: str | None) -> None:
    """The operator, or a dept_admin of the basic item's own department."""
    authorise_admin(actor, department_code, "publish its basic items")


def _require_provincial(department: Department | None) -> None:
    if department is None:
        raise ValidationFailed({"department_code": "unknown department"})
    if department.level != "province":
        raise ValidationFailed(
            {"department_code": "basic items are published by province-level departments"}
        )
