"""Workflow keeps catalog's items and drops one on catalog's broadcast event.

A stand-in ``catalog`` counts its ``get_item`` calls; ``item_published`` is
published by hand, as catalog's relay would publish it.
"""

import pytest
from alembic import command
from kombu import Connection, Queue
from nameko.rpc import rpc
from nameko.standalone.rpc import ServiceRpcProxy
from nameko.testing.services import entrypoint_waiter

from services.common import errors
from services.common.messaging import topology
from services.common.messaging.publisher import ConfirmingPublisher
from services.common.messaging.relay import outgoing
from services.common.migrations import alembic_config
from services.common.testing import envelope
from services.workflow.service import WorkflowService
from services.workflow.tests.unit.conftest import APPLICANT, FORM, MATERIALS, ONLINE, PII_KEY, item

ITEM = item(joint_departments=[])


class CountingCatalog:
    name = "catalog"
    # Every get_item asked, and the item it answers (a test changes it).
    asked: list = []
    current = ITEM

    @rpc
    def get_item(self, item_id):
        CountingCatalog.asked.append(item_id)
        return CountingCatalog.current


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
        "RPC_TIMEOUT_SECONDS": 5,
        "CATALOG_CACHE_SECONDS": 300,
        "PII_KEY": PII_KEY.hex(),
    }


@pytest.fixture
def workflow(config, container_factory, amqp_uri, monkeypatch):
    monkeypatch.setattr(CountingCatalog, "asked", [])
    monkeypatch.setattr(CountingCatalog, "current", ITEM)
    container_factory(CountingCatalog, {"AMQP_URI": amqp_uri}).start()
    container = container_factory(WorkflowService, config)
    container.start()
    yield container
    container.stop()
    with Connection(amqp_uri) as connection:
        channel = connection.default_channel
        for entity in topology.service_topology(WorkflowService, []):
            if isinstance(entity, Queue) and entity.name.startswith("evt-"):
                channel.queue_delete(entity.name)


def publish(amqp_uri, event):
    publisher = ConfirmingPublisher(amqp_uri)
    try:
        return publisher.publish_batch([outgoing(event)])
    finally:
        publisher.close()


def test_an_item_is_asked_once_until_catalog_announces_a_change(workflow, config, amqp_uri):
    submission = {
        "actor": APPLICANT,
        "item_id": ITEM["item_id"],
        "form": FORM,
        "materials": MATERIALS,
        "delivery": ONLINE,
    }
    with ServiceRpcProxy("workflow", config) as proxy:
        proxy.submit_application(**submission)
        proxy.submit_application(**submission)
        assert CountingCatalog.asked == [ITEM["item_id"]]

        CountingCatalog.current = {**ITEM, "status": "retired"}
        retired = envelope("catalog", "item_retired", {"item_id": ITEM["item_id"], "revision": 2})
        with entrypoint_waiter(workflow, "on_item_retired"):
            assert publish(amqp_uri, retired) == []
        with pytest.raises(errors.Conflict, match="not open for applications"):
            proxy.submit_application(**submission)
        assert CountingCatalog.asked == [ITEM["item_id"]] * 2
