"""Events and actors as the other services send them."""

from services.common.messaging.envelope import make_envelope

APPLICANT_ADDRESS = {
    "name": "张三",
    "phone": "13800138000",
    "province": "江苏省",
    "city": "苏州市",
    "district": "姑苏区",
    "street": "人民路100号",
    "postcode": "215000",
}
WINDOW = {
    "name": "南京市民中心综合窗口",
    "address": "南京市建邺区江东中路265号南京市民中心一楼",
    "phone": "025-83456789",
    "postcode": "210019",
}
CITIZEN = {
    "user_id": "u-applicant",
    "kind": "citizen",
    "roles": [],
    "department_code": None,
    "name": "张三",
    "level": 2,
}
OTHER_CITIZEN = {**CITIZEN, "user_id": "u-other", "name": "李四"}
CLERK = {
    "user_id": "u-clerk",
    "kind": "staff",
    "roles": ["window_clerk"],
    "department_code": "nj-zwb",
    "name": "王五",
    "level": 2,
}
OTHER_CLERK = {**CLERK, "user_id": "u-clerk-2", "department_code": "js-amr"}
OPERATOR = {
    "user_id": "u-op",
    "kind": "operator",
    "roles": [],
    "department_code": None,
    "name": "运维",
    "level": 2,
}


def application_submitted(application_id="app-1", mode="express", **changes):
    payload = {
        "application_id": application_id,
        "item_id": "item-1",
        "item_name": "食品经营许可",
        "applicant_id": CITIZEN["user_id"],
        "department_code": CLERK["department_code"],
        "region_code": "320100",
        "store_id": "store-nj",
        "delivery": {
            "mode": mode,
            "address": APPLICANT_ADDRESS if mode == "express" else None,
        },
        "window": WINDOW,
        "due_date": "2026-12-09",
        **changes,
    }
    return make_envelope("workflow", "application_submitted", payload)


def licence_issued(application_id="app-1", mode="express", **changes):
    payload = {
        "licence_no": f"JS-{application_id}",
        "application_id": application_id,
        "applicant_id": CITIZEN["user_id"],
        "item_id": "item-1",
        "delivery": {
            "mode": mode,
            "address": APPLICANT_ADDRESS if mode == "express" else None,
        },
        "window": WINDOW,
        **changes,
    }
    return make_envelope("workflow", "licence_issued", payload)
