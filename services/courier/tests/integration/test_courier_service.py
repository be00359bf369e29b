"""The courier service on the real broker and PostgreSQL, booking with the EMS
simulator: workflow events in, shipments and courier events out."""

import json
import socket
import uuid
from datetime import UTC, datetime

import eventlet
import pytest
import requests
import sqlalchemy as sa
from kombu import Connection, Exchange, Queue
from nameko.standalone.rpc import ServiceRpcProxy
from nameko.testing.services import entrypoint_waiter
from prometheus_client.parser import text_string_to_metric_families

from services.common.db import make_engine
from services.common.messaging import topology
from services.common.messaging.publisher import ConfirmingPublisher
from services.common.messaging.relay import outgoing
from services.common.migrations import upgrade
from services.courier.adapters.orm import metadata
from services.courier.domain.model import STATUSES
from services.courier.domain.tracking_numbers import is_valid_tracking_number
from services.courier.service import CourierService
from services.courier.tests.unit.builders import OPERATOR, application_submitted, licence_issued
from simulators.ems.app import SimulatorServer

API_KEY = "test-ems-api-key"
RETRY_DELAYS_MS = [50]


def publish(amqp_uri, envelope):
    publisher = ConfirmingPublisher(amqp_uri)
    try:
        assert publisher.publish_batch([outgoing(envelope)]) == []
    finally:
        publisher.close()


def wait_for(predicate, timeout=15.0):
    with eventlet.Timeout(timeout):
        while True:
            value = predicate()
            if value:
                return value
            eventlet.sleep(0.05)


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def ems():
    server = SimulatorServer(
        "127.0.0.1",
        0,
        api_key=API_KEY,
        webhook_url=None,
        webhook_secret=b"unused",
        step_seconds=0.2,
    )
    orders = []
    book = server.simulator.create_order

    def counting_create_order(key, request):
        orders.append(key)
        return book(key, request)

    server.simulator.create_order = counting_create_order
    server.orders = orders
    with server:
        yield server


@pytest.fixture
def courier(amqp_uri, database_factory, ems):
    """Migrated database, declared topology and a queue watching courier.events."""
    url = database_factory("courier")
    upgrade("courier", url)
    engine = make_engine(url)
    watch = Queue(
        f"test-courier-events-{uuid.uuid4().hex[:8]}",
        exchange=Exchange("courier.events", type="topic", durable=True, auto_delete=False),
        routing_key="#",
        durable=False,
        auto_delete=False,
    )
    entities = topology.service_topology(CourierService, RETRY_DELAYS_MS)
    handler_queues = [e.name for e in entities if e.name.startswith("evt-")]
    with Connection(amqp_uri) as connection:
        channel = connection.default_channel
        for name in handler_queues:  # nothing left over from an earlier run
            channel.queue_delete(name)
        topology.declare(connection, [*entities, watch])

    class Courier:
        pass

    courier = Courier()
    courier.engine = engine
    courier.watch = watch.name
    courier.amqp_uri = amqp_uri
    courier.config = {
        "AMQP_URI": amqp_uri,
        "DATABASE_URL": url,
        "WEB_SERVER_ADDRESS": "127.0.0.1:0",
        "EMS_BASE_URL": ems.url,
        "EMS_API_KEY": API_KEY,
        "EMS_RETRIES": 0,
        "OUTBOX_POLL_SECONDS": 0.05,
        "EVENT_MAX_ATTEMPTS": 2,
        "EVENT_RETRY_DELAYS_MS": ",".join(str(d) for d in RETRY_DELAYS_MS),
    }
    yield courier
    engine.dispose()
    with Connection(amqp_uri) as connection:
        channel = connection.default_channel
        for name in [*handler_queues, watch.name]:
            channel.queue_delete(name)


def count(engine, table):
    with engine.connect() as connection:
        return connection.execute(
            sa.select(sa.func.count()).select_from(metadata.tables[table])
        ).scalar_one()


