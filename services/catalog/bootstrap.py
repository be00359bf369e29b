"""Load the demo catalogue (Jiangsu regions, departments, items, zones) idempotently."""

from datetime import UTC, date, datetime

from services.catalog.demo import (
    load_basic_items,
    load_departments,
    load_items,
    load_regions,
    load_zones,
)
from services.catalog.domain.basic import BasicItem, derived_values, implementing_code
from services.catalog.domain.model import Department, Item, Region
from services.catalog.domain.zones import Assessment, Zone
from services.catalog.service_layer.stores import add_city_stores
from services.catalog.service_layer.unit_of_work import CatalogUnitOfWork
from services.catalog.service_layer.use_cases import (
    assessment_id_for,
    item_id_for,
    zone_id_for,
)


def load_demo(uow: CatalogUnitOfWork) -> dict:
    """Add whatever of the demo data is missing, in one transaction.

    Every new item gets the id derived from its code, its department's store
    and window, and is published, so its item_published event goes to the
    outbox. A department recorded before departments had a kind and a USCC
    gets the seed's. Every new zone comes with its assessments. Returns how
    many regions, departments, items and zones this run added: a second run
    adds nothing and emits nothing.
    """
    with uow:
        known_regions = uow.regions.codes()
        new_regions = [r for r in load_regions() if r["code"] not in known_regions]
        # The seed lists parents before their children, as the foreign key needs.
        for data in new_regions:
            uow.regions.add(Region.from_dict(data))

        known_departments = {d.code: d for d in uow.departments.list()}
        new_departments = [d for d in load_departments() if d["code"] not in known_departments]
        for data in new_departments:
            uow.departments.add(Department.from_dict(data))
        for data in load_departments():
            stored = known_departments.get(data["code"])
            if stored is not None and stored.uscc is None:
                uow.departments.set_identity(Department.from_dict(data))

        add_city_stores(uow)  # every city's flagship store, once

        known_basic = uow.basic_items.codes()
        new_basic = [b for b in load_basic_items() if b["basic_code"] not in known_basic]
        now = datetime.now(UTC)
        for data in new_basic:
            basic = BasicItem.create(**data)
            uow.basic_items.add(basic, now)
            uow.collect(basic)
        basic_items = {code: uow.basic_items.get(code) for code in uow.basic_items.codes()}

        departments = {d.code: d for d in uow.departments.list()}
        known_items = uow.items.ids_by_code()
        new_items = [i for i in load_items() if i["code"] not in known_items]
        for data in new_items:
            department = departments[data["department_code"]]
            level = data.get("level", department.level)
            item = Item.create(
                item_id_for(data["code"]),
                **derived_values(basic_items[data["basic_code"]], data),
                implementing_code=implementing_code(department.uscc, level, data["basic_code"]),
                store_id=department.store.store_id,
                window=department.window,
                department_name=department.name,
            )
            item.publish()
            uow.items.add(item)
            uow.collect(item)

        known_zones = uow.zones.codes()
        new_zones = [z for z in load_zones() if z["code"] not in known_zones]
        for data in new_zones:
            _add_zone(uow, data)
        uow.commit()
    return {
        "regions": len(new_regions),
        "departments": len(new_departments),
        "basic_items": len(new_basic),
        "items": len(new_items),
        "zones": len(new_zones),
    }


def _add_zone(uow: CatalogUnitOfWork, data: dict) -> None:
    zone = Zone.create(
        zone_id_for(data["code"]),
        data["code"],
        data["name"],
        data["region_code"],
        data["committee_department_code"],
    )
    uow.zones.add(zone)
    for report in data["assessments"]:
        valid_from = date.fromisoformat(report["valid_from"])
        uow.assessments.add(
            Assessment.create(
                assessment_id_for(zone.code, report["kind"], valid_from),
                zone.zone_id,
                report["kind"],
                report["title"],
                valid_from,
                date.fromisoformat(report["valid_to"]),
                report.get("approved_by"),
            )
        )
