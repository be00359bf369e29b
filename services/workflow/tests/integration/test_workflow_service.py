"""The workflow service on the real broker and database.

A stand-in ``catalog`` service answers ``get_item``; courier's events are
published by hand, as the courier's relay would publish them.
"""

import json
import uuid

import eventlet
import pytest
import sqlalchemy as sa
from alembic import command
from kombu import Connection, Queue
from nameko.rpc import rpc
from nameko.standalone.rpc import ServiceRpcProxy
from nameko.testing.services import entrypoint_waiter

from services.common import errors
from services.common.db import make_engine
from services.common.messaging import topology
from services.common.messaging.envelope import make_envelope
from services.common.messaging.publisher import ConfirmingPublisher
from services.common.messaging.relay import outgoing
from services.common.migrate import alembic_config
from services.workflow.adapters import orm
from services.workflow.service import WorkflowService
from services.workflow.tests.unit.catalog_items import (
    APPLICANT,
    APPROVER,
    EXPRESS,
    FORM,
    MATERIALS,
    item,
)

ITEM = item(joint_departments=[])
WATCHED = (
    "application_submitted",
    "application_accepted",
    "application_approved",
    "licence_issued",
)


class CatalogStandIn:
    name = "catalog"

    @rpc
    def get_item(self, item_id):
        if item_id != ITEM["item_id"]:
            raise errors.NotFound(f"item {item_id} not found")
        return ITEM


@pytest.fixture
def config(amqp_uri, database_factory):
    url = database_factory("workflow")
    command.upgrade(alembic_config("workflow", url), "head")
    return {
        "AMQP_URI": amqp_uri,
        "DATABASE_URL": url,
        "DEPARTMENT_CODE": "",
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
def workflow_events(amqp_uri):
    """A queue of this test bound to workflow.events for the types it watches."""
    name = f"test-workflow-events-{uuid.uuid4().hex[:8]}"
    with Connection(amqp_uri) as connection:
        channel = connection.default_channel
        exchange = topology.event_exchange("workflow")
        exchange(channel).declare()
        for event_type in WATCHED:
            Queue(name, exchange=exchange, routing_key=event_type, durable=False)(channel).declare()
    yield name
    with Connection(amqp_uri) as connection:
        connection.default_channel.queue_delete(name)


@pytest.fixture
def services(config, container_factory, amqp_uri):
    catalog = container_factory(CatalogStandIn, {"AMQP_URI": amqp_uri})
    workflow = container_factory(WorkflowService, config)
    catalog.start()
    workflow.start()
    yield workflow
    workflow.stop()
    with Connection(amqp_uri) as connection:
        channel = connection.default_channel
        for entity in topology.service_topology(WorkflowService, []):
            if isinstance(entity, Queue) and entity.name.startswith("evt-"):
                channel.queue_delete(entity.name)


def received_events(amqp_uri, queue, count, timeout=10.0):
    events = []
    with Connection(amqp_uri) as connection:
        channel = connection.default_channel
        with eventlet.Timeout(timeout):
            while len(events) < count:
                message = channel.basic_get(queue, no_ack=True)
                if message is None:
                    eventlet.sleep(0.05)
                    continue
                events.append(json.loads(message.body))
    return events


def publish(amqp_uri, envelope):
    publisher = ConfirmingPublisher(amqp_uri)
    try:
        return publisher.publish_batch([outgoing(envelope)])
    finally:
        publisher.close()


def timeline_actions(engine, application_id):
    entries = orm.timeline_entries
    with engine.connect() as connection:
        return list(
            connection.execute(
                sa.select(entries.c.action)
                .where(entries.c.application_id == application_id)
                .order_by(entries.c.position)
            ).scalars()
        )


def test_express_case_over_the_broker(services, config, engine, workflow_events, amqp_uri):
    with ServiceRpcProxy("workflow", config) as workflow:
        submitted = workflow.submit_application(
            APPLICANT, ITEM["item_id"], FORM, MATERIALS, EXPRESS
        )
        application_id = submitted["application_id"]
        assert submitted["state"] == "submitted"
        (event,) = received_events(amqp_uri, workflow_events, 1)
        assert (event["type"], event["source"]) == ("application_submitted", "workflow")
        assert event["payload"]["application_id"] == application_id
        assert event["payload"]["delivery"]["address"]["phone"] == "13800138000"

        # EMS reports the parcel at the window; courier's event arrives twice.
        received = make_envelope(
            "courier",
            "materials_received",
            {
                "application_id": application_id,
                "tracking_no": "EMS0001",
                "received_at": "2026-10-08T02:00:00Z",
            },
        )
        for _ in range(2):
            with entrypoint_waiter(services, "on_materials_received"):
                assert publish(amqp_uri, received) == []
        assert timeline_actions(engine, application_id) == ["submit", "materials_received"]
        assert workflow.get_application(APPLICANT, application_id)["state"] == "accepted"
        (accepted,) = received_events(amqp_uri, workflow_events, 1)
        assert accepted["type"] == "application_accepted"

        approved = workflow.act(APPROVER, application_id, "approve", "同意")
        assert approved["state"] == "approved"
        events = received_events(amqp_uri, workflow_events, 2)
        assert [e["type"] for e in events] == ["application_approved", "licence_issued"]
        assert events[1]["payload"]["licence_no"] == approved["licence_no"]
        assert workflow.verify_licence(approved["licence_no"])["valid"] is True


def test_errors_cross_the_wire_typed(services, config):
    with ServiceRpcProxy("workflow", config) as workflow:
        with pytest.raises(errors.NotFound):
            workflow.submit_application(APPLICANT, "no-such-item", FORM, MATERIALS, EXPRESS)
        with pytest.raises(errors.Invalid) as raised:
            workflow.list_applications(APPLICANT, page=0)
        assert "page" in raised.value.fields
        with pytest.raises(errors.NotFound):
            workflow.get_application(APPLICANT, "no-such-case")