def shipments(engine):
    table = metadata.tables["shipments"]
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(sa.select(table)).mappings()]


def next_event(amqp_uri, queue, event_type, timeout=10.0):
    """The next envelope of ``event_type`` on the watching queue."""

    def take():
        with Connection(amqp_uri) as connection:
            message = connection.default_channel.basic_get(queue, no_ack=True)
        if message is None:
            return None
        envelope = json.loads(message.body)
        return envelope if envelope["type"] == event_type else None

    return wait_for(take, timeout)


def test_express_submission_books_an_ems_pickup_and_announces_it(courier, container_factory, ems):
    container = container_factory(CourierService, courier.config)
    container.start()
    envelope = application_submitted("app-int-1")

    with entrypoint_waiter(container, "on_application_submitted"):
        publish(courier.amqp_uri, envelope)

    [shipment] = shipments(courier.engine)
    assert is_valid_tracking_number(shipment["tracking_no"])
    assert shipment["direction"] == "materials"
    created = next_event(courier.amqp_uri, courier.watch, "shipment_created")
    assert created["source"] == "courier"
    assert created["payload"] == {
        "shipment_id": shipment["shipment_id"],
        "tracking_no": shipment["tracking_no"],
        "application_id": "app-int-1",
        "direction": "materials",
    }
    assert created["correlation_id"] == envelope["correlation_id"]
    assert ems.simulator.get_order(shipment["tracking_no"])["reference"] == "app-int-1"


def test_the_same_event_twice_makes_one_shipment_and_one_ems_order(courier, container_factory, ems):
    container = container_factory(CourierService, courier.config)
    container.start()
    envelope = application_submitted("app-int-2")

    for _ in range(2):
        with entrypoint_waiter(container, "on_application_submitted"):
            publish(courier.amqp_uri, envelope)

    assert len(shipments(courier.engine)) == 1
    assert ems.orders == ["app-int-2:materials"]
    assert count(courier.engine, "handled_events") == 1
    assert count(courier.engine, "outbox") == 1


def test_delivery_reported_over_rpc_announces_materials_received(courier, container_factory):
    container = container_factory(CourierService, courier.config)
    container.start()
    with entrypoint_waiter(container, "on_application_submitted"):
        publish(courier.amqp_uri, application_submitted("app-int-3"))
    [shipment] = shipments(courier.engine)
    tracking_no = shipment["tracking_no"]
    delivered_at = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)

    with ServiceRpcProxy("courier", courier.config) as proxy:
        recorded = proxy.record_ems_event(
            tracking_no=tracking_no,
            status="delivered",
            occurred_at="2026-11-26T09:30:00Z",
            location="南京市建邺区",
            description="已签收",
            reference="app-int-3",
        )
        detail = proxy.get_shipment(actor=OPERATOR, tracking_no=tracking_no)

    assert recorded == {"tracking_no": tracking_no, "status": "delivered", "changed": True}
    assert detail["status"] == "delivered"
    assert [entry["status"] for entry in detail["tracking"]] == ["delivered"]
    received = next_event(courier.amqp_uri, courier.watch, "materials_received")
    assert received["payload"] == {
        "application_id": "app-int-3",
        "tracking_no": tracking_no,
        "received_at": delivered_at.isoformat().replace("+00:00", "Z"),
    }


def test_ems_down_dead_letters_the_event_and_stores_nothing(courier, container_factory):
    config = {**courier.config, "EMS_BASE_URL": f"http://127.0.0.1:{closed_port()}"}
    container = container_factory(CourierService, config)
    container.start()
    envelope = application_submitted("app-int-4")

    publish(courier.amqp_uri, envelope)

    queue = topology.handler_queue_name(
        "workflow", "application_submitted", "courier", "on_application_submitted"
    )
    dead = topology.dead_letter_queue_name(queue)

    def dead_letter():
        with Connection(courier.amqp_uri) as connection:
            return connection.default_channel.basic_get(dead, no_ack=True)

    message = wait_for(dead_letter)
    assert json.loads(message.body)["id"] == envelope["id"]
    assert message.headers["x-tongban-attempt"] == 2
    assert "Unavailable" in message.headers["x-tongban-error"]
    assert shipments(courier.engine) == []
    assert count(courier.engine, "handled_events") == 0
    assert count(courier.engine, "outbox") == 0


