"""Departments' own workflow instances: ids route to the instance they name, the
citizen's lists span every instance, an unconfigured instance is a 503."""

import pytest

from services.common.rpc import Timeout

GA = "workflow-js-ga"
GA_CASE = "js-ga.0123456789abcdef0123456789abcdef"
GA_LICENCE = "js-ga.JS32000020261125000001"
SHARED_CASE = "fedcba9876543210fedcba9876543210"


@pytest.fixture
def gateway(start_gateway):
    return start_gateway(WORKFLOW_DEPARTMENTS="js-ga, ks-xzsp")


def case(application_id, submitted_at):
    return {"application_id": application_id, "state": "submitted", "submitted_at": submitted_at}


def services_called(gateway, method):
    return [service for service, name, _ in gateway.rpc.calls if name == method]


@pytest.mark.parametrize(
    ("method", "path", "rpc", "body"),
    [
        ("GET", f"/api/v1/applications/{GA_CASE}", "get_application", None),
        ("POST", f"/api/v1/applications/{GA_CASE}/withdraw", "withdraw", {}),
        (
            "POST",
            f"/api/v1/applications/{GA_CASE}/supplement",
            "supplement",
            {"materials": [{"name": "身份证"}]},
        ),
        (
            "POST",
            f"/api/v1/applications/{GA_CASE}/redelivery",
            "choose_redelivery",
            {"choice": "collect_at_window"},
        ),
    ],
)
def test_commands_about_a_prefixed_case_go_to_its_instance(gateway, method, path, rpc, body):
    gateway.rpc.answers[(GA, rpc)] = {"application_id": GA_CASE, "state": "submitted"}
    response = gateway.request(method, path, token=gateway.token(), json=body)
    assert response.status_code == 200, response.text
    assert services_called(gateway, rpc) == [GA]
    assert gateway.rpc.calls_to(GA, rpc)[-1]["application_id"] == GA_CASE


def test_staff_actions_and_licence_checks_go_to_the_named_instance(gateway):
    gateway.rpc.answers[(GA, "act")] = {"application_id": GA_CASE, "state": "accepted"}
    token = gateway.token(kind="staff", roles=["window_clerk"], dept="js-ga")
    response = gateway.request(
        "POST", f"/api/v1/applications/{GA_CASE}/actions", token=token, json={"action": "accept"}
    )
    assert response.status_code == 200, response.text
    assert services_called(gateway, "act") == [GA]

    gateway.rpc.answers[(GA, "verify_licence")] = {"licence_no": GA_LICENCE, "valid": True}
    response = gateway.request("GET", f"/api/v1/licences/{GA_LICENCE}/verify")
    assert response.status_code == 200, response.text
    assert gateway.rpc.calls_to(GA, "verify_licence")[-1]["licence_no"] == GA_LICENCE
    response = gateway.request("GET", "/api/v1/licences/JS32000020261125000002/verify")
    assert services_called(gateway, "verify_licence") == [GA, "workflow"]


def test_ids_without_a_prefix_stay_on_the_shared_instance(gateway):
    gateway.rpc.answers[("workflow", "get_application")] = {"application_id": SHARED_CASE}
    response = gateway.request("GET", f"/api/v1/applications/{SHARED_CASE}", token=gateway.token())
    assert response.status_code == 200, response.text
    assert services_called(gateway, "get_application") == ["workflow"]


def test_a_malformed_prefix_is_404_without_a_call(gateway):
    response = gateway.request("GET", "/api/v1/applications/JS-GA.abc", token=gateway.token())
    assert response.status_code == 404, response.text
    assert services_called(gateway, "get_application") == []


