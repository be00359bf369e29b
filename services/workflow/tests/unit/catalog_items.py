"""Catalog ``get_item`` results (docs/contracts.md) for the service-layer tests."""

import copy

OWN = "ks-xzsp"
JOINT = "320102-XF"

ITEM = {
    "item_id": "item-food-licence",
    "code": "ks-xzsp-001",
    "name": "食品经营许可",
    "department_code": OWN,
    "department_name": "玄武区市场监督管理局",
    "region_code": "320102",
    "level": "county",
    "modes": ["online", "express", "window"],
    "promised_days": 5,
    "status": "published",
    "description": "从事食品销售和餐饮服务的经营许可",
    "conditions": ["有与经营的食品品种相适应的经营场所"],
    "materials": [{"name": "营业执照", "copies": 1, "original": False, "note": ""}],
    "fees": "不收费",
    "legal_basis": ["《中华人民共和国食品安全法》"],
    "statutory_days": 20,
    "joint_departments": [JOINT],
    "window": {
        "name": "玄武区政务服务中心",
        "address": "北京东路1号",
        "phone": "02583000000",
        "postcode": "210000",
    },
    "handled_by": "workflow",
    "store_id": "store-xw-scj",
}


def item(**changes):
    result = copy.deepcopy(ITEM)
    result.update(changes)
    return result


def staff(user_id, department_code, *roles):
    return {
        "user_id": user_id,
        "kind": "staff",
        "roles": list(roles),
        "department_code": department_code,
        "name": user_id,
        "level": 2,
    }


APPLICANT = {
    "user_id": "u-applicant",
    "kind": "citizen",
    "roles": [],
    "department_code": None,
    "name": "张三",
    "level": 2,
}
OTHER_CITIZEN = dict(APPLICANT, user_id="u-other", name="李四")
OPERATOR = {"user_id": "u-op", "kind": "operator", "roles": [], "department_code": None}
CLERK = staff("u-clerk", OWN, "window_clerk")
APPROVER = staff("u-approver", OWN, "approver")
JOINT_APPROVER = staff("u-approver-xf", JOINT, "approver")
JOINT_CLERK = staff("u-clerk-xf", JOINT, "window_clerk")
OUTSIDER = staff("u-outsider", "320104-SCJ", "window_clerk", "approver")
DEPT_ADMIN = staff("u-admin", OWN, "dept_admin")

ADDRESS = {
    "name": "张三",
    "phone": "13800138000",
    "province": "江苏省",
    "city": "南京市",
    "district": "玄武区",
    "street": "北京东路2号",
    "postcode": "210000",
}
EXPRESS = {"mode": "express", "address": ADDRESS}
ONLINE = {"mode": "online"}
FORM = {"shop_name": "老王面馆"}
MATERIALS = [{"name": "营业执照", "file_id": "f1"}]