def test_an_express_event_without_a_window_is_dead_lettered_at_once(
    courier, container_factory, ems
):
    container = container_factory(CourierService, courier.config)
    container.start()
    envelope = application_submitted("app-int-5", window=None)

    publish(courier.amqp_uri, envelope)

    queue = topology.handler_queue_name(
        "workflow", "application_submitted", "courier", "on_application_submitted"
    )
    dead = topology.dead_letter_queue_name(queue)

    def dead_letter():
        with Connection(courier.amqp_uri) as connection:
            return connection.default_channel.basic_get(dead, no_ack=True)

    message = wait_for(dead_letter)
    assert json.loads(message.body)["id"] == envelope["id"]
    assert message.headers["x-tongban-attempt"] == 1
    assert "Invalid" in message.headers["x-tongban-error"]
    assert "window" in message.headers["x-tongban-error"]
    assert ems.orders == []
    assert shipments(courier.engine) == []
    assert count(courier.engine, "handled_events") == 0


def shipment_gauge(address) -> dict:
    """tongban_courier_shipments scraped from the process's /metrics, as
    {(direction, state): value}."""
    response = requests.get(f"http://{address}/metrics", timeout=5)
    assert response.status_code == 200
    [family] = [
        family
        for family in text_string_to_metric_families(response.text)
        if family.name == "tongban_courier_shipments"
    ]
    return {(s.labels["direction"], s.labels["state"]): s.value for s in family.samples}


def test_metrics_count_shipments_per_direction_and_state(courier, container_factory, free_port):
    config = {
        **courier.config,
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{free_port()}",
        "METRICS_READ_SECONDS": 0,
    }
    container = container_factory(CourierService, config)
    container.start()
    no_shipments = {
        (direction, state): 0.0 for direction in ("materials", "result") for state in STATUSES
    }
    assert shipment_gauge(config["WEB_SERVER_ADDRESS"]) == no_shipments

    for application_id in ("app-m-1", "app-m-2", "app-m-3"):
        with entrypoint_waiter(container, "on_application_submitted"):
            publish(courier.amqp_uri, application_submitted(application_id))
    for application_id in ("app-m-1", "app-m-4"):
        with entrypoint_waiter(container, "on_licence_issued"):
            publish(courier.amqp_uri, licence_issued(application_id))
    tracking = {
        (s["application_id"], s["direction"]): s["tracking_no"] for s in shipments(courier.engine)
    }
    with ServiceRpcProxy("courier", config) as proxy:
        for key, status, occurred_at, location, description in [
            (("app-m-1", "materials"), "delivered", "2026-11-26T09:30:00Z", "南京", "已签收"),
            (("app-m-2", "materials"), "in_transit", "2026-11-26T09:30:00Z", "苏州", "运输中"),
            (("app-m-1", "result"), "failed", "2026-11-27T09:30:00Z", "苏州", "地址不详"),
        ]:
            proxy.record_ems_event(
                tracking_no=tracking[key],
                status=status,
                occurred_at=occurred_at,
                location=location,
                description=description,
            )

    assert shipment_gauge(config["WEB_SERVER_ADDRESS"]) == {
        **no_shipments,
        ("materials", "delivered"): 1.0,
        ("materials", "in_transit"): 1.0,
        ("materials", "created"): 1.0,
        ("result", "failed"): 1.0,
        ("result", "created"): 1.0,
    }
