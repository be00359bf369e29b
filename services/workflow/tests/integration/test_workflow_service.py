"""The workflow service on the real broker and database.

A stand-in ``catalog`` service answers ``get_item``; courier's events are
published by hand, as the courier's relay would publish them.
"""

import json
import uuid
from datetime import UTC, datetime, timedelta

import eventlet
import pytest
import requests
import sqlalchemy as sa
from alembic import command
from kombu import Connection, Queue
from nameko.rpc import rpc
from nameko.standalone.rpc import ServiceRpcProxy
from nameko.testing.services import entrypoint_waiter
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import sessionmaker

from services.common import errors
from services.common.db import make_engine
from services.common.messaging import topology
from services.common.messaging.publisher import ConfirmingPublisher
from services.common.messaging.relay import outgoing
from services.common.migrations import alembic_config
from services.common.testing import envelope
from services.workflow.adapters import orm
from services.workflow.domain.model import State
from services.workflow.service import WorkflowService
from services.workflow.service_layer import use_cases
from services.workflow.service_layer.unit_of_work import WorkflowUnitOfWork
from services.workflow.tests.unit.conftest import (
    APPLICANT,
    APPROVER,
    CLERK,
    EXPRESS,
    FORM,
    MATERIALS,
    ONLINE,
    PII_KEY,
    item,
)

ITEM = item(joint_departments=[])
WATCHED = (
    "application_submitted",
    "application_accepted",
    "application_approved",
    "licence_issued",
)


JS_GA_ITEM = item(item_id="item-js-ga", handled_by="workflow-js-ga", joint_departments=[])
ITEMS = {found["item_id"]: found for found in (ITEM, JS_GA_ITEM)}


class CatalogStandIn:
    name = "catalog"

    @rpc
    def get_item(self, item_id):
        if item_id not in ITEMS:
            raise errors.NotFound(f"item {item_id} not found")
        return ITEMS[item_id]


@pytest.fixture
def config(amqp_uri, database_factory, free_port):
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
        # Encrypts the instance's licence signing key (made with its first licence).
        "PII_KEY": PII_KEY.hex(),
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
    delete_event_queues(amqp_uri, WorkflowService)


def delete_event_queues(amqp_uri, service_class):
    """Its handler queues go, so later tests' events do not pile up in them."""
    with Connection(amqp_uri) as connection:
        channel = connection.default_channel
        for entity in topology.service_topology(service_class, []):
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
            actor=APPLICANT,
            item_id=ITEM["item_id"],
            form=FORM,
            materials=MATERIALS,
            delivery=EXPRESS,
        )
        application_id = submitted["application_id"]
        assert submitted["state"] == "submitted"
        (event,) = received_events(amqp_uri, workflow_events, 1)
        assert (event["type"], event["source"]) == ("application_submitted", "workflow")
        assert event["payload"]["application_id"] == application_id
        assert event["payload"]["delivery"]["address"]["phone"] == "13800138000"

        # EMS reports the parcel at the window; courier's event arrives twice.
        received = envelope(
            "courier",
            "materials_received",
            {
                "application_id": application_id,
                "tracking_no": "EA123456785CN",
                "received_at": "2026-10-08T02:00:00Z",
            },
        )
        for _ in range(2):
            with entrypoint_waiter(services, "on_materials_received"):
                assert publish(amqp_uri, received) == []
        assert timeline_actions(engine, application_id) == ["submit", "materials_received"]
        shown = workflow.get_application(actor=APPLICANT, application_id=application_id)
        assert shown["state"] == "accepted"
        (accepted,) = received_events(amqp_uri, workflow_events, 1)
        assert accepted["type"] == "application_accepted"

        approved = workflow.act(
            actor=APPROVER, application_id=application_id, action="approve", comment="同意"
        )
        assert approved["state"] == "approved"
        events = received_events(amqp_uri, workflow_events, 2)
        assert [e["type"] for e in events] == ["application_approved", "licence_issued"]
        assert events[1]["payload"]["licence_no"] == approved["licence_no"]
        assert workflow.verify_licence(licence_no=approved["licence_no"])["valid"] is True


def test_errors_cross_the_wire_typed(services, config):
    with ServiceRpcProxy("workflow", config) as workflow:
        with pytest.raises(errors.NotFound):
            workflow.submit_application(
                actor=APPLICANT,
                item_id="no-such-item",
                form=FORM,
                materials=MATERIALS,
                delivery=EXPRESS,
            )
        with pytest.raises(errors.Invalid) as raised:
            workflow.list_applications(actor=APPLICANT, page=0)
        assert "page" in raised.value.fields
        with pytest.raises(errors.NotFound):
            workflow.get_application(actor=APPLICANT, application_id="no-such-case")
        # A domain error leaves as its shared type, with its fields.
        with pytest.raises(errors.Invalid) as raised:
            workflow.submit_application(
                actor=APPLICANT,
                item_id=ITEM["item_id"],
                materials=[{"name": " "}],
                delivery=ONLINE,
            )
        assert raised.value.fields == {"materials.0.name": "is required"}


