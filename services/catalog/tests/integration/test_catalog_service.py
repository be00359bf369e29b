"""The catalog service on the real broker and database.

The database is migrated with Alembic (PostgreSQL where one is reachable) and
holds the demo catalogue; the service runs in a nameko container.
"""

import datetime as dt
import json
import uuid
from types import SimpleNamespace

import eventlet
import pytest
from amqp.exceptions import PreconditionFailed
from kombu import Connection, Exchange, Queue
from nameko.standalone.rpc import ServiceRpcProxy
from nameko.testing.services import entrypoint_waiter
from nameko.testing.utils import find_free_port
from sqlalchemy.orm import sessionmaker

from services.catalog.bootstrap import load_demo
from services.catalog.demo import load_items
from services.catalog.service import CatalogService
from services.catalog.service_layer.unit_of_work import CatalogUnitOfWork
from services.catalog.service_layer.use_cases import item_id_for, zone_id_for
from services.common.db import make_engine
from services.common.errors import Conflict, Forbidden, Invalid
from services.common.messaging import topology
from services.common.messaging.envelope import make_envelope
from services.common.messaging.publisher import ConfirmingPublisher
from services.common.messaging.relay import outgoing
from services.common.migrations import upgrade
from services.common.testing import operator, staff

# Delays of our own, so the retry queues this test declares (and deletes) are
# not ones another test or a local cluster relies on.
RETRY_DELAYS_MS = [73, 149]


@pytest.fixture
def events_queue(amqp_uri):
    """A queue of our own bound to catalog.events; ``bind(routing_key)`` adds keys."""
    name = f"test-catalog-events-{uuid.uuid4().hex[:8]}"
    exchange = Exchange("catalog.events", type="topic", durable=True, auto_delete=False)
    connection = Connection(amqp_uri)
    channel = connection.default_channel
    Queue(name, durable=False, auto_delete=False)(channel).declare()

    class EventsQueue:
        def bind(self, routing_key):
            exchange(channel).declare()
            channel.queue_bind(name, exchange.name, routing_key)

        def take(self, count, timeout=10.0):
            """Wait for ``count`` messages and return their bodies."""
            bodies = []
            with eventlet.Timeout(timeout):
                while len(bodies) < count:
                    message = channel.basic_get(name, no_ack=True)
                    if message is None:
                        eventlet.sleep(0.05)
                        continue
                    bodies.append(json.loads(message.body))
            return bodies

        def depth(self):
            return channel.queue_declare(name, passive=True).message_count

    yield EventsQueue()
    channel.queue_delete(name)
    connection.release()


@pytest.fixture
def catalog(amqp_uri, database_factory, container_factory):
    url = database_factory("catalog")
    upgrade("catalog", url)
    engine = make_engine(url)
    load_demo(CatalogUnitOfWork(sessionmaker(bind=engine), source="catalog"))
    config = {
        "AMQP_URI": amqp_uri,
        "DATABASE_URL": url,
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{find_free_port()}",
        "OUTBOX_POLL_SECONDS": 0.05,
        "EVENT_MAX_ATTEMPTS": 2,
        "EVENT_RETRY_DELAYS_MS": ",".join(str(d) for d in RETRY_DELAYS_MS),
    }
    # Declared up front, as a deploy does before any service runs.
    entities = topology.service_topology(CatalogService, RETRY_DELAYS_MS)
    with Connection(amqp_uri) as connection:
        topology.declare(connection, entities)

    container = container_factory(CatalogService, config)

    yield SimpleNamespace(container=container, config=config, amqp_uri=amqp_uri)

    container.stop()
    engine.dispose()
    with Connection(amqp_uri) as connection:
        channel = connection.default_channel
        # The handler's queues and our retry queues.
        for entity in entities:
            if isinstance(entity, Queue):
                channel.queue_delete(entity.name)
    # The RPC queue our container declared, unless a catalog another suite runs on
    # this broker still consumes from it.
    with Connection(amqp_uri) as connection:
        try:
            connection.default_channel.queue_delete("rpc-catalog", if_unused=True)
        except PreconditionFailed:
            pass


def publish(amqp_uri, envelope):
    publisher = ConfirmingPublisher(amqp_uri)
    try:
        return publisher.publish_batch([outgoing(envelope)])
    finally:
        publisher.close()


def test_demo_items_are_announced_and_searchable_over_rpc(catalog, events_queue):
    events_queue.bind("item_published")
    catalog.container.start()
    published = events_queue.take(len(load_items()))
    assert {body["type"] for body in published} == {"item_published"}
    assert {body["payload"]["code"] for body in published} == {i["code"] for i in load_items()}

    with ServiceRpcProxy("catalog", catalog.config) as proxy:
        result = proxy.search_items(q="食品", page=1, page_size=2)
        assert (result["total"], len(result["items"])) == (6, 2)
        guide = proxy.get_item(item_id=result["items"][0]["item_id"])
        assert guide["window"] and guide["materials"]
        # The filters as the database (PostgreSQL here) evaluates them.
        county_express = [
            i for i in load_items() if i["level"] == "county" and "express" in i["modes"]
        ]
        assert proxy.search_items(level="county", mode="express")["total"] == len(county_express)
        assert proxy.search_items(q="FOOD")["total"] == 6
        assert proxy.search_items(q="100%")["total"] == 0
        nanjing_amr = [i for i in load_items() if i["department_code"] == "nj-amr"]
        assert proxy.search_items(region="320100", department="nj-amr")["total"] == len(nanjing_amr)
        with pytest.raises(Invalid) as failure:
            proxy.search_items(level="galaxy")
        assert list(failure.value.fields) == ["level"]
        # a domain error crosses the wire as its shared type, message and code kept
        with pytest.raises(Conflict) as failure:
            proxy.publish_item(actor=operator(), item_id=guide["item_id"])
        assert "already published" in failure.value.message
        assert failure.value.code == "conflict"


