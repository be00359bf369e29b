"""Catalogue queries on a SQLite unit of work holding the demo data."""

import pytest

from services.catalog.demo import load_departments, load_items, load_regions
from services.catalog.service_layer import use_cases
from services.catalog.service_layer.stores import get_store, list_stores
from services.catalog.service_layer.use_cases import item_id_for
from services.common.errors import Invalid, NotFound

from .conftest import OPERATOR

SUMMARY_KEYS = {
    "item_id",
    "code",
    "name",
    "name_en",
    "department_code",
    "department_name",
    "region_code",
    "level",
    "modes",
    "promised_days",
    "status",
    "transferred_from",
    "fees",
    "licence_type",
    "basic_code",
    "implementing_code",
    "type",
    "case_type",
    "serves",
    "visits",
    "online_depth",
}
ITEMS = load_items()


def names(result):
    return [item["name"] for item in result["items"]]


def test_keyword_food_finds_every_food_licence(uow):
    result = use_cases.search_items(uow, q="食品")
    expected = [i for i in ITEMS if "食品" in i["name"] or "食品" in i["description"]]
    assert result["total"] == len(expected) == 6
    assert {item["code"] for item in result["items"]} == {i["code"] for i in expected}
    assert set(result["items"][0]) == SUMMARY_KEYS
    assert all(item["status"] == "published" for item in result["items"])


def test_keyword_sole_trader_registration_in_three_places(uow):
    result = use_cases.search_items(uow, q="个体工商户")
    assert result["total"] == 3
    assert set(names(result)) == {"个体工商户设立登记"}
    assert len({item["region_code"] for item in result["items"]}) == 3


@pytest.mark.parametrize("keyword", ["FOOD", "food", "Food Business"])
def test_keyword_matches_english_name_ignoring_case(uow, keyword):
    result = use_cases.search_items(uow, q=keyword)
    assert result["total"] >= 4
    assert all("food" in item["name_en"].lower() for item in result["items"])


def test_keyword_matches_code_and_description(uow):
    by_code = use_cases.search_items(uow, q="320000-jsscjg-001")
    assert [item["code"] for item in by_code["items"]] == ["320000-JSSCJG-001"]
    by_description = use_cases.search_items(uow, q="保健食品生产活动")
    assert by_description["total"] == 1


def test_keyword_wildcards_are_literal(uow):
    assert use_cases.search_items(uow, q="%")["total"] == 0
    assert use_cases.search_items(uow, q="_")["total"] == 0


def test_filters_combine(uow):
    county = use_cases.search_items(uow, level="county", page_size=100)
    assert county["total"] == sum(1 for i in ITEMS if i["level"] == "county")
    express = use_cases.search_items(uow, mode="express", page_size=100)
    assert express["total"] == sum(1 for i in ITEMS if "express" in i["modes"])
    assert all("express" in item["modes"] for item in express["items"])
    amr = use_cases.search_items(uow, department="js-amr", q="食品")
    assert [item["code"] for item in amr["items"]] == ["320000-JSSCJG-001"]


def test_region_filter_includes_the_regions_children(uow):
    nanjing = use_cases.search_items(uow, region="320100", page_size=100)
    expected = [i for i in ITEMS if i["region_code"].startswith("3201")]
    assert nanjing["total"] == len(expected) > 0
    assert {item["region_code"] for item in nanjing["items"]} > {"320100"}


def test_pages_share_one_total_and_a_stable_order(uow):
    first = use_cases.search_items(uow, page=1, page_size=20)
    second = use_cases.search_items(uow, page=2, page_size=20)
    third = use_cases.search_items(uow, page=3, page_size=20)
    assert first["total"] == second["total"] == third["total"] == len(ITEMS)
    assert (len(first["items"]), len(second["items"]), len(third["items"])) == (
        20,
        20,
        len(ITEMS) - 40,
    )
    codes = [item["code"] for page in (first, second, third) for item in page["items"]]
    assert codes == sorted(i["code"] for i in ITEMS)
    assert use_cases.search_items(uow, page=4, page_size=20)["items"] == []
    assert (first["page"], first["page_size"]) == (1, 20)