def gauges(config, name) -> dict:
    """{labels: value} of one gauge, scraped from the process's /metrics."""
    response = requests.get(f"http://{config['WEB_SERVER_ADDRESS']}/metrics", timeout=5)
    assert response.status_code == 200
    for family in text_string_to_metric_families(response.text):
        if family.name == name:
            return {tuple(sorted(s.labels.items())): s.value for s in family.samples}
    return {}


def cases_per_state(config, service) -> dict:
    found = gauges(config, "tongban_workflow_cases")
    return {
        dict(labels)["state"]: value
        for labels, value in found.items()
        if dict(labels)["service"] == service
    }


NO_CASES = {str(state): 0.0 for state in State}


def test_metrics_count_cases_per_state_and_open_overdue_cases(services, config, engine):
    # Cases opened six weeks ago (the use case with its clock set back) are long past due.
    uow = WorkflowUnitOfWork(
        sessionmaker(bind=engine, expire_on_commit=False), source="workflow", config=config
    )
    weeks_ago = datetime.now(UTC) - timedelta(weeks=6)
    late_submitted, late_accepted, waiting, withdrawn, suspended = (
        use_cases.submit_application(
            uow, ITEM, APPLICANT, FORM, MATERIALS, ONLINE, now=weeks_ago
        ).application_id
        for _ in range(5)
    )
    with ServiceRpcProxy("workflow", config) as workflow:
        submission = {
            "actor": APPLICANT,
            "item_id": ITEM["item_id"],
            "form": FORM,
            "materials": MATERIALS,
            "delivery": ONLINE,
        }
        workflow.submit_application(**submission)
        workflow.act(actor=CLERK, application_id=late_accepted, action="accept")
        # The window asks for missing materials before it takes the case on.
        workflow.act(
            actor=CLERK,
            application_id=waiting,
            action="request_supplement",
            comment="请补交营业执照副本",
            missing_materials=["营业执照副本"],
        )
        # A special procedure stops the clock of an accepted case.
        workflow.act(actor=CLERK, application_id=suspended, action="accept")
        workflow.suspend(
            actor=CLERK, application_id=suspended, kind="inspection", reason="现场核查"
        )
        workflow.withdraw(actor=APPLICANT, application_id=withdrawn)
        # Denied rather than completed: application_completed would wait in
        # ratings' durable queue for the next test that starts ratings.
        denied = workflow.submit_application(**submission)["application_id"]
        workflow.act(actor=CLERK, application_id=denied, action="accept")
        workflow.act(actor=APPROVER, application_id=denied, action="deny", comment="不符合许可条件")

    assert cases_per_state(config, "workflow") == {
        **NO_CASES,
        "submitted": 2.0,
        "accepted": 2.0,
        "supplement_requested": 1.0,
        "withdrawn": 1.0,
        "denied": 1.0,
    }
    # Late and still owed an answer: the submitted and the accepted one; the
    # case waiting on the applicant and the suspended one have their clocks
    # stopped.
    assert gauges(config, "tongban_workflow_cases_overdue_open") == {
        (("service", "workflow"),): 2.0
    }


@pytest.fixture
def department_instance(config, container_factory, amqp_uri, free_port):
    """js-ga's own workflow instance (with the catalog stand-in), on its own database."""
    js_ga_config = {
        **config,
        "DEPARTMENT_CODE": "js-ga",
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{free_port()}",
    }
    service_class = WorkflowService.for_config(js_ga_config)
    container_factory(CatalogStandIn, {"AMQP_URI": amqp_uri}).start()
    instance = container_factory(service_class, js_ga_config)
    instance.start()
    yield js_ga_config
    instance.stop()
    delete_event_queues(amqp_uri, service_class)


def test_a_department_instance_labels_its_gauges_with_its_name(department_instance):
    with ServiceRpcProxy("workflow-js-ga", department_instance) as workflow:
        submitted = workflow.submit_application(
            actor=APPLICANT,
            item_id=JS_GA_ITEM["item_id"],
            form=FORM,
            materials=MATERIALS,
            delivery=ONLINE,
        )
    assert submitted["application_id"].startswith("js-ga.")

    assert cases_per_state(department_instance, "workflow-js-ga") == {
        **NO_CASES,
        "submitted": 1.0,
    }
    assert cases_per_state(department_instance, "workflow") == {}
    assert gauges(department_instance, "tongban_workflow_cases_overdue_open") == {
        (("service", "workflow-js-ga"),): 0.0
    }
