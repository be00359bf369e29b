"""Load the demo catalogue (Jiangsu regions, departments, items) idempotently."""

from services.catalog.demo import load_departments, load_items, load_regions
from services.catalog.domain.model import Department, Item, Region
from services.catalog.service_layer.unit_of_work import CatalogUnitOfWork
from services.catalog.service_layer.use_cases import item_id_for


def load_demo(uow: CatalogUnitOfWork) -> dict:
    """Add whatever of the demo data is missing, in one transaction.

    Every new item gets the id derived from its code, its department's store
    and window, and is published, so its item_published event goes to the
    outbox. Returns how many regions, departments and items this run added: a
    second run adds nothing and emits nothing.
    """
    with uow:
        known_regions = uow.regions.codes()
        new_regions = [r for r in load_regions() if r["code"] not in known_regions]
        # The seed lists parents before their children, as the foreign key needs.
        for data in new_regions:
            uow.regions.add(Region.from_dict(data))

        known_departments = uow.departments.codes()
        new_departments = [d for d in load_departments() if d["code"] not in known_departments]
        for data in new_departments:
            uow.departments.add(Department.from_dict(data))

        departments = {d.code: d for d in uow.departments.list()}
        known_items = uow.items.ids_by_code()
        new_items = [i for i in load_items() if i["code"] not in known_items]
        for data in new_items:
            department = departments[data["department_code"]]
            item = Item.create(
                item_id_for(data["code"]),
                **data,
                store_id=department.store.store_id,
                window=department.window,
            )
            item.publish()
            uow.items.add(item)
            uow.collect(item)
        uow.commit()
    return {
        "regions": len(new_regions),
        "departments": len(new_departments),
        "items": len(new_items),
    }
