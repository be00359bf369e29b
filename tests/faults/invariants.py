"""What must hold after a fault, read from the cluster's databases (read only),
the gateway, the EMS simulator and the broker.

For the applications a scenario's clients got a 201 for:

- each exists in workflow, and has ended or can still move: an open case has an
  action someone may take (the citizen can at least withdraw it), an approved
  one sent by EMS has its result on the way;
- a completed case is reviewable exactly once: ratings holds one
  ``reviewable_cases`` row for it, and the review a client got a 201 for is
  there, once;
- an approved or completed case has one licence;
- a case sent by EMS has one materials shipment once accepted and one result
  shipment once approved, and the EMS simulator booked one waybill of each;
- no case entered ``submitted`` or ``completed`` twice (its timeline).

Across the cluster: every service's outbox drains to 0 unsent rows; no message
waits in a dead-letter queue of the virtual host but the scenario's poison
events; the gateway answered no 5xx but 503 or 504 while the fault lasted, and
none at all outside it. ``lost`` counts what is missing, ``duplicated`` what is
there more than once.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import quote

import requests
import sqlalchemy as sa

from operations.dead_letters import take
from simulators.ems.__main__ import DEFAULT_API_KEY as EMS_DEV_API_KEY
from tests.bench.errand import Gateway
from tests.faults.cluster import FaultCluster, rabbitmqctl
from tests.faults.load import ENDED, Case, Client, Request, sign_in

ALLOWED_DURING_FAULT = {503, 504}
SETTLE_SECONDS = 90.0


@dataclass
class Verdict:
    lost: int = 0
    duplicated: int = 0
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def fail(self, text: str, lost: int = 0, duplicated: int = 0) -> None:
        self.lost += lost
        self.duplicated += duplicated
        self.failures.append(text)

    @property
    def ok(self) -> bool:
        return not self.failures


def _select(url: str, query: str, ids: list[str]) -> list:
    statement = sa.text(query).bindparams(sa.bindparam("ids", expanding=True))
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(statement, {"ids": ids}).all() if ids else []
    finally:
        engine.dispose()


def outbox_backlog(fc: FaultCluster) -> dict[str, int]:
    """Unsent outbox rows of every database."""
    backlog = {}
    for name, url in fc.database_urls.items():
        engine = sa.create_engine(url)
        try:
            with engine.connect() as connection:
                backlog[name] = connection.execute(
                    sa.text("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
                ).scalar_one()
        except sa.exc.SQLAlchemyError as exc:
            backlog[name] = -1
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            print(f"  outbox of {name}: {type(exc).__name__} {first_line[:160]}", flush=True)
        finally:
            engine.dispose()
    return backlog


def wait_outbox_drained(fc: FaultCluster, timeout: float = 60.0) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while True:
        backlog = {name: count for name, count in outbox_backlog(fc).items() if count}
        if not backlog or time.monotonic() > deadline:
            return backlog
        time.sleep(1)


def dead_letters(fc: FaultCluster) -> dict[str, int]:
    """Messages waiting in each ``*.dead`` queue of the virtual host."""
    output = rabbitmqctl(
        "list_queues", "-p", fc.vhost, "name", "messages", "--formatter", "json", "-q"
    )
    if output is None:
        return {"(rabbitmqctl failed)": -1}
    return {
        row["name"]: int(row["messages"])
        for row in json.loads(output or "[]")
        if row["name"].endswith(".dead") and int(row["messages"])
    }


def dead_letter_ids(fc: FaultCluster, queue: str) -> list[str]:
    """The event ids of the messages in a dead-letter queue, left in place."""
    handler_queue = queue[: -len(".dead")]
    seen = take(fc.broker_uri, handler_queue, limit=1000, replay=False)
    return [str((message["body"] or {}).get("id")) for message in seen]


def check_http(requests_seen: list[Request], fault: tuple[float, float], verdict: Verdict) -> int:
    """5xx and no-answers: 503/504 are fine for a request that overlapped the
    fault (``(started, ended)``, time.time()), nothing outside it. Returns the
    errors inside the fault."""
    started, ended = fault

    def during(r: Request) -> bool:  # asked before the end, answered after the start
        return r.started <= ended and r.started + r.ms / 1000 >= started

    inside = [r for r in requests_seen if during(r)]
    outside = [r for r in requests_seen if not during(r)]
    bad = [r for r in inside if (r.status == 0 or r.status >= 500)]
    wrong_inside = Counter((r.route, r.status) for r in bad if r.status not in ALLOWED_DURING_FAULT)
    wrong_outside = Counter(
        (r.route, r.status) for r in outside if r.status == 0 or r.status >= 500
    )
    for label, counts, pool in (
        ("during the fault", wrong_inside, bad),
        ("outside the fault", wrong_outside, outside),
    ):
        if counts:
            example = next((r for r in pool if (r.route, r.status) in counts), None)
            listed = ", ".join(
                f"{route} {status or 'no answer'} x{n}"
                for (route, status), n in sorted(counts.items())
            )
            verdict.fail(
                f"{label}: {listed}" + (f" (e.g. {example.body[:160]!r})" if example else "")
            )
    return len(bad)


def check_cases(fc: FaultCluster, cases: list[Case], clients: list[Client]) -> Verdict:
    verdict = Verdict()
    ids = [case.application_id for case in cases]
    if not ids:
        verdict.fail("no application got a 201 in this scenario")
        return verdict
    urls = fc.database_urls
    workflow = {
        row.application_id: row
        for row in _select(
            urls["workflow"],
            "SELECT application_id, state, licence_no FROM applications"
            " WHERE application_id IN :ids",
            ids,
        )
    }
    licences = dict(
        _select(
            urls["workflow"],
            "SELECT application_id, count(*) FROM licences WHERE application_id IN :ids"
            " GROUP BY application_id",
            ids,
        )
    )
    reviewable = dict(
        _select(
            urls["ratings"],
            "SELECT application_id, count(*) FROM reviewable_cases WHERE application_id IN :ids"
            " GROUP BY application_id",
            ids,
        )
    )
    reviews = dict(
        _select(
            urls["ratings"],
            "SELECT application_id, count(*) FROM reviews WHERE application_id IN :ids"
            " GROUP BY application_id",
            ids,
        )
    )
    shipments = {
        (row.application_id, row.direction): row.count
        for row in _select(
            urls["courier"],
            "SELECT application_id, direction, count(*) AS count FROM shipments"
            " WHERE application_id IN :ids GROUP BY application_id, direction",
            ids,
        )
    }
    # A state a case enters once: twice means an event or a request took effect twice.
    repeated = {
        (row.application_id, row.state): row.count
        for row in _select(
            urls["workflow"],
            "SELECT application_id, state, count(*) AS count FROM timeline_entries"
            " WHERE application_id IN :ids AND state IN ('submitted', 'completed')"
            " GROUP BY application_id, state HAVING count(*) > 1",
            ids,
        )
    }
    for (application_id, state), count in repeated.items():
        verdict.duplicated += count - 1
        verdict.failures.append(f"{application_id} entered {state} {count} times")
    citizens = {client.number: client.citizen for client in clients}
    problems: Counter = Counter()
    examples: dict[str, str] = {}

    def note(kind: str, application_id: str, lost: int = 0, duplicated: int = 0) -> None:
        problems[kind] += 1
        examples.setdefault(kind, application_id)
        verdict.lost += lost
        verdict.duplicated += duplicated

    for case in cases:
        row = workflow.get(case.application_id)
        if row is None:
            note("got a 201 but is not in workflow", case.application_id, lost=1)
            continue
        state = row.state
        if state not in ENDED and not can_move(fc, case, state, citizens, shipments):
            note(f"stuck in {state}: no action open", case.application_id, lost=1)
        if state in ("approved", "completed"):
            count = licences.get(case.application_id, 0)
            if count != 1:
                note(
                    f"{count} licences", case.application_id, lost=count == 0, duplicated=count > 1
                )
        if state == "completed":
            count = reviewable.get(case.application_id, 0)
            if count != 1:
                note(
                    f"reviewable {count} times",
                    case.application_id,
                    lost=count == 0,
                    duplicated=count > 1,
                )
        count = reviews.get(case.application_id, 0)
        if count > 1 or (case.reviewed and count == 0):
            note(f"{count} reviews", case.application_id, lost=count == 0, duplicated=count > 1)
        if case.mode == "express":
            wanted = []
            if state in ("accepted", "approved", "completed"):
                wanted.append("materials")
            if state in ("approved", "completed"):
                wanted.append("result")
            for direction in wanted:
                count = shipments.get((case.application_id, direction), 0)
                if count != 1:
                    note(
                        f"{count} {direction} shipments",
                        case.application_id,
                        lost=count == 0,
                        duplicated=count > 1,
                    )
            for kind, count in ems_waybills(fc, case.application_id).items():
                if count > 1:
                    note(
                        f"{count} EMS waybills of kind {kind}",
                        case.application_id,
                        duplicated=count - 1,
                    )
    for kind, count in problems.items():
        verdict.failures.append(f"{count} application(s) {kind} (e.g. {examples[kind]})")
    return verdict


def can_move(fc, case: Case, state: str, citizens: dict, shipments: dict) -> bool:
    """An open case has an action its citizen may take (withdraw at least); an
    approved case sent by EMS waits for its result shipment."""
    if state == "approved":
        return shipments.get((case.application_id, "result"), 0) > 0 or case.mode == "online"
    gateway = Gateway(fc.gateway_url)
    try:
        path = f"/api/v1/applications/{quote(case.application_id, safe='')}"
        citizen = citizens[case.client]
        answer = gateway.call("GET", path, token=citizen["token"])
        if answer.status == 401 and sign_in(gateway, citizen):
            answer = gateway.call("GET", path, token=citizen["token"])
    finally:
        gateway.close()
    return answer.status == 200 and bool(answer.field("available_actions"))


def ems_waybills(fc: FaultCluster, application_id: str) -> Counter:
    """Waybills the EMS simulator booked for a case, by kind."""
    ems = fc.process("ems-simulator")
    base = ems.health_url[: -len("/healthz")]
    courier = fc.process("courier")
    key = courier.env.get("EMS_API_KEY") or EMS_DEV_API_KEY
    answer = requests.get(
        f"{base}/sim/orders",
        params={"reference": application_id},
        headers={"X-Api-Key": key},
        timeout=15,
    )
    answer.raise_for_status()
    return Counter(order.get("kind") for order in answer.json()["orders"])


def check(
    fc: FaultCluster,
    cases: list[Case],
    clients: list[Client],
    scenario_poison: set[str],
    all_poison: set[str],
) -> Verdict:
    """Every invariant; the case checks are tried again for a while, since the
    last events of a scenario may still be on their way."""
    backlog = wait_outbox_drained(fc)
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        verdict = check_cases(fc, cases, clients)
        if verdict.ok or time.monotonic() > deadline:
            break
        time.sleep(2)
    if backlog:
        verdict.fail(f"outbox not drained after 60 s: {backlog}")
    waiting = dead_letters(fc)
    held = {queue: dead_letter_ids(fc, queue) for queue in waiting}
    if scenario_poison:
        holding = sorted(queue for queue, ids in held.items() if scenario_poison & set(ids))
        if holding:
            verdict.notes.append(f"the poison event waits in {', '.join(holding)}")
        else:
            verdict.fail("the poison event reached no dead-letter queue")
    for queue, ids in held.items():
        strangers = [event_id for event_id in ids if event_id not in all_poison]
        if strangers:
            verdict.fail(f"{len(strangers)} dead letter(s) in {queue} (event ids {strangers[:3]})")
    return verdict
