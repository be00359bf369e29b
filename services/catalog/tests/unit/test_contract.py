"""The catalog contract holds on both sides: every RPC method, driven with the
arguments the gateway sends, answers exactly what its response schema documents;
every event the domain records is exactly its documented payload; the rating
change ratings emits is handled; and a body the documented schema refuses is
refused."""

import inspect

import jsonschema_rs
import pytest
from marshmallow import Schema
from nameko.testing.services import worker_factory

from services.catalog import contract
from services.catalog.bootstrap import load_demo
from services.catalog.demo import load_basic_items, load_items
from services.catalog.service import CatalogService
from services.catalog.service_layer.use_cases import item_id_for, zone_id_for
from services.common.entrypoints import contract_entrypoints
from services.common.errors import Invalid
from services.common.messaging.envelope import envelope_for
from services.common.schemas import load
from services.common.testing import assert_documented, json_schema_of
from services.ratings import contract as ratings
from services.ratings.domain import events as ratings_events

from .conftest import AMR_ADMIN, OPERATOR, ZONE_ADMIN, new_item, outbox

FOOD_LICENCE = item_id_for("320000-JSSCJG-001")
NEW_ITEM = item_id_for(new_item()["code"])
JIANGNING_ZONE = zone_id_for("320115-JNKFQ")
NEW_ZONE = zone_id_for("320115-BINJIANG")
DEMO_ITEMS = len(load_items())


@pytest.fixture
def service(uow):
    return worker_factory(CatalogService, uow=uow)


def rating_as_ratings_emits_it(store_id: str, reviews: int, praise_rate, average_grade) -> dict:
    """``ratings.store_rating_changed`` as ratings puts it in its outbox."""
    event = ratings_events.StoreRatingChanged(
        store_id=store_id,
        department_code="js-amr",
        region_code="320000",
        item_id=FOOD_LICENCE,
        reviews=reviews,
        praise_rate=praise_rate,
        average_grade=average_grade,
    )
    return envelope_for("ratings", event)


def calls() -> list[tuple[str, dict]]:
    """Each RPC method with arguments as the gateway sends them (query values as
    text), in an order in which each succeeds."""
    return [
        ("list_regions", {}),
        ("list_departments", {}),
        ("list_departments", {"region": "320100"}),
        ("search_items", {"page": 1, "page_size": 20}),
        (
            "search_items",
            {"q": "食品", "region": "320000", "department": "js-amr", "level": "province"},
        ),
        ("search_items", {"q": "", "mode": "express", "page": "2", "page_size": "5"}),
        ("search_items", {"q": "登记", "region": "320100", "type": "01", "serves": "legal_person"}),
        ("export_items", {"limit": 5}),
        ("export_items", {"after": "f" * 32, "limit": 1000}),
        ("get_item", {"item_id": FOOD_LICENCE}),
        ("create_item", {"actor": AMR_ADMIN, **new_item(joint_departments=["js-ga"])}),
        (
            "update_item",
            {
                "actor": AMR_ADMIN,
                "item_id": NEW_ITEM,
                "handled_by": "workflow-js-amr",
                "materials": [{"name": "使用登记表", "copies": 2, "note": "加盖公章"}],
            },
        ),
        ("publish_item", {"actor": AMR_ADMIN, "item_id": NEW_ITEM}),
        (
            "update_item",
            {
                "actor": OPERATOR,
                "item_id": NEW_ITEM,
                "promised_days": 3,
                "fees": [{"name": "工本费", "amount_fen": 5000, "waivable": True}],
                "fee_waiver": {
                    "description": "70周岁以上免收",
                    "rule": {"fact": "applicant.age", "op": "ge", "value": 70},
                },
                "licence_type": {"code": "YDRQCZ", "name": "充装许可证", "valid_years": None},
            },
        ),
        ("retire_item", {"actor": OPERATOR, "item_id": NEW_ITEM}),
        (
            "create_basic_item",
            {
                "actor": AMR_ADMIN,
                "basic_code": "000117098000",
                "name": "计量器具型式批准",
                "type": "01",
                "legal_basis": [{"law": "《中华人民共和国计量法》", "article": "第十三条"}],
                "department_code": "js-amr",
                "serves": ["legal_person"],
            },
        ),
        (
            "update_basic_item",
            {"actor": OPERATOR, "basic_code": "000117001000", "description": "保健食品生产许可"},
        ),
        ("get_basic_item", {"basic_code": "000117001000"}),
        ("list_basic_items", {"department": "js-amr", "q": "食品", "page": "1"}),
        ("get_item", {"item_id": NEW_ITEM, "actor": AMR_ADMIN}),
        ("get_item", {"item_id": NEW_ITEM}),
        ("list_stores", {}),
        ("get_store", {"store_id": "store-js-amr"}),
        ("catalog_stats", {}),
        (
            "create_zone",
            {
                "actor": ZONE_ADMIN,
                "code": "320115-BINJIANG",
                "name": "江宁滨江经济开发区",
                "committee_department_code": "jn-kfq",
            },
        ),
        ("list_zones", {"actor": OPERATOR, "page": "1", "page_size": "5"}),
        ("list_zones", {"actor": ZONE_ADMIN, "region": "320115"}),
        (
            "record_assessment",
            {
                "actor": ZONE_ADMIN,
                "zone_id": NEW_ZONE,
                "kind": "seismic_safety",
                "title": "滨江开发区区域地震安全性评价报告",
                "valid_from": "2026-01-01",
                "valid_to": "2030-12-31",
            },
        ),
        ("list_assessments", {"actor": OPERATOR, "zone_id": JIANGNING_ZONE}),
        (
            "list_assessments",
            {"actor": ZONE_ADMIN, "zone_id": NEW_ZONE, "kind": "seismic_safety", "page": "1"},
        ),
        (
            "find_assessment",
            {"zone_id": JIANGNING_ZONE, "kind": "environmental_impact", "on": "2026-12-01"},
        ),
        (
            "find_assessment",
            {"zone_id": JIANGNING_ZONE, "kind": "flood_impact", "on": "2026-12-01"},
        ),
        (
            "find_assessment",
            {"zone_id": "no-such-zone", "kind": "flood_impact", "on": "2026-12-01"},
        ),
    ]


