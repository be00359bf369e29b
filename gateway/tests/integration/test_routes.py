"""Route by route: bad input is a 4xx naming the field; good input reaches the service."""

import json
import time

import pytest
from nameko.standalone.events import event_dispatcher

from gateway.tests.integration.conftest import EMS_SECRET
from services.common.ems_signature import signed_headers
from services.common.errors import NotFound
from services.common.messaging.envelope import make_envelope
from services.common.rpc import Timeout

ADDRESS = {
    "name": "张三",
    "phone": "13800000000",
    "province": "江苏省",
    "city": "南京市",
    "district": "玄武区",
    "street": "中山路 1 号",
    "postcode": "210000",
}

# (method, path, who, body or query, field expected in the error)
BAD_INPUT = [
    (
        "POST",
        "/api/v1/auth/register",
        None,
        {"phone": "12", "password": "abcd1234", "name": "x"},
        "phone",
    ),
    (
        "POST",
        "/api/v1/auth/register",
        None,
        {"phone": "13800000000", "password": "short", "name": "x"},
        "password",
    ),
    (
        "POST",
        "/api/v1/auth/register",
        None,
        {"phone": "13800000000", "password": "abcd1234"},
        "name",
    ),
    ("POST", "/api/v1/auth/login", None, {"phone": "13800000000"}, "password"),
    ("POST", "/api/v1/auth/refresh", None, {}, "refresh_token"),
    ("POST", "/api/v1/auth/refresh", None, {"refresh_token": 42}, "refresh_token"),
    ("POST", "/api/v1/auth/logout", "citizen", {"everything": True}, "everything"),
    ("POST", "/api/v1/me/real-name", "citizen", {"name": "张三", "id_number": "123"}, "id_number"),
    (
        "POST",
        "/api/v1/enterprises",
        "citizen",
        {"name": "x", "uscc": "IOZ", "legal_representative": "y"},
        "uscc",
    ),
    (
        "POST",
        "/api/v1/admin/staff",
        "operator",
        {
            "phone": "13800000000",
            "password": "abcd1234",
            "name": "x",
            "department_code": "d",
            "roles": [],
        },
        "roles",
    ),
    ("GET", "/api/v1/departments", None, {"region": "x" * 13}, "region"),
    ("GET", "/api/v1/items", None, {"page": "0"}, "page"),
    ("GET", "/api/v1/items", None, {"page_size": "101"}, "page_size"),
    ("GET", "/api/v1/items", None, {"level": "galaxy"}, "level"),
    ("GET", "/api/v1/items", None, {"mode": "pigeon"}, "mode"),
    ("GET", "/api/v1/items", None, {"colour": "red"}, "colour"),
    (
        "POST",
        "/api/v1/items",
        "dept_admin",
        {
            "code": "c",
            "name": "n",
            "department_code": "d",
            "region_code": "320000",
            "level": "planet",
        },
        "level",
    ),
    ("POST", "/api/v1/items", "dept_admin", {"name": "n"}, "basic_code"),
    ("POST", "/api/v1/items", "dept_admin", {"basic_code": "12345"}, "basic_code"),
    ("POST", "/api/v1/catalogue/basic", "dept_admin", {"name": "n"}, "basic_code"),
    ("PUT", "/api/v1/catalogue/basic/000117001000", "dept_admin", {"type": "99"}, "type"),
    ("PUT", "/api/v1/items/i-1", "dept_admin", {"legal_basis": ["法"]}, "legal_basis.0"),
    ("PUT", "/api/v1/items/i-1", "dept_admin", {"promised_days": "5"}, "promised_days"),
    ("PUT", "/api/v1/items/i-1", "dept_admin", {"code": "cannot change"}, "code"),
    ("POST", "/api/v1/items/i-1/publish", "dept_admin", {"now": True}, "now"),
    ("POST", "/api/v1/items/i-1/retire", "dept_admin", {"now": True}, "now"),
    ("POST", "/api/v1/applications", "citizen", {"item_id": "i-1"}, "delivery"),
    (
        "POST",
        "/api/v1/applications",
        "citizen",
        {"item_id": "i-1", "delivery": {"mode": "express"}},
        "delivery.address",
    ),
    (
        "POST",
        "/api/v1/applications",
        "citizen",
        {"item_id": "i-1", "delivery": {"mode": "express", "address": dict(ADDRESS, phone="x")}},
        "delivery.address.phone",
    ),
    (
        "POST",
        "/api/v1/applications",
        "citizen",
        {"item_id": "i-1", "delivery": {"mode": "drone"}},
        "delivery.mode",
    ),
    (
        "POST",
        "/api/v1/applications",
        "citizen",
        {"item_id": "i-1", "delivery": {"mode": "online"}, "materials": [{"copies": 1}]},
        "materials.0.name",
    ),
    ("GET", "/api/v1/applications", "citizen", {"page": "-1"}, "page"),
    ("POST", "/api/v1/applications/a-1/withdraw", "citizen", {"reason": "x"}, "reason"),
    ("POST", "/api/v1/applications/a-1/supplement", "citizen", {"materials": []}, "materials"),
    ("POST", "/api/v1/applications/a-1/redelivery", "citizen", {"choice": "drone"}, "choice"),
    (
        "POST",
        "/api/v1/applications/a-1/redelivery",
        "citizen",
        {"choice": "reship_materials", "address": dict(ADDRESS, postcode="2100")},
        "address.postcode",
    ),
    ("POST", "/api/v1/applications/a-1/handover", "window_clerk", {"comment": 1}, "comment"),
    ("GET", "/api/v1/worklist", "window_clerk", {"state": "sleeping"}, "state"),
    ("GET", "/api/v1/escalations", "dept_admin", {"level": "mayor"}, "level"),
    ("GET", "/api/v1/escalations", "operator", {"page_size": "101"}, "page_size"),
    ("POST", "/api/v1/applications/a-1/actions", "approver", {"action": "shrug"}, "action"),
    ("GET", "/api/v1/shipments", "citizen", {}, "application_id"),
    ("POST", "/api/v1/applications/a-1/review", "citizen", {"grade": "5"}, "grade"),
    ("POST", "/api/v1/applications/a-1/review", "citizen", {"grade": 5.0}, "grade"),
    ("POST", "/api/v1/applications/a-1/review", "citizen", {"grade": True}, "grade"),
    ("POST", "/api/v1/applications/a-1/review", "citizen", {"grade": 6}, "grade"),
    ("GET", "/api/v1/stores/s-1/reviews", None, {"page_size": "0"}, "page_size"),
    ("GET", "/api/v1/stats/ratings", None, {"dept": "x"}, "dept"),
    ("GET", "/api/v1/rectifications", "window_clerk", {"page": "x"}, "page"),
    ("POST", "/api/v1/rectifications/r-1/resolve", "dept_admin", {"comment": " "}, "comment"),
]

