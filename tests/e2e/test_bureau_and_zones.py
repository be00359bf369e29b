"""集中批 and 区域评 end to end through the gateway.

320115-JNXZSPJ-002 (食品经营许可证核发) is held by 南京市江宁区行政审批局
(jn-xzsp), which took it over from 江宁区市场监督管理局 (jn-amr): the bureau's
window accepts, the market regulator is consulted as a review step, the
bureau approves; the case is the bureau's in the case data, the ratings and
its flagship store. The development zone 南京江宁经济技术开发区 (320115-JNKFQ)
is run by its committee (jn-kfq), whose admin and the operator record and
read its regional assessment reports; nobody else may.

No other end-to-end test applies for this item, so its counts are this module's.
"""

import uuid

import pytest

from services.catalog.service_layer.use_cases import zone_id_for
from tests.e2e.approvals import (
    act,
    actions,
    case,
    citizen,
    item,
    on_worklist,
    operator,
    staff,
    step,
    submit,
)
from tests.e2e.test_journey import Client, eventually

pytestmark = pytest.mark.e2e

FOOD_BUSINESS = "320115-JNXZSPJ-002"
BUREAU, MARKET_REGULATOR, COMMITTEE = "jn-xzsp", "jn-amr", "jn-kfq"
JIANGNING_ZONE = zone_id_for("320115-JNKFQ")
REPORT = {
    "kind": "seismic_safety",
    "title": "区域地震安全性评价报告",
    "valid_from": "2026-06-01",
    "valid_to": "2031-05-31",
    "approved_by": "江苏省地震局",
}


@pytest.fixture(scope="module", autouse=True)
def watch(log_watch):
    return log_watch()


@pytest.fixture(scope="module")
def the_operator(cluster) -> Client:
    """Signed in once for the module: every sign-in costs identity a password hash."""
    return operator(cluster.gateway_url)


