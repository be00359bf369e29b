"""A closed loop of errands through the gateway while a fault happens.

Each client is a citizen (registered, real-name verified; ``tests.bench.errand``)
paired with a window clerk and approver of the item's department. Some apply
online, some by EMS with an address, so that courier has a pickup and a result
delivery to place with the EMS simulator, which moves the parcels. A client
drives its case to the end by what the case says it is:

    submitted  (online)  staff accept            (EMS) wait for the pickup to arrive
    accepted             staff approve (step by step)
    approved   (EMS)     wait for the result to be delivered
    completed            the citizen reviews it (409 "not yet" until ratings knows)

An answer that is not the expected one (a 503 while the broker is away) is
recorded and the client asks again a little later, up to ``ERRAND_SECONDS``;
then it gives the case up and starts the next. Every request is recorded with
its route, status and time; every application that got a 201 is kept with its
delivery mode and the client that owns it, for the invariants.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from tests.bench import errand
from tests.bench.errand import Gateway, SetupFailed

# The bench's item: accept, then one approval; the figures stay comparable.
ONLINE_ITEM = "320000-JSSCJG-001"
ADDRESS = {
    "name": "王小明",
    "phone": "13912345678",
    "province": "江苏省",
    "city": "南京市",
    "district": "玄武区",
    "street": "中山路 100 号",
    "postcode": "210008",
}
ENDED = {"completed", "denied", "rejected", "withdrawn", "not_supplemented"}
ERRAND_SECONDS = 240.0  # how long a client keeps at one case before it gives up
RETRY_SECONDS = 0.5
MAX_APPROVALS = 10


@dataclass(frozen=True)
class Request:
    route: str
    status: int  # 0: no answer (connection refused, timed out)
    started: float  # time.time()
    ms: float
    body: str = ""  # the first bytes of a 5xx or no-answer text


@dataclass
class Case:
    application_id: str
    mode: str  # online or express
    client: int
    submitted: float
    state: str = "submitted"
    reviewed: bool = False
    given_up: bool = False


@dataclass
class Journal:
    """What the clients did, shared between their threads."""

    requests: list[Request] = field(default_factory=list)
    cases: dict[str, Case] = field(default_factory=dict)
    completed_errands: list[float] = field(default_factory=list)  # time.time() of each review
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, route: str, answer) -> None:
        text = answer.text[:200] if answer.status == 0 or answer.status >= 500 else ""
        with self.lock:
            self.requests.append(
                Request(route, answer.status, time.time() - answer.ms / 1000, answer.ms, text)
            )

    def add_case(self, case: Case) -> None:
        with self.lock:
            self.cases[case.application_id] = case

    def snapshot(self) -> tuple[list[Request], list[Case]]:
        with self.lock:
            return list(self.requests), list(self.cases.values())


@dataclass
class Client:
    number: int
    mode: str
    item: dict
    citizen: dict
    staff: dict


def sign_in(gateway: Gateway, person: dict) -> bool:
    """Sign ``person`` in again (``tests.bench.errand``'s password); keep the new
    access token in it. False when the gateway said no."""
    body = {"phone": person["phone"], "password": errand.PASSWORD}
    answer = gateway.call("POST", "/api/v1/auth/login", body)
    token = answer.field("access_token") if answer.status == 200 else None
    if token:
        person["token"] = token
    return bool(token)


def find_express_item(gateway: Gateway) -> dict:
    """A published item of the shared workflow instance offering EMS delivery,
    reviewed by its department alone and charging no fee."""
    page = 1
    while True:
        query = urlencode({"mode": "express", "page": page, "page_size": 100})
        answer = gateway.call("GET", f"/api/v1/items?{query}")
        if answer.status != 200:
            raise SetupFailed(f"item search: {answer.describe()}")
        for summary in sorted(answer.body["items"], key=lambda item: item["code"]):
            guide = gateway.call("GET", f"/api/v1/items/{quote(summary['item_id'], safe='')}").body
            if (
                guide
                and guide.get("handled_by") == "workflow"
                and not guide.get("joint_departments")
                and "express" in guide.get("modes", [])
                and not guide.get("fee")
            ):
                return guide
        if page * 100 >= answer.body["total"]:
            raise SetupFailed("no published item offering EMS delivery without a fee")
        page += 1


def prepare(base_url: str, online: int, express: int, operator: dict, seed: int = 2026):
    """The clients: citizens and staff made through the gateway."""
    gateway = Gateway(base_url)
    try:
        online_item = errand.find_item(gateway, ONLINE_ITEM)
        express_item = online_item
        if "express" not in online_item["modes"]:
            express_item = find_express_item(gateway)
    finally:
        gateway.close()
    clients = []
    for mode, count, item in (("online", online, online_item), ("express", express, express_item)):
        if count == 0:
            continue
        cast = errand.prepare(base_url, count, operator, item["code"], seed=seed + len(clients))
        for citizen, staff in cast.pairs:
            clients.append(Client(len(clients), mode, cast.item, citizen, staff))
    return clients


class Load:
    """The clients' threads: ``start()``, then ``stop()`` lets each finish its case."""

    def __init__(self, base_url: str, clients: list[Client], journal: Journal | None = None):
        self.base_url = base_url
        self.clients = clients
        self.journal = journal or Journal()
        self.stopping = threading.Event()  # no new errands
        self.threads: list[threading.Thread] = []
        self.in_flight: Counter = Counter()  # route -> requests waiting for an answer
        self._in_flight_lock = threading.Lock()

    def start(self) -> None:
        self.stopping.clear()
        self.threads = [
            threading.Thread(target=self._loop, args=(client,), name=f"client-{client.number}")
            for client in self.clients
        ]
        for thread in self.threads:
            thread.start()

    def stop(self, timeout: float = ERRAND_SECONDS + 30) -> list[str]:
        """Let every client finish the case it is at; the clients still busy after
        ``timeout`` (their threads are left to end on their own)."""
        self.stopping.set()
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.1, deadline - time.monotonic()))
        return [thread.name for thread in self.threads if thread.is_alive()]

    def _loop(self, client: Client) -> None:
        gateway = Gateway(self.base_url, timeout=20)
        rng = random.Random(client.number)
        try:
            while not self.stopping.is_set():
                try:
                    self.one_errand(gateway, client, rng)
                except Exception as exc:  # a bug of the suite: keep it in view, go on
                    with self.journal.lock:
                        self.journal.requests.append(
                            Request("client", 0, time.time(), 0, f"{type(exc).__name__}: {exc}")
                        )
                    gateway.close()
                    time.sleep(RETRY_SECONDS)
        finally:
            gateway.close()

    def call(self, gateway: Gateway, route: str, method: str, path: str, body=None, person=None):
        """One request as ``person`` (a citizen or staff dict), recorded; signed in
        again once when the access token has expired (a soak outlives it)."""
        for _ in range(2):
            with self._in_flight_lock:
                self.in_flight[route] += 1
            try:
                answer = gateway.call(method, path, body, person["token"] if person else None)
            finally:
                with self._in_flight_lock:
                    self.in_flight[route] -= 1
            self.journal.record(route, answer)
            if answer.status != 401 or person is None or not sign_in(gateway, person):
                break
        return answer

    def wait_in_flight(self, route: str, timeout: float) -> bool:
        """Wait until a request of ``route`` is on its way (a drill's moment)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.in_flight[route] > 0:
                return True
            time.sleep(0.002)
        return False

    def one_errand(self, gateway: Gateway, client: Client, rng: random.Random) -> None:
        citizen, item = client.citizen, client.item
        delivery = {"mode": "online"}
        if client.mode == "express":
            delivery = {"mode": "express", "address": ADDRESS}
        body = {
            "item_id": item["item_id"],
            "form": {"applicant_name": citizen["name"], "purpose": "故障演练"},
            "materials": [{"name": material["name"]} for material in item["materials"]],
            "delivery": delivery,
        }
        answer = self.call(gateway, "submit", "POST", "/api/v1/applications", body, citizen)
        if answer.status != 201 or not answer.field("application_id"):
            time.sleep(RETRY_SECONDS)
            return
        case = Case(str(answer.field("application_id")), client.mode, client.number, time.time())
        self.journal.add_case(case)
        self.drive(gateway, client, case, rng)

    def drive(self, gateway: Gateway, client: Client, case: Case, rng: random.Random) -> None:
        """Take the case to its end by what it says it is."""
        path = f"/api/v1/applications/{quote(case.application_id, safe='')}"
        deadline = time.monotonic() + ERRAND_SECONDS
        approvals = 0
        while time.monotonic() < deadline:
            answer = self.call(gateway, "read", "GET", path, person=client.citizen)
            if answer.status != 200:
                time.sleep(RETRY_SECONDS)
                continue
            case.state = state = answer.field("state")
            if state == "submitted" and case.mode == "online":
                answer = self.call(
                    gateway, "accept", "POST", path + "/actions", {"action": "accept"},
                    client.staff,
                )  # fmt: skip
            elif state == "accepted" and approvals < MAX_APPROVALS:
                approvals += 1
                answer = self.call(
                    gateway, "approve", "POST", path + "/actions",
                    {"action": "approve", "comment": "材料齐全，准予许可"}, client.staff,
                )  # fmt: skip
            elif state == "completed":
                review = {"grade": rng.choice((4, 5)), "comment": "演练中办结"}
                answer = self.call(
                    gateway, "review", "POST", path + "/review", review, client.citizen
                )
                if answer.status == 201 or answer.error_code == "already_reviewed":
                    case.reviewed = True
                    with self.journal.lock:
                        self.journal.completed_errands.append(time.time())
                    return
            elif state in ENDED:
                return
            # submitted by EMS, approved (the result on its way), a 409, a 503:
            # ask again shortly.
            if answer.status not in (200, 201):
                time.sleep(RETRY_SECONDS)
            elif state in ("submitted", "approved"):
                time.sleep(RETRY_SECONDS)
        case.given_up = True