TOKENS = {
    None: None,
    "citizen": {"kind": "citizen"},
    "operator": {"kind": "operator"},
    "dept_admin": {"kind": "staff", "roles": ["dept_admin"], "dept": "js-gat"},
    "approver": {"kind": "staff", "roles": ["approver"], "dept": "js-gat"},
    "window_clerk": {"kind": "staff", "roles": ["window_clerk"], "dept": "js-gat"},
}


@pytest.mark.parametrize(("method", "path", "who", "data", "field"), BAD_INPUT)
def test_bad_input_is_4xx_naming_the_field(gateway, method, path, who, data, field):
    claims = TOKENS[who]
    token = gateway.token(**claims) if claims else None
    if method == "GET":
        response = gateway.request(method, path, token=token, params=data)
    else:
        response = gateway.request(method, path, token=token, json=data)
    assert 400 <= response.status_code < 500, response.text
    assert response.status_code == 422
    assert field in response.json()["error"]["fields"], response.json()
    assert gateway.rpc.request_calls == []


# --------------------------------------------------------------------- commands


def test_submit_goes_to_the_instance_the_guide_names(start_gateway):
    gateway = start_gateway(WORKFLOW_DEPARTMENTS="js-gat")
    gateway.rpc.answers[("catalog", "get_item")] = {
        "item_id": "i-1",
        "handled_by": "workflow-js-gat",
    }
    submitted = {"application_id": "a-1", "state": "submitted", "due_date": "2026-12-09"}
    gateway.rpc.answers[("workflow-js-gat", "submit_application")] = submitted
    body = {"item_id": "i-1", "delivery": {"mode": "express", "address": ADDRESS}}
    response = gateway.request("POST", "/api/v1/applications", token=gateway.token(), json=body)
    assert response.status_code == 201, response.text
    # The service's answer is the contract's: forwarded as it is.
    assert response.json() == submitted
    # The body as the client sent it, the actor from the token; workflow loads it
    # again with the same schema (form and materials default to empty there).
    call = gateway.rpc.calls_to("workflow-js-gat", "submit_application")[-1]
    call.pop("correlation_id")
    assert call.pop("actor")["user_id"] == "u-1"
    # A key of the gateway's own when the client sent none.
    assert len(call.pop("idempotency_key")) == 32
    assert call == body


