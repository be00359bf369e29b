"""EMS when it fails, end to end: a materials pickup or a result delivery that
the EMS simulator fails (its fail route), and the applicant's way on through the
gateway (ship again, or the window); EMS not answering for a while, then back:
the order is placed late, once, and the case proceeds.
"""

import signal
import time

import pytest
import requests

from simulators.ems.__main__ import DEFAULT_API_KEY
from tests.e2e.approvals import case, citizen, operator, staff
from tests.e2e.test_journey import ADDRESS, Client, eventually

pytestmark = pytest.mark.e2e

NEW_ADDRESS = {
    "name": "王小明",
    "phone": "13912345679",
    "province": "江苏省",
    "city": "无锡市",
    "district": "梁溪区",
    "street": "中山路 1 号",
    "postcode": "214000",
}
PLAIN_STEPS = {"accept", "review", "approve"}


@pytest.fixture(scope="module", autouse=True)
def watch(log_watch):
    return log_watch()


def process_of(cluster, name):
    return next(p for p in cluster.processes if p.name == name)


class Ems:
    """The cluster's EMS simulator, as courier is configured to reach it."""

    def __init__(self, cluster):
        courier = process_of(cluster, "courier")
        self.url = courier.env["EMS_BASE_URL"]
        self.headers = {"X-Api-Key": courier.env.get("EMS_API_KEY") or DEFAULT_API_KEY}
        self.process = process_of(cluster, "ems-simulator")

    def orders(self, reference: str) -> list[dict]:
        response = requests.get(
            f"{self.url}/sim/orders",
            params={"reference": reference},
            headers=self.headers,
            timeout=5,
        )
        response.raise_for_status()
        return response.json()["orders"]

    def waybill(self, reference: str, kind: str, number: int = 1) -> dict:
        """The ``number``-th waybill of ``kind`` for the application, once booked
        (looked for often: a waybill moves on every 0.3 s here)."""

        def booked():
            found = [order for order in self.orders(reference) if order["kind"] == kind]
            return found[number - 1] if len(found) >= number else None

        return eventually(booked, timeout=30, interval=0.05, what=f"{kind} waybill {number}")

    def fail(self, tracking_no: str, reason: str) -> dict:
        response = requests.post(
            f"{self.url}/sim/shipments/{tracking_no}/fail",
            json={"reason": reason},
            headers=self.headers,
            timeout=5,
        )
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="module")
def ems(cluster):
    return Ems(cluster)


@pytest.fixture(scope="module")
def express_item(cluster):
    """A published express item of the shared instance, one department, whose
    process only accepts and decides (no fee, no evidence to wait for)."""
    client = Client(cluster.gateway_url)
    for keyword in ("食品", "许可", "登记", "证"):
        found = client.get("/api/v1/items", params={"q": keyword, "page_size": 100})
        for summary in found.json()["items"]:
            if "express" not in summary["modes"]:
                continue
            guide = client.get(f"/api/v1/items/{summary['item_id']}").json()
            if guide["handled_by"] != "workflow" or guide["joint_departments"]:
                continue
            if guide.get("fees"):
                continue
            process = client.get(f"/api/v1/items/{summary['item_id']}/process").json()
            if {step["kind"] for step in process["definition"]["steps"]} <= PLAIN_STEPS:
                return guide
    raise AssertionError("the demo catalogue has no plain single-department express item")


@pytest.fixture(scope="module")
def window(cluster, express_item):
    """A window clerk and approver of the item's department."""
    return staff(
        operator(cluster.gateway_url),
        express_item["department_code"],
        "window_clerk",
        "approver",
        name="窗口人员",
    )


def signed_up(cluster) -> Client:
    """A new verified citizen. Registering hashes a password (argon2id), slow
    work that a loaded machine may not finish within the gateway's RPC
    deadline (a 504, which changes nothing): asked again then."""
    for _ in range(5):
        try:
            return citizen(cluster.gateway_url, "王小明")[0]
        except AssertionError as error:
            if "504" not in str(error):
                raise
            time.sleep(1)
    raise AssertionError("identity stayed too slow to register a citizen")


def apply(cluster, guide, applicant: Client | None = None) -> tuple[Client, str]:
    applicant = applicant or signed_up(cluster)
    response = applicant.post(
        "/api/v1/applications",
        json={
            "item_id": guide["item_id"],
            "form": {"purpose": "e2e"},
            "materials": [{"name": material["name"]} for material in guide["materials"]],
            "delivery": {"mode": "express", "address": ADDRESS},
        },
    )
    assert response.status_code == 201, response.text
    return applicant, response.json()["application_id"]


def reached(client, application_id, check, what, timeout=45):
    def done():
        view = case(client, application_id)
        return view if check(view) else None

    return eventually(done, timeout=timeout, interval=0.2, what=what)


def actions(view) -> list[str]:
    return [entry["action"] for entry in view["available_actions"]]


