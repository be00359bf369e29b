from datetime import UTC, datetime
from itertools import count

import pytest

from services.workflow.domain.holidays_2026 import load_calendar_2026
from services.workflow.domain.model import Application, ItemSnapshot, LicenceNumbers

OWN = "ks-xzsp"
JOINT_A = "320102-XF"
JOINT_B = "320102-WJ"
OUTSIDER = "320104-SCJ"

# 10:00 in Nanjing on Tuesday 29 September 2026, two days before National Day.
NOW = datetime(2026, 9, 29, 2, 0, tzinfo=UTC)
LATER = datetime(2026, 10, 8, 2, 0, tzinfo=UTC)

APPLICANT = {"user_id": "u-applicant", "kind": "citizen", "roles": [], "department_code": None}
OTHER_CITIZEN = {"user_id": "u-other", "kind": "citizen", "roles": [], "department_code": None}
OPERATOR = {"user_id": "u-op", "kind": "operator", "roles": [], "department_code": None}


def staff(user_id, department_code, *roles):
    return {
        "user_id": user_id,
        "kind": "staff",
        "roles": list(roles),
        "department_code": department_code,
    }


CLERK = staff("u-clerk", OWN, "window_clerk")
APPROVER = staff("u-approver", OWN, "approver")
APPROVER_A = staff("u-approver-a", JOINT_A, "approver")
APPROVER_B = staff("u-approver-b", JOINT_B, "approver")
CLERK_A = staff("u-clerk-a", JOINT_A, "window_clerk")
OUTSIDE_CLERK = staff("u-clerk-x", OUTSIDER, "window_clerk")
OUTSIDE_APPROVER = staff("u-approver-x", OUTSIDER, "approver")
DEPT_ADMIN = staff("u-admin", OWN, "dept_admin")

ADDRESS = {
    "name": "张三",
    "phone": "13800138000",
    "province": "江苏省",
    "city": "南京市",
    "district": "秦淮区",
    "street": "中山南路1号",
    "postcode": "210000",
}


def make_item(joint=(), modes=("online", "express", "window"), promised_days=5):
    return ItemSnapshot(
        item_id="item-1",
        item_name="食品经营许可",
        department_code=OWN,
        region_code="320102",
        store_id="store-1",
        modes=tuple(modes),
        promised_days=promised_days,
        joint_departments=tuple(joint),
        window={"name": "玄武区政务服务中心", "address": "北京东路1号", "phone": "02583000000"},
    )


def submit(
    mode="online",
    *,
    joint=(),
    actor=APPLICANT,
    now=NOW,
    on_behalf_of=None,
    materials=None,
    **overrides,
):
    delivery = {"mode": mode}
    if mode == "express":
        delivery["address"] = dict(ADDRESS)
    arguments = {
        "item": make_item(joint),
        "actor": actor,
        "form": {"shop_name": "老王面馆"},
        "materials": [{"name": "营业执照", "file_id": "f1"}] if materials is None else materials,
        "delivery": delivery,
        "calendar": load_calendar_2026(),
        "on_behalf_of": on_behalf_of,
        "now": now,
    }
    arguments.update(overrides)
    return Application.submit(**arguments)


def licence_numbers():
    serials = count(1)
    return LicenceNumbers(lambda region_code, issued_on: next(serials))


@pytest.fixture
def calendar():
    return load_calendar_2026()


@pytest.fixture
def numbers():
    return licence_numbers()
