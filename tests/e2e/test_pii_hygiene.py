"""ID numbers, end to end: shown in full only where a reviewer needs them, every
such read on the trail operators read, and never in a log line, an event or
an error.

An agent (a citizen the principal mandated) applies for a real-name verified
person for 320100-NJFCJ-001 (南京购房资格证明, an instant item: its automatic
decision reads the person's facts at identity and asks the data exchange by
their number); the housing bureau's clerk looks at the person applied for.
Then every process log of the cluster and every event published meanwhile
are searched for the full numbers used.
"""

import json
import uuid

import pytest
from kombu import Connection, Exchange, Queue, binding

from operations.roster import SERVICES
from tests.e2e.approvals import apply_for_person, case, citizen, item, operator, staff
from tests.e2e.test_journey import Client, eventually

pytestmark = pytest.mark.e2e

HOUSING = "320100-NJFCJ-001"  # nj-fc, instant
NANJING = "320102"  # 玄武区


@pytest.fixture(scope="module", autouse=True)
def watch(log_watch):
    return log_watch()


class EventTap:
    """A queue of its own bound to every service's event exchange: what was
    published from now on, as it travelled."""

    def __init__(self, uri: str):
        self.connection = Connection(uri)
        channel = self.connection.channel()
        self.queue = Queue(
            f"e2e-pii-tap-{uuid.uuid4().hex}",
            exclusive=True,
            auto_delete=True,
            bindings=[
                binding(Exchange(f"{source}.events", type="topic", durable=True), routing_key="#")
                for source in SERVICES
            ],
            channel=channel,
        )
        self.queue.declare()
        self.seen: list[str] = []

    def drain(self) -> list[str]:
        """Every message body published since the tap was made, as text."""
        while True:
            message = self.queue.get(no_ack=True)
            if message is None:
                return self.seen
            body = message.body
            self.seen.append(body.decode("utf-8") if isinstance(body, bytes) else str(body))

    def close(self) -> None:
        self.connection.release()


@pytest.fixture
def tap(cluster_amqp_uri):
    listening = EventTap(cluster_amqp_uri)
    yield listening
    listening.close()


def user_id_of(client: Client) -> str:
    response = client.get("/api/v1/me")
    assert response.status_code == 200, response.text
    return response.json()["user_id"]


def errand(base: str, data_exchange) -> dict:
    """The agent's errand for the principal, decided automatically; what the
    test needs of it."""
    principal, principal_number = citizen(base, "购房委托人", region=NANJING)
    agent, agent_number = citizen(base, "代办亲属", region=NANJING)
    principal_id = user_id_of(principal)
    data_exchange.put(principal_number, civil_affairs={"marital_status": "single"}, housing=None)
    application_id = apply_for_person(principal, agent, HOUSING)

    def decided():
        view = case(agent, application_id)
        return (
            view
            if view["state"] in ("completed", "denied", "submitted") and len(view["timeline"]) > 1
            else None
        )

    view = eventually(decided, timeout=30, interval=0.2, what="the automatic decision")
    ops = operator(base)
    clerk = staff(ops, item(agent, HOUSING)["department_code"], "window_clerk", name="房产窗口")
    return {
        "principal": principal,
        "principal_id": principal_id,
        "principal_number": principal_number,
        "agent": agent,
        "agent_number": agent_number,
        "application_id": application_id,
        "view": view,
        "operator": ops,
        "clerk": clerk,
        "clerk_id": user_id_of(clerk),
    }


def trail(ops: Client, **query) -> list[dict]:
    response = ops.get("/api/v1/admin/pii-access", params={"page_size": 100, **query})
    assert response.status_code == 200, response.text
    page = response.json()
    assert set(page) == {"items", "page", "page_size", "total"}
    return page["items"]


