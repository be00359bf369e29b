"""One citizen's errand from registration to a rated, completed case, through the
gateway, with every service, the broker and the EMS simulator running for real."""

import random
import time

import pytest
import requests

from services.courier.domain.tracking_numbers import is_valid_tracking_number
from services.identity.domain.id_numbers import id_number_check_char
from services.identity.domain.uscc import uscc_check_char

pytestmark = pytest.mark.e2e

OPERATOR = {"phone": "13800000000", "password": "Operator2026"}


def new_phone() -> str:
    return "15" + "".join(random.choice("0123456789") for _ in range(9))


def new_id_number() -> str:
    first17 = "32010219900307" + "".join(random.choice("0123456789") for _ in range(3))
    return first17 + id_number_check_char(first17)


class Client:
    def __init__(self, base_url: str):
        self.base_url = base_url
        self.session = requests.Session()
        self.token = None

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        response = self.session.request(
            method, self.base_url + path, headers=headers, timeout=15, **kwargs
        )
        assert response.status_code < 500, (method, path, response.status_code, response.text)
        return response

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)

    def login(self, phone: str, password: str) -> dict:
        response = self.post("/api/v1/auth/login", json={"phone": phone, "password": password})
        assert response.status_code == 200, response.text
        tokens = response.json()
        self.token = tokens["access_token"]
        return tokens