def case_stats(client: Client, **params) -> dict:
    response = client.get("/api/v1/stats/cases", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def rating_stats(client: Client, **params) -> dict:
    response = client.get("/api/v1/stats/ratings", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def store_reviews(client: Client, store_id: str) -> int:
    response = client.get(f"/api/v1/stores/{store_id}")
    assert response.status_code == 200, response.text
    return response.json()["rating"]["reviews"]


def test_the_bureau_handles_a_case_consulting_the_department_it_took_the_item_from(
    cluster, the_operator
):
    base = cluster.gateway_url
    clerk = staff(the_operator, BUREAU, "window_clerk", name="审批局窗口")
    approver = staff(the_operator, BUREAU, "approver", name="审批局审批科")
    regulator = staff(the_operator, MARKET_REGULATOR, "approver", name="区市场监管局")
    applicant, _ = citizen(base, "江宁餐饮店主", region="320115")

    guide = item(applicant, FOOD_BUSINESS)
    assert (guide["department_code"], guide["transferred_from"]) == (BUREAU, MARKET_REGULATOR)
    assert guide["store_id"] == "store-jn-xzsp"
    assert guide["issuer_uscc"].startswith("11320115") and len(guide["issuer_uscc"]) == 18
    assert guide["licence_type"]["code"] == "SPJYXK" and guide["fees"] == []
    departments = {d["code"]: d for d in applicant.get("/api/v1/departments").json()["items"]}
    assert departments[BUREAU]["kind"] == "approval_bureau"
    assert departments[BUREAU]["uscc"] == guide["issuer_uscc"]

    stats_before = {
        code: case_stats(the_operator, department=code)["completed"]
        for code in (BUREAU, MARKET_REGULATOR)
    }
    reviews_before = {
        code: store_reviews(applicant, f"store-{code}") for code in (BUREAU, MARKET_REGULATOR)
    }
    rated_before = rating_stats(the_operator, department=BUREAU)["overall"]["reviews"]

    application_id = submit(applicant, guide, mode="online")

    # The bureau's window accepts it from the bureau's worklist.
    entry = eventually(
        lambda: on_worklist(clerk, application_id), what="the case on the bureau's worklist"
    )
    assert entry["task"]["step"] == "accept"
    view = act(clerk, application_id, "accept")
    assert view["state"] == "accepted"

    # The department the item came from is consulted: its approver has the task ...
    consult = step(view, "consult-amr")
    assert (consult["kind"], consult["department_code"]) == ("review", MARKET_REGULATOR)
    entry = on_worklist(regulator, application_id)
    assert entry is not None and entry["task"]["step"] == "consult-amr"
    # ... and the bureau may not answer for it.
    assert ("approve", "consult-amr") not in actions(case(approver, application_id))
    response = approver.post(
        f"/api/v1/applications/{application_id}/actions",
        json={"action": "approve", "step": "consult-amr", "comment": "代为同意"},
    )
    assert response.status_code in (403, 409), response.text
    view = act(regulator, application_id, "approve", step="consult-amr", comment="现场核查符合要求")
    assert step(view, "consult-amr")["state"] == "done"

    # The bureau decides.
    entry = on_worklist(approver, application_id)
    assert entry is not None and entry["task"]["step"] == "decide"
    view = act(approver, application_id, "approve", step="decide", comment="准予许可")

    def completed():
        current = case(applicant, application_id)
        return current if current["state"] == "completed" else None

    view = eventually(completed, what="the online case to complete")
    assert view["licence_no"]
    deciders = {e["action"]: e for e in view["timeline"] if e["action"] in ("accept", "approve")}
    assert set(deciders) == {"accept", "approve"}

    # The case data count the case for the bureau, not for the department it came from.
    def counted():
        figures = {
            code: case_stats(the_operator, department=code)["completed"]
            for code in (BUREAU, MARKET_REGULATOR)
        }
        return figures if figures[BUREAU] == stats_before[BUREAU] + 1 else None

    figures = eventually(counted, what="the bureau's completed count")
    assert figures[MARKET_REGULATOR] == stats_before[MARKET_REGULATOR]

    # The review goes to the bureau's store and the bureau's ratings.
    response = applicant.post(
        f"/api/v1/applications/{application_id}/review",
        json={"grade": 5, "comment": "审批局一窗办结，不用两头跑"},
    )
    assert response.status_code == 201, response.text
    eventually(
        lambda: store_reviews(applicant, "store-jn-xzsp") == reviews_before[BUREAU] + 1 or None,
        what="the bureau's store to count the review",
    )
    assert store_reviews(applicant, "store-jn-amr") == reviews_before[MARKET_REGULATOR]
    eventually(
        lambda: (
            rating_stats(the_operator, department=BUREAU)["overall"]["reviews"] == rated_before + 1
            or None
        ),
        what="the bureau's ratings to count the review",
    )


def test_zones_and_their_reports_for_the_operator_and_the_zones_admin(cluster, the_operator):
    base = cluster.gateway_url
    zone_admin = staff(the_operator, COMMITTEE, "dept_admin", name="开发区管委会")
    others = {
        "another department's admin": staff(the_operator, MARKET_REGULATOR, "dept_admin"),
        "the committee's clerk": staff(the_operator, COMMITTEE, "window_clerk"),
        "a citizen": citizen(base, "路人")[0],
    }

    # The demo zone: a valid environmental impact report and an expired flood one.
    for reader in (the_operator, zone_admin):
        zones = reader.get("/api/v1/zones", params={"region": "320115"})
        assert zones.status_code == 200, zones.text
        assert JIANGNING_ZONE in [zone["zone_id"] for zone in zones.json()["items"]]
        reports = reader.get(f"/api/v1/zones/{JIANGNING_ZONE}/assessments")
        assert reports.status_code == 200, reports.text
        by_kind = {report["kind"]: report for report in reports.json()["items"]}
        assert by_kind["environmental_impact"]["valid_to"] >= "2027-12-31"
        assert by_kind["flood_impact"]["valid_to"] < "2026-12-01"
    flood = zone_admin.get(
        f"/api/v1/zones/{JIANGNING_ZONE}/assessments",
        params={"kind": "flood_impact", "page_size": 1},
    ).json()
    assert flood["total"] == 1 and flood["items"][0]["approved_by"] == "南京市水务局"

    # The zone's admin adds a zone of the committee and records its report.
    code = f"320115-E2E{uuid.uuid4().hex[:6].upper()}"
    body = {"code": code, "name": "江宁高新园", "committee_department_code": COMMITTEE}
    created = zone_admin.post("/api/v1/zones", json=body)
    assert created.status_code == 201, created.text
    zone = created.json()
    assert (zone["code"], zone["region_code"]) == (code, "320115")
    assert zone_admin.post("/api/v1/zones", json=body).status_code == 409
    recorded = zone_admin.post(f"/api/v1/zones/{zone['zone_id']}/assessments", json=REPORT)
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["valid_to"] == "2031-05-31"
    by_operator = the_operator.post(
        f"/api/v1/zones/{zone['zone_id']}/assessments",
        json={**REPORT, "kind": "energy_saving", "title": "区域节能评价报告"},
    )
    assert by_operator.status_code == 201, by_operator.text
    page = zone_admin.get(f"/api/v1/zones/{zone['zone_id']}/assessments", params={"page_size": 1})
    assert page.status_code == 200
    assert (page.json()["total"], len(page.json()["items"])) == (2, 1)

    # Nobody else may read or write them.
    for who, client in others.items():
        for method, path, payload in (
            ("GET", "/api/v1/zones", None),
            ("POST", "/api/v1/zones", {**body, "code": code + "X"}),
            ("GET", f"/api/v1/zones/{JIANGNING_ZONE}/assessments", None),
            ("POST", f"/api/v1/zones/{JIANGNING_ZONE}/assessments", REPORT),
        ):
            if method == "GET":
                response = client.get(path)
            else:
                response = client.post(path, json=payload)
            assert response.status_code == 403, (who, method, path, response.text)
    assert Client(base).get("/api/v1/zones").status_code == 401
    reports = the_operator.get(f"/api/v1/zones/{JIANGNING_ZONE}/assessments").json()
    assert reports["total"] == 2  # nothing was recorded by those refused


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/zones", {"code": "320115-X", "name": "园区"}, "committee_department_code"),
        (
            "/api/v1/zones",
            {"code": "no spaces", "name": "园区", "committee_department_code": COMMITTEE},
            "code",
        ),
        (
            "/api/v1/zones",
            {"code": "320115-Y", "name": "园区", "committee_department_code": BUREAU},
            "committee_department_code",
        ),
        (
            "/api/v1/zones",
            {
                "code": "320115-Z",
                "name": "园区",
                "committee_department_code": COMMITTEE,
                "region_code": "320100",
            },
            "region_code",
        ),
        (f"/api/v1/zones/{JIANGNING_ZONE}/assessments", {**REPORT, "kind": "noise"}, "kind"),
        (
            f"/api/v1/zones/{JIANGNING_ZONE}/assessments",
            {**REPORT, "valid_to": "2026-01-01"},
            "valid_to",
        ),
        (
            f"/api/v1/zones/{JIANGNING_ZONE}/assessments",
            {**REPORT, "valid_from": "2026-13-01"},
            "valid_from",
        ),
        (f"/api/v1/zones/{JIANGNING_ZONE}/assessments", {**REPORT, "title": ""}, "title"),
    ],
)
def test_bad_zone_input_is_422_naming_the_field(the_operator, path, body, field):
    response = the_operator.post(path, json=body)
    assert response.status_code == 422, response.text
    assert field in response.json()["error"]["fields"], response.json()


def test_an_unknown_zone_is_404(the_operator):
    assert the_operator.get("/api/v1/zones/nowhere/assessments").status_code == 404
    assert the_operator.post("/api/v1/zones/nowhere/assessments", json=REPORT).status_code == 404


def test_nothing_was_logged_as_an_error(watch):
    assert watch.problems() == []