def test_unknown_region_or_department_filter_is_invalid(uow):
    with pytest.raises(Invalid) as failure:
        use_cases.search_items(uow, region="999999", department="nope")
    assert failure.value.fields == {
        "region": "unknown region",
        "department": "unknown department",
    }


def test_only_published_items_are_found(uow):
    item_id = item_id_for("320000-JSSCJG-001")
    use_cases.retire_item(uow, OPERATOR, item_id)
    assert use_cases.search_items(uow, q="食品")["total"] == 5
    assert use_cases.get_item(uow, item_id)["status"] == "retired"


def test_get_item_returns_the_full_guide(uow):
    guide = use_cases.get_item(uow, item_id_for("320000-JSJTT-001"))
    seed = next(i for i in ITEMS if i["code"] == "320000-JSJTT-001")
    department = next(d for d in load_departments() if d["code"] == seed["department_code"])
    assert set(guide) == SUMMARY_KEYS | {
        "description",
        "conditions",
        "materials",
        "fee_waiver",
        "issuer_uscc",
        "legal_basis",
        "statutory_days",
        "joint_departments",
        "window",
        "handled_by",
        "store_id",
        "limit_unit",
        "limit_note",
        "process_summary",
        "place",
        "hours",
        "consultation_phone",
        "complaint_phone",
        "revision",
    }
    assert guide["item_id"] == item_id_for(seed["code"])
    assert guide["basic_code"] == seed["basic_code"]
    assert guide["implementing_code"] == department["uscc"] + "2" + seed["basic_code"]
    assert guide["department_name"] == department["name"]
    assert guide["window"] == department["window"]
    assert guide["store_id"] == department["store"]["store_id"]
    assert guide["joint_departments"] == seed["joint_departments"]
    assert guide["materials"] == seed["materials"]
    assert guide["conditions"] == seed["conditions"]
    assert guide["legal_basis"] == seed["legal_basis"]
    assert (guide["statutory_days"], guide["promised_days"]) == (
        seed["statutory_days"],
        seed["promised_days"],
    )
    assert guide["handled_by"] == "workflow"
    assert guide["issuer_uscc"] == department["uscc"]
    assert guide["licence_type"] == seed["licence_type"]
    assert (guide["fees"], guide["fee_waiver"], guide["transferred_from"]) == ([], None, None)


def test_own_workflow_instance_is_in_the_guide(uow):
    item_id = item_id_for("320000-JSGAT-001")
    use_cases.update_item(uow, OPERATOR, item_id, handled_by="workflow-js-ga")
    guide = use_cases.get_item(uow, item_id)
    assert guide["handled_by"] == "workflow-js-ga"


def test_unknown_item_is_not_found(uow):
    with pytest.raises(NotFound):
        use_cases.get_item(uow, "0" * 32)


def test_regions_and_departments(uow):
    regions = use_cases.list_regions(uow)["items"]
    assert len(regions) == len(load_regions())
    assert regions[0] == {
        "code": "320000",
        "name": "江苏省",
        "level": "province",
        "parent_code": None,
    }
    departments = use_cases.list_departments(uow)["items"]
    assert len(departments) == len(load_departments())
    province = use_cases.list_departments(uow, region="320000")["items"]
    assert province and all(d["region_code"] == "320000" for d in province)
    assert {
        "code": "js-amr",
        "name": "江苏省市场监督管理局",
        "region_code": "320000",
        "level": "province",
        "store_id": "store-js-amr",
        "kind": "department",
        "uscc": "11320000105516441G",
    } in province
    with pytest.raises(Invalid) as failure:
        use_cases.list_departments(uow, region="000000")
    assert failure.value.fields == {"region": "unknown region"}


def test_stores_start_without_a_rating(uow):
    stores = list_stores(uow, kind="department", page_size=100)["items"]
    assert len(stores) == len(load_departments())
    store = get_store(uow, "store-js-amr")
    assert store == {
        "store_id": "store-js-amr",
        "name": "江苏省市场监督管理局旗舰店",
        "kind": "department",
        "department_code": "js-amr",
        "region_code": "320000",
        "rating": {"reviews": 0, "praise_rate": None, "average_grade": None},
    }
    with pytest.raises(NotFound):
        get_store(uow, "store-nowhere")