def eventually(check, timeout=60.0, interval=0.3, what="condition"):
    """Poll until ``check()`` returns something truthy; return it."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")


def register_citizen(base_url: str, name: str) -> tuple[Client, str]:
    client = Client(base_url)
    phone = new_phone()
    response = client.post(
        "/api/v1/auth/register", json={"phone": phone, "password": "Secret2026", "name": name}
    )
    assert response.status_code == 201, response.text
    client.login(phone, "Secret2026")
    return client, phone


def find_express_item(citizen: Client) -> dict:
    """A published item offering express delivery, reviewed by one department."""
    for keyword in ("食品", "许可", "登记", "证"):
        response = citizen.get("/api/v1/items", params={"q": keyword, "page_size": 100})
        assert response.status_code == 200, response.text
        for summary in response.json()["items"]:
            if "express" not in summary["modes"]:
                continue
            guide = citizen.get(f"/api/v1/items/{summary['item_id']}").json()
            if guide["handled_by"] == "workflow" and not guide["joint_departments"]:
                return guide
    raise AssertionError("the demo catalogue has no single-department express item")


ADDRESS = {
    "name": "王小明",
    "phone": "13912345678",
    "province": "江苏省",
    "city": "南京市",
    "district": "玄武区",
    "street": "中山路 100 号",
    "postcode": "210008",
}


def test_citizen_errand_from_registration_to_a_rated_completed_case(cluster):
    base = cluster.gateway_url
    started = time.monotonic()

    # 1. Register, sign in once, verify the real name.
    citizen, _ = register_citizen(base, "王小明")
    me = citizen.get("/api/v1/me").json()
    assert me["assurance_level"] == 1
    id_number = new_id_number()
    response = citizen.post("/api/v1/me/real-name", json={"name": "王小明", "id_number": id_number})
    assert response.status_code == 200, response.text
    assert response.json()["level"] == 2
    me = citizen.get("/api/v1/me").json()
    assert me["assurance_level"] == 2
    assert me["id_number_masked"] == id_number[:4] + "*" * 10 + id_number[-4:]
    assert id_number not in citizen.get("/api/v1/me").text

    # 2. Find an item by keyword and read its guide.
    item = find_express_item(citizen)
    store_id = item["store_id"]
    store_before = citizen.get(f"/api/v1/stores/{store_id}").json()
    reviews_before = store_before["rating"]["reviews"]

    # The operator creates an approver for the item's department.
    operator = Client(base)
    operator.login(**OPERATOR)
    approver_phone = new_phone()
    response = operator.post(
        "/api/v1/admin/staff",
        json={
            "phone": approver_phone,
            "password": "Approve2026",
            "name": "李审批",
            "department_code": item["department_code"],
            "roles": ["approver", "window_clerk"],
        },
    )
    assert response.status_code == 201, response.text

    # 3. Apply with express delivery of the paper materials.
    response = citizen.post(
        "/api/v1/applications",
        json={
            "item_id": item["item_id"],
            "form": {"applicant_name": "王小明", "purpose": "开办食品店"},
            "materials": [{"name": material["name"]} for material in item["materials"]],
            "delivery": {"mode": "express", "address": ADDRESS},
        },
    )
    assert response.status_code == 201, response.text
    application = response.json()
    application_id = application["application_id"]
    assert application["state"] == "submitted"
    assert application["due_date"]

    # 4. courier orders the EMS pickup; the simulator carries it to the window.
    def materials_shipment():
        shipments = citizen.get(
            "/api/v1/shipments", params={"application_id": application_id}
        ).json()["items"]
        # Pending (no tracking number yet) until courier has placed the order.
        return [s for s in shipments if s["direction"] == "materials" and s["tracking_no"]]

    shipment = eventually(materials_shipment, what="the EMS pickup order")[0]
    assert is_valid_tracking_number(shipment["tracking_no"])

    # 5. Delivered to the window: the case is accepted.
    eventually(
        lambda: citizen.get(f"/api/v1/applications/{application_id}").json()["state"] == "accepted",
        what="the case to be accepted after EMS delivered the materials",
    )
    tracking = citizen.get(f"/api/v1/shipments/{shipment['tracking_no']}").json()
    assert tracking["status"] == "delivered"

    # 6. The department's approver finds it in the worklist and approves it.
    approver = Client(base)
    approver.login(approver_phone, "Approve2026")
    worklist = approver.get("/api/v1/worklist", params={"state": "accepted"}).json()
    assert application_id in [case["application_id"] for case in worklist["items"]]
    response = approver.post(
        f"/api/v1/applications/{application_id}/actions",
        json={"action": "approve", "comment": "材料齐全，准予许可"},
    )
    assert response.status_code == 200, response.text

    # 7. An electronic licence is issued; EMS carries the result home; the case completes.
    def completed():
        case = citizen.get(f"/api/v1/applications/{application_id}").json()
        return case if case["state"] == "completed" else None

    case = eventually(completed, what="the case to complete after the result was delivered")
    assert [entry["state"] for entry in case["timeline"]][:2] == ["submitted", "accepted"]
    shipments = citizen.get("/api/v1/shipments", params={"application_id": application_id})
    directions = sorted(s["direction"] for s in shipments.json()["items"])
    assert directions == ["materials", "result"]
    licences = citizen.get("/api/v1/licences").json()["items"]
    licence = next(lic for lic in licences if lic["application_id"] == application_id)
    verified = Client(base).get(f"/api/v1/licences/{licence['licence_no']}/verify").json()
    assert verified["valid"] is True

    # 8. The applicant reviews the case; the flagship store's praise rate follows.
    second, _ = register_citizen(base, "赵二")
    assert second.get(f"/api/v1/applications/{application_id}").status_code == 404
    response = second.post(
        f"/api/v1/applications/{application_id}/review", json={"grade": 1, "comment": "差"}
    )
    assert response.status_code == 403, response.text
    response = second.post(
        f"/api/v1/applications/{application_id}/actions", json={"action": "approve"}
    )
    assert response.status_code == 403, response.text

    response = citizen.post(
        f"/api/v1/applications/{application_id}/review",
        json={"grade": 5, "comment": "办事快，不用跑腿"},
    )
    assert response.status_code == 201, response.text
    response = citizen.post(
        f"/api/v1/applications/{application_id}/review", json={"grade": 5, "comment": "again"}
    )
    assert response.status_code == 409, response.text

    def store_after():
        store = citizen.get(f"/api/v1/stores/{store_id}").json()
        return store if store["rating"]["reviews"] == reviews_before + 1 else None

    store = eventually(store_after, what="the store's rating summary to count the review")
    praise_before = round((store_before["rating"]["praise_rate"] or 0) * reviews_before)
    expected = round((praise_before + 1) / (reviews_before + 1), 4)
    assert store["rating"]["praise_rate"] == pytest.approx(expected, abs=1e-4)
    print(f"\njourney wall time: {time.monotonic() - started:.1f} s")


def test_an_application_for_someone_else_needs_a_mandate(cluster):
    """The party an application is for passes the gateway and reaches workflow,
    which asks identity whether the applicant may act for it: without a
    mandate (or membership) it is refused. The agents' own tests
    (test_agents.py) follow the cases applied under a mandate."""
    agent, _ = register_citizen(cluster.gateway_url, "代办员")
    item = find_express_item(agent)
    first17 = "91320102MA1XY20K5"
    uscc = first17 + uscc_check_char(first17)
    for principal in (
        {"kind": "enterprise", "uscc": uscc},
        {"kind": "person", "user_id": "0" * 32},
    ):
        response = agent.post(
            "/api/v1/applications",
            json={
                "item_id": item["item_id"],
                "on_behalf_of": principal,
                "materials": [{"name": material["name"]} for material in item["materials"]],
                "delivery": {"mode": "express", "address": ADDRESS},
            },
        )
        assert response.status_code == 403, response.text
    # A bare credit code, or a person by name and ID number, is not a principal:
    # refused at the gateway, naming the field.
    for principal, field in (
        (uscc, "on_behalf_of"),
        (
            {"kind": "person", "name": "王老人", "id_number": new_id_number()},
            "on_behalf_of.id_number",
        ),
    ):
        response = agent.post(
            "/api/v1/applications",
            json={
                "item_id": item["item_id"],
                "on_behalf_of": principal,
                "delivery": {"mode": "express", "address": ADDRESS},
            },
        )
        assert response.status_code == 422, response.text
        assert field in response.json()["error"]["fields"]


def test_bad_input_through_the_gateway_is_a_named_4xx(cluster):
    citizen, _ = register_citizen(cluster.gateway_url, "钱三")
    response = citizen.post("/api/v1/applications", json={"form": {}, "materials": []})
    assert response.status_code == 422
    assert "item_id" in response.json()["error"]["fields"]
    first17 = "32010219900307123"
    wrong = str((int(id_number_check_char(first17).replace("X", "10")) + 1) % 10)
    response = citizen.post(
        "/api/v1/me/real-name", json={"name": "钱三", "id_number": first17 + wrong}
    )
    assert response.status_code == 422
    assert "id_number" in response.json()["error"]["fields"]
    response = citizen.request(
        "POST", "/api/v1/auth/login", data="{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert Client(cluster.gateway_url).get("/api/v1/me").status_code == 401


def test_logout_ends_the_session_at_the_gateway(cluster):
    citizen, phone = register_citizen(cluster.gateway_url, "孙五")
    tokens = citizen.login(phone, "Secret2026")
    assert citizen.get("/api/v1/me").status_code == 200
    assert citizen.post("/api/v1/auth/logout").status_code == 204

    # identity's session_revoked reaches the gateway through the outbox relay.
    def refused():  # a Response is falsy when it is a 4xx: return its error instead
        response = citizen.get("/api/v1/me")
        return response.json()["error"] if response.status_code == 401 else None

    error = eventually(refused, timeout=10, interval=0.2, what="the access token to be refused")
    assert error["code"] == "unauthorized"
    assert "session has ended" in error["message"]
    response = Client(cluster.gateway_url).post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert response.status_code == 401
