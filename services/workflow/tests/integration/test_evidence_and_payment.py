"""Evidence steps and fees over the real broker and database: the workflow
service consumes its own evidence_step_started and payment events; a stand-in
``catalog`` answers get_item (with fees) and find_assessment; the payment
simulator runs on a free port, and its notice is handed to ``record_payment``
as the gateway's webhook hands it."""

import time

import pytest
import requests
from alembic import command
from nameko.rpc import rpc
from nameko.standalone.rpc import ServiceRpcProxy
from sqlalchemy.orm import sessionmaker

from services.common import errors
from services.common.db import make_engine
from services.common.migrations import alembic_config
from services.workflow.domain.process import ProcessDefinition
from services.workflow.service import WorkflowService
from services.workflow.service_layer.unit_of_work import WorkflowUnitOfWork
from services.workflow.tests.integration.test_workflow_service import delete_event_queues
from services.workflow.tests.unit.conftest import (
    APPLICANT,
    APPROVER,
    CLERK,
    FORM,
    MATERIALS,
    ONLINE,
    PII_KEY,
    item,
)
from simulators.payment.app import SimulatorServer

API_KEY = "it-payment-key"
FEE = {"name": "工本费", "amount_fen": 2000, "standard": "", "legal_basis": "", "waivable": False}
ZONE = {"zone_id": "z-1", "name": "江宁开发区", "region_code": "320115"}
REPORT = {
    "assessment_id": "as-1",
    "zone_id": "z-1",
    "kind": "environmental_impact",
    "title": "区域环评",
    "approved_by": "南京市生态环境局",
    "valid_from": "2020-01-01",
    "valid_to": "2099-12-31",
}
ITEMS = {
    "item-zone": item(item_id="item-zone", joint_departments=[]),
    "item-fee": item(item_id="item-fee", joint_departments=[], fees=[FEE]),
    "item-fee-first": item(item_id="item-fee-first", joint_departments=[], fees=[FEE]),
}
PROCESSES = {
    "item-zone": [
        {"id": "eia", "kind": "assessment", "assessment_kind": "environmental_impact", "days": 2},
        {"id": "decide", "kind": "approve", "role": "approver", "days": 2},
    ],
    "item-fee": [
        {"id": "accept", "kind": "accept", "role": "window_clerk", "days": 1},
        {"id": "decide", "kind": "approve", "role": "approver", "days": 2},
    ],
    "item-fee-first": [
        {"id": "accept", "kind": "accept", "role": "window_clerk", "days": 1},
        {"id": "fee", "kind": "payment", "days": 5},
        {"id": "decide", "kind": "approve", "role": "approver", "days": 2},
    ],
}


class CatalogStandIn:
    name = "catalog"

    @rpc
    def get_item(self, item_id):
        if item_id not in ITEMS:
            raise errors.NotFound(f"item {item_id} not found")
        return ITEMS[item_id]

    @rpc
    def find_assessment(self, zone_id, kind, on):
        if zone_id != "z-1":
            return {"zone": None, "assessment": None}
        return {"zone": ZONE, "assessment": REPORT if kind == REPORT["kind"] else None}


@pytest.fixture
def platform():
    with SimulatorServer(
        "127.0.0.1", 0, api_key=API_KEY, webhook_url=None, webhook_secret=b"x"
    ) as server:
        yield server


@pytest.fixture
def config(amqp_uri, database_factory, free_port, platform):
    url = database_factory("workflow")
    command.upgrade(alembic_config("workflow", url), "head")
    return {
        "AMQP_URI": amqp_uri,
        "DATABASE_URL": url,
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{free_port()}",
        "METRICS_READ_SECONDS": 0,
        "DEPARTMENT_CODE": "",
        "OUTBOX_POLL_SECONDS": 0.05,
        "EVENT_MAX_ATTEMPTS": 3,
        "EVENT_RETRY_DELAYS_MS": "50,100",
        "RPC_TIMEOUT_SECONDS": 5,
        "PAYMENT_URL": platform.url,
        "PAYMENT_API_KEY": API_KEY,
        "PAYMENT_RETRIES": 0,
        "PAYMENT_CHECK_SECONDS": 0.5,
        "PII_KEY": PII_KEY.hex(),
    }