def test_a_reviewer_reads_the_principals_number_and_the_operator_sees_who_did(
    cluster, data_exchange
):
    done = errand(cluster.gateway_url, data_exchange)
    application_id, number = done["application_id"], done["principal_number"]
    # The case shows the person applied for, never the number in full.
    view = case(done["clerk"], application_id)
    assert view["on_behalf_of"]["user_id"] == done["principal_id"]
    assert number not in json.dumps(view)

    response = done["clerk"].get(f"/api/v1/applications/{application_id}/principal")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "application_id": application_id,
        "kind": "person",
        "user_id": done["principal_id"],
        "name": "购房委托人",
        "id_number": number,
    }
    # Neither the principal, nor the agent who applied, nor the operator reads it here.
    for reader, status in ((done["principal"], 403), (done["agent"], 403)):
        answer = reader.get(f"/api/v1/applications/{application_id}/principal")
        assert answer.status_code == status, answer.text
        assert number not in answer.text

    reads = trail(done["operator"], subject_id=done["principal_id"])
    reviewed = [entry for entry in reads if entry["purpose"] == "case_review"]
    assert [
        (e["accessor_id"], e["accessor_kind"], e["subject_kind"], e["service"]) for e in reviewed
    ] == [(done["clerk_id"], "staff", "user", "identity")]
    # The automatic decision read the person's facts at identity: on the trail too.
    decided = [entry for entry in reads if entry["purpose"] == "automatic_decision"]
    assert decided and {entry["accessor_kind"] for entry in decided} == {"service"}
    assert {entry["accessor_id"] for entry in decided} <= {"workflow", "workflow-js-ga"}
    # Newest first; filtered by the reader as well.
    assert [entry["at"] for entry in reads] == sorted((e["at"] for e in reads), reverse=True)
    by_clerk = trail(done["operator"], accessor_id=done["clerk_id"])
    assert [entry["access_id"] for entry in by_clerk] == [reviewed[0]["access_id"]]


def test_only_the_operator_reads_the_trail(cluster):
    base = cluster.gateway_url
    someone, _ = citizen(base, "好奇市民")
    assert someone.get("/api/v1/admin/pii-access").status_code == 403
    assert Client(base).get("/api/v1/admin/pii-access").status_code == 401
    response = operator(base).get("/api/v1/admin/pii-access", params={"page_size": "x"})
    assert response.status_code == 422
    assert "page_size" in response.json()["error"]["fields"]


def test_no_full_id_number_in_any_log_event_or_error(cluster, data_exchange, tap):
    base = cluster.gateway_url
    done = errand(base, data_exchange)
    numbers = {done["principal_number"], done["agent_number"]}
    response = done["clerk"].get(f"/api/v1/applications/{done['application_id']}/principal")
    assert response.status_code == 200, response.text

    # Errors do not echo a number: a wrong check digit, a number bound already.
    someone, _ = citizen(base, "另一市民")
    number = done["principal_number"]
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    for sent in (wrong, number):
        refused = someone.post("/api/v1/me/real-name", json={"name": "另一市民", "id_number": sent})
        assert refused.status_code in (409, 422), refused.text
        assert sent not in refused.text
    numbers.add(wrong)

    # Every event published meanwhile, once the case's last ones have travelled.
    def travelled():
        bodies = tap.drain()
        return (
            any(done["application_id"] in body and "application_ended" in body for body in bodies)
            or None
        )

    if done["view"]["state"] != "submitted":
        eventually(travelled, timeout=30, interval=0.5, what="the case's events to travel")
    bodies = tap.drain()
    assert bodies, "the tap heard no event"
    leaked = [body[:300] for body in bodies if any(n in body for n in numbers)]
    assert not leaked, leaked

    # Every process log of the cluster, from its start.
    logs = sorted({process.log_path for process in cluster.processes})
    logs += sorted(set((cluster.data_dir / "logs").glob("*.log")) - set(logs))
    assert logs
    for path in logs:
        text = path.read_text(encoding="utf-8", errors="replace")
        found = sorted(n for n in numbers if n in text)
        assert not found, f"{path.name} holds a full ID number"