def test_the_newest_rating_is_kept_once_and_announced(catalog, events_queue):
    events_queue.bind("store_rating_updated")
    catalog.container.start()
    recorded = dt.datetime.now(dt.UTC)

    def change(reviews, praise_rate, average_grade, occurred_at):
        return make_envelope(
            "ratings",
            "store_rating_changed",
            {
                "store_id": "store-js-amr",
                "department_code": "js-amr",
                "region_code": "320000",
                "item_id": "i-1",
                "reviews": reviews,
                "praise_rate": praise_rate,
                "average_grade": average_grade,
            },
            occurred_at=occurred_at,
        )

    newer = change(1, 1.0, 4.0, recorded)
    older = change(2, 0.5, 3.0, recorded - dt.timedelta(seconds=1))
    ours = {newer["id"], older["id"]}

    def handled_ours(worker_ctx, result, exc_info):
        # Another suite on this broker may publish changes too; wait for ours.
        return worker_ctx.args[0]["id"] in ours

    # the newer first, delivered twice, then the older one, late
    for envelope in (newer, newer, older):
        with entrypoint_waiter(catalog.container, "on_store_rating_changed", callback=handled_ours):
            assert publish(catalog.amqp_uri, envelope) == []

    [announced] = events_queue.take(1)
    assert announced["type"] == "store_rating_updated"
    assert announced["source"] == "catalog"
    assert announced["payload"] == {
        "store_id": "store-js-amr",
        "reviews": 1,
        "praise_rate": 1.0,
        "average_grade": 4.0,
    }
    with ServiceRpcProxy("catalog", catalog.config) as proxy:
        assert proxy.get_store(store_id="store-js-amr")["rating"] == {
            "reviews": 1,
            "praise_rate": 1.0,
            "average_grade": 4.0,
        }
    eventlet.sleep(0.3)  # a second announcement would have been relayed by now
    assert events_queue.depth() == 0


def test_bureau_items_fees_and_zone_reports_over_rpc(catalog):
    catalog.container.start()
    zone_admin = staff("u-kfq", "jn-kfq", "dept_admin")
    jiangning = zone_id_for("320115-JNKFQ")
    with ServiceRpcProxy("catalog", catalog.config) as proxy:
        guide = proxy.get_item(item_id=item_id_for("320115-JNXZSPJ-002"))
        assert (guide["department_code"], guide["transferred_from"]) == ("jn-xzsp", "jn-amr")
        assert guide["issuer_uscc"].startswith("11320115")
        card = proxy.get_item(item_id=item_id_for("320100-NJRSJ-001"))
        assert card["fees"][0]["amount_fen"] == 2000
        assert card["fee_waiver"]["rule"] == {"fact": "applicant.age", "op": "ge", "value": 70}
        bureau = proxy.search_items(department="jn-xzsp", page_size=100)["items"]
        assert {item["transferred_from"] for item in bureau} == {"jn-amr", "jn-zjj"}

        # days cross the wire as ISO text, both ways
        found = proxy.find_assessment(
            zone_id=jiangning, kind="environmental_impact", on="2026-12-01"
        )
        assert found["zone"]["name"] == "南京江宁经济技术开发区"
        assert found["assessment"]["valid_to"] == "2030-05-31"
        expired = proxy.find_assessment(zone_id=jiangning, kind="flood_impact", on="2026-12-01")
        assert expired["assessment"] is None
        with pytest.raises(Invalid) as failure:
            proxy.find_assessment(zone_id=jiangning, kind="noise", on="yesterday")
        assert set(failure.value.fields) == {"kind", "on"}

        recorded = proxy.record_assessment(
            actor=zone_admin,
            zone_id=jiangning,
            kind="flood_impact",
            title="区域洪水影响评价报告（修编）",
            valid_from="2026-11-01",
            valid_to="2031-10-31",
            approved_by="南京市水务局",
        )
        renewed = proxy.find_assessment(zone_id=jiangning, kind="flood_impact", on="2026-12-01")
        assert renewed["assessment"]["assessment_id"] == recorded["assessment_id"]
        page = proxy.list_assessments(actor=zone_admin, zone_id=jiangning, kind="flood_impact")
        assert [a["valid_from"] for a in page["items"]] == ["2026-11-01", "2021-03-01"]
        with pytest.raises(Forbidden):
            proxy.list_zones(actor=staff("u-amr", "jn-amr", "dept_admin"))
        assert proxy.list_zones(actor=zone_admin)["items"][0]["zone_id"] == jiangning
