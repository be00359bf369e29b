"""A catalog unit of work on a fresh SQLite file, with the demo catalogue loaded."""

import pytest
import sqlalchemy as sa

from services.catalog.adapters import orm
from services.catalog.bootstrap import load_demo
from services.catalog.service_layer.unit_of_work import CatalogUnitOfWork

OPERATOR = {
    "user_id": "u-operator",
    "kind": "operator",
    "roles": [],
    "department_code": None,
    "name": "运维",
}
AMR_ADMIN = {
    "user_id": "u-amr-admin",
    "kind": "staff",
    "roles": ["dept_admin"],
    "department_code": "js-amr",
    "name": "市场监管管理员",
}
GA_ADMIN = {**AMR_ADMIN, "user_id": "u-ga-admin", "department_code": "js-ga"}
AMR_CLERK = {**AMR_ADMIN, "user_id": "u-amr-clerk", "roles": ["window_clerk", "approver"]}
CITIZEN = {
    "user_id": "u-citizen",
    "kind": "citizen",
    "roles": [],
    "department_code": None,
    "name": "张三",
}


@pytest.fixture
def empty_uow(uow_factory):
    return uow_factory(CatalogUnitOfWork, source="catalog")


@pytest.fixture
def uow(empty_uow):
    load_demo(empty_uow)
    clear_outbox(empty_uow)
    return empty_uow


def outbox(uow) -> list[dict]:
    """Envelopes in the outbox, oldest first."""
    table = orm.metadata.tables["outbox"]
    with uow:
        rows = uow.session.execute(sa.select(table.c.envelope).order_by(table.c.seq))
        return [row.envelope for row in rows]


def clear_outbox(uow) -> None:
    with uow:
        uow.session.execute(orm.metadata.tables["outbox"].delete())
        uow.commit()


def new_item(**overrides) -> dict:
    data = {
        "code": "320000-JSSCJG-900",
        "name": "移动式压力容器充装许可",
        "name_en": "Mobile pressure vessel filling licence",
        "department_code": "js-amr",
        "modes": ["online", "express"],
        "promised_days": 5,
        "statutory_days": 20,
        "description": "对从事移动式压力容器充装活动的单位核发充装许可。",
        "conditions": ["设备已经监督检验合格"],
        "materials": [{"name": "使用登记表", "copies": 2, "original": True, "note": ""}],
        "fees": "免费",
        "legal_basis": ["《中华人民共和国特种设备安全法》第三十三条"],
        "joint_departments": [],
    }
    data.update(overrides)
    return data
