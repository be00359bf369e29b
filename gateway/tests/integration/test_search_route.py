"""GET /api/v1/items from the gateway's own index: loaded through export_items,
kept by catalog's events, catalog's search_items only until it is loaded."""

import time

import pytest
from nameko.standalone.events import event_dispatcher

from gateway.tests.unit.test_search import REGIONS, payload
from services.common.errors import Invalid, Unavailable
from services.common.messaging.envelope import make_envelope

ITEMS = [
    payload("320000-A-01", "营业执照设立登记", region_code="320000"),
    payload("320100-A-01", "营业执照设立登记", region_code="320100"),
    payload("320115-A-01", "营业执照设立登记", region_code="320115"),
    payload("320500-A-01", "营业执照设立登记", region_code="320500"),
    payload("320115-B-01", "企业开办", region_code="320115", description="领取营业执照"),
]


def export(items):
    def answer(after=None, limit=1000):
        ordered = sorted(items, key=lambda item: item["item_id"])
        rest = [item for item in ordered if after is None or item["item_id"] > after]
        page = rest[:limit]
        return {"items": page, "next": page[-1]["item_id"] if len(rest) > limit else None}

    return answer


def serve_catalog(rpc, items=ITEMS):
    rpc.answers[("catalog", "list_regions")] = {"items": REGIONS}
    rpc.answers[("catalog", "list_departments")] = {"items": [{"code": "js-amr"}]}
    rpc.answers[("catalog", "export_items")] = export(items)


def search_index(gateway):
    return next(d for d in gateway.container.dependencies if d.attr_name == "search").index


def wait_until(condition, seconds=10):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


@pytest.fixture
def indexed(start_gateway, fake_rpc):
    serve_catalog(fake_rpc)
    gateway = start_gateway(CATALOG_INDEX_PAGE_SIZE=2, CATALOG_INDEX_RETRY_SECONDS=0.1)
    wait_until(lambda: search_index(gateway).loaded)
    return gateway


def codes(response):
    assert response.status_code == 200, response.text
    return [item["code"] for item in response.json()["items"]]


def test_the_index_answers_without_asking_catalog(indexed):
    response = indexed.request("GET", "/api/v1/items", params={"q": "营业执照"})
    assert codes(response) == [
        "320000-A-01",
        "320100-A-01",
        "320115-A-01",
        "320500-A-01",
        "320115-B-01",
    ]
    assert response.json()["total"] == 5
    assert indexed.rpc.calls_to("catalog", "search_items") == []
    # Pages of two: three export calls.
    assert len(indexed.rpc.calls_to("catalog", "export_items")) == 3


def test_a_city_includes_its_counties(indexed):
    response = indexed.request("GET", "/api/v1/items", params={"region": "320100"})
    assert codes(response) == ["320100-A-01", "320115-A-01", "320115-B-01"]


def test_catalog_answers_for_a_region_the_index_does_not_know(indexed):
    indexed.rpc.answers[("catalog", "search_items")] = Invalid(
        "unknown filter value", {"region": "unknown region"}
    )
    response = indexed.request("GET", "/api/v1/items", params={"region": "999999"})
    assert response.status_code == 422
    assert "region" in response.json()["error"]["fields"]
    assert len(indexed.rpc.calls_to("catalog", "search_items")) == 1


def test_events_reach_the_index(indexed, amqp_uri):
    dispatch = event_dispatcher({"AMQP_URI": amqp_uri})
    new = payload("320102-C-01", "排污许可证核发", region_code="320102", revision=1)

    def found():
        return codes(indexed.request("GET", "/api/v1/items", params={"q": "排污"})) == [
            "320102-C-01"
        ]

    # Asked before: the answer kept for the question gives way to the change.
    assert not found() and not found()
    dispatch("catalog", "item_published", make_envelope("catalog", "item_published", new))

    wait_until(found, seconds=5)
    retired = {"item_id": new["item_id"], "revision": 2}
    dispatch("catalog", "item_retired", make_envelope("catalog", "item_retired", retired))
    wait_until(lambda: not found(), seconds=5)
    # A malformed event is skipped, the index keeps answering.
    dispatch("catalog", "item_published", make_envelope("catalog", "item_published", {"x": 1}))
    assert codes(indexed.request("GET", "/api/v1/items", params={"q": "企业开办"})) == [
        "320115-B-01"
    ]


def test_catalog_answers_until_the_index_is_loaded(start_gateway, fake_rpc):
    fake_rpc.answers[("catalog", "export_items")] = Unavailable("catalog is not running")
    fake_rpc.answers[("catalog", "list_regions")] = {"items": REGIONS}
    fake_rpc.answers[("catalog", "list_departments")] = {"items": []}
    fake_rpc.answers[("catalog", "search_items")] = {
        "items": [],
        "page": 1,
        "page_size": 20,
        "total": 0,
    }
    gateway = start_gateway(CATALOG_INDEX_RETRY_SECONDS=0.05)
    response = gateway.request("GET", "/api/v1/items", params={"q": "护照", "type": "01"})
    assert response.status_code == 200
    assert not search_index(gateway).loaded
    (call,) = gateway.rpc.calls_to("catalog", "search_items")
    assert call["q"] == "护照" and call["type"] == "01"
    # Catalog comes back: the index loads and answers from then on.
    fake_rpc.answers[("catalog", "export_items")] = export(ITEMS)
    wait_until(lambda: search_index(gateway).loaded)
    assert codes(gateway.request("GET", "/api/v1/items", params={"q": "企业开办"})) == [
        "320115-B-01"
    ]