def test_my_applications_merge_every_instance_newest_first(gateway):
    gateway.rpc.answers[("workflow", "list_applications")] = {
        "items": [
            case("s-3", "2026-11-25T09:00:00+00:00"),
            case("s-1", "2026-11-20T09:00:00+00:00"),
        ],
        "page": 1,
        "page_size": 2,
        "total": 5,
    }
    gateway.rpc.answers[(GA, "list_applications")] = {
        "items": [case("js-ga.g-2", "2026-11-24T09:00:00Z")],
        "page": 1,
        "page_size": 2,
        "total": 1,
    }
    gateway.rpc.answers[("workflow-ks-xzsp", "list_applications")] = {
        "items": [],
        "page": 1,
        "page_size": 2,
        "total": 0,
    }
    response = gateway.request(
        "GET", "/api/v1/applications", token=gateway.token(), params={"page_size": 2}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [item["application_id"] for item in body["items"]] == ["s-3", "js-ga.g-2"]
    assert (body["page"], body["page_size"], body["total"]) == (1, 2, 6)
    assert sorted(services_called(gateway, "list_applications")) == [
        "workflow",
        GA,
        "workflow-ks-xzsp",
    ]
    call = gateway.rpc.calls_to(GA, "list_applications")[-1]
    assert (call["page"], call["page_size"], call["actor"]["user_id"]) == (1, 2, "u-1")


def test_a_later_page_of_the_merged_list(gateway):
    shared = [case(f"s-{n}", f"2026-11-{10 + 2 * n:02d}T09:00:00Z") for n in range(5)]
    ga = [case(f"js-ga.g-{n}", f"2026-11-{11 + 2 * n:02d}T09:00:00Z") for n in range(3)]

    def pages(rows):
        newest = sorted(rows, key=lambda row: row["submitted_at"], reverse=True)

        def answer(actor, page, page_size):
            start = (page - 1) * page_size
            return {
                "items": newest[start : start + page_size],
                "page": page,
                "page_size": page_size,
                "total": len(rows),
            }

        return answer

    gateway.rpc.answers[("workflow", "list_applications")] = pages(shared)
    gateway.rpc.answers[(GA, "list_applications")] = pages(ga)
    gateway.rpc.answers[("workflow-ks-xzsp", "list_applications")] = pages([])
    response = gateway.request(
        "GET", "/api/v1/applications", token=gateway.token(), params={"page": 2, "page_size": 3}
    )
    body = response.json()
    everything = sorted(shared + ga, key=lambda row: row["submitted_at"], reverse=True)
    assert [item["application_id"] for item in body["items"]] == [
        row["application_id"] for row in everything[3:6]
    ]
    assert body["total"] == 8


def test_my_licences_merge_every_instance(gateway):
    gateway.rpc.answers[("workflow", "list_licences")] = {
        "items": [{"licence_no": "JS32000020261120000001", "issued_at": "2026-11-20T09:00:00Z"}]
    }
    gateway.rpc.answers[(GA, "list_licences")] = {
        "items": [{"licence_no": GA_LICENCE, "issued_at": "2026-11-25T09:00:00Z"}]
    }
    gateway.rpc.answers[("workflow-ks-xzsp", "list_licences")] = {"items": []}
    response = gateway.request("GET", "/api/v1/licences", token=gateway.token())
    assert response.status_code == 200, response.text
    assert [lic["licence_no"] for lic in response.json()["items"]] == [
        GA_LICENCE,
        "JS32000020261120000001",
    ]


def test_an_instance_that_does_not_answer_fails_the_list(gateway):
    empty = {"items": [], "page": 1, "page_size": 20, "total": 0}
    gateway.rpc.answers[("workflow", "list_applications")] = empty
    gateway.rpc.answers[("workflow-ks-xzsp", "list_applications")] = empty
    gateway.rpc.answers[(GA, "list_applications")] = Timeout("workflow-js-ga did not answer")
    response = gateway.request("GET", "/api/v1/applications", token=gateway.token())
    assert response.status_code == 504, response.text


def test_every_worklist_spans_every_instance(gateway):
    gateway.rpc.answers[(GA, "worklist")] = {
        "items": [case(GA_CASE, "2026-11-25T09:00:00Z")],
        "total": 1,
    }
    gateway.rpc.answers[("workflow", "worklist")] = {
        "items": [case("joint-1", "2026-11-24T09:00:00Z")],
        "total": 1,
    }
    gateway.rpc.answers[("workflow-ks-xzsp", "worklist")] = {"items": [], "total": 0}
    token = gateway.token(kind="staff", roles=["approver"], dept="js-ga")
    response = gateway.request("GET", "/api/v1/worklist", token=token, params={"state": "accepted"})
    assert response.status_code == 200, response.text
    assert [item["application_id"] for item in response.json()["items"]] == [GA_CASE, "joint-1"]
    assert gateway.rpc.calls_to(GA, "worklist")[-1]["state"] == "accepted"
    # Staff of a department without its own instance may review a branch of a
    # department instance's case: every instance is asked.
    token = gateway.token(kind="staff", roles=["approver"], dept="js-amr")
    response = gateway.request("GET", "/api/v1/worklist", token=token)
    assert [item["application_id"] for item in response.json()["items"]] == [GA_CASE, "joint-1"]
    assert gateway.rpc.calls_to(GA, "worklist")[-1]["actor"]["department_code"] == "js-amr"


def escalation(application_id, level, raised_at):
    return {"application_id": application_id, "level": level, "raised_at": raised_at}


def test_escalations_span_every_instance_newest_first(gateway):
    gateway.rpc.answers[(GA, "list_escalations")] = {
        "items": [escalation(GA_CASE, "dept_admin", "2026-10-13T02:00:00Z")],
        "total": 1,
    }
    gateway.rpc.answers[("workflow", "list_escalations")] = {
        "items": [
            escalation(SHARED_CASE, "operator", "2026-10-15T02:00:00Z"),
            escalation(SHARED_CASE, "dept_admin", "2026-10-12T02:00:00Z"),
        ],
        "total": 2,
    }
    gateway.rpc.answers[("workflow-ks-xzsp", "list_escalations")] = {"items": [], "total": 0}
    admin = gateway.token(kind="staff", roles=["dept_admin"], dept="js-ga")
    response = gateway.request("GET", "/api/v1/escalations", token=admin)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert [(e["application_id"], e["level"]) for e in answer["items"]] == [
        (SHARED_CASE, "operator"),
        (GA_CASE, "dept_admin"),
        (SHARED_CASE, "dept_admin"),
    ]
    assert (answer["page"], answer["page_size"], answer["total"]) == (1, 20, 3)
    # A department's escalations may sit on any instance (a joint review's branch).
    assert sorted(services_called(gateway, "list_escalations")) == sorted(
        [GA, "workflow", "workflow-ks-xzsp"]
    )
    assert gateway.rpc.calls_to(GA, "list_escalations")[-1]["actor"]["department_code"] == "js-ga"

    # The operator's, with a level, from every instance.
    response = gateway.request(
        "GET",
        "/api/v1/escalations",
        token=gateway.token(kind="operator"),
        params={"level": "dept_admin", "page_size": "2"},
    )
    assert response.status_code == 200, response.text
    assert len(response.json()["items"]) == 2
    for instance in ("workflow", GA, "workflow-ks-xzsp"):
        assert gateway.rpc.calls_to(instance, "list_escalations")[-1]["level"] == "dept_admin"


def test_an_instance_the_gateway_does_not_know_is_503(gateway):
    gateway.rpc.answers[("catalog", "get_item")] = {
        "item_id": "i-9",
        "handled_by": "workflow-nj-rs",
    }
    body = {"item_id": "i-9", "delivery": {"mode": "online"}}
    response = gateway.request("POST", "/api/v1/applications", token=gateway.token(), json=body)
    assert response.status_code == 503, response.text
    assert "workflow-nj-rs" in response.json()["error"]["message"]
    assert "WORKFLOW_DEPARTMENTS" in response.json()["error"]["message"]
    # An id of an instance the gateway does not route to: no such case here.
    response = gateway.request(
        "GET", "/api/v1/applications/nj-rs.0123456789abcdef", token=gateway.token()
    )
    assert response.status_code == 404, response.text
    assert [c for c in gateway.rpc.calls if c[0].startswith("workflow")] == []


def test_without_department_instances_lists_ask_the_shared_one(start_gateway):
    gateway = start_gateway()
    gateway.rpc.answers[("workflow", "list_applications")] = {
        "items": [],
        "page": 3,
        "page_size": 5,
        "total": 0,
    }
    response = gateway.request(
        "GET", "/api/v1/applications", token=gateway.token(), params={"page": 3, "page_size": 5}
    )
    assert response.status_code == 200
    assert services_called(gateway, "list_applications") == ["workflow"]
    assert gateway.rpc.calls_to("workflow", "list_applications")[-1]["page"] == 3
    gateway.rpc.answers[("catalog", "get_item")] = {"item_id": "i-1", "handled_by": GA}
    body = {"item_id": "i-1", "delivery": {"mode": "online"}}
    response = gateway.request("POST", "/api/v1/applications", token=gateway.token(), json=body)
    assert response.status_code == 503


GA_USCC = "11320000MB0123456K"
NATIONAL = "1.2.156.3005.2.320000JSSCJG001.11320000MB0123456K.K7Q2M9X4TB8W.001.4"
CHECK = {
    "licence_no": NATIONAL,
    "valid": True,
    "failed": [],
    "checks": {
        "signature": "valid",
        "register": "found",
        "period": "current",
        "revocation": "not_revoked",
    },
}


def test_a_national_licence_number_goes_to_the_instance_of_its_issuer(gateway):
    gateway.rpc.answers[("catalog", "list_departments")] = {
        "items": [{"code": "js-ga", "region_code": "320000", "uscc": GA_USCC}]
    }
    gateway.rpc.answers[(GA, "verify_licence")] = CHECK
    response = gateway.request("GET", f"/api/v1/licences/{NATIONAL}/verify")
    assert response.status_code == 200, response.text
    assert services_called(gateway, "verify_licence") == [GA]

    gateway.rpc.answers[(GA, "verify_licence_document")] = CHECK
    document = {
        "licence": {"licence_no": NATIONAL},
        "signature": {"alg": "EdDSA", "kid": "k", "value": "AAAA"},
    }
    response = gateway.request("POST", "/api/v1/licences/verify", json={"document": document})
    assert response.status_code == 200, response.text
    assert services_called(gateway, "verify_licence_document") == [GA]
    # A number whose check character is wrong is no number (422), not a lookup.
    response = gateway.request("GET", f"/api/v1/licences/{NATIONAL[:-1]}5/verify")
    assert response.status_code == 422
    assert "licence_no" in response.json()["error"]["fields"]


def test_the_licence_jwks_merges_every_instances_keys(gateway):
    key = {"kty": "OKP", "crv": "Ed25519", "x": "AA", "kid": "k1", "use": "sig", "alg": "EdDSA"}
    other = {**key, "kid": "k2"}
    gateway.rpc.answers[("workflow", "licence_jwks")] = {"keys": [key]}
    gateway.rpc.answers[(GA, "licence_jwks")] = {"keys": [other, key]}
    gateway.rpc.answers[("workflow-ks-xzsp", "licence_jwks")] = {"keys": []}
    response = gateway.request("GET", "/api/v1/licences/jwks.json")
    assert response.status_code == 200, response.text
    assert [entry["kid"] for entry in response.json()["keys"]] == ["k1", "k2"]


def test_the_public_licence_checks_are_rate_limited_per_client(start_gateway):
    gateway = start_gateway(LICENCE_VERIFY_RATE_BURST="2", LICENCE_VERIFY_RATE_PER_SECOND="0.01")
    gateway.rpc.answers[("workflow", "verify_licence")] = {
        **CHECK,
        "licence_no": "JS32000020261125000001",
    }
    statuses = [
        gateway.request("GET", "/api/v1/licences/JS32000020261125000001/verify").status_code
        for _ in range(3)
    ]
    assert statuses == [200, 200, 429]
