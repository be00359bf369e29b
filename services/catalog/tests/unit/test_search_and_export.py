"""Catalog's own item search (the gateway's fallback while its index loads) and
the export the gateway's index loads from, on the demo catalogue."""

import pytest

from services.catalog import contract
from services.catalog.demo import load_regions
from services.catalog.service_layer import export, use_cases
from services.common.errors import Invalid

from .conftest import AMR_ADMIN


def published(uow):
    with uow:
        return uow.items.published()


def codes(result):
    return [item["code"] for item in result["items"]]


def region_and_children(code):
    regions = load_regions()
    out, pending = [], [code]
    while pending:
        current = pending.pop()
        out.append(current)
        pending.extend(r["code"] for r in regions if r.get("parent_code") == current)
    return set(out)


@pytest.mark.parametrize("region", ["320000", "320100", "320115"])
def test_a_region_includes_its_children(uow, region):
    inside = region_and_children(region)
    expected = sorted(i.code for i in published(uow) if i.region_code in inside)
    result = use_cases.search_items(uow, region=region, page_size=100)
    assert codes(result) == expected
    assert result["total"] == len(expected)


def test_a_city_finds_its_counties_items(uow):
    counties = {r["code"] for r in load_regions() if r.get("parent_code") == "320100"}
    in_counties = [i for i in published(uow) if i.region_code in counties]
    assert in_counties, "the demo catalogue has county items in Nanjing"
    found = set(codes(use_cases.search_items(uow, region="320100", page_size=100)))
    assert {i.code for i in in_counties} <= found


@pytest.mark.parametrize(
    ("filter_", "value", "holds"),
    [
        ("type", "01", lambda item: item.type == "01"),
        ("type", "20", lambda item: item.type == "20"),
        ("serves", "natural_person", lambda item: "natural_person" in item.serves),
        ("serves", "legal_person", lambda item: "legal_person" in item.serves),
        ("mode", "express", lambda item: "express" in item.modes),
        ("level", "county", lambda item: item.level == "county"),
        ("department", "js-amr", lambda item: item.department_code == "js-amr"),
    ],
)
def test_every_filter(uow, filter_, value, holds):
    expected = sorted(i.code for i in published(uow) if holds(i))
    result = use_cases.search_items(uow, page_size=100, **{filter_: value})
    assert codes(result) == expected


def test_filters_combine_with_a_region(uow):
    inside = region_and_children("320100")
    expected = sorted(
        i.code for i in published(uow) if i.region_code in inside and i.level == "county"
    )
    result = use_cases.search_items(uow, region="320100", level="county", page_size=100)
    assert codes(result) == expected


def test_a_name_match_ranks_before_a_description_match(uow):
    items = published(uow)
    word = "营业执照"
    in_name = sorted(i.code for i in items if word in i.name)
    in_description_only = sorted(
        i.code for i in items if word not in i.name and word in i.description
    )
    assert in_name and in_description_only, "the demo catalogue has both kinds"
    result = use_cases.search_items(uow, q=word, page_size=100)
    found = codes(result)
    assert set(found) == set(in_name) | set(in_description_only)
    # Every name match before every description-only match.
    last_name = max(found.index(code) for code in in_name)
    first_description = min(found.index(code) for code in in_description_only)
    assert last_name < first_description
    assert [c for c in found if c in in_description_only] == in_description_only


def test_a_name_equal_to_the_query_ranks_first(uow):
    items = published(uow)
    name = next(i.name for i in items if any(i.name in j.name and i.name != j.name for j in items))
    result = use_cases.search_items(uow, q=name, page_size=100)
    exact = sorted(i.code for i in items if i.name == name)
    assert codes(result)[: len(exact)] == exact


def test_every_word_must_match(uow):
    items = published(uow)
    one = use_cases.search_items(uow, q="食品 许可", page_size=100)
    expected = {
        i.code
        for i in items
        if any(
            "食品" in text.lower() and "许可" in text.lower()
            for text in (i.name, i.name_en, i.code, i.description)
        )
    }
    assert set(codes(one)) == expected and expected


def test_blank_query_is_code_order(uow):
    expected = sorted(i.code for i in published(uow))[:20]
    assert codes(use_cases.search_items(uow, q="   ")) == expected


def test_unknown_filters_are_named(uow):
    with pytest.raises(Invalid) as raised:
        use_cases.search_items(uow, region="999999", department="nowhere")
    assert raised.value.fields == {"region": "unknown region", "department": "unknown department"}


def test_query_schema_takes_type_and_serves():
    schema = contract.ItemSearchQuery()
    loaded = schema.load({"type": "20", "serves": "legal_person", "q": "x" * 100})
    assert loaded["type"] == "20" and loaded["serves"] == "legal_person"
    assert set(schema.validate({"type": "99", "serves": "robots", "q": "x" * 101})) == {
        "type",
        "serves",
        "q",
    }


# --- export_items -------------------------------------------------------------


def test_export_pages_through_every_published_item_in_id_order(uow):
    expected = sorted(i.item_id for i in published(uow))
    seen, after, pages = [], None, 0
    while True:
        page = export.export_items(uow, after=after, limit=7)
        seen.extend(item["item_id"] for item in page["items"])
        pages += 1
        after = page["next"]
        if after is None:
            break
        assert after == page["items"][-1]["item_id"]
    assert seen == expected
    assert pages == len(expected) // 7 + 1


def test_exported_items_are_item_published_payloads(uow):
    (item,) = export.export_items(uow, limit=1)["items"]
    with uow:
        listing = uow.items.get_listing(item["item_id"])
    assert item == {
        **listing.item._published_event().payload(),
        "department_name": listing.department_name,
    }
    assert set(contract.ItemSummary().fields) <= set(item)
    assert contract.ItemPublished().validate(item) == {}
    assert item["status"] == "published" and item["revision"] >= 1


def test_retired_items_are_not_exported(uow):
    first = export.export_items(uow, limit=1)["items"][0]
    with uow:
        department = uow.items.get(first["item_id"]).department_code
    actor = {**AMR_ADMIN, "department_code": department}
    use_cases.retire_item(uow, actor, first["item_id"])
    ids = [item["item_id"] for item in export.export_items(uow, limit=5000)["items"]]
    assert first["item_id"] not in ids