def decide(worker, application_id) -> dict:
    """The worker takes every step until the case is approved (or completed)."""
    view = case(worker, application_id)
    while view["state"] not in ("approved", "completed"):
        names = actions(view)
        action = "accept" if "accept" in names else "approve"
        assert action in names, (view["state"], names)
        response = worker.post(
            f"/api/v1/applications/{application_id}/actions",
            json={"action": action, "comment": "同意"},
        )
        assert response.status_code == 200, response.text
        view = response.json()
    return view


def shipments(client, application_id) -> list[dict]:
    response = client.get("/api/v1/shipments", params={"application_id": application_id})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def choose(applicant, application_id, choice, address=None) -> dict:
    body = {"choice": choice}
    if address is not None:
        body["address"] = address
    response = applicant.post(f"/api/v1/applications/{application_id}/redelivery", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def failed_pickup(cluster, ems, guide, reason):
    applicant, application_id = apply(cluster, guide)
    waybill = ems.waybill(application_id, "materials")
    ems.fail(waybill["tracking_no"], reason)
    view = reached(
        applicant,
        application_id,
        lambda view: view["shipment_failure"] is not None,
        "the case to hear of the failed pickup",
    )
    return applicant, application_id, waybill, view


def test_a_failed_pickup_is_shipped_again_from_a_new_address(cluster, ems, express_item, window):
    applicant, application_id, waybill, view = failed_pickup(cluster, ems, express_item, "refused")

    assert view["state"] == "submitted"
    assert view["shipment_failure"]["reason"] == "refused"
    assert view["shipment_failure"]["tracking_no"] == waybill["tracking_no"]
    assert view["clock"]["stopped_for"] == "delivery"
    assert actions(view) == ["withdraw", "reship_materials", "bring_to_window"]
    failure = view["timeline"][-1]
    assert failure["action"] == "shipment_failed" and "refused" in failure["comment"]
    # The window owes nothing meanwhile: it may only reject.
    staff_actions = actions(case(window, application_id))
    assert "reject" in staff_actions and "accept" not in staff_actions

    view = choose(applicant, application_id, "reship_materials", NEW_ADDRESS)
    assert view["clock"]["running"] is True
    assert view["delivery"]["address"]["city"] == "无锡市"

    # A second pickup, from the new address; delivered, the case is accepted.
    second = ems.waybill(application_id, "materials", 2)
    assert second["sender"]["city"] == "无锡市"
    reached(applicant, application_id, lambda v: v["state"] == "accepted", "the case accepted")
    listed = shipments(applicant, application_id)
    assert [(s["attempt"], s["status"]) for s in listed] == [(1, "failed"), (2, "delivered")]

    decide(window, application_id)
    view = reached(applicant, application_id, lambda v: v["state"] == "completed", "completion")
    timeline = [entry["action"] for entry in view["timeline"]]
    assert timeline[:4] == ["submit", "shipment_failed", "reship_materials", "materials_received"]


def test_a_failed_pickup_brought_to_the_window_is_accepted_there(
    cluster, ems, express_item, window
):
    applicant, application_id, _, _ = failed_pickup(cluster, ems, express_item, "undeliverable")

    view = choose(applicant, application_id, "bring_to_window")
    assert actions(view) == ["withdraw"]
    assert "accept" in actions(case(window, application_id))

    response = window.post(
        f"/api/v1/applications/{application_id}/actions",
        json={"action": "accept", "comment": "申请人到窗口递交材料"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "accepted"
    # No new pickup was booked.
    assert len(ems.orders(application_id)) == 1


def failed_result(cluster, ems, guide, window, reason):
    applicant, application_id = apply(cluster, guide)
    reached(applicant, application_id, lambda v: v["state"] == "accepted", "the materials")
    decide(window, application_id)
    waybill = ems.waybill(application_id, "result")
    ems.fail(waybill["tracking_no"], reason)
    view = reached(
        applicant,
        application_id,
        lambda view: view["shipment_failure"] is not None,
        "the case to hear of the failed delivery",
    )
    return applicant, application_id, view


def test_a_failed_result_delivery_is_delivered_again(cluster, ems, express_item, window):
    applicant, application_id, view = failed_result(cluster, ems, express_item, window, "lost")

    assert view["state"] == "approved"
    assert actions(view) == ["redeliver_result", "collect_at_window"]
    assert actions(case(window, application_id)) == ["hand_over"]

    choose(applicant, application_id, "redeliver_result")

    second = ems.waybill(application_id, "result", 2)
    assert second["recipient"]["city"] == ADDRESS["city"]
    view = reached(applicant, application_id, lambda v: v["state"] == "completed", "completion")
    assert [
        (s["direction"], s["attempt"], s["status"]) for s in shipments(applicant, application_id)
    ][1:] == [("result", 1, "failed"), ("result", 2, "delivered")]
    assert "redeliver_result" in [entry["action"] for entry in view["timeline"]]


def test_a_failed_result_delivery_is_collected_at_the_window(cluster, ems, express_item, window):
    applicant, application_id, _ = failed_result(cluster, ems, express_item, window, "returned")

    view = choose(applicant, application_id, "collect_at_window")
    assert actions(view) == []
    assert actions(case(window, application_id)) == ["hand_over"]
    refused = applicant.post(f"/api/v1/applications/{application_id}/handover", json={})
    assert refused.status_code == 403

    response = window.post(
        f"/api/v1/applications/{application_id}/handover", json={"comment": "申请人本人领取"}
    )

    assert response.status_code == 200, response.text
    view = response.json()
    assert view["state"] == "completed"
    assert [entry["action"] for entry in view["timeline"]][-3:] == [
        "collect_at_window",
        "hand_over",
        "complete",
    ]
    assert len([o for o in ems.orders(application_id) if o["kind"] == "result"]) == 1


def courier_metric(cluster, name, **labels) -> float:
    courier = process_of(cluster, "courier")
    address = courier.env["WEB_SERVER_ADDRESS"]
    text = requests.get(f"http://{address}/metrics", timeout=5).text
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name):
            continue
        head, _, value = line.rpartition(" ")
        if head.split("{")[0] != name:
            continue
        if all(f'{key}="{wanted}"' in head for key, wanted in labels.items()):
            total += float(value)
    return total


def test_ems_not_answering_keeps_the_order_until_it_is_back(cluster, ems, express_item, window):
    """The simulator stopped (SIGSTOP: it takes connections and answers
    nothing): the order waits in courier, pending, and is tried again with
    backoff; once EMS answers, it is placed, once, and the case goes on."""
    retried = courier_metric(cluster, "tongban_courier_ems_order_attempts_total", outcome="retried")
    # Signed up first: registering is slow work of its own on a loaded machine.
    applicant = signed_up(cluster)
    ems.process.popen.send_signal(signal.SIGSTOP)
    try:
        applicant, application_id = apply(cluster, express_item, applicant)
        [pending] = eventually(
            lambda: shipments(applicant, application_id), timeout=30, what="the kept order"
        )
        assert (pending["status"], pending["tracking_no"]) == ("pending", None)
        eventually(
            lambda: (
                courier_metric(
                    cluster, "tongban_courier_ems_order_attempts_total", outcome="retried"
                )
                >= retried + 2
            ),
            timeout=30,
            what="two attempts EMS did not answer",
        )
        # A gauge read from the database at most every METRICS_READ_SECONDS.
        eventually(
            lambda: courier_metric(cluster, "tongban_courier_pending_orders") >= 1,
            timeout=30,
            what="the pending order in the gauge",
        )
        time.sleep(1)
        assert case(applicant, application_id)["state"] == "submitted"
    finally:
        ems.process.popen.send_signal(signal.SIGCONT)

    reached(applicant, application_id, lambda v: v["state"] == "accepted", "the late pickup")
    [shipment] = shipments(applicant, application_id)
    assert shipment["status"] == "delivered"
    # Every attempt carried the same key: EMS booked one waybill.
    [order] = ems.orders(application_id)
    assert order["tracking_no"] == shipment["tracking_no"]
    decide(window, application_id)
    reached(applicant, application_id, lambda v: v["state"] == "completed", "completion")


def test_an_order_ems_never_takes_fails_after_the_retry_window(
    cluster, clock, ems, express_item, window
):
    """EMS does not answer for longer than EMS_ORDER_RETRY_HOURS (48 hours: the
    cluster's clock is moved three days on): the pickup fails as
    ems_unavailable, and the applicant has the usual way on."""
    gave_up = courier_metric(cluster, "tongban_courier_ems_order_attempts_total", outcome="gave_up")
    # Signed up first: registering is slow work of its own on a loaded machine.
    applicant = signed_up(cluster)
    ems.process.popen.send_signal(signal.SIGSTOP)
    try:
        applicant, application_id = apply(cluster, express_item, applicant)
        eventually(lambda: shipments(applicant, application_id), timeout=30, what="the kept order")
        clock.move_by(3)
        eventually(
            lambda: (
                courier_metric(
                    cluster, "tongban_courier_ems_order_attempts_total", outcome="gave_up"
                )
                > gave_up
            ),
            timeout=30,
            what="courier to give the order up",
        )
        clock.set(0)
    finally:
        ems.process.popen.send_signal(signal.SIGCONT)

    view = reached(
        applicant,
        application_id,
        lambda view: view["shipment_failure"] is not None,
        "the case to hear of the order never placed",
    )
    failure = view["shipment_failure"]
    assert (failure["reason"], failure["tracking_no"]) == ("ems_unavailable", None)
    [shipment] = shipments(applicant, application_id)
    assert (shipment["status"], shipment["tracking_no"]) == ("failed", None)
    assert actions(view) == ["withdraw", "reship_materials", "bring_to_window"]

    choose(applicant, application_id, "reship_materials")
    reached(applicant, application_id, lambda v: v["state"] == "accepted", "the new pickup")
    listed = shipments(applicant, application_id)
    assert [(s["attempt"], s["status"]) for s in listed] == [(1, "failed"), (2, "delivered")]


def test_nothing_alarming_was_logged(watch):
    assert watch.problems() == []
