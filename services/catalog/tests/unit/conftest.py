"""A catalog unit of work on a fresh SQLite file, with the demo catalogue loaded."""

from datetime import UTC, datetime

import pytest

from services.catalog.bootstrap import load_demo
from services.catalog.domain.basic import BasicItem
from services.catalog.service_layer.unit_of_work import CatalogUnitOfWork
from services.common.testing import (  # noqa: F401  (the tests import outbox from here)
    citizen,
    clear_outbox,
    operator,
    outbox,
    staff,
)

OPERATOR = operator("u-operator", name="运维")
AMR_ADMIN = staff("u-amr-admin", "js-amr", "dept_admin", name="市场监管管理员")
GA_ADMIN = staff("u-ga-admin", "js-ga", "dept_admin", name="公安管理员")
AMR_CLERK = staff("u-amr-clerk", "js-amr", "window_clerk", "approver", name="市场监管窗口")
CITIZEN = citizen("u-citizen", name="张三")
BUREAU_ADMIN = staff("u-jn-admin", "jn-xzsp", "dept_admin", name="江宁审批局管理员")
ZONE_ADMIN = staff("u-kfq-admin", "jn-kfq", "dept_admin", name="江宁开发区管理员")


@pytest.fixture
def empty_uow(uow_factory):
    return uow_factory(CatalogUnitOfWork, source="catalog")


# A basic item no demo department implements yet; ``new_item`` implements it.
NEW_BASIC = {
    "basic_code": "000117099000",
    "name": "移动式压力容器充装许可",
    "name_en": "Mobile pressure vessel filling licence",
    "type": "01",
    "legal_basis": [{"law": "《中华人民共和国特种设备安全法》", "article": "第三十三条"}],
    "department_code": "js-amr",
    "serves": ["legal_person"],
}


@pytest.fixture
def uow(empty_uow):
    load_demo(empty_uow)
    with empty_uow:
        empty_uow.basic_items.add(BasicItem.create(**NEW_BASIC), datetime.now(UTC))
        empty_uow.commit()
    clear_outbox(empty_uow)
    return empty_uow


def new_item(**overrides) -> dict:
    data = {
        "code": "320000-JSSCJG-900",
        "basic_code": NEW_BASIC["basic_code"],
        "type": "01",
        "serves": ["legal_person"],
        "name": "移动式压力容器充装许可",
        "name_en": "Mobile pressure vessel filling licence",
        "department_code": "js-amr",
        "modes": ["online", "express"],
        "promised_days": 5,
        "statutory_days": 20,
        "description": "对从事移动式压力容器充装活动的单位核发充装许可。",
        "conditions": ["设备已经监督检验合格"],
        "materials": [{"name": "使用登记表", "copies": 2, "original": True}],
        "fees": [],
        "legal_basis": [{"law": "《中华人民共和国特种设备安全法》", "article": "第三十三条"}],
        "joint_departments": [],
    }
    data.update(overrides)
    return data


def rating_payload(
    reviews=1, praise_rate=1.0, average_grade=5.0, store_id="store-js-amr", **overrides
) -> dict:
    """A ``ratings.store_rating_changed`` payload as ratings emits it: the
    bucket that changed and the store's rating over all time."""
    payload = {
        "store_id": store_id,
        "department_code": "js-amr",
        "region_code": "320000",
        "item_id": "i-1",
        "reviews": reviews,
        "praise_rate": praise_rate,
        "average_grade": average_grade,
    }
    payload.update(overrides)
    return payload
