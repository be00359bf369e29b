"""A failed EMS shipment on the real broker and database: courier's
shipment_failed in, the applicant's choice and the window's hand-over over RPC,
redelivery_requested out."""

import uuid

import pytest
from alembic import command
from kombu import Connection, Queue
from nameko.standalone.rpc import ServiceRpcProxy
from nameko.testing.services import entrypoint_waiter

from services.common import errors
from services.common.db import make_engine
from services.common.messaging import topology
from services.common.migrations import alembic_config
from services.common.pii import DEV_PII_KEY
from services.common.testing import envelope
from services.workflow.service import WorkflowService
from services.workflow.tests.integration.test_workflow_service import (
    ITEM,
    CatalogStandIn,
    delete_event_queues,
    publish,
    received_events,
    timeline_actions,
)
from services.workflow.tests.unit.conftest import (
    APPLICANT,
    APPROVER,
    CLERK,
    EXPRESS,
    FORM,
    MATERIALS,
)

NEW_ADDRESS = {**EXPRESS["address"], "city": "无锡市", "postcode": "214000"}


@pytest.fixture
def config(amqp_uri, database_factory, free_port):
    url = database_factory("workflow")
    command.upgrade(alembic_config("workflow", url), "head")
    return {
        "AMQP_URI": amqp_uri,
        "DATABASE_URL": url,
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{free_port()}",
        "DEPARTMENT_CODE": "",
        "PII_KEY": DEV_PII_KEY,
        "OUTBOX_POLL_SECONDS": 0.05,
        "EVENT_MAX_ATTEMPTS": 3,
        "EVENT_RETRY_DELAYS_MS": "50,100",
        "RPC_TIMEOUT_SECONDS": 5,
    }


@pytest.fixture
def engine(config):
    engine = make_engine(config["DATABASE_URL"])
    yield engine
    engine.dispose()


@pytest.fixture
def services(config, container_factory, amqp_uri):
    catalog = container_factory(CatalogStandIn, {"AMQP_URI": amqp_uri})
    workflow = container_factory(WorkflowService, config)
    catalog.start()
    workflow.start()
    yield workflow
    workflow.stop()
    delete_event_queues(amqp_uri, WorkflowService)


@pytest.fixture
def redeliveries(amqp_uri):
    """A queue of this test bound to workflow.events' redelivery_requested."""
    name = f"test-redeliveries-{uuid.uuid4().hex[:8]}"
    with Connection(amqp_uri) as connection:
        channel = connection.default_channel
        exchange = topology.event_exchange("workflow")
        exchange(channel).declare()
        Queue(name, exchange=exchange, routing_key="redelivery_requested", durable=False)(
            channel
        ).declare()
    yield name
    with Connection(amqp_uri) as connection:
        connection.default_channel.queue_delete(name)


def failed(application_id, direction, reason="refused", attempt=1):
    return envelope(
        "courier",
        "shipment_failed",
        {
            "application_id": application_id,
            "tracking_no": "EA123456785CN",
            "direction": direction,
            "reason": reason,
            "description": "收件人拒收",
            "failed_at": "2026-10-08T02:00:00Z",
            "attempt": attempt,
        },
    )


def actions(case):
    return [entry["action"] for entry in case["available_actions"]]


def test_a_failed_pickup_is_shipped_again_and_a_failed_result_handed_over(
    services, config, engine, amqp_uri, redeliveries
):
    with ServiceRpcProxy("workflow", config) as workflow:
        application_id = workflow.submit_application(
            actor=APPLICANT,
            item_id=ITEM["item_id"],
            form=FORM,
            materials=MATERIALS,
            delivery=EXPRESS,
        )["application_id"]

        # The same failure delivered twice is recorded once.
        notice = failed(application_id, "materials")
        for _ in range(2):
            with entrypoint_waiter(services, "on_shipment_failed"):
                assert publish(amqp_uri, notice) == []
        case = workflow.get_application(actor=APPLICANT, application_id=application_id)
        assert case["clock"]["stopped_for"] == "delivery"
        assert actions(case) == ["withdraw", "reship_materials", "bring_to_window"]
        assert case["shipment_failure"]["reason"] == "refused"

        case = workflow.choose_redelivery(
            actor=APPLICANT,
            application_id=application_id,
            choice="reship_materials",
            address=NEW_ADDRESS,
        )
        assert case["clock"]["running"] is True
        (requested,) = received_events(amqp_uri, redeliveries, 1)
        assert requested["payload"] == {
            "application_id": application_id,
            "direction": "materials",
            "address": NEW_ADDRESS,
            "attempt": 2,
        }
        with pytest.raises(errors.Conflict):
            workflow.choose_redelivery(
                actor=APPLICANT, application_id=application_id, choice="bring_to_window"
            )

        # The new pickup arrives; the case is decided; the result fails.
        received = envelope(
            "courier",
            "materials_received",
            {
                "application_id": application_id,
                "tracking_no": "EA123456799CN",
                "received_at": "2026-10-09T02:00:00Z",
            },
        )
        with entrypoint_waiter(services, "on_materials_received"):
            publish(amqp_uri, received)
        workflow.act(actor=APPROVER, application_id=application_id, action="approve")
        with entrypoint_waiter(services, "on_shipment_failed"):
            publish(amqp_uri, failed(application_id, "result", "undeliverable"))
        assert actions(workflow.get_application(actor=CLERK, application_id=application_id)) == [
            "hand_over"
        ]

        with pytest.raises(errors.Forbidden):
            workflow.hand_over(actor=APPLICANT, application_id=application_id)
        done = workflow.hand_over(actor=CLERK, application_id=application_id, comment="本人领取")

    assert done["state"] == "completed"
    assert timeline_actions(engine, application_id) == [
        "submit",
        "shipment_failed",
        "reship_materials",
        "materials_received",
        "approve",
        "issue_licence",
        "shipment_failed",
        "hand_over",
        "complete",
    ]