def test_every_answer_is_exactly_its_documented_schema(service):
    entrypoints = dict(contract_entrypoints(CatalogService))
    called = set()
    for method, arguments in calls():
        answer = getattr(service, method)(**arguments)
        assert_documented(entrypoints[method].response, answer)
        called.add(method)
    # a store with reviews, as ratings announces them
    service.on_store_rating_changed(rating_as_ratings_emits_it("store-js-amr", 1, 1.0, 4.0))
    answer = service.get_store(store_id="store-js-amr")
    assert answer["rating"] == {"reviews": 1, "praise_rate": 1.0, "average_grade": 4.0}
    assert_documented(contract.Store, answer)
    called.add("on_store_rating_changed")
    # catalog's own events, as the statistics take them
    counting = {
        "item_published": "count_item_published",
        "item_retired": "count_item_retired",
        "basic_item_published": "count_basic_item_published",
    }
    basic = load_basic_items()[0]
    changed_basic = {
        "id": "e-basic",
        "type": "basic_item_published",
        "payload": {**basic, "revision": 2},
    }
    for event in [*outbox(service.uow), changed_basic]:
        if event["type"] in counting:
            getattr(service, counting[event["type"]])(event)
            called.add(counting[event["type"]])
    assert_documented(contract.CatalogStats, service.catalog_stats())
    # the derived items follow a changed basic item
    service.follow_basic_item_published(changed_basic)
    called.add("follow_basic_item_published")
    assert called == set(entrypoints), "every entrypoint is exercised here"


def test_the_answers_of_an_empty_catalogue_are_documented_too(empty_uow):
    service = worker_factory(CatalogService, uow=empty_uow)
    for method, response in [
        ("list_regions", contract.RegionList),
        ("list_departments", contract.DepartmentList),
        ("list_stores", contract.StorePage),
        ("search_items", contract.ItemSummaryPage),
        ("catalog_stats", contract.CatalogStats),
    ]:
        assert_documented(response, getattr(service, method)())
    assert service.catalog_stats()["online_rate"] is None


