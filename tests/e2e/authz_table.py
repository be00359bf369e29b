"""Who may call what: the gateway's authorisation matrix, as data.

Every route of the gateway (method and path template as /openapi.json names
them) maps to one or more probes. A probe is one request (built against the
shared objects of :class:`World`) and, for every kind of caller, the outcome
the API's design intends:

- ``OK``: allowed. A 2xx, or a 4xx other than 401, 403 and 404: the request
  passed authorisation and was refused for its (deliberately minimal) body or
  for the object's state (409, 422). Mutating probes send bodies that the
  owning service refuses after its authorisation check where one exists, so the
  shared objects survive; where a probe must change something, it works on a
  fresh object and the allowed callers go last.
- ``E401``: no or a bad bearer token.
- ``E403``: signed in, but the role or kind may not do this (function level),
  or the object is one the caller sees but may not act on.
- ``E404``: the object is hidden from this caller (object level): it answers
  as if the object did not exist.

A list route may also say who must (and so who must not) find an object in its
answer (``Probe.finds``): department Y's worklist must not hold department X's
case, nor citizen B's list citizen A's licence.

The callers: anonymous; citizens A and B (real-name verified); a window clerk,
an approver and a dept_admin of department X (js-amr) and of department Y
(js-jt), each with that one role; two service centre agents (js-zwfw, role
agent), one mandated by citizen A and by A's enterprise, one mandated by
nobody; the operator.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property

import requests
from requests.adapters import HTTPAdapter

from services.common import ems_signature
from services.identity.domain.uscc import USCC_ALPHABET, uscc_check_char
from tests.e2e.approvals import id_number
from tests.e2e.test_journey import ADDRESS, eventually, new_phone
from tests.e2e.test_journey import OPERATOR as OPERATOR_LOGIN

# ------------------------------------------------------------------ callers

ANON = "anonymous"
A = "citizen_a"
B = "citizen_b"
CLERK_X, APPROVER_X, ADMIN_X = "clerk_x", "approver_x", "admin_x"
CLERK_Y, APPROVER_Y, ADMIN_Y = "clerk_y", "approver_y", "admin_y"
AGENT = "agent_mandated"
NO_AGENT = "agent_unmandated"
OPERATOR = "operator"

CALLERS = (
    ANON,
    A,
    B,
    CLERK_X,
    APPROVER_X,
    ADMIN_X,
    CLERK_Y,
    APPROVER_Y,
    ADMIN_Y,
    AGENT,
    NO_AGENT,
    OPERATOR,
)
X_STAFF = (CLERK_X, APPROVER_X, ADMIN_X)
Y_STAFF = (CLERK_Y, APPROVER_Y, ADMIN_Y)
AGENTS = (AGENT, NO_AGENT)
STAFF = (*X_STAFF, *Y_STAFF, *AGENTS)

X, Y = "js-amr", "js-jt"  # 江苏省市场监督管理局, 江苏省交通运输厅
SERVICE_CENTRE = "js-zwfw"
FOREIGN_FIRM = "320000-JSSCJG-004"  # js-amr: accept, then register; online, express, window
PASSWORD = "Secret2026"

# ----------------------------------------------------------------- outcomes

OK, E401, E403, E404 = "allowed", "401", "403", "404"


def outcome_of(status: int) -> str:
    """The class of an answer's status; 5xx and 429 are their own (always wrong)."""
    if status in (401, 403, 404):
        return str(status)
    if 200 <= status < 300 or 400 <= status < 500 and status != 429:
        return OK
    return f"status {status}"


def public() -> dict[str, str]:
    """Anyone, signed in or not."""
    return {caller: OK for caller in CALLERS}


def signed_in(**overrides: str) -> dict[str, str]:
    """Any signed-in caller (anonymous 401), but for ``overrides`` (caller=outcome)."""
    table = {caller: OK for caller in CALLERS}
    table[ANON] = E401
    return _merged(table, overrides)


def allow(*allowed: str, others: str = E403, **overrides: str) -> dict[str, str]:
    """``allowed`` callers, anonymous 401, everyone else ``others``, but for
    ``overrides``."""
    table = {caller: (OK if caller in allowed else others) for caller in CALLERS}
    table[ANON] = E401
    return _merged(table, overrides)


def _merged(table: dict[str, str], overrides: dict[str, str]) -> dict[str, str]:
    unknown = set(overrides) - set(CALLERS)
    assert not unknown, f"unknown callers {unknown}"
    return {**table, **overrides}


def each(callers, outcome: str) -> dict[str, str]:
    """``{caller: outcome}`` for several callers, to spread into overrides."""
    return {caller: outcome for caller in callers}


OPERATOR_ONLY = allow(OPERATOR)


# ----------------------------------------------------------------- requests


@dataclass
class Req:
    """What every caller of a probe sends (the bearer token is the caller's)."""

    path: str
    json: dict | None = None
    params: dict | None = None
    headers: dict | None = None
    data: bytes | None = None
    stream: bool = False


@dataclass
class Probe:
    """One request and the outcome for each caller.

    ``build(world)`` is called once per probe (it may make fresh objects);
    ``finds`` pairs ``(present(world, body) -> bool, callers that must find
    it)``: every other allowed caller must not. ``afterwards(world)`` runs
    after the callers and returns a list of problems."""

    expect: dict[str, str]
    build: Callable[[World], Req]
    finds: list[tuple[Callable[[World, dict], bool], tuple[str, ...]]] = field(default_factory=list)
    afterwards: Callable[[World], list[str]] | None = None


# ------------------------------------------------------------------- world


