"""The demo seed is consistent with itself and with the catalog's rules."""

from collections import Counter

import pytest

from services.catalog.demo import load_departments, load_items, load_regions, load_zones
from services.catalog.domain.fees import LICENCE_TYPE_CODE
from services.catalog.domain.model import (
    DEPARTMENT_KINDS,
    LEVELS,
    MODES,
    Department,
    Item,
    Region,
)
from services.catalog.domain.zones import ASSESSMENT_KINDS
from services.common import rules, uscc

CITY_CODES = {
    "320100": "南京市",
    "320200": "无锡市",
    "320300": "徐州市",
    "320400": "常州市",
    "320500": "苏州市",
    "320600": "南通市",
    "320700": "连云港市",
    "320800": "淮安市",
    "320900": "盐城市",
    "321000": "扬州市",
    "321100": "镇江市",
    "321200": "泰州市",
    "321300": "宿迁市",
}

regions = load_regions()
departments = load_departments()
items = load_items()
regions_by_code = {region["code"]: region for region in regions}
departments_by_code = {department["code"]: department for department in departments}


def test_region_codes_are_unique_and_well_formed():
    codes = [region["code"] for region in regions]
    assert len(codes) == len(set(codes))
    for region in regions:
        assert len(region["code"]) == 6 and region["code"].isdigit()
        assert region["name"] and region["name_en"]
        assert region["level"] in LEVELS


def test_province_and_its_thirteen_cities():
    provinces = [region for region in regions if region["level"] == "province"]
    assert provinces == [
        {
            "code": "320000",
            "name": "江苏省",
            "name_en": "Jiangsu Province",
            "level": "province",
            "parent_code": None,
        }
    ]
    cities = {region["code"]: region for region in regions if region["level"] == "city"}
    assert {code: city["name"] for code, city in cities.items()} == CITY_CODES
    assert all(city["parent_code"] == "320000" for city in cities.values())


def test_every_city_has_at_least_two_counties_coded_under_it():
    counties = [region for region in regions if region["level"] == "county"]
    per_city = Counter(county["parent_code"] for county in counties)
    assert set(per_city) == set(CITY_CODES)
    assert min(per_city.values()) >= 2
    for county in counties:
        # a county's code shares its city's first four digits
        assert county["code"][:4] == county["parent_code"][:4]
    assert regions_by_code["320102"]["name"] == "玄武区"
    assert regions_by_code["320583"]["name"] == "昆山市"
    assert regions_by_code["320282"]["name"] == "宜兴市"


def test_departments_are_unique_and_placed_in_known_regions():
    assert len(departments_by_code) == len(departments)
    store_ids = [department["store"]["store_id"] for department in departments]
    assert len(store_ids) == len(set(store_ids))
    for department in departments:
        region = regions_by_code[department["region_code"]]
        assert department["level"] == region["level"]
        assert department["name"] and department["name_en"]
        assert department["store"]["name"].endswith("旗舰店")
        window = department["window"]
        assert window["name"] and window["address"] and window["phone"]
        assert len(window["postcode"]) == 6 and window["postcode"].isdigit()
        Department.from_dict(department)


def test_departments_cover_all_three_levels():
    levels = Counter(department["level"] for department in departments)
    assert levels["province"] >= 8
    assert levels["city"] >= 2 and levels["county"] >= 2
    assert "js-amr" in departments_by_code and "js-ga" in departments_by_code


def test_enough_items_with_unique_codes():
    codes = [item["code"] for item in items]
    assert len(items) >= 36
    assert len(codes) == len(set(codes))


def test_every_item_points_at_existing_department_and_region():
    for item in items:
        department = departments_by_code[item["department_code"]]
        assert item["region_code"] in regions_by_code
        assert item["region_code"] == department["region_code"]
        assert item["level"] == regions_by_code[item["region_code"]]["level"]
        assert item["code"].startswith(item["region_code"] + "-")


def test_every_joint_department_exists_and_is_another_department():
    for item in items:
        for code in item["joint_departments"]:
            assert code in departments_by_code, (item["code"], code)
            assert code != item["department_code"]
    joint = [item for item in items if len(item["joint_departments"]) >= 2]
    assert len(joint) >= 4


def test_items_spread_over_levels_and_modes():
    assert {item["level"] for item in items} == set(LEVELS)
    assert sum("express" in item["modes"] for item in items) >= 10
    assert all(set(item["modes"]) <= set(MODES) for item in items)


