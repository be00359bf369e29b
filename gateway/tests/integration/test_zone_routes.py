"""Zone routes (区域评): bad input is a 422 naming the field before any call;
only operators and department admins get through to catalog, which decides
whose zone it is; the body and the actor are forwarded."""

import pytest

from services.common.errors import Forbidden

ZONE = "7c0e5f6b1a2d43e89f01b2c3d4e5f607"
ZONE_ADMIN = {"kind": "staff", "roles": ["dept_admin"], "dept": "jn-kfq"}
REPORT = {
    "kind": "environmental_impact",
    "title": "区域环评",
    "valid_from": "2025-06-01",
    "valid_to": "2030-05-31",
}
ANSWER = {**REPORT, "assessment_id": "a" * 32, "zone_id": ZONE, "approved_by": None}

BAD_INPUT = [
    ("POST", "/api/v1/zones", {"code": "JN", "name": "x"}, "committee_department_code"),
    (
        "POST",
        "/api/v1/zones",
        {"code": "bad code", "name": "x", "committee_department_code": "jn-kfq"},
        "code",
    ),
    ("GET", "/api/v1/zones", {"page_size": "0"}, "page_size"),
    ("GET", "/api/v1/zones", {"region": ""}, "region"),
    ("POST", f"/api/v1/zones/{ZONE}/assessments", {**REPORT, "kind": "noise"}, "kind"),
    ("POST", f"/api/v1/zones/{ZONE}/assessments", {**REPORT, "valid_to": "2025-01-01"}, "valid_to"),
    ("POST", f"/api/v1/zones/{ZONE}/assessments", {**REPORT, "valid_from": "June"}, "valid_from"),
    ("POST", f"/api/v1/zones/{ZONE}/assessments", {**REPORT, "title": ""}, "title"),
    ("GET", f"/api/v1/zones/{ZONE}/assessments", {"kind": "noise"}, "kind"),
]


@pytest.mark.parametrize(("method", "path", "data", "field"), BAD_INPUT)
def test_bad_input_is_422_naming_the_field(gateway, method, path, data, field):
    token = gateway.token(**ZONE_ADMIN)
    key = "params" if method == "GET" else "json"
    response = gateway.request(method, path, token=token, **{key: data})
    assert response.status_code == 422, response.text
    assert field in response.json()["error"]["fields"]
    assert gateway.rpc.request_calls == []


@pytest.mark.parametrize(
    "claims",
    [
        {"kind": "citizen"},
        {"kind": "staff", "roles": ["approver", "window_clerk"], "dept": "jn-kfq"},
    ],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/zones"),
        ("POST", "/api/v1/zones"),
        ("GET", f"/api/v1/zones/{ZONE}/assessments"),
        ("POST", f"/api/v1/zones/{ZONE}/assessments"),
    ],
)
def test_only_operators_and_admins_reach_catalog(gateway, claims, method, path):
    body = None if method == "GET" else {}
    response = gateway.request(method, path, token=gateway.token(**claims), json=body)
    assert response.status_code == 403, response.text
    assert gateway.rpc.request_calls == []
    assert gateway.request(method, path).status_code == 401


def test_a_report_is_recorded_with_the_actor_and_the_zone(gateway):
    gateway.rpc.answers[("catalog", "record_assessment")] = ANSWER
    response = gateway.request(
        "POST",
        f"/api/v1/zones/{ZONE}/assessments",
        token=gateway.token(**ZONE_ADMIN),
        json=REPORT,
    )
    assert response.status_code == 201, response.text
    assert response.json() == ANSWER
    (call,) = gateway.rpc.calls_to("catalog", "record_assessment")
    assert call["zone_id"] == ZONE and call["kind"] == "environmental_impact"
    assert call["actor"]["department_code"] == "jn-kfq"


def test_another_departments_admin_is_refused_by_catalog(gateway):
    gateway.rpc.answers[("catalog", "list_zones")] = Forbidden("not a zone administrator")
    admin = {"kind": "staff", "roles": ["dept_admin"], "dept": "js-amr"}
    response = gateway.request(
        "GET", "/api/v1/zones", token=gateway.token(**admin), params={"page": "2"}
    )
    assert response.status_code == 403
    (call,) = gateway.rpc.calls_to("catalog", "list_zones")
    assert call["page"] == 2 and call["actor"]["department_code"] == "js-amr"
