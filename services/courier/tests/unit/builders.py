"""The courier's cast and the workflow events that reach it.

Actors, envelopes and the outbox come from ``services.common.testing``; here are
only who relates to which application, and the events as workflow emits them
(``services.workflow.contract``) and as a handler receives them (``delivered``).
"""

from marshmallow import EXCLUDE

from services.common.schemas import load_payload
from services.common.testing import citizen, envelope, operator, staff
from services.workflow import contract as workflow

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
DEPARTMENT = "nj-zwb"

CITIZEN = citizen("u-applicant", name="张三")
OTHER_CITIZEN = citizen("u-other", name="李四")
CLERK = staff("u-clerk", DEPARTMENT, "window_clerk", name="王五")
OTHER_CLERK = staff("u-clerk-2", "js-amr", "window_clerk", name="王五")
OPERATOR = operator("u-op", name="运维")


def _delivery(mode: str) -> dict:
    return {"mode": mode, "address": APPLICANT_ADDRESS if mode == "express" else None}


def application_submitted(application_id="app-1", mode="express", **changes) -> dict:
    """workflow.application_submitted as workflow publishes it."""
    payload = {
        "application_id": application_id,
        "item_id": "item-1",
        "item_name": "食品经营许可",
        "applicant_id": CITIZEN["user_id"],
        "department_code": DEPARTMENT,
        "region_code": "320100",
        "store_id": "store-nj",
        "delivery": _delivery(mode),
        "window": WINDOW,
        "due_date": "2026-12-09",
        **changes,
    }
    return envelope("workflow", "application_submitted", payload)


def licence_issued(application_id="app-1", mode="express", **changes) -> dict:
    """workflow.licence_issued as workflow publishes it."""
    payload = {
        "licence_no": f"JS-{application_id}",
        "application_id": application_id,
        "applicant_id": CITIZEN["user_id"],
        "item_id": "item-1",
        "department_code": DEPARTMENT,
        "delivery": _delivery(mode),
        "window": WINDOW,
        **changes,
    }
    return envelope("workflow", "licence_issued", payload)


def delivered(event: dict) -> dict:
    """The envelope as a handler receives it: the payload loaded with workflow's
    schema, ignoring fields the courier does not know (as the kit does)."""
    schema = workflow.EVENTS[event["type"]](unknown=EXCLUDE)
    return {**event, "payload": load_payload(schema, event)}


def redelivery_requested(
    application_id="app-1", direction="materials", address=None, attempt=2, **changes
) -> dict:
    """workflow.redelivery_requested as workflow publishes it."""
    payload = {
        "application_id": application_id,
        "direction": direction,
        "address": address,
        "attempt": attempt,
        **changes,
    }
    return envelope("workflow", "redelivery_requested", payload)