def test_demo_items_run_on_the_shared_workflow_instance():
    # 江苏省公安厅 (js-ga) runs its own workflow instance, as the local cluster
    # does by default (LocalCluster.workflow_departments); every other
    # department's items run on the shared instance.
    for item in items:
        expected = "workflow-js-ga" if item["department_code"] == "js-ga" else "workflow"
        assert item["handled_by"] == expected, item["code"]
    assert any(item["handled_by"] == "workflow-js-ga" for item in items)


@pytest.mark.parametrize("keyword", ["食品", "营业执照", "个体工商户", "护照"])
def test_keywords_find_items(keyword):
    assert any(keyword in item["name"] for item in items)


@pytest.mark.parametrize("data", items, ids=[item["code"] for item in items])
def test_every_item_passes_publication(data):
    item = Item.create("demo", **data)
    assert item.publish_problems() == {}
    assert item.promised_days < item.statutory_days
    item.publish()
    assert item.is_published


def test_regions_load_as_domain_objects():
    assert Region.from_dict(regions_by_code["320583"]).parent_code == "320500"


def test_every_department_has_a_kind_and_a_government_uscc():
    codes = [department["uscc"] for department in departments]
    assert len(codes) == len(set(codes))
    for department in departments:
        assert department["kind"] in DEPARTMENT_KINDS
        # 党政机关: registered by the establishment authority, as an organ of state
        assert department["uscc"].startswith("11" + department["region_code"])
        assert uscc.problem(department["uscc"]) is None
    bureaus = {d["code"] for d in departments if d["kind"] == "approval_bureau"}
    assert bureaus == {d["code"] for d in departments if d["name"].endswith("行政审批局")}


def test_the_jiangning_bureau_holds_items_of_at_least_two_jiangning_departments():
    transferred = [item for item in items if item["transferred_from"]]
    for item in transferred:
        source = departments_by_code[item["transferred_from"]]
        holder = departments_by_code[item["department_code"]]
        assert holder["kind"] == "approval_bureau", item["code"]
        assert source["code"] != holder["code"]
        assert source["region_code"] == holder["region_code"]
    jiangning = {i["transferred_from"] for i in transferred if i["department_code"] == "jn-xzsp"}
    assert len(jiangning) >= 2
    assert all(departments_by_code[code]["name"].startswith("南京市江宁区") for code in jiangning)


def test_fees_are_items_in_fen_with_one_waiver_for_the_elderly():
    assert all(isinstance(item["fees"], list) for item in items)
    charged = [item for item in items if item["fees"]]
    assert charged and all(
        isinstance(fee["amount_fen"], int) and fee["amount_fen"] > 0
        for item in charged
        for fee in item["fees"]
    )
    assert any(fee["amount_fen"] == 5000 for item in charged for fee in item["fees"])
    waived = [item for item in items if item["fee_waiver"]]
    assert [item["fee_waiver"]["rule"] for item in waived] == [
        {"fact": "applicant.age", "op": "ge", "value": 70}
    ]
    assert rules.check(waived[0]["fee_waiver"]["rule"]) == {}
    assert any(fee["waivable"] for fee in waived[0]["fees"])


def test_items_that_issue_licences_name_the_licence_type():
    typed = [item for item in items if item["licence_type"]]
    assert len(typed) >= len(items) - 6
    for item in typed:
        licence = item["licence_type"]
        assert LICENCE_TYPE_CODE.fullmatch(licence["code"]), item["code"]
        years = licence["valid_years"]
        assert years is None or (isinstance(years, int) and years >= 1)
    # one licence type, one name, wherever it is issued
    names = {}
    for item in typed:
        names.setdefault(item["licence_type"]["code"], set()).add(item["licence_type"]["name"])
    assert all(len(found) == 1 for found in names.values()), names


def test_the_jiangning_zone_is_run_by_its_committee_with_a_valid_and_an_expired_report():
    (zone,) = load_zones()
    committee = departments_by_code[zone["committee_department_code"]]
    assert committee["kind"] == "zone_committee"
    assert zone["region_code"] == committee["region_code"] == "320115"
    reports = {report["kind"]: report for report in zone["assessments"]}
    assert set(reports) <= set(ASSESSMENT_KINDS)
    today = "2026-12-01"
    environment, flood = reports["environmental_impact"], reports["flood_impact"]
    assert environment["valid_from"] <= today <= environment["valid_to"] >= "2027-12-31"
    assert flood["valid_to"] < "2026-06-01" <= today