@pytest.fixture
def services(config, container_factory, amqp_uri):
    engine = make_engine(config["DATABASE_URL"])
    uow = WorkflowUnitOfWork(sessionmaker(bind=engine), source="workflow")
    with uow:
        for item_id, steps in PROCESSES.items():
            uow.processes.add(item_id, ProcessDefinition.parse({"steps": steps}), None)
        uow.commit()
    engine.dispose()
    catalog = container_factory(CatalogStandIn, {"AMQP_URI": amqp_uri})
    workflow = container_factory(WorkflowService, config)
    catalog.start()
    workflow.start()
    yield workflow
    workflow.stop()
    delete_event_queues(amqp_uri, WorkflowService)


def eventually(check, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("timed out")


def outage(platform, down):
    requests.post(
        platform.url + "/admin/outage",
        json={"down": down},
        headers={"X-Api-Key": API_KEY},
        timeout=2,
    ).raise_for_status()


def submit(workflow, item_id, form=FORM):
    return workflow.submit_application(
        actor=APPLICANT, item_id=item_id, form=form, materials=MATERIALS, delivery=ONLINE
    )["application_id"]


def notice(order_id, application_id):
    """The platform's notice, as the gateway forwards it."""
    return {
        "event": "order.paid",
        "order_id": order_id,
        "reference": application_id,
        "state": "paid",
        "amount_fen": 2000,
        "occurred_at": "2026-12-01T08:00:00Z",
    }


def shown(workflow, application_id):
    return workflow.get_application(actor=APPLICANT, application_id=application_id)


def test_a_zones_report_covers_the_step_over_the_broker(services, config):
    with ServiceRpcProxy("workflow", config) as workflow:
        covered = submit(workflow, "item-zone", {**FORM, "zone_id": "z-1"})
        elsewhere = submit(workflow, "item-zone", {**FORM, "zone_id": "z-9"})

        def looked_up(application_id):
            return lambda: (
                (view := shown(workflow, application_id))["steps"][0]["evidence"] and view
            )

        view = eventually(looked_up(covered))
        assert view["steps"][0]["covered_by"] == {
            "kind": "assessment",
            "id": "as-1",
            "title": "区域环评",
        }
        assert [s["state"] for s in view["steps"]] == ["done", "active"]
        view = eventually(looked_up(elsewhere))
        assert view["steps"][0]["evidence"]["outcome"] == "not_covered"
        assert view["steps"][0]["state"] == "active"


def test_a_fee_is_ordered_paid_and_a_denial_after_paying_refunded(services, config, platform):
    with ServiceRpcProxy("workflow", config) as workflow:
        # Paid after the decision: the case completes with its licence.
        application_id = submit(workflow, "item-fee")
        workflow.act(actor=CLERK, application_id=application_id, action="accept")
        workflow.act(actor=APPROVER, application_id=application_id, action="approve")
        view = eventually(
            lambda: (v := shown(workflow, application_id))["payment"]["state"] == "pending" and v
        )
        pay_url, order_id = view["payment"]["pay_url"], view["payment"]["order_id"]
        assert requests.post(pay_url + "/pay", timeout=2).json()["state"] == "paid"
        answer = workflow.record_payment(**notice(order_id, application_id))
        assert answer == {"status": "ok"}
        view = shown(workflow, application_id)
        assert (view["state"], view["payment"]["state"]) == ("completed", "paid")
        assert view["licence_no"]

        # Paid before the decision, denied while the platform is down: refunded
        # by the payment sweep once it is back.
        application_id = submit(workflow, "item-fee-first")
        workflow.act(actor=CLERK, application_id=application_id, action="accept")
        view = eventually(
            lambda: (v := shown(workflow, application_id))["payment"]["state"] == "pending" and v
        )
        order_id = view["payment"]["order_id"]
        requests.post(view["payment"]["pay_url"] + "/pay", timeout=2)
        workflow.record_payment(**notice(order_id, application_id))
        outage(platform, True)
        try:
            denied = workflow.act(
                actor=APPROVER, application_id=application_id, action="deny", comment="不予许可"
            )
            assert denied["payment"]["state"] == "refunding"
            time.sleep(1.5)  # the handler and a sweep or two meet the outage
            assert shown(workflow, application_id)["payment"]["state"] == "refunding"
        finally:
            outage(platform, False)
        view = eventually(
            lambda: (v := shown(workflow, application_id))["payment"]["state"] == "refunded" and v
        )
        order = requests.get(
            f"{platform.url}/api/orders/{order_id}", headers={"X-Api-Key": API_KEY}, timeout=2
        ).json()
        assert (order["state"], order["refunded_fen"], len(order["refunds"])) == (
            "refunded",
            2000,
            1,
        )
        with pytest.raises(errors.NotFound):
            workflow.record_payment(**notice("PO-other", application_id))
