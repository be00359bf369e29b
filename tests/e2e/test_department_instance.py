"""A department's own workflow instance, end to end: js-ga (江苏省公安厅) runs
workflow-js-ga; its cases and licences carry the prefix "js-ga." and every
command about them reaches that instance through the gateway."""

import pytest

from tests.e2e.test_journey import OPERATOR, Client, eventually, new_phone, register_citizen

pytestmark = pytest.mark.e2e


def find_department_item(citizen: Client, department: str, modes=("online", "window")) -> dict:
    """A published item of ``department`` offering one of ``modes``, by search."""
    response = citizen.get("/api/v1/items", params={"department": department, "page_size": 100})
    assert response.status_code == 200, response.text
    for summary in response.json()["items"]:
        if not set(modes) & set(summary["modes"]):
            continue
        guide = citizen.get(f"/api/v1/items/{summary['item_id']}").json()
        # A fee would add a payment, a joint review other departments' work.
        if not guide["joint_departments"] and not guide["fees"]:
            return guide
    raise AssertionError(f"the demo catalogue has no {department} item offering {modes}")


def test_a_case_of_a_department_instance_from_submission_to_a_verified_licence(cluster):
    base = cluster.gateway_url
    citizen, _ = register_citizen(base, "周警民")

    item = find_department_item(citizen, "js-ga")
    assert item["department_code"] == "js-ga"
    assert item["handled_by"] == "workflow-js-ga"
    mode = "online" if "online" in item["modes"] else "window"

    operator = Client(base)
    operator.login(**OPERATOR)
    approver_phone = new_phone()
    response = operator.post(
        "/api/v1/admin/staff",
        json={
            "phone": approver_phone,
            "password": "Approve2026",
            "name": "公安审批",
            "department_code": "js-ga",
            "roles": ["approver", "window_clerk"],
        },
    )
    assert response.status_code == 201, response.text

    response = citizen.post(
        "/api/v1/applications",
        json={
            "item_id": item["item_id"],
            "form": {"applicant_name": "周警民"},
            "materials": [{"name": material["name"]} for material in item["materials"]],
            "delivery": {"mode": mode},
        },
    )
    assert response.status_code == 201, response.text
    application_id = response.json()["application_id"]
    assert application_id.startswith("js-ga.")
    case = citizen.get(f"/api/v1/applications/{application_id}").json()
    assert case["state"] == "submitted" and case["department_code"] == "js-ga"

    approver = Client(base)
    approver.login(approver_phone, "Approve2026")
    worklist = approver.get("/api/v1/worklist", params={"state": "submitted"}).json()
    assert application_id in [entry["application_id"] for entry in worklist["items"]]
    # Accept, then approve each of the item's steps in turn.
    action = "accept"
    for _ in range(10):
        response = approver.post(
            f"/api/v1/applications/{application_id}/actions",
            json={"action": action, "comment": "材料齐全"},
        )
        assert response.status_code == 200, response.text
        if response.json()["state"] not in ("submitted", "accepted"):
            break
        action = "approve"

    def completed():
        current = citizen.get(f"/api/v1/applications/{application_id}").json()
        return current if current["state"] == "completed" else None

    if mode == "online":
        case = eventually(completed, what="the online case to complete on approval")
    else:  # a window case waits at the window with its licence issued
        case = citizen.get(f"/api/v1/applications/{application_id}").json()
        assert case["state"] in ("approved", "completed")
    licence_no = case["licence_no"]
    # No instance prefix: the issuer's USCC in the number routes it (js-ga's).
    assert licence_no.startswith("1.2.156.3005.2.")

    mine = citizen.get("/api/v1/applications").json()
    assert application_id in [entry["application_id"] for entry in mine["items"]]
    assert mine["total"] >= 1
    licences = citizen.get("/api/v1/licences").json()["items"]
    assert licence_no in [licence["licence_no"] for licence in licences]

    verified = Client(base).get(f"/api/v1/licences/{licence_no}/verify")
    assert verified.status_code == 200, verified.text
    assert verified.json()["valid"] is True
    assert verified.json()["licence_no"] == licence_no