def test_a_submit_carries_the_clients_idempotency_key(start_gateway):
    gateway = start_gateway()
    gateway.rpc.answers[("catalog", "get_item")] = {"item_id": "i-1", "handled_by": "workflow"}
    gateway.rpc.answers[("workflow", "submit_application")] = {
        "application_id": "a-1",
        "state": "submitted",
        "due_date": "2026-12-09",
    }
    body = {"item_id": "i-1", "delivery": {"mode": "online"}}
    headers = {"Idempotency-Key": "order-2026-0001"}
    for _ in range(2):
        response = gateway.request(
            "POST", "/api/v1/applications", token=gateway.token(), json=body, headers=headers
        )
        assert response.status_code == 201, response.text
    calls = gateway.rpc.calls_to("workflow", "submit_application")
    assert [call["idempotency_key"] for call in calls] == ["order-2026-0001"] * 2
    response = gateway.request(
        "POST",
        "/api/v1/applications",
        token=gateway.token(),
        json=body,
        headers={"Idempotency-Key": "has spaces"},
    )
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {"Idempotency-Key"}


def test_a_draft_guide_is_asked_for_its_viewer_and_never_cached(gateway):
    def get_item(item_id, actor):
        # catalog's rule: a draft for its department's staff only
        if actor is None or actor.get("department_code") != "sz-amr":
            raise NotFound(f"no item {item_id}", {"item_id": "unknown item"})
        return {"item_id": item_id, "status": "draft"}

    gateway.rpc.answers[("catalog", "get_item")] = get_item
    assert gateway.request("GET", "/api/v1/items/i-draft").status_code == 404
    own = gateway.token(kind="staff", roles=["window_clerk"], dept="sz-amr")
    for _ in range(2):
        response = gateway.request("GET", "/api/v1/items/i-draft", token=own)
        assert response.status_code == 200, response.text
    other = gateway.token(kind="staff", roles=["dept_admin"], dept="nj-amr")
    assert gateway.request("GET", "/api/v1/items/i-draft", token=other).status_code == 404
    assert gateway.request("GET", "/api/v1/items/i-draft").status_code == 404
    viewers = [call["actor"] for call in gateway.rpc.calls_to("catalog", "get_item")]
    # the public view first each time (nothing cached), then the viewer's
    assert [None if v is None else v["department_code"] for v in viewers] == [
        None,
        None,
        "sz-amr",
        None,
        "sz-amr",
        None,
        "nj-amr",
        None,
    ]


def test_submit_for_an_unknown_item_is_404(gateway):
    gateway.rpc.answers[("catalog", "get_item")] = NotFound("no item i-404")
    body = {"item_id": "i-404", "delivery": {"mode": "online"}}
    response = gateway.request("POST", "/api/v1/applications", token=gateway.token(), json=body)
    assert response.status_code == 404