def test_every_recorded_event_is_exactly_its_documented_payload(service, uow):
    for method, arguments in calls():
        getattr(service, method)(**arguments)
    service.on_store_rating_changed(rating_as_ratings_emits_it("store-js-amr", 1, 0.0, 2.0))
    seen = set()
    for envelope in outbox(uow):
        assert_documented(contract.EVENTS[envelope["type"]], envelope["payload"])
        seen.add(envelope["type"])
    assert seen == set(contract.EVENTS)


def test_the_demo_catalogue_announces_documented_items(empty_uow):
    load_demo(empty_uow)
    envelopes = [e for e in outbox(empty_uow) if e["type"] == "item_published"]
    assert len(envelopes) == DEMO_ITEMS
    for envelope in envelopes:
        assert_documented(contract.ItemPublished, envelope["payload"])
    basic = [e for e in outbox(empty_uow) if e["type"] == "basic_item_published"]
    assert basic
    for envelope in basic:
        assert_documented(contract.BasicItemPublished, envelope["payload"])


def test_every_demo_guide_is_documented(service):
    page = service.search_items(page_size=100)
    assert page["total"] == len(page["items"]) == DEMO_ITEMS
    assert_documented(contract.ItemSummaryPage, page)
    for summary in page["items"]:
        assert_documented(contract.ItemGuide, service.get_item(item_id=summary["item_id"]))


@pytest.mark.parametrize(
    ("reviews", "praise_rate", "average_grade"), [(3, 0.6667, 4.33), (0, None, None)]
)
def test_the_consumed_rating_is_what_ratings_documents(reviews, praise_rate, average_grade):
    envelope = rating_as_ratings_emits_it("store-js-amr", reviews, praise_rate, average_grade)
    assert_documented(ratings.StoreRatingChanged, envelope["payload"])


def test_a_store_whose_last_review_was_excluded_is_documented(service, uow):
    service.on_store_rating_changed(rating_as_ratings_emits_it("store-js-amr", 1, 1.0, 5.0))
    service.on_store_rating_changed(rating_as_ratings_emits_it("store-js-amr", 0, None, None))
    assert_documented(contract.Store, service.get_store(store_id="store-js-amr"))
    for envelope in outbox(uow):
        assert_documented(contract.StoreRatingUpdated, envelope["payload"])


# --- the documented schema and the loading schema agree ----------------------


def documented(schema) -> jsonschema_rs.Draft7Validator:
    return jsonschema_rs.Draft7Validator(json_schema_of(schema), validate_formats=True)