class FromAddress(HTTPAdapter):
    """Connections from one loopback address: each caller is a client of its
    own, as it would be, so the per-address limits of the sign-in routes are
    not shared by all of them."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


class Caller:
    """A signed-in account (or nobody: ``token`` None) with its own HTTP session
    from its own loopback address (``address``, when the gateway listens on
    loopback)."""

    def __init__(self, name: str, base_url: str, address: str | None = None):
        self.name = name
        self.base_url = base_url
        self.session = requests.Session()
        if address is not None and "//127." in base_url:
            self.session.mount("http://", FromAddress(address))
        self.token: str | None = None
        self.phone: str | None = None
        self.password: str | None = None
        self.user_id: str | None = None

    def send(
        self,
        method: str,
        path: str,
        *,
        token=...,
        json_body=None,
        params=None,
        headers=None,
        data=None,
        stream=False,
    ) -> requests.Response:
        """The answer, after waiting out rate limits (429 with Retry-After)."""
        token = self.token if token is ... else token
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        for _ in range(30):
            response = self.session.request(
                method,
                self.base_url + path,
                json=json_body,
                params=params,
                headers=sent,
                data=data,
                stream=stream,
                timeout=15,
            )
            if response.status_code != 429:
                return response
            response.close()
            time.sleep(min(5.0, float(response.headers.get("Retry-After", "1"))))
        raise AssertionError(f"{method} {path} stayed rate limited")

    def ok(self, method: str, path: str, expect: int = 200, **kwargs) -> dict:
        response = self.send(method, path, **kwargs)
        assert response.status_code == expect, (method, path, response.status_code, response.text)
        return response.json() if response.content else {}

    def login(self) -> str:
        answer = self.ok(
            "POST",
            "/api/v1/auth/login",
            token=None,
            json_body={"phone": self.phone, "password": self.password},
        )
        return answer["access_token"]


def new_uscc() -> str:
    first17 = "91320102" + "".join(random.choice(USCC_ALPHABET) for _ in range(9))
    return first17 + uscc_check_char(first17)


def in_a_month() -> str:
    return (date.today() + timedelta(days=30)).isoformat()


class World:
    """The callers and the objects the probes act on, made once for the module.

    Objects of citizen A: a submitted case (``case_main``), a case an agent
    applied for A (``case_agent``), a completed case with its licence, a
    rejected case A rated 1 (the review, its rectification for X, and X's
    appeal against it), an express case with its EMS pickup, an enterprise
    with a member and a mandate. Of department X: a published item with its
    store, a basic item and a draft item implementing it.
    """

    def __init__(self, cluster):
        self.base = cluster.gateway_url
        gateway = next(p for p in cluster.processes if p.name == "gateway")
        self.ems_secret = gateway.env.get("EMS_WEBHOOK_SECRET") or "dev-ems-webhook-secret"
        self.payment_secret = (
            gateway.env.get("PAYMENT_WEBHOOK_SECRET") or "dev-payment-webhook-secret"
        )
        self.callers = {
            name: Caller(name, self.base, f"127.0.0.{101 + number}")
            for number, name in enumerate(CALLERS)
        }
        self._make_people()
        self._make_catalogue()
        self._make_cases()

    def __getitem__(self, name: str) -> Caller:
        return self.callers[name]

    # -- people

    def _make_people(self) -> None:
        ops = self[OPERATOR]
        ops.phone, ops.password = OPERATOR_LOGIN["phone"], OPERATOR_LOGIN["password"]
        ops.token = ops.login()
        for name, department, role in (
            (CLERK_X, X, "window_clerk"),
            (APPROVER_X, X, "approver"),
            (ADMIN_X, X, "dept_admin"),
            (CLERK_Y, Y, "window_clerk"),
            (APPROVER_Y, Y, "approver"),
            (ADMIN_Y, Y, "dept_admin"),
            (AGENT, SERVICE_CENTRE, "agent"),
            (NO_AGENT, SERVICE_CENTRE, "agent"),
        ):
            caller = self[name]
            caller.phone, caller.password = new_phone(), PASSWORD
            answer = ops.ok(
                "POST",
                "/api/v1/admin/staff",
                201,
                json_body={
                    "phone": caller.phone,
                    "password": PASSWORD,
                    "name": f"矩阵{name}",
                    "department_code": department,
                    "roles": [role],
                },
            )
            caller.user_id = answer["user_id"]
            caller.token = caller.login()
        for name in (A, B):
            self._citizen(self[name], "张三" if name == A else "李四")
        # A third citizen, never a caller: the enterprise's member and the
        # agent of spare mandates that probes revoke.
        self.member = Caller("member", self.base, "127.0.0.100")
        self._citizen(self.member, "王五")

    def _citizen(self, caller: Caller, name: str) -> None:
        caller.phone, caller.password = new_phone(), PASSWORD
        answer = caller.ok(
            "POST",
            "/api/v1/auth/register",
            201,
            token=None,
            json_body={"phone": caller.phone, "password": PASSWORD, "name": name},
        )
        caller.user_id = answer["user_id"]
        caller.token = caller.login()
        caller.ok(
            "POST", "/api/v1/me/real-name", json_body={"name": name, "id_number": id_number()}
        )

    # -- catalogue

    def _make_catalogue(self) -> None:
        anon = self[ANON]
        found = anon.ok("GET", "/api/v1/items", params={"q": FOREIGN_FIRM, "page_size": 100})
        [summary] = [entry for entry in found["items"] if entry["code"] == FOREIGN_FIRM]
        self.item = anon.ok("GET", f"/api/v1/items/{summary['item_id']}")
        self.item_id = self.item["item_id"]
        self.store_id = self.item["store_id"]
        admin = self[ADMIN_X]
        self.basic_code = "0001178" + "".join(random.choices("0123456789", k=5))
        admin.ok(
            "POST",
            "/api/v1/catalogue/basic",
            201,
            json_body={
                "basic_code": self.basic_code,
                "name": "授权矩阵测试事项",
                "type": "01",
                "legal_basis": [{"law": "《中华人民共和国行政许可法》", "article": "第十二条"}],
                "department_code": X,
            },
        )
        draft = admin.ok(
            "POST",
            "/api/v1/items",
            201,
            json_body={
                "basic_code": self.basic_code,
                "department_code": X,
                "modes": ["online"],
                "promised_days": 5,
                "statutory_days": 20,
                "materials": [{"name": "申请书", "necessity": "required", "copies": 1}],
            },
        )
        self.draft_id = draft["item_id"]
        zones = self[OPERATOR].ok("GET", "/api/v1/zones", params={"page_size": 100})
        self.zone_id = zones["items"][0]["zone_id"]
        self.year = self._loaded_year()

    def _loaded_year(self) -> int:
        ops = self[OPERATOR]
        for year in (date.today().year, date.today().year + 1, date.today().year - 1):
            if ops.send("GET", f"/api/v1/admin/calendar/{year}").status_code == 200:
                return year
        raise AssertionError("no working calendar is loaded for this year or the next")

    # -- cases

    def submit(self, applicant: str = A, mode: str = "online", on_behalf_of=None) -> str:
        delivery = {"mode": mode}
        if mode == "express":
            delivery["address"] = ADDRESS
        answer = self[applicant].ok(
            "POST",
            "/api/v1/applications",
            201,
            json_body={
                "item_id": self.item_id,
                "on_behalf_of": on_behalf_of,
                "form": {"purpose": "authorisation matrix"},
                "materials": [{"name": material["name"]} for material in self.item["materials"]],
                "delivery": delivery,
            },
        )
        return answer["application_id"]

    def act(self, worker: str, application_id: str, action: str, **body) -> dict:
        body.setdefault("comment", f"{action}: authorisation matrix")
        return self[worker].ok(
            "POST",
            f"/api/v1/applications/{application_id}/actions",
            json_body={"action": action, **body},
        )

    def _make_cases(self) -> None:
        a = self[A]
        # A's enterprise, its member, and mandates to the agent (A's own and
        # the enterprise's).
        self.uscc = new_uscc()
        a.ok(
            "POST",
            "/api/v1/enterprises",
            201,
            json_body={
                "name": f"矩阵测试{self.uscc[-4:]}有限公司",
                "uscc": self.uscc,
                "legal_representative": "张三",
            },
        )
        a.ok(
            "POST",
            f"/api/v1/enterprises/{self.uscc}/members",
            201,
            json_body={"user_id": self.member.user_id},
        )
        self.enterprise_mandate = self.grant_enterprise_mandate(self[AGENT].user_id)
        self.personal_mandate = self.grant_personal_mandate(self[AGENT].user_id)

        self.case_main = self.submit()
        self.case_agent = self.submit(AGENT, on_behalf_of={"kind": "person", "user_id": a.user_id})
        # Completed, with its licence.
        self.case_done = self.submit()
        self.act(CLERK_X, self.case_done, "accept")
        done = self.act(APPROVER_X, self.case_done, "approve")
        assert done["state"] == "completed" and done["licence_no"], done
        self.licence_no = done["licence_no"]
        self.licence_document = a.ok("GET", f"/api/v1/licences/{self.licence_no}")
        assert "document" in self.licence_document, self.licence_document
        # Rejected and rated 1: a review, a rectification for X, an appeal.
        self.case_rated = self.submit()
        self.act(CLERK_X, self.case_rated, "reject", comment="材料不齐")
        self.express_case = self.submit(mode="express")
        self.review_id = eventually(
            lambda: self._review(self.case_rated, grade=1),
            timeout=30,
            what="ratings to know the rejected case",
        )
        rectifications = self[OPERATOR].ok(
            "GET", "/api/v1/rectifications", params={"page_size": 100}
        )["items"]
        [self.rectification_id] = [
            entry["rectification_id"]
            for entry in rectifications
            if entry["review_id"] == self.review_id
        ]
        self.appeal_id = self[ADMIN_X].ok(
            "POST",
            f"/api/v1/reviews/{self.review_id}/appeal",
            201,
            json_body={"reason": "评价与办件事实不符"},
        )["appeal_id"]
        self.tracking_no = eventually(
            self._tracking_no, timeout=30, what="the express case's EMS pickup"
        )

    def _review(self, application_id: str, grade: int) -> str | None:
        response = self[A].send(
            "POST",
            f"/api/v1/applications/{application_id}/review",
            json_body={"grade": grade, "comment": "办理太慢"},
        )
        if response.status_code == 409:
            return None
        assert response.status_code == 201, response.text
        return response.json()["review_id"]

    def _tracking_no(self) -> str | None:
        shipments = self[A].ok(
            "GET", "/api/v1/shipments", params={"application_id": self.express_case}
        )["items"]
        return next((s["tracking_no"] for s in shipments if s.get("tracking_no")), None)

    # -- fresh objects, for probes that change what they act on

    def grant_enterprise_mandate(self, agent_user_id: str) -> str:
        return self[A].ok(
            "POST",
            f"/api/v1/enterprises/{self.uscc}/mandates",
            201,
            json_body={"agent_user_id": agent_user_id, "expires_on": in_a_month()},
        )["mandate_id"]

    def grant_personal_mandate(self, agent_user_id: str) -> str:
        return self[A].ok(
            "POST",
            "/api/v1/me/mandates",
            201,
            json_body={"agent_user_id": agent_user_id, "expires_on": in_a_month()},
        )["mandate_id"]

    def fresh_member(self) -> str:
        """A (the owner) adds the member again after a probe removed them."""
        response = self[A].send(
            "POST",
            f"/api/v1/enterprises/{self.uscc}/members",
            json_body={"user_id": self.member.user_id},
        )
        assert response.status_code in (201, 409), response.text
        return self.member.user_id

    def accepted_case(self) -> str:
        application_id = self.submit()
        self.act(CLERK_X, application_id, "accept")
        return application_id

    def suspension(self) -> tuple[str, str]:
        application_id = self.accepted_case()
        answer = self[CLERK_X].ok(
            "POST",
            f"/api/v1/applications/{application_id}/suspensions",
            201,
            json_body={"kind": "hearing", "reason": "申请人申请听证"},
        )
        return application_id, answer["suspension_id"]

    def fresh_licence(self) -> str:
        application_id = self.accepted_case()
        return self.act(APPROVER_X, application_id, "approve")["licence_no"]

    def fresh_oidc_client(self) -> str:
        """A department system of X, registered by the operator."""
        return self[OPERATOR].ok(
            "POST",
            "/api/v1/admin/oidc-clients",
            201,
            json_body={
                "name": "授权矩阵测试系统",
                "department_code": X,
                "redirect_uris": ["http://127.0.0.1:9/callback"],
            },
        )["client_id"]

    @cached_property
    def oidc_client_id(self) -> str:
        return self.fresh_oidc_client()

    # -- signed webhooks

    def signed(self, secret: str, body: dict, prefix: str = "EMS") -> tuple[bytes, dict]:
        raw = json.dumps(body).encode("utf-8")
        headers = ems_signature.signed_headers(secret.encode("utf-8"), raw)
        if prefix != "EMS":
            headers = {
                "X-Payment-Timestamp": headers[ems_signature.TIMESTAMP_HEADER],
                "X-Payment-Signature": headers[ems_signature.SIGNATURE_HEADER],
            }
        return raw, {**headers, "Content-Type": "application/json"}

    @cached_property
    def own_zone(self) -> str:
        """A zone of the Jiangning committee of this module's own, to record
        reports on (the demo zone's are counted elsewhere)."""
        code = "320115-ZAUTHZ" + "".join(random.choices("0123456789", k=6))
        return self[OPERATOR].ok(
            "POST",
            "/api/v1/zones",
            201,
            json_body={
                "code": code,
                "name": "授权矩阵测试园区",
                "committee_department_code": "jn-kfq",
            },
        )["zone_id"]

    @cached_property
    def today(self) -> str:
        return date.today().isoformat()


# ------------------------------------------------------------- list checks


def has_case(attribute: str):
    return lambda w, body: any(
        entry.get("application_id") == getattr(w, attribute) for entry in body.get("items", [])
    )


def has(key: str, attribute: str):
    return lambda w, body: any(
        entry.get(key) == getattr(w, attribute) for entry in body.get("items", [])
    )


def unsigned_webhook_is_refused(path: str):
    """A bearer token is no substitute for the signature: 401 for everyone."""

    def check(w: World) -> list[str]:
        problems = []
        for name in (ANON, OPERATOR):
            response = w[name].send("POST", path, json_body={"tracking_no": "x"})
            if response.status_code != 401:
                problems.append(f"{name} unsigned {path}: {response.status_code}")
        return problems

    return check


# ------------------------------------------------------------------ routes

APP = "/api/v1/applications/{application_id}"
OIDC_CLIENT = "/api/v1/admin/oidc-clients/{client_id}"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
ENT = "/api/v1/enterprises/{uscc}"
RECT = "/api/v1/rectifications/{rectification_id}"

# Who sees A's own case: A, the staff of X (its department), the operator.
CASE_READERS = signed_in(**each((B, *Y_STAFF, *AGENTS), E404))
# What the applicant's side may do to A's case: A; X's staff and the operator
# see the case but may not act for the applicant; the rest do not see it.
APPLICANT_ONLY = signed_in(**each((B, *Y_STAFF, *AGENTS), E404), **each((*X_STAFF, OPERATOR), E403))
# A rectification of X: acted on by X's window clerk and dept_admin, and the
# operator; staff of other departments may not.
RECTIFIERS = allow(CLERK_X, ADMIN_X, OPERATOR)


def _app(attribute: str, suffix: str = "", **kwargs):
    return lambda w: Req(f"/api/v1/applications/{getattr(w, attribute)}{suffix}", **kwargs)


def _fresh_app(make: str, suffix: str, **kwargs):
    return lambda w: Req(f"/api/v1/applications/{getattr(w, make)()}{suffix}", **kwargs)


def _end_suspension(w: World) -> Req:
    application_id, suspension_id = w.suspension()
    return Req(
        f"/api/v1/applications/{application_id}/suspensions/{suspension_id}/end",
        json={"result": "听证结束"},
    )


def _ems_webhook(w: World) -> Req:
    # Signed, but not a valid scan: refused as input, after the signature,
    # whoever sends it (a bearer token neither helps nor hurts).
    raw, headers = w.signed(
        w.ems_secret, {"tracking_no": "0", "status": "nonsense", "occurred_at": "never"}
    )
    return Req("/api/v1/webhooks/ems", data=raw, headers=headers)


def _payment_webhook(w: World) -> Req:
    raw, headers = w.signed(w.payment_secret, {"event": "nonsense"}, prefix="Payment")
    return Req("/api/v1/webhooks/payment", data=raw, headers=headers)


def _oidc_clients(w: World) -> Req:
    # X's department system is registered before anyone lists them.
    assert w.oidc_client_id
    return Req("/api/v1/admin/oidc-clients", params={"page_size": 100})


MATERIALS = {"materials": [{"name": "补正材料"}]}
BAD_DEFINITION = {"definition": {"steps": [{"id": "together", "kind": "parallel"}]}}

TABLE: dict[tuple[str, str], list[Probe]] = {
    # ------------------------------------------------------------ identity
    ("POST", "/api/v1/auth/register"): [
        Probe(public(), lambda w: Req("/api/v1/auth/register", json={"phone": "1"}))
    ],
    ("POST", "/api/v1/auth/login"): [
        # A body that never reaches identity: no failed login is counted.
        Probe(public(), lambda w: Req("/api/v1/auth/login", json={"phone": "1"}))
    ],
    ("POST", "/api/v1/auth/refresh"): [
        Probe(public(), lambda w: Req("/api/v1/auth/refresh", json={}))
    ],
    ("GET", "/.well-known/jwks.json"): [Probe(public(), lambda w: Req("/.well-known/jwks.json"))],
    ("GET", "/api/v1/me"): [Probe(signed_in(), lambda w: Req("/api/v1/me"))],
    ("POST", "/api/v1/me/real-name"): [
        Probe(
            signed_in(),
            lambda w: Req("/api/v1/me/real-name", json={"name": "张三", "id_number": "123"}),
        )
    ],
    ("POST", "/api/v1/enterprises"): [
        # Needs real-name verification (level 2): citizens A and B; staff
        # accounts and the operator are not verified persons.
        Probe(
            allow(A, B),
            lambda w: Req(
                "/api/v1/enterprises",
                json={
                    "name": "无效信用代码公司",
                    "uscc": "913201020000000000",
                    "legal_representative": "张三",
                },
            ),
        )
    ],
    ("GET", "/api/v1/enterprises/{uscc}"): [
        # The register's public facts: any signed-in user (an agent names it).
        Probe(signed_in(), lambda w: Req(f"/api/v1/enterprises/{w.uscc}"))
    ],
    ("POST", "/api/v1/admin/staff"): [
        Probe(OPERATOR_ONLY, lambda w: Req("/api/v1/admin/staff", json={"phone": "1"}))
    ],
    ("POST", ENT + "/members"): [
        # The owner only (adding the owner themself is refused as input).
        Probe(
            allow(A),
            lambda w: Req(f"/api/v1/enterprises/{w.uscc}/members", json={"user_id": w[A].user_id}),
        )
    ],
    ("GET", ENT + "/members"): [
        Probe(allow(A, OPERATOR), lambda w: Req(f"/api/v1/enterprises/{w.uscc}/members"))
    ],
    ("DELETE", ENT + "/members/{user_id}"): [
        Probe(
            allow(A),
            lambda w: Req(f"/api/v1/enterprises/{w.uscc}/members/{w.fresh_member()}"),
        )
    ],
    ("POST", ENT + "/mandates"): [
        # The owner only; expiring today is refused as input.
        Probe(
            allow(A),
            lambda w: Req(
                f"/api/v1/enterprises/{w.uscc}/mandates",
                json={"agent_user_id": w[NO_AGENT].user_id, "expires_on": w.today},
            ),
        )
    ],
    ("GET", ENT + "/mandates"): [
        # Owner, members, operators; the mandated agent reads it in /me/mandates.
        Probe(allow(A, OPERATOR), lambda w: Req(f"/api/v1/enterprises/{w.uscc}/mandates"))
    ],
    ("DELETE", ENT + "/mandates/{mandate_id}"): [
        Probe(
            allow(A),
            lambda w: Req(
                f"/api/v1/enterprises/{w.uscc}/mandates/"
                f"{w.grant_enterprise_mandate(w.member.user_id)}"
            ),
        )
    ],
    ("POST", "/api/v1/me/mandates"): [
        # Citizens mandate for themselves (expiring today is refused as input).
        Probe(
            allow(A, B),
            lambda w: Req(
                "/api/v1/me/mandates",
                json={"agent_user_id": w[AGENT].user_id, "expires_on": w.today},
            ),
        )
    ],
    ("GET", "/api/v1/me/mandates"): [
        Probe(
            signed_in(),
            lambda w: Req("/api/v1/me/mandates", params={"role": "agent", "page_size": 100}),
            finds=[(has("mandate_id", "personal_mandate"), (AGENT,))],
        )
    ],
    ("DELETE", "/api/v1/me/mandates/{mandate_id}"): [
        # Another's mandate is not "mine": hidden from everyone but A.
        Probe(
            signed_in(**each(CALLERS[2:], E404)),
            lambda w: Req(f"/api/v1/me/mandates/{w.grant_personal_mandate(w.member.user_id)}"),
        )
    ],
    # ------------------------------------------------------------- catalog
    ("GET", "/api/v1/regions"): [Probe(public(), lambda w: Req("/api/v1/regions"))],
    ("GET", "/api/v1/departments"): [Probe(public(), lambda w: Req("/api/v1/departments"))],
    ("GET", "/api/v1/items"): [
        Probe(public(), lambda w: Req("/api/v1/items", params={"q": "许可"}))
    ],
    ("GET", "/api/v1/items/{item_id}"): [
        Probe(public(), lambda w: Req(f"/api/v1/items/{w.item_id}")),
        # A draft: its department's staff and the operator; hidden from the rest.
        Probe(
            allow(*X_STAFF, OPERATOR, others=E404, anonymous=E404),
            lambda w: Req(f"/api/v1/items/{w.draft_id}"),
        ),
    ],
    ("POST", "/api/v1/items"): [
        # X's dept_admin and the operator; the code is taken (409).
        Probe(
            allow(ADMIN_X, OPERATOR),
            lambda w: Req(
                "/api/v1/items",
                json={"basic_code": w.basic_code, "department_code": X, "code": FOREIGN_FIRM},
            ),
        )
    ],
    ("PUT", "/api/v1/items/{item_id}"): [
        Probe(allow(ADMIN_X, OPERATOR), lambda w: Req(f"/api/v1/items/{w.draft_id}", json={}))
    ],
    ("POST", "/api/v1/items/{item_id}/publish"): [
        # On the published item: 409 for those allowed.
        Probe(
            allow(ADMIN_X, OPERATOR),
            lambda w: Req(f"/api/v1/items/{w.item_id}/publish", json={}),
        )
    ],
    ("POST", "/api/v1/items/{item_id}/retire"): [
        # On the draft: 409 for those allowed (never retire a demo item).
        Probe(
            allow(ADMIN_X, OPERATOR),
            lambda w: Req(f"/api/v1/items/{w.draft_id}/retire", json={}),
        )
    ],
    ("POST", "/api/v1/catalogue/basic"): [
        # Operator, or the admin of the (province-level) department named; the
        # code is taken (409).
        Probe(
            allow(ADMIN_X, OPERATOR),
            lambda w: Req(
                "/api/v1/catalogue/basic",
                json={
                    "basic_code": w.basic_code,
                    "name": "授权矩阵测试事项",
                    "type": "01",
                    "legal_basis": [{"law": "《中华人民共和国行政许可法》", "article": ""}],
                    "department_code": X,
                },
            ),
        )
    ],
    ("GET", "/api/v1/catalogue/basic"): [Probe(public(), lambda w: Req("/api/v1/catalogue/basic"))],
    ("GET", "/api/v1/catalogue/basic/{basic_code}"): [
        Probe(public(), lambda w: Req(f"/api/v1/catalogue/basic/{w.basic_code}"))
    ],
    ("PUT", "/api/v1/catalogue/basic/{basic_code}"): [
        Probe(
            allow(ADMIN_X, OPERATOR),
            lambda w: Req(f"/api/v1/catalogue/basic/{w.basic_code}", json={}),
        )
    ],
    ("GET", "/api/v1/stores"): [Probe(public(), lambda w: Req("/api/v1/stores"))],
    ("GET", "/api/v1/stores/{store_id}"): [
        Probe(public(), lambda w: Req(f"/api/v1/stores/{w.store_id}"))
    ],
    ("GET", "/api/v1/stats/catalog"): [Probe(public(), lambda w: Req("/api/v1/stats/catalog"))],
    ("POST", "/api/v1/zones"): [
        # The operator, or an admin of the zone's committee (neither X nor Y).
        Probe(
            OPERATOR_ONLY,
            lambda w: Req(
                "/api/v1/zones",
                json={
                    "code": "320115-JNKFQ",
                    "name": "江宁开发区",
                    "committee_department_code": "jn-kfq",
                },
            ),
        )
    ],
    ("GET", "/api/v1/zones"): [Probe(OPERATOR_ONLY, lambda w: Req("/api/v1/zones"))],
    ("POST", "/api/v1/zones/{zone_id}/assessments"): [
        # On a zone of this module's own: the operator records a report there.
        Probe(
            OPERATOR_ONLY,
            lambda w: Req(
                f"/api/v1/zones/{w.own_zone}/assessments",
                json={
                    "kind": "flood_impact",
                    "title": "区域洪水影响评价",
                    "valid_from": "2026-01-01",
                    "valid_to": "2030-12-31",
                },
            ),
        )
    ],
    ("GET", "/api/v1/zones/{zone_id}/assessments"): [
        Probe(OPERATOR_ONLY, lambda w: Req(f"/api/v1/zones/{w.zone_id}/assessments"))
    ],
    # ------------------------------------------------------------ workflow
    ("POST", "/api/v1/applications"): [
        # For A: A themself, and the agent A mandated; nobody else.
        Probe(
            allow(A, AGENT),
            lambda w: Req(
                "/api/v1/applications",
                json={
                    "item_id": w.item_id,
                    "on_behalf_of": {"kind": "person", "user_id": w[A].user_id},
                    "materials": [{"name": m["name"]} for m in w.item["materials"]],
                    "delivery": {"mode": "online"},
                },
            ),
        )
    ],
    ("GET", "/api/v1/applications"): [
        Probe(
            signed_in(),
            lambda w: Req("/api/v1/applications", params={"page_size": 100}),
            finds=[
                (has_case("case_main"), (A,)),
                (has_case("case_agent"), (A, AGENT)),
            ],
        )
    ],
    ("GET", APP): [
        Probe(CASE_READERS, _app("case_main")),
        # Applied by the agent for A: the agent and A see it, as X's staff do.
        Probe(signed_in(**each((B, *Y_STAFF, NO_AGENT), E404)), _app("case_agent")),
    ],
    ("GET", APP + "/principal"): [
        # The person the agent applied for, ID number in full, for the staff
        # reviewing the case; the agent who applied is not reviewing it.
        Probe(
            allow(*X_STAFF, **each(Y_STAFF, E404), agent_unmandated=E404),
            _app("case_agent", "/principal"),
        )
    ],
    ("POST", APP + "/withdraw"): [
        Probe(APPLICANT_ONLY, _fresh_app("submit", "/withdraw", json={}))
    ],
    ("POST", APP + "/supplement"): [
        # Nothing was asked for: 409 for A.
        Probe(APPLICANT_ONLY, _app("case_main", "/supplement", json=MATERIALS))
    ],
    ("POST", APP + "/redelivery"): [
        # No shipment failed: 409 for A.
        Probe(APPLICANT_ONLY, _app("case_main", "/redelivery", json={"choice": "bring_to_window"}))
    ],
    ("POST", APP + "/handover"): [
        # X's window clerk or approver (409: no delivery failed).
        Probe(
            allow(CLERK_X, APPROVER_X, clerk_y=E404, approver_y=E404),
            _app("case_main", "/handover", json={}),
        )
    ],
    ("GET", "/api/v1/worklist"): [
        Probe(
            allow(*STAFF),
            lambda w: Req("/api/v1/worklist", params={"page_size": 100}),
            finds=[(has_case("case_main"), X_STAFF)],
        )
    ],
    ("GET", "/api/v1/escalations"): [
        Probe(allow(ADMIN_X, ADMIN_Y, OPERATOR), lambda w: Req("/api/v1/escalations"))
    ],
    ("POST", APP + "/actions"): [
        Probe(
            allow(CLERK_X, APPROVER_X, clerk_y=E404, approver_y=E404),
            _fresh_app("submit", "/actions", json={"action": "accept", "comment": "受理"}),
        )
    ],
    ("GET", "/api/v1/licences"): [
        Probe(
            signed_in(),
            lambda w: Req("/api/v1/licences"),
            finds=[(has("licence_no", "licence_no"), (A,))],
        )
    ],
    ("GET", "/api/v1/licences/jwks.json"): [
        Probe(public(), lambda w: Req("/api/v1/licences/jwks.json"))
    ],
    ("GET", "/api/v1/licences/{licence_no}"): [
        Probe(CASE_READERS, lambda w: Req(f"/api/v1/licences/{w.licence_no}"))
    ],
    ("GET", "/api/v1/licences/{licence_no}/verify"): [
        Probe(public(), lambda w: Req(f"/api/v1/licences/{w.licence_no}/verify"))
    ],
    ("POST", "/api/v1/licences/verify"): [
        Probe(
            public(),
            lambda w: Req(
                "/api/v1/licences/verify",
                json={"document": w.licence_document["document"]},
            ),
        )
    ],
    ("POST", "/api/v1/licences/{licence_no}/revoke"): [
        # A dept_admin of the issuing department; hidden from Y's.
        Probe(
            allow(ADMIN_X, admin_y=E404),
            lambda w: Req(
                f"/api/v1/licences/{w.fresh_licence()}/revoke", json={"reason": "许可条件不再具备"}
            ),
        )
    ],
    ("POST", APP + "/extension"): [
        # An approver of the case's department.
        Probe(
            allow(APPROVER_X, **each(Y_STAFF + AGENTS, E404)),
            _fresh_app("submit", "/extension", json={"working_days": 1, "reason": "需现场核查"}),
        )
    ],
    ("POST", APP + "/extension/decision"): [
        # The department's admin (409: nothing waits for a decision).
        Probe(
            allow(ADMIN_X, **each(Y_STAFF + AGENTS, E404)),
            _app("case_main", "/extension/decision", json={"approve": True}),
        )
    ],
    ("POST", APP + "/suspensions"): [
        # Window clerk or approver with work on the case (409: not accepted yet).
        Probe(
            allow(CLERK_X, APPROVER_X, **each(Y_STAFF + AGENTS, E404)),
            _app("case_main", "/suspensions", json={"kind": "hearing", "reason": "听证"}),
        )
    ],
    ("POST", APP + "/suspensions/{suspension_id}/end"): [
        Probe(allow(CLERK_X, APPROVER_X, **each(Y_STAFF + AGENTS, E404)), _end_suspension)
    ],
    ("PUT", "/api/v1/items/{item_id}/process"): [
        # X's dept_admin and the operator (422: a parallel step without
        # branches, so nothing is published). The draft is hidden from everyone
        # else in the gateway; the published item is not, and Y's admin may
        # not change its process.
        Probe(
            allow(ADMIN_X, OPERATOR, admin_y=E404),
            lambda w: Req(f"/api/v1/items/{w.draft_id}/process", json=BAD_DEFINITION),
        ),
        Probe(
            allow(ADMIN_X, OPERATOR),
            lambda w: Req(f"/api/v1/items/{w.item_id}/process", json=BAD_DEFINITION),
        ),
    ],
    ("GET", "/api/v1/items/{item_id}/process"): [
        Probe(public(), lambda w: Req(f"/api/v1/items/{w.item_id}/process")),
        Probe(
            allow(*X_STAFF, OPERATOR, others=E404, anonymous=E404),
            lambda w: Req(f"/api/v1/items/{w.draft_id}/process"),
        ),
    ],
    ("GET", "/api/v1/items/{item_id}/process/{version}"): [
        Probe(public(), lambda w: Req(f"/api/v1/items/{w.item_id}/process/0"))
    ],
    ("PUT", "/api/v1/admin/calendar/{year}"): [
        Probe(
            OPERATOR_ONLY,
            lambda w: Req(f"/api/v1/admin/calendar/{w.year}", json={"holidays": ["never"]}),
        )
    ],
    ("GET", "/api/v1/admin/calendar/{year}"): [
        Probe(OPERATOR_ONLY, lambda w: Req(f"/api/v1/admin/calendar/{w.year}"))
    ],
    # ------------------------------------------------------------- courier
    ("GET", "/api/v1/shipments"): [
        Probe(
            signed_in(),
            lambda w: Req("/api/v1/shipments", params={"application_id": w.express_case}),
            finds=[(has("tracking_no", "tracking_no"), (A, *X_STAFF, OPERATOR))],
        )
    ],
    ("GET", "/api/v1/shipments/{tracking_no}"): [
        Probe(CASE_READERS, lambda w: Req(f"/api/v1/shipments/{w.tracking_no}"))
    ],
    ("POST", "/api/v1/webhooks/ems"): [
        Probe(
            public(), _ems_webhook, afterwards=unsigned_webhook_is_refused("/api/v1/webhooks/ems")
        )
    ],
    ("POST", "/api/v1/webhooks/payment"): [
        Probe(
            public(),
            _payment_webhook,
            afterwards=unsigned_webhook_is_refused("/api/v1/webhooks/payment"),
        )
    ],
    # ------------------------------------------------------------- ratings
    ("POST", APP + "/review"): [
        # The applicant only (409: A rated it already).
        Probe(allow(A), _app("case_rated", "/review", json={"grade": 5}))
    ],
    ("POST", "/api/v1/visits"): [
        # A window clerk, for an item of their own department's window.
        Probe(allow(CLERK_X), lambda w: Req("/api/v1/visits", json={"item_id": w.item_id}))
    ],
    ("POST", "/api/v1/visits/review"): [
        Probe(
            public(),
            lambda w: Req(
                "/api/v1/visits/review", json={"token": "x", "grade": 9, "channel": "window"}
            ),
        )
    ],
    ("GET", "/api/v1/reviews"): [
        # Window clerks and dept_admins, their department's; the operator all.
        Probe(
            allow(CLERK_X, ADMIN_X, CLERK_Y, ADMIN_Y, OPERATOR),
            lambda w: Req("/api/v1/reviews", params={"page_size": 100}),
            finds=[(has("review_id", "review_id"), (CLERK_X, ADMIN_X, OPERATOR))],
        )
    ],
    ("POST", "/api/v1/reviews/{review_id}/reply"): [
        Probe(
            allow(CLERK_X, ADMIN_X, OPERATOR),
            lambda w: Req(f"/api/v1/reviews/{w.review_id}/reply", json={"reply": "已整改"}),
        )
    ],
    ("POST", "/api/v1/reviews/{review_id}/appeal"): [
        # X's dept_admin (409: appealed already).
        Probe(
            allow(ADMIN_X),
            lambda w: Req(f"/api/v1/reviews/{w.review_id}/appeal", json={"reason": "不实"}),
        )
    ],
    ("GET", "/api/v1/appeals"): [
        Probe(
            allow(ADMIN_X, ADMIN_Y, OPERATOR),
            lambda w: Req("/api/v1/appeals", params={"page_size": 100}),
            finds=[(has("appeal_id", "appeal_id"), (ADMIN_X, OPERATOR))],
        )
    ],
    ("POST", "/api/v1/appeals/{appeal_id}/decision"): [
        Probe(
            OPERATOR_ONLY,
            lambda w: Req(
                f"/api/v1/appeals/{w.appeal_id}/decision",
                json={"uphold": False, "comment": "评价属实，维持"},
            ),
        )
    ],
    ("GET", "/api/v1/stores/{store_id}/reviews"): [
        Probe(public(), lambda w: Req(f"/api/v1/stores/{w.store_id}/reviews"))
    ],
    ("GET", "/api/v1/stats/ratings"): [Probe(public(), lambda w: Req("/api/v1/stats/ratings"))],
    ("GET", "/api/v1/stats/cases"): [Probe(public(), lambda w: Req("/api/v1/stats/cases"))],
    ("GET", "/api/v1/stats/live"): [
        Probe(public(), lambda w: Req("/api/v1/stats/live", stream=True))
    ],
    ("GET", "/api/v1/rectifications"): [
        # Staff see their department's, the operator all.
        Probe(
            allow(*STAFF, OPERATOR),
            lambda w: Req("/api/v1/rectifications", params={"page_size": 100}),
            finds=[(has("rectification_id", "rectification_id"), (*X_STAFF, OPERATOR))],
        )
    ],
    ("GET", RECT): [
        Probe(
            allow(*X_STAFF, OPERATOR, **each(Y_STAFF + AGENTS, E404)),
            lambda w: Req(f"/api/v1/rectifications/{w.rectification_id}"),
        )
    ],
    ("POST", RECT + "/verify"): [
        Probe(
            RECTIFIERS,
            lambda w: Req(
                f"/api/v1/rectifications/{w.rectification_id}/verify",
                json={"decision": "explain", "plan": "已向申请人说明材料要求"},
            ),
        )
    ],
    ("POST", RECT + "/resolve"): [
        Probe(
            RECTIFIERS,
            lambda w: Req(
                f"/api/v1/rectifications/{w.rectification_id}/resolve", json={"comment": "已说明"}
            ),
        )
    ],
    ("POST", RECT + "/return-visit"): [
        Probe(
            RECTIFIERS,
            lambda w: Req(
                f"/api/v1/rectifications/{w.rectification_id}/return-visit",
                json={"reached": True, "satisfied": True},
            ),
        )
    ],
    # ------------------------------------------------ OpenID Connect provider
    # The browser's and the department systems' endpoints answer everyone
    # alike: a bearer token means nothing to them (userinfo aside). Each probe
    # is refused as input (a 400 page, or an OAuth error) before anything changes.
    ("GET", "/.well-known/openid-configuration"): [
        Probe(public(), lambda w: Req("/.well-known/openid-configuration"))
    ],
    ("GET", "/oidc/authorize"): [
        Probe(public(), lambda w: Req("/oidc/authorize", params={"client_id": "unknown"}))
    ],
    ("GET", "/oidc/sign-in"): [
        Probe(public(), lambda w: Req("/oidc/sign-in", params={"continue": "https://a.example/"}))
    ],
    ("POST", "/oidc/sign-in"): [
        # No tongban_csrf cookie: refused before identity counts a failed sign-in.
        Probe(public(), lambda w: Req("/oidc/sign-in", data=b"phone=1", headers=FORM))
    ],
    ("GET", "/oidc/consent"): [
        Probe(public(), lambda w: Req("/oidc/consent", params={"continue": "/api/v1/me"}))
    ],
    ("POST", "/oidc/consent"): [
        Probe(public(), lambda w: Req("/oidc/consent", data=b"decision=allow", headers=FORM))
    ],
    ("POST", "/oidc/token"): [
        Probe(public(), lambda w: Req("/oidc/token", data=b"code=1", headers=FORM))
    ],
    # Only an access token from /oidc/token with the openid scope: every
    # caller's own token lacks it (403 insufficient_scope).
    ("GET", "/oidc/userinfo"): [Probe(allow(), lambda w: Req("/oidc/userinfo"))],
    ("POST", "/oidc/userinfo"): [Probe(allow(), lambda w: Req("/oidc/userinfo"))],
    ("GET", "/oidc/logout"): [Probe(public(), lambda w: Req("/oidc/logout"))],
    ("POST", "/oidc/logout"): [
        Probe(public(), lambda w: Req("/oidc/logout", data=b"csrf=forged", headers=FORM))
    ],
    # Registered department systems: the operator; a dept_admin reads their
    # own department's (and does not see another's).
    ("POST", "/api/v1/admin/oidc-clients"): [
        Probe(OPERATOR_ONLY, lambda w: Req("/api/v1/admin/oidc-clients", json={"name": ""}))
    ],
    ("GET", "/api/v1/admin/oidc-clients"): [
        Probe(
            allow(ADMIN_X, ADMIN_Y, OPERATOR),
            _oidc_clients,
            finds=[(has("client_id", "oidc_client_id"), (ADMIN_X, OPERATOR))],
        )
    ],
    ("GET", OIDC_CLIENT): [
        Probe(
            allow(ADMIN_X, OPERATOR, **{ADMIN_Y: E404}),
            lambda w: Req(f"/api/v1/admin/oidc-clients/{w.oidc_client_id}"),
        )
    ],
    ("PUT", OIDC_CLIENT): [
        Probe(
            OPERATOR_ONLY,
            lambda w: Req(f"/api/v1/admin/oidc-clients/{w.oidc_client_id}", json={"name": ""}),
        )
    ],
    ("DELETE", OIDC_CLIENT): [
        Probe(OPERATOR_ONLY, lambda w: Req(f"/api/v1/admin/oidc-clients/{w.fresh_oidc_client()}"))
    ],
    ("POST", OIDC_CLIENT + "/secret"): [
        Probe(
            OPERATOR_ONLY,
            lambda w: Req(f"/api/v1/admin/oidc-clients/{w.oidc_client_id}/secret", json={}),
        )
    ],
    # ---------------------------------------------------------- operations
    ("GET", "/healthz"): [Probe(public(), lambda w: Req("/healthz"))],
    ("GET", "/readyz"): [Probe(public(), lambda w: Req("/readyz"))],
    ("GET", "/metrics"): [Probe(public(), lambda w: Req("/metrics"))],
    ("GET", "/openapi.json"): [Probe(public(), lambda w: Req("/openapi.json"))],
    ("GET", "/docs"): [Probe(public(), lambda w: Req("/docs"))],
    # -------------------------------------------------------------- portal
    ("GET", "/"): [Probe(public(), lambda w: Req("/"))],
    ("GET", "/{page}"): [Probe(public(), lambda w: Req("/staff/worklist"))],
    # No asset's name is known here (it is a hash of the build): an unknown one
    # is a 404 for everyone.
    ("GET", "/assets/{asset}"): [
        Probe(each(CALLERS, E404), lambda w: Req("/assets/index-00000000.js"))
    ],
    # --------------------------------------------- accounts and keys (operator)
    ("POST", "/api/v1/admin/accounts/{user_id}/unlock"): [
        Probe(
            OPERATOR_ONLY, lambda w: Req(f"/api/v1/admin/accounts/{w[B].user_id}/unlock", json={})
        )
    ],
    ("POST", "/api/v1/admin/keys/rotate"): [
        # An unknown field: refused as input, so no key is added.
        Probe(OPERATOR_ONLY, lambda w: Req("/api/v1/admin/keys/rotate", json={"unknown": 1}))
    ],
    ("GET", "/api/v1/admin/keys"): [Probe(OPERATOR_ONLY, lambda w: Req("/api/v1/admin/keys"))],
    ("GET", "/api/v1/admin/pii-access"): [
        Probe(OPERATOR_ONLY, lambda w: Req("/api/v1/admin/pii-access"))
    ],
    # ------------------------------------------------------- last of all
    # Every caller ends its own session: the table's last row, so no probe
    # after it needs the tokens (a sign-in per caller would cost a password
    # hash each).
    ("POST", "/api/v1/auth/logout"): [
        Probe(signed_in(), lambda w: Req("/api/v1/auth/logout", json={}))
    ],
}


def route_id(route: tuple[str, str]) -> str:
    return f"{route[0]} {route[1]}"
