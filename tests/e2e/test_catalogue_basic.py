"""三级四同 end to end through the gateway.

The operator publishes a basic item; 苏州市市场监督管理局 (sz-amr, a city) and
昆山市行政审批局 (ks-xzsp, a county) implement it: name, type and legal basis
come from the basic item and are locked, the implementing code is the
department's USCC, the level digit and the basic code. A change of the basic
item reaches both derived items by catalog's own event. The county's item
stays a draft: the public and another department's staff get 404, its own
staff see it.

The basic code is new in every run, so nothing here depends on other tests.
"""

import random

import pytest

from tests.e2e.approvals import operator, staff
from tests.e2e.test_journey import Client, eventually

pytestmark = pytest.mark.e2e

CITY, COUNTY = "sz-amr", "ks-xzsp"
CITY_USCC, COUNTY_USCC = "11320500112708812C", "11320583113610980U"
LAW = [
    {"law": "《中华人民共和国特种设备安全法》", "article": "第三十三条"},
    {"law": "《特种设备使用管理规则》", "article": ""},
]
LOCAL = {
    "modes": ["online", "express", "window"],
    "promised_days": 5,
    "statutory_days": 20,
    "case_type": "promised",
    "visits": 1,
    "online_depth": 3,
    "limit_unit": "working_days",
    "materials": [
        {
            "name": "移动式压力容器充装许可申请表",
            "necessity": "required",
            "source": "applicant",
            "copies": 1,
            "original": True,
            "blank_form": "https://zwfw.jiangsu.gov.cn/forms/ydrqcz/blank.pdf",
        },
        {"name": "营业执照", "necessity": "conditional", "source": "government", "copies": 0},
    ],
    "conditions": ["充装单位已取得特种设备使用登记"],
    "process_summary": "申请—受理—审查—决定—送达",
    "hours": "周一至周五 9:00—12:00，13:30—17:00",
    "consultation_phone": "0512-68661234",
    "complaint_phone": "12345",
}


@pytest.fixture(scope="module", autouse=True)
def watch(log_watch):
    return log_watch()


@pytest.fixture(scope="module")
def basic_code() -> str:
    return "0001179" + "".join(random.choices("0123456789", k=5))


def error_fields(response) -> dict:
    return response.json()["error"]["fields"]


def put(client: Client, path: str, body: dict):
    return client.request("PUT", path, json=body)


def test_a_basic_item_implemented_in_a_city_and_a_county_follows_its_changes(
    cluster, basic_code, watch
):
    base = cluster.gateway_url
    the_operator = operator(base)
    city_admin = staff(the_operator, CITY, "dept_admin", name="苏州市场监管管理员")
    county_admin = staff(the_operator, COUNTY, "dept_admin", name="昆山审批局管理员")
    county_clerk = staff(the_operator, COUNTY, "window_clerk", name="昆山审批局窗口")
    public = Client(base)

    # a city department may not publish a basic item, the operator may
    basic = {
        "basic_code": basic_code,
        "name": "移动式压力容器充装许可",
        "name_en": "Mobile pressure vessel filling licence",
        "type": "01",
        "legal_basis": LAW,
        "department_code": "js-amr",
        "serves": ["legal_person"],
    }
    assert city_admin.post("/api/v1/catalogue/basic", json=basic).status_code == 403
    created = the_operator.post("/api/v1/catalogue/basic", json=basic)
    assert created.status_code == 201, created.text
    assert created.json()["revision"] == 1
    again = the_operator.post("/api/v1/catalogue/basic", json=basic)
    assert again.status_code == 409
    assert error_fields(again) == {"basic_code": "already in use"}
    found = public.get("/api/v1/catalogue/basic", params={"q": "压力容器充装", "type": "01"})
    assert found.status_code == 200, found.text
    assert basic_code in {entry["basic_code"] for entry in found.json()["items"]}

    # implemented in a city and a county; the locked fields are the basic item's
    body = {"basic_code": basic_code, "department_code": CITY, **LOCAL}
    refused = city_admin.post("/api/v1/items", json={**body, "name": "压力容器充装许可"})
    assert refused.status_code == 409, refused.text
    assert list(error_fields(refused)) == ["name"]
    response = city_admin.post("/api/v1/items", json=body)
    assert response.status_code == 201, response.text
    city_item = response.json()
    assert city_item["implementing_code"] == city_item["code"] == CITY_USCC + "3" + basic_code
    assert (city_item["name"], city_item["type"], city_item["legal_basis"]) == (
        basic["name"],
        "01",
        LAW,
    )
    twice = city_admin.post("/api/v1/items", json={**body, "code": "320500-SZSCJG-977"})
    assert twice.status_code == 409 and list(error_fields(twice)) == ["basic_code"]

    response = county_admin.post(
        "/api/v1/items", json={**body, "department_code": COUNTY, "legal_basis": LAW}
    )
    assert response.status_code == 201, response.text
    county_item = response.json()
    assert county_item["implementing_code"] == COUNTY_USCC + "4" + basic_code

    published = city_admin.post(f"/api/v1/items/{city_item['item_id']}/publish")
    assert published.status_code == 200, published.text
    locked = put(city_admin, f"/api/v1/items/{city_item['item_id']}", {"type": "20"})
    assert locked.status_code == 409 and list(error_fields(locked)) == ["type"]

    # the county's draft: hidden from the public and another department's staff
    draft_path = f"/api/v1/items/{county_item['item_id']}"
    assert public.get(draft_path).status_code == 404
    assert public.get(draft_path).json()["error"]["fields"] == {"item_id": "unknown item"}
    assert city_admin.get(draft_path).status_code == 404
    for own in (county_admin, county_clerk, the_operator):
        seen = own.get(draft_path)
        assert seen.status_code == 200, seen.text
        assert seen.json()["status"] == "draft"
    city_path = f"/api/v1/items/{city_item['item_id']}"
    assert public.get(city_path).json()["status"] == "published"

    # the basic item changes; both derived items follow by the event
    renamed = "移动式压力容器充装许可（含气瓶充装）"
    changed = put(
        the_operator,
        f"/api/v1/catalogue/basic/{basic_code}",
        {"name": renamed, "legal_basis": [*LAW, {"law": "《气瓶安全技术规程》", "article": ""}]},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["revision"] == 2

    def followed(client, path):
        guide = client.get(path).json()
        return guide if guide.get("name") == renamed else None

    city_guide = eventually(lambda: followed(public, city_path), what="the city item to follow")
    assert city_guide["legal_basis"][-1] == {"law": "《气瓶安全技术规程》", "article": ""}
    assert city_guide["revision"] == 3
    county_guide = eventually(
        lambda: followed(county_admin, draft_path), what="the county item to follow"
    )
    assert county_guide["status"] == "draft"
    eventually(
        lambda: public.get(f"/api/v1/catalogue/basic/{basic_code}").json()["revision"] == 2,
        what="the cached basic item to be dropped",
    )
    assert watch.problems() == []