REFUSED_BODIES = [
    {"promised_days": True},
    {"promised_days": "5"},
    {"promised_days": 366},
    {"promised_days": -1},
    {"modes": ["online", "online"]},
    {"modes": ["fax"]},
    {"modes": "online"},
    {"handled_by": "workflow\n"},
    {"handled_by": "workflow-"},
    {"handled_by": "workflow-JS"},
    {"handled_by": "workflows"},
    {"materials": [{"name": "申请书", "original": 1}]},
    {"materials": [{"name": "申请书", "original": "yes"}]},
    {"materials": [{"name": "申请书", "copies": -1}]},
    {"materials": [{"name": "申请书", "note": ""}]},
    {"materials": [{"name": "申请书", "size": "A4"}]},
    {"materials": [{"copies": 1}]},
    {"conditions": [""]},
    {"legal_basis": ["x" * 501]},
    {"joint_departments": ["js-ga", "js-ga"]},
    {"joint_departments": [""]},
    {"name": ""},
    {"name": None},
    {"name": "x" * 201},
    {"fees": "免费"},
    {"fees": [{"name": "工本费", "amount_fen": 12.5}]},
    {"fees": [{"name": "工本费", "amount_fen": "100"}]},
    {"fees": [{"name": "工本费", "amount_fen": -1}]},
    {"fees": [{"name": "工本费"}]},
    {"fees": [{"name": "", "amount_fen": 100}]},
    {"fees": [{"name": "工本费", "amount_fen": 100, "waivable": "yes"}]},
    {"fees": [{"name": "工本费", "amount_fen": 100, "currency": "CNY"}]},
    {"fee_waiver": {"description": "老年人免收"}},
    {"fee_waiver": {"rule": {"fact": "applicant.age", "op": "ge", "value": 70}}},
    {"fee_waiver": "70岁以上免收"},
    {"licence_type": {"code": "spjy", "name": "食品经营许可证", "valid_years": 5}},
    {"licence_type": {"code": "S", "name": "食品经营许可证", "valid_years": 5}},
    {"licence_type": {"code": "SPJY", "name": "食品经营许可证", "valid_years": 0}},
    {"licence_type": {"code": "SPJY", "name": "食品经营许可证"}},
    {"licence_type": {"code": "SPJY", "valid_years": None}},
    {"transferred_from": ""},
    {"department_code": "js-ga"},
    {"window": None},
    {"store_id": "store-js-ga"},
]
ACCEPTED_BODIES = [
    {},
    {"name": "新名称", "name_en": "", "description": "", "fees": []},
    {
        "fees": [
            {"name": "工本费", "amount_fen": 0},
            {
                "name": "证书费",
                "amount_fen": 12000,
                "standard": "120元/本",
                "legal_basis": "",
                "waivable": True,
            },
        ],
        "fee_waiver": None,
        "licence_type": {"code": "HZ", "name": "护照", "valid_years": 10},
        "transferred_from": None,
    },
    {"licence_type": None, "transferred_from": "js-ga"},
    {"modes": ["window", "online"], "promised_days": 3, "statutory_days": 20},
    {"handled_by": "workflow"},
    {"handled_by": "workflow-js-ga"},
    {"materials": [{"name": "申请书"}, {"name": "复印件", "copies": 2, "original": False}]},
    {"conditions": ["年满十八周岁"], "legal_basis": [], "joint_departments": ["js-ga"]},
]


@pytest.mark.parametrize("body", REFUSED_BODIES)
def test_an_update_body_the_document_refuses_is_refused(body, service):
    assert not documented(contract.UpdateItemBody).is_valid(body)
    with pytest.raises(Invalid):
        load(contract.UpdateItemBody, body)
    with pytest.raises(Invalid):
        service.update_item(actor=AMR_ADMIN, item_id=FOOD_LICENCE, **body)


@pytest.mark.parametrize("body", ACCEPTED_BODIES)
def test_an_update_body_the_document_accepts_loads(body):
    assert documented(contract.UpdateItemBody).is_valid(body)
    loaded = load(contract.UpdateItemBody, body)
    # what the gateway loaded loads the same again at the service
    assert load(contract.UpdateItem, {**loaded, "actor": AMR_ADMIN, "item_id": "x"}) == {
        **loaded,
        "actor": AMR_ADMIN,
        "item_id": "x",
    }


@pytest.mark.parametrize(
    ("query", "valid"),
    [
        ({}, True),
        ({"q": ""}, True),
        ({"q": "食品", "region": "320100", "page": "2", "page_size": "100"}, True),
        ({"region": ""}, False),
        ({"department": ""}, False),
        ({"level": "galaxy"}, False),
        ({"page": "0"}, False),
        ({"page_size": "101"}, False),
        ({"colour": "red"}, False),
    ],
)
def test_the_search_query_is_refused_exactly_where_documented(query, valid):
    typed = {
        key: int(value) if key in ("page", "page_size") else value for key, value in query.items()
    }
    assert documented(contract.ItemSearchQuery).is_valid(typed) is valid
    if valid:
        load(contract.ItemSearchQuery, query)
    else:
        with pytest.raises(Invalid):
            load(contract.ItemSearchQuery, query)


def contract_schemas() -> list[type[Schema]]:
    return [
        member
        for member in vars(contract).values()
        if inspect.isclass(member) and issubclass(member, Schema) and member is not Schema
    ]


@pytest.mark.parametrize("schema", contract_schemas(), ids=lambda schema: schema.__name__)
def test_every_example_is_valid(schema):
    properties = json_schema_of(schema).get("properties", {})
    for name, field in schema().fields.items():
        if "example" in field.metadata:
            key = field.data_key or name
            example = field.metadata["example"]
            assert jsonschema_rs.Draft7Validator(properties[key]).is_valid(example), (name, example)
