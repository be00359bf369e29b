"""The whole errand through the gateway, by N closed-loop clients.

Each client is a real citizen (registered, signed in, real-name verified) paired
with a real staff member of the item's department (created by the operator,
window_clerk and approver). It repeats, as fast as the answers come:

    submit   POST /api/v1/applications (citizen, online)      -> 201 submitted
    accept   POST /api/v1/applications/{id}/actions (staff)   -> 200 accepted
    approve  POST /api/v1/applications/{id}/actions (staff)   -> 200 completed, licence issued
    review   POST /api/v1/applications/{id}/review (citizen)  -> 201

An item whose process has several approving steps (accept, examine, decide) is
approved step by step: an approve answered "accepted" without a licence is
followed by the next one, up to ``MAX_APPROVALS``; each is a sample of the
approve route, and the approvals per errand are printed.

Ratings may only take the review once workflow's ``application_ended``
event has reached it; until then the review answers 409 (``conflict``), and the
client asks again every ``poll_ms``. The event hop is the time from the last
approve answer to the accepted review.

With a ``rate``, the clients are paced: each starts an errand at most every
``clients / rate`` seconds (the first at a random point of that interval), so
the whole load is about ``rate`` errands a second while the cluster keeps up:
the event hop measured at a given load rather than at saturation.

Every other answer is a bad answer: it is counted against its route, a few are
kept to be printed, and the client drops that errand and starts the next one.
Only errands (and requests) that finish inside the measured window, after the
warm-up, count towards the rate and the percentiles.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlparse

from tests.bench import cpu, people
from tests.bench.stats import Window, p50_p99, percentile

ROUTES = ("submit", "accept", "approve", "review")
PASSWORD = "Bench2026pw"
STAFF_ROLES = ["window_clerk", "approver"]
REVIEW_TIMEOUT_SECONDS = 15.0
MAX_APPROVALS = 10
KEEP_EXAMPLES = 3  # bad answers kept per (route, status) to print


class SetupFailed(RuntimeError):
    """The cluster refused to set the errand up (accounts, item)."""


# --------------------------------------------------------------------- HTTP


@dataclass
class Answer:
    status: int  # 0: no answer (connection failed, timed out)
    body: Any  # the decoded JSON, or None
    text: str
    started: float
    ended: float

    @property
    def ms(self) -> float:
        return (self.ended - self.started) * 1000

    @property
    def error_code(self) -> str | None:
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            return self.body["error"].get("code")
        return None

    def field(self, name: str) -> Any:
        return self.body.get(name) if isinstance(self.body, dict) else None

    def describe(self) -> str:
        return f"{self.status} {self.text[:300]}"


class Gateway:
    """One keep-alive connection to the gateway; JSON in, JSON out. Not thread-safe:
    one per client thread."""

    def __init__(self, base_url: str, timeout: float = 15.0):
        parsed = urlparse(base_url)
        self.host, self.port, self.timeout = parsed.hostname, parsed.port, timeout
        self.connection: http.client.HTTPConnection | None = None

    def call(self, method: str, path: str, body: Any = None, token: str | None = None) -> Answer:
        headers = {"Accept": "application/json"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        started = time.monotonic()
        try:
            self.connection.request(method, path, body=payload, headers=headers)
            response = self.connection.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            return Answer(0, None, f"{type(exc).__name__}: {exc}", started, time.monotonic())
        ended = time.monotonic()
        text = raw.decode("utf-8", "replace")
        try:
            decoded = json.loads(text) if text else None
        except ValueError:
            decoded = None
        return Answer(response.status, decoded, text, started, ended)

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


# -------------------------------------------------------------------- setup


@dataclass
class Cast:
    """What the errand needs: the item and one (citizen, staff member) per client."""

    item: dict
    pairs: list[tuple[dict, dict]]
    setup_seconds: float


def _expect(answer: Answer, status: int, what: str) -> Answer:
    if answer.status != status:
        raise SetupFailed(f"{what}: expected {status}, got {answer.describe()}")
    return answer


def _login(gateway: Gateway, phone: str, password: str) -> str:
    answer = gateway.call("POST", "/api/v1/auth/login", {"phone": phone, "password": password})
    token = _expect(answer, 200, f"login {phone}").field("access_token")
    if not token:
        raise SetupFailed(f"login {phone}: no access_token in {answer.describe()}")
    return token


def find_item(gateway: Gateway, code: str | None = None) -> dict:
    """A published item handled by the shared workflow instance, reviewed by its
    department alone, offering online delivery: the one with ``code``, else the
    one with the lowest code."""
    candidates = []
    page = 1
    while True:
        query = urlencode({"mode": "online", "page": page, "page_size": 100})
        answer = _expect(gateway.call("GET", f"/api/v1/items?{query}"), 200, "item search")
        candidates += answer.body["items"]
        if page * 100 >= answer.body["total"]:
            break
        page += 1
    if code is not None:
        candidates = [item for item in candidates if item["code"] == code]
    for summary in sorted(candidates, key=lambda item: item["code"]):
        path = f"/api/v1/items/{quote(summary['item_id'], safe='')}"
        guide = _expect(gateway.call("GET", path), 200, "item guide").body
        if (
            guide["handled_by"] == "workflow"
            and not guide["joint_departments"]
            and "online" in guide["modes"]
        ):
            return guide
    raise SetupFailed(
        f"no published item{' ' + code if code else ''} offering online delivery,"
        " handled by the shared workflow instance without joint departments"
    )


def register_citizen(base_url: str, rng: random.Random) -> dict:
    """Register, sign in, verify the real name with a valid ID number, sign in
    again (the token then carries level 2). A phone or ID number somebody has
    already (a database kept from an earlier run) is drawn again."""
    gateway = Gateway(base_url)
    try:
        citizen_name = people.name(rng)
        for _ in range(5):
            phone = people.phone(rng)
            answer = gateway.call(
                "POST",
                "/api/v1/auth/register",
                {"phone": phone, "password": PASSWORD, "name": citizen_name},
            )
            if answer.status != 409:
                break
        _expect(answer, 201, "register a citizen")
        token = _login(gateway, phone, PASSWORD)
        for _ in range(5):
            answer = gateway.call(
                "POST",
                "/api/v1/me/real-name",
                {"name": citizen_name, "id_number": people.id_number(rng)},
                token,
            )
            if answer.status != 409:
                break
        if _expect(answer, 200, "verify a real name").field("level") != 2:
            raise SetupFailed(f"verify a real name: expected level 2, got {answer.describe()}")
        return {"phone": phone, "name": citizen_name, "token": _login(gateway, phone, PASSWORD)}
    finally:
        gateway.close()


def create_staff(base_url: str, operator_token: str, department: str, rng: random.Random) -> dict:
    """A window clerk and approver of the department, created by the operator."""
    gateway = Gateway(base_url)
    try:
        for _ in range(5):
            phone = people.phone(rng)
            body = {
                "phone": phone,
                "password": PASSWORD,
                "name": people.name(rng),
                "department_code": department,
                "roles": STAFF_ROLES,
            }
            answer = gateway.call("POST", "/api/v1/admin/staff", body, operator_token)
            if answer.status != 409:
                break
        _expect(answer, 201, f"create staff of {department}")
        return {"phone": phone, "token": _login(gateway, phone, PASSWORD)}
    finally:
        gateway.close()


def prepare(
    base_url: str,
    clients: int,
    operator: dict,
    item_code: str | None = None,
    seed: int | None = None,
) -> Cast:
    """The item and the accounts, made through the gateway (argon2id makes each
    registration and login cost real CPU, so they go four at a time)."""
    started = time.monotonic()
    master = random.Random(seed)
    gateway = Gateway(base_url)
    try:
        item = find_item(gateway, item_code)
        operator_token = _login(gateway, operator["phone"], operator["password"])
    finally:
        gateway.close()
    seeds = [master.getrandbits(64) for _ in range(2 * clients)]
    with ThreadPoolExecutor(4) as pool:
        citizens = pool.map(lambda s: register_citizen(base_url, random.Random(s)), seeds[:clients])
        staff = pool.map(
            lambda s: create_staff(
                base_url, operator_token, item["department_code"], random.Random(s)
            ),
            seeds[clients:],
        )
        pairs = list(zip(citizens, staff, strict=True))
    return Cast(item, pairs, time.monotonic() - started)


# ------------------------------------------------------------------- errand


@dataclass
class ClientRecord:
    """What one client saw; plain data, so it crosses process boundaries."""

    samples: dict = field(default_factory=lambda: {route: [] for route in ROUTES})
    not_yet: list = field(default_factory=list)  # (ended, ms) of each 409 "not completed yet"
    hops: list = field(default_factory=list)  # (review accepted, ms since approve answered)
    polls: list = field(default_factory=list)  # (review accepted, 409s before it)
    approvals: list = field(default_factory=list)  # (review accepted, approve calls)
    errors: Counter = field(default_factory=Counter)  # (route, status) -> count
    examples: list = field(default_factory=list)  # (route, description)

    def bad(self, route: str, answer: Answer, why: str = "") -> None:
        key = (route, answer.status)
        self.errors[key] += 1
        if self.errors[key] <= KEEP_EXAMPLES:
            self.examples.append((route, (why + ": " if why else "") + answer.describe()))


def _submit_body(item: dict, citizen: dict) -> dict:
    return {
        "item_id": item["item_id"],
        "form": {"applicant_name": citizen["name"], "purpose": "压力测试"},
        "materials": [{"name": material["name"]} for material in item["materials"]],
        "delivery": {"mode": "online"},
    }


def errand(gateway: Gateway, item: dict, citizen: dict, staff: dict, poll_s: float, record):
    """One errand, start to finish; a bad answer ends it early."""
    answer = gateway.call(
        "POST", "/api/v1/applications", _submit_body(item, citizen), citizen["token"]
    )
    application_id = answer.field("application_id")
    if answer.status != 201 or answer.field("state") != "submitted" or not application_id:
        return record.bad("submit", answer)
    record.samples["submit"].append((answer.ended, answer.ms))
    case = quote(str(application_id), safe="")

    answer = gateway.call(
        "POST", f"/api/v1/applications/{case}/actions", {"action": "accept"}, staff["token"]
    )
    if answer.status != 200 or answer.field("state") != "accepted":
        return record.bad("accept", answer)
    record.samples["accept"].append((answer.ended, answer.ms))

    approvals = 0
    while True:
        approvals += 1
        answer = gateway.call(
            "POST",
            f"/api/v1/applications/{case}/actions",
            {"action": "approve", "comment": "材料齐全，准予许可"},
            staff["token"],
        )
        state, licence = answer.field("state"), answer.field("licence_no")
        if answer.status != 200 or state not in ("accepted", "completed"):
            return record.bad("approve", answer, f"state {state!r}")
        if state == "completed" and not licence:
            return record.bad("approve", answer, "completed without a licence")
        record.samples["approve"].append((answer.ended, answer.ms))
        if state == "completed":
            break
        if approvals == MAX_APPROVALS:
            return record.bad("approve", answer, f"not completed after {approvals} approvals")
    approved = answer.ended

    review = {"grade": random.choice((4, 5)), "comment": "办事很快"}
    polls = 0
    while True:
        answer = gateway.call(
            "POST", f"/api/v1/applications/{case}/review", review, citizen["token"]
        )
        if answer.status == 201 and answer.field("review_id"):
            break
        if answer.status != 409 or answer.error_code != "conflict":
            return record.bad("review", answer)
        record.not_yet.append((answer.ended, answer.ms))
        polls += 1
        if answer.ended - approved > REVIEW_TIMEOUT_SECONDS:
            return record.bad(
                "review", answer, f"still 409 {REVIEW_TIMEOUT_SECONDS:g} s after approve"
            )
        time.sleep(poll_s)
    record.samples["review"].append((answer.ended, answer.ms))
    record.hops.append((answer.ended, (answer.ended - approved) * 1000))
    record.polls.append((answer.ended, polls))
    record.approvals.append((answer.ended, approvals))


def _client(base_url, item, citizen, staff, start, stop, poll_s, interval, out):
    gateway = Gateway(base_url)
    record = ClientRecord()
    due = start + (random.uniform(0, interval) if interval else 0.0)
    try:
        while True:
            time.sleep(max(0.0, due - time.monotonic()))
            if time.monotonic() >= stop:
                break
            due = max(due + interval, time.monotonic()) if interval else 0.0
            try:
                errand(gateway, item, citizen, staff, poll_s, record)
            except Exception as exc:  # a bug of the bench: count it, keep the load on
                record.errors[("client", 0)] += 1
                if record.errors[("client", 0)] <= KEEP_EXAMPLES:
                    record.examples.append(("client", f"{type(exc).__name__}: {exc}"))
                gateway.close()
    finally:
        gateway.close()
        out.append(record)


def _process(args) -> list[ClientRecord]:
    base_url, item, pairs, start, stop, poll_s, interval = args
    out: list[ClientRecord] = []
    threads = [
        threading.Thread(
            target=_client,
            args=(base_url, item, citizen, staff, start, stop, poll_s, interval, out),
        )
        for citizen, staff in pairs
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return out


def _ready(_):
    time.sleep(0.3)  # long enough for every worker to take one
    return os.getpid()


@dataclass
class Outcome:
    window: Window
    records: list[ClientRecord]
    cpu: dict[str, float] | None = None

    def _inside(self, pairs) -> list[float]:
        return [value for instant, value in pairs if self.window.holds(instant)]

    def latencies(self, route: str) -> list[float]:
        return [ms for r in self.records for ms in self._inside(r.samples[route])]

    @property
    def hops(self) -> list[float]:
        return [ms for r in self.records for ms in self._inside(r.hops)]

    @property
    def polls(self) -> list[float]:
        return [n for r in self.records for n in self._inside(r.polls)]

    @property
    def approvals(self) -> list[float]:
        return [n for r in self.records for n in self._inside(r.approvals)]

    @property
    def not_yet(self) -> list[float]:
        return [ms for r in self.records for ms in self._inside(r.not_yet)]

    @property
    def errands(self) -> int:
        return len(self.hops)

    @property
    def rate(self) -> float:
        return self.errands / self.window.seconds

    @property
    def errors(self) -> Counter:
        total: Counter = Counter()
        for record in self.records:
            total.update(record.errors)
        return total

    @property
    def examples(self) -> list[tuple[str, str]]:
        """Distinct bad answers, a few of each route."""
        seen: dict[tuple[str, str], None] = {}
        for record in self.records:
            for example in record.examples:
                seen.setdefault(example)
        kept, per_route = [], Counter()
        for route, text in seen:
            per_route[route] += 1
            if per_route[route] <= KEEP_EXAMPLES:
                kept.append((route, text))
        return kept


def run(
    base_url: str,
    cast: Cast,
    warmup: float,
    seconds: float,
    poll_ms: float = 2.0,
    processes: int = 2,
    cluster_pids: dict[str, list[int]] | None = None,
    rate: float | None = None,
    on_window=None,
) -> Outcome:
    """Drive the errand with one client per pair of the cast, spread over worker
    processes (threads within), for warm-up plus the measured seconds; paced to
    about ``rate`` errands a second if given. The CPU each group of
    ``cluster_pids`` (a process of the cluster: its pids) and the clients use in
    the window is measured too; ``on_window(window)`` is called as the window is
    set (to start profilers)."""
    processes = max(1, min(processes, len(cast.pairs)))
    interval = len(cast.pairs) / rate if rate else 0.0
    shares = [cast.pairs[index::processes] for index in range(processes)]
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        pool.map(_ready, range(processes), chunksize=1)  # started and imported
        workers = [child.pid for child in multiprocessing.active_children()]
        start = time.monotonic() + 0.2
        window = Window(start + warmup, start + warmup + seconds)
        groups = {**(cluster_pids or {}), "load generator": workers}
        meter = cpu.WindowMeter(groups, window.start, window.end)
        if on_window is not None:
            on_window(window)
        parts = pool.map(
            _process,
            [
                (base_url, cast.item, share, start, window.end, poll_ms / 1000, interval)
                for share in shares
            ],
        )
    return Outcome(window, [record for part in parts for record in part], meter.result())


def report(outcome: Outcome, clients: int, poll_ms: float) -> list[str]:
    """The lines to print."""
    window = outcome.window
    lines = [
        f"{'whole errand (' + str(clients) + ' clients)':40s} {outcome.rate:8.1f} errands/s"
        f"  ({outcome.errands} in {window.seconds:g} s)",
    ]
    labels = {
        "submit": "POST /applications",
        "accept": "POST /applications/{id}/actions accept",
        "approve": "POST /applications/{id}/actions approve",
        "review": "POST /applications/{id}/review (201)",
    }
    errors = outcome.errors
    for route in ROUTES:
        latencies = outcome.latencies(route)
        route_errors = sum(count for (name, _), count in errors.items() if name == route)
        line = (
            f"  {route:8s}{labels[route]:40s} {p50_p99(latencies)}  n {len(latencies):5d}"
            f"  errors {route_errors}"
        )
        if route == "approve" and outcome.approvals:
            line += f"  ({sum(outcome.approvals) / len(outcome.approvals):.1f} per errand)"
        lines.append(line)
    polls = outcome.polls
    mean_polls = sum(polls) / len(polls) if polls else float("nan")
    lines.append(
        f"  {'hop':8s}{'approve answered -> review accepted':40s} {p50_p99(outcome.hops)}"
        f"  (409 polls every {poll_ms:g} ms: mean {mean_polls:.1f},"
        f" p99 {percentile(polls, 0.99):.0f} per errand;"
        + (
            f" a 409 took p50 {percentile(outcome.not_yet, 0.5):.1f} ms)"
            if outcome.not_yet
            else " no 409 answered)"
        )
    )
    lines.append(f"  {'cpu':8s}{cpu.describe(outcome.cpu)}")
    lines.append(f"  {'':8s}{cpu.per_errand(outcome.cpu, window.seconds, outcome.errands)}")
    if errors:
        lines.append(f"  bad answers (whole run, warm-up included): {sum(errors.values())}")
        for (route, status), count in sorted(errors.items()):
            lines.append(f"    {route} {status or 'no answer'}: {count}")
        for route, example in outcome.examples[:12]:
            lines.append(f"    e.g. {route}: {example}")
    return lines
