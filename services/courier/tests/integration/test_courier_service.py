"""The courier service on the real broker and PostgreSQL, booking with the EMS
simulator: workflow events in, orders kept and placed by the timer, shipments
and courier events out; EMS down for a while, or for good."""

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
from services.courier.tests.unit.builders import (
    OPERATOR,
    application_submitted,
    licence_issued,
    redelivery_requested,
)
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
        "EMS_ORDER_PLACE_SECONDS": 0.1,
        "EMS_ORDER_RETRY_SECONDS": 0.1,
        "EMS_ORDER_MAX_RETRY_SECONDS": 0.2,
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


def placed(engine, count=1):
    """The shipments once ``count`` of them have a tracking number (the timer
    placed their orders)."""
    return wait_for(
        lambda: (
            (found := shipments(engine))
            and len([s for s in found if s["tracking_no"]]) >= count
            and found
        )
    )


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

    [shipment] = placed(courier.engine)
    assert is_valid_tracking_number(shipment["tracking_no"])
    assert shipment["direction"] == "materials"
    assert count(courier.engine, "pending_orders") == 0
    created = next_event(courier.amqp_uri, courier.watch, "shipment_created")
    assert created["source"] == "courier"
    assert created["payload"] == {
        "shipment_id": shipment["shipment_id"],
        "tracking_no": shipment["tracking_no"],
        "application_id": "app-int-1",
        "direction": "materials",
        "attempt": 1,
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
    placed(courier.engine)
    eventlet.sleep(0.3)  # passes after the placing find nothing to do

    assert len(shipments(courier.engine)) == 1
    assert ems.orders == ["app-int-2:materials"]
    assert count(courier.engine, "handled_events") == 1
    assert count(courier.engine, "outbox") == 1


def test_delivery_reported_over_rpc_announces_materials_received(courier, container_factory):
    container = container_factory(CourierService, courier.config)
    container.start()
    with entrypoint_waiter(container, "on_application_submitted"):
        publish(courier.amqp_uri, application_submitted("app-int-3"))
    [shipment] = placed(courier.engine)
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


def attempts_counted(address, outcome) -> float:
    response = requests.get(f"http://{address}/metrics", timeout=5)
    for family in text_string_to_metric_families(response.text):
        if family.name == "tongban_courier_ems_order_attempts":
            for sample in family.samples:
                if sample.name.endswith("_total") and sample.labels["outcome"] == outcome:
                    return sample.value
    return 0.0


def pending_gauge(address) -> float:
    response = requests.get(f"http://{address}/metrics", timeout=5)
    [family] = [
        family
        for family in text_string_to_metric_families(response.text)
        if family.name == "tongban_courier_pending_orders"
    ]
    return family.samples[0].value


def test_ems_down_keeps_the_order_pending_and_places_it_once_ems_is_back(
    courier, container_factory, free_port
):
    """Never dead-lettered: the event is handled at once, the order waits and
    is tried again with backoff, then placed once, as one EMS order."""
    port = closed_port()
    config = {
        **courier.config,
        "EMS_BASE_URL": f"http://127.0.0.1:{port}",
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{free_port()}",
        "METRICS_READ_SECONDS": 0,
    }
    address = config["WEB_SERVER_ADDRESS"]
    container = container_factory(CourierService, config)
    container.start()
    envelope = application_submitted("app-int-4")
    retried_before = attempts_counted(address, "retried")

    with entrypoint_waiter(container, "on_application_submitted"):
        publish(courier.amqp_uri, envelope)

    wait_for(lambda: attempts_counted(address, "retried") >= retried_before + 3)
    [shipment] = shipments(courier.engine)
    assert (shipment["status"], shipment["tracking_no"]) == ("pending", None)
    assert count(courier.engine, "handled_events") == 1
    assert count(courier.engine, "outbox") == 0
    assert pending_gauge(address) == 1.0
    queue = topology.handler_queue_name(
        "workflow", "application_submitted", "courier", "on_application_submitted"
    )
    with Connection(courier.amqp_uri) as connection:
        dead = connection.default_channel.basic_get(
            topology.dead_letter_queue_name(queue), no_ack=True
        )
    assert dead is None
    with ServiceRpcProxy("courier", config) as proxy:
        [listed] = proxy.list_shipments(actor=OPERATOR, application_id="app-int-4")["items"]
    assert (listed["status"], listed["tracking_no"]) == ("pending", None)

    # EMS comes back on the same address.
    server = SimulatorServer(
        "127.0.0.1",
        port,
        api_key=API_KEY,
        webhook_url=None,
        webhook_secret=b"unused",
        step_seconds=60,
    )
    with server:
        [shipment] = placed(courier.engine)
        created = next_event(courier.amqp_uri, courier.watch, "shipment_created")
        assert created["payload"]["tracking_no"] == shipment["tracking_no"]
        assert server.simulator.get_order(shipment["tracking_no"])["reference"] == "app-int-4"
    assert count(courier.engine, "pending_orders") == 0
    assert pending_gauge(address) == 0.0


def test_an_order_never_placed_in_its_window_fails_the_shipment(courier, container_factory):
    config = {
        **courier.config,
        "EMS_BASE_URL": f"http://127.0.0.1:{closed_port()}",
        "EMS_ORDER_RETRY_HOURS": 1 / 3600,  # one second
    }
    container = container_factory(CourierService, config)
    container.start()

    with entrypoint_waiter(container, "on_licence_issued"):
        publish(courier.amqp_uri, licence_issued("app-int-6"))

    failed = next_event(courier.amqp_uri, courier.watch, "shipment_failed")
    assert failed["payload"]["reason"] == "ems_unavailable"
    assert failed["payload"]["tracking_no"] is None
    assert failed["payload"]["direction"] == "result"
    [shipment] = shipments(courier.engine)
    assert shipment["status"] == "failed"
    assert count(courier.engine, "pending_orders") == 0


def test_a_redelivery_books_a_second_waybill(courier, container_factory, ems):
    container = container_factory(CourierService, courier.config)
    container.start()
    with entrypoint_waiter(container, "on_licence_issued"):
        publish(courier.amqp_uri, licence_issued("app-int-7"))
    [first] = placed(courier.engine)
    with ServiceRpcProxy("courier", courier.config) as proxy:
        proxy.record_ems_event(
            tracking_no=first["tracking_no"],
            status="failed",
            occurred_at="2026-11-26T09:30:00Z",
            description="收件人拒收",
            reason="refused",
        )

    with entrypoint_waiter(container, "on_redelivery_requested"):
        publish(courier.amqp_uri, redelivery_requested("app-int-7", "result", None, 2))

    second = next(s for s in placed(courier.engine, 2) if s["attempt"] == 2)
    assert second["tracking_no"] != first["tracking_no"]
    assert ems.orders == ["app-int-7:result", "app-int-7:result:2"]


def test_two_claims_never_take_the_same_order(courier):
    """The row claim on PostgreSQL: a second pass skips an order the first has
    locked (SQLite serialises writers instead)."""
    if courier.engine.dialect.name != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's")
    from sqlalchemy.orm import sessionmaker

    from services.courier.service_layer import use_cases
    from services.courier.service_layer.unit_of_work import CourierUnitOfWork
    from services.courier.tests.unit.builders import delivered

    factory = sessionmaker(bind=courier.engine, expire_on_commit=False)
    for application_id in ("app-lock-1", "app-lock-2"):
        use_cases.ship_materials(
            CourierUnitOfWork(factory, source="courier"),
            delivered(application_submitted(application_id)),
        )
    now = datetime.now(UTC)
    first = CourierUnitOfWork(factory, source="courier")
    second = CourierUnitOfWork(factory, source="courier")
    with first, second:
        one = first.orders.claim_due(now)
        other = second.orders.claim_due(now)
        assert one is not None and other is not None
        assert one.shipment_id != other.shipment_id
        third = CourierUnitOfWork(factory, source="courier")
        with third:
            assert third.orders.claim_due(now) is None


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
    placed(courier.engine, 5)
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