def test_review_is_201_and_passes_the_grade(gateway):
    gateway.rpc.answers[("ratings", "submit_review")] = {"review_id": "r-1"}
    response = gateway.request(
        "POST",
        "/api/v1/applications/a-1/review",
        token=gateway.token(),
        json={"grade": 5, "comment": "好"},
    )
    assert response.status_code == 201 and response.json() == {"review_id": "r-1"}
    call = gateway.rpc.calls_to("ratings", "submit_review")[-1]
    assert (call["application_id"], call["grade"], call["comment"]) == ("a-1", 5, "好")


def test_worklist_forwards_the_loaded_query(gateway):
    page = {"items": [], "page": 2, "page_size": 20, "total": 0}
    gateway.rpc.answers[("workflow", "worklist")] = page
    token = gateway.token(kind="staff", roles=["window_clerk"], dept="js-gat")
    response = gateway.request("GET", "/api/v1/worklist", token=token, params={"page": "2"})
    assert response.status_code == 200
    assert response.json() == page
    call = gateway.rpc.calls_to("workflow", "worklist")[-1]
    assert (call["page"], call["page_size"]) == (2, 20) and "state" not in call


@pytest.mark.parametrize(
    ("who", "query"),
    [("dept_admin", {}), ("dept_admin", {"level": "operator"}), ("operator", {"page": "3"})],
)
def test_escalations_forward_the_loaded_query_and_the_actor(gateway, who, query):
    page = {"items": [], "page": 1, "page_size": 20, "total": 0}
    gateway.rpc.answers[("workflow", "list_escalations")] = page
    response = gateway.request(
        "GET", "/api/v1/escalations", token=gateway.token(**TOKENS[who]), params=query
    )
    assert response.status_code == 200, response.text
    assert response.json() == page
    call = gateway.rpc.calls_to("workflow", "list_escalations")[-1]
    assert call["actor"]["kind"] == TOKENS[who]["kind"]
    assert call["page"] == int(query.get("page", 1)) and call["page_size"] == 20
    assert call.get("level") == query.get("level")


@pytest.mark.parametrize("who", ["approver", "window_clerk"])
def test_escalations_are_refused_to_staff_who_are_not_admins(gateway, who):
    response = gateway.request("GET", "/api/v1/escalations", token=gateway.token(**TOKENS[who]))
    assert response.status_code == 403
    assert gateway.rpc.calls_to("workflow", "list_escalations") == []


def test_rpc_timeout_is_504(gateway):
    gateway.rpc.answers[("identity", "get_profile")] = Timeout("identity did not answer within 5s")
    response = gateway.request("GET", "/api/v1/me", token=gateway.token())
    assert response.status_code == 504
    assert response.json()["error"]["code"] == "timeout"


def test_register_is_201(gateway):
    gateway.rpc.answers[("identity", "register")] = {"user_id": "u-new"}
    body = {"phone": "13800000000", "password": "abcd1234", "name": "张三"}
    response = gateway.request("POST", "/api/v1/auth/register", json=body)
    assert response.status_code == 201 and response.json() == {"user_id": "u-new"}
    assert gateway.rpc.calls_to("identity", "register")[-1]["password"] == "abcd1234"


# --------------------------------------------------------------------- webhook


def ems_body(**overrides) -> bytes:
    event = {
        "tracking_no": "EA123456789CN",
        "status": "delivered",
        "occurred_at": "2026-11-25T08:00:00Z",
        "location": "南京",
        "description": "已签收",
        "reference": "ems-evt-1",
    }
    event.update(overrides)
    return json.dumps(event, ensure_ascii=False).encode("utf-8")


