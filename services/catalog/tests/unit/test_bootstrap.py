"""The demo loader publishes every item once and is idempotent."""

import sqlalchemy as sa

from services.catalog import contract
from services.catalog.adapters import orm
from services.catalog.bootstrap import load_demo
from services.catalog.demo import (
    load_basic_items,
    load_departments,
    load_items,
    load_regions,
    load_zones,
)
from services.catalog.service_layer import use_cases
from services.catalog.service_layer.use_cases import item_id_for

from .conftest import outbox


def test_load_demo_publishes_every_item_once(empty_uow):
    loaded = load_demo(empty_uow)
    assert loaded == {
        "regions": len(load_regions()),
        "departments": len(load_departments()),
        "basic_items": len(load_basic_items()),
        "items": len(load_items()),
        "zones": len(load_zones()),
    }
    events = outbox(empty_uow)
    assert [e["type"] for e in events] == ["basic_item_published"] * len(load_basic_items()) + [
        "item_published"
    ] * len(load_items())
    events = [e for e in events if e["type"] == "item_published"]
    assert {e["payload"]["item_id"] for e in events} == {
        item_id_for(i["code"]) for i in load_items()
    }
    for envelope in events:
        payload = contract.ItemPublished().load(envelope["payload"])
        assert payload["store_id"] and payload["window"]

    assert load_demo(empty_uow) == {
        "regions": 0,
        "departments": 0,
        "basic_items": 0,
        "items": 0,
        "zones": 0,
    }
    assert len(outbox(empty_uow)) == len(load_basic_items()) + len(load_items())
    assert use_cases.search_items(empty_uow)["total"] == len(load_items())


def test_item_ids_are_stable_hex_uuid5_of_the_code():
    first = item_id_for("320000-JSSCJG-001")
    assert first == item_id_for("320000-JSSCJG-001")
    assert len(first) == 32 and int(first, 16)
    assert first != item_id_for("320000-JSSCJG-002")


def test_a_department_recorded_without_a_uscc_gets_the_seeds(empty_uow):
    load_demo(empty_uow)
    with empty_uow:
        empty_uow.session.execute(
            orm.departments.update()
            .where(orm.departments.c.code == "jn-xzsp")
            .values(kind="department", uscc=None)
        )
        empty_uow.commit()
    load_demo(empty_uow)
    with empty_uow:
        bureau = empty_uow.departments.get("jn-xzsp")
        rows = empty_uow.session.execute(sa.select(orm.zones.c.code)).scalars().all()
    seed = next(d for d in load_departments() if d["code"] == "jn-xzsp")
    assert (bureau.kind, bureau.uscc) == ("approval_bureau", seed["uscc"])
    assert rows == ["320115-JNKFQ"]