def test_signed_webhook_is_recorded(gateway):
    body = ems_body()
    headers = dict(
        signed_headers(EMS_SECRET.encode(), body), **{"Content-Type": "application/json"}
    )
    response = gateway.request("POST", "/api/v1/webhooks/ems", data=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok"}
    call = gateway.rpc.calls_to("courier", "record_ems_event")[-1]
    call.pop("correlation_id")
    assert call == {
        "tracking_no": "EA123456789CN",
        "status": "delivered",
        "occurred_at": "2026-11-25T08:00:00Z",
        "location": "南京",
        "description": "已签收",
        "reference": "ems-evt-1",
    }


@pytest.mark.parametrize(
    "headers_for",
    [
        lambda body: {},
        lambda body: signed_headers(b"wrong-secret", body),
        lambda body: signed_headers(EMS_SECRET.encode(), body, now=time.time() - 3600),
        lambda body: signed_headers(EMS_SECRET.encode(), body + b" "),
        lambda body: {"X-EMS-Timestamp": str(int(time.time())), "X-EMS-Signature": "signé"},
    ],
    ids=["missing", "wrong-secret", "stale", "other-body", "non-ascii"],
)
def test_unsigned_or_badly_signed_webhook_is_401(gateway, headers_for):
    body = ems_body()
    response = gateway.request("POST", "/api/v1/webhooks/ems", data=body, headers=headers_for(body))
    assert response.status_code == 401
    assert gateway.rpc.calls_to("courier", "record_ems_event") == []


def test_signed_webhook_with_a_bad_status_is_422(gateway):
    body = ems_body(status="teleported")
    response = gateway.request(
        "POST", "/api/v1/webhooks/ems", data=body, headers=signed_headers(EMS_SECRET.encode(), body)
    )
    assert response.status_code == 422
    assert "status" in response.json()["error"]["fields"]


# --------------------------------------------------------------------- cache


def test_catalogue_reads_are_cached_per_query(gateway):
    gateway.rpc.answers[("catalog", "search_items")] = {
        "items": [],
        "page": 1,
        "page_size": 20,
        "total": 0,
    }
    for _ in range(3):
        assert gateway.request("GET", "/api/v1/items", params={"q": "护照"}).status_code == 200
    assert len(gateway.rpc.calls_to("catalog", "search_items")) == 1
    gateway.request("GET", "/api/v1/items", params={"q": "护照", "page": 2})
    assert len(gateway.rpc.calls_to("catalog", "search_items")) == 2
    assert gateway.rpc.calls_to("catalog", "search_items")[-1]["page"] == 2


@pytest.mark.parametrize(
    ("source", "event_type", "payload", "path", "service", "method"),
    [
        (
            "catalog",
            "item_published",
            {"item_id": "i-1"},
            "/api/v1/items/i-1",
            "catalog",
            "get_item",
        ),
        ("catalog", "item_retired", {"item_id": "i-1"}, "/api/v1/items", "catalog", "search_items"),
        (
            "catalog",
            "store_rating_updated",
            {"store_id": "s-1"},
            "/api/v1/stores/s-1",
            "catalog",
            "get_store",
        ),
        (
            "catalog",
            "store_rating_updated",
            {"store_id": "s-1"},
            "/api/v1/stores",
            "catalog",
            "list_stores",
        ),
        (
            "ratings",
            "review_submitted",
            {"store_id": "s-1"},
            "/api/v1/stores/s-1/reviews",
            "ratings",
            "list_store_reviews",
        ),
    ],
)
def test_an_event_clears_the_cached_answer(
    gateway, amqp_uri, source, event_type, payload, path, service, method
):
    gateway.rpc.answers[(service, method)] = lambda **kwargs: (
        {"items": []} if "items" in path else []
    )
    assert gateway.request("GET", path).status_code == 200
    assert gateway.request("GET", path).status_code == 200
    assert len(gateway.rpc.calls_to(service, method)) == 1
    dispatch = event_dispatcher({"AMQP_URI": amqp_uri})
    dispatch(source, event_type, make_envelope(source, event_type, payload))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        gateway.request("GET", path)
        if len(gateway.rpc.calls_to(service, method)) == 2:
            break
        time.sleep(0.05)
    assert len(gateway.rpc.calls_to(service, method)) == 2


def test_store_reviews_are_cached_per_store(gateway):
    gateway.rpc.answers[("ratings", "list_store_reviews")] = {
        "items": [],
        "page": 1,
        "page_size": 20,
        "total": 0,
    }
    gateway.request("GET", "/api/v1/stores/s-1/reviews")
    gateway.request("GET", "/api/v1/stores/s-1/reviews")
    gateway.request("GET", "/api/v1/stores/s-2/reviews")
    stores = [c["store_id"] for c in gateway.rpc.calls_to("ratings", "list_store_reviews")]
    assert stores == ["s-1", "s-2"]
