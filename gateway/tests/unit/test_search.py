"""The gateway's item search index: matching, ranking, filters, paging, and
staying right whichever way round loads and events arrive."""

import pytest

from gateway import search
from gateway.search import SearchIndex, grams, normalise, pinyin_initials
from gateway.tests import synthetic_catalogue
from services.catalog import contract as catalog
from services.common.errors import Invalid

REGIONS = [
    {"code": "320000", "name": "江苏省", "level": "province", "parent_code": None},
    {"code": "320100", "name": "南京市", "level": "city", "parent_code": "320000"},
    {"code": "320102", "name": "玄武区", "level": "county", "parent_code": "320100"},
    {"code": "320115", "name": "江宁区", "level": "county", "parent_code": "320100"},
    {"code": "320500", "name": "苏州市", "level": "city", "parent_code": "320000"},
    {"code": "320505", "name": "虎丘区", "level": "county", "parent_code": "320500"},
]
LEVEL_OF = {r["code"]: r["level"] for r in REGIONS}


def payload(code, name, revision=1, **overrides):
    region = overrides.pop("region_code", "320000")
    body = {
        "item_id": f"id-{code}",
        "code": code,
        "name": name,
        "name_en": "",
        "department_code": "js-amr",
        "department_name": "江苏省市场监督管理局",
        "region_code": region,
        "level": LEVEL_OF[region],
        "modes": ["online", "window"],
        "promised_days": 5,
        "status": "published",
        "transferred_from": None,
        "fees": [],
        "licence_type": None,
        "basic_code": "000000000001",
        "implementing_code": None,
        "type": "01",
        "case_type": "promised",
        "serves": ["legal_person"],
        "visits": 1,
        "online_depth": 4,
        "description": "",
        "legal_basis": [],
        "statutory_days": 20,
        "joint_departments": [],
        "window": None,
        "handled_by": "workflow",
        "store_id": "store-js-amr",
        "revision": revision,
    }
    body.update(overrides)
    return body


def loaded(*payloads, departments=("js-amr", "nj-amr", "sz-amr")):
    index = SearchIndex()
    index.set_regions(REGIONS)
    index.set_departments(departments)
    mark = index.begin_load()
    for body in payloads:
        index.publish(body)
    index.finish_load(mark, {body["item_id"] for body in payloads})
    return index


def codes(answer):
    return [item["code"] for item in answer["items"]]


# --- text -------------------------------------------------------------------------


def test_normalise_folds_width_case_and_blanks():
    assert normalise("  ＹＹＺＺ  营业\u3000执照 ") == "yyzz 营业 执照"


def test_grams_are_characters_and_pairs():
    assert grams("执照") == {"执", "照", "执照"}


def test_pinyin_initials_of_a_name():
    assert pinyin_initials("营业执照设立登记") == "yyzzsldj"
    assert pinyin_initials("ICP备案（个人）") == "icpbagr"


# --- ranking ----------------------------------------------------------------------


def ranking_index():
    return loaded(
        payload("A-05", "个体工商户营业执照注销", description=""),
        payload("A-04", "营业执照设立登记"),
        payload("A-03", "营业执照"),
        payload("A-02", "企业开办", description="一次领取营业执照和公章"),
        payload("A-01", "营业执照变更登记"),
        payload("A-06", "食品经营许可证核发", name_en="Business licence holder's food permit"),
    )


def test_name_exact_then_starts_with_then_contains_then_description():
    answer = ranking_index().search(q="营业执照")
    assert codes(answer) == ["A-03", "A-01", "A-04", "A-05", "A-02"]
    assert answer["total"] == 5


def test_partial_word_matches_inside_a_name():
    assert codes(ranking_index().search(q="执照设立")) == ["A-04"]


def test_every_word_must_match():
    assert codes(ranking_index().search(q="营业执照 登记")) == ["A-01", "A-04"]
    assert codes(ranking_index().search(q="营业执照 护照")) == []


def test_one_character_query_matches_by_character():
    assert codes(ranking_index().search(q="销")) == ["A-05"]


def test_pinyin_initials_rank_below_name_matches():
    index = loaded(
        payload("B-02", "营业执照设立登记"),
        payload("B-01", "居民身份证申领", description="yyzz"),
    )
    assert codes(index.search(q="yyzz")) == ["B-02", "B-01"]
    assert codes(index.search(q="YYZZ")) == ["B-02", "B-01"]


def test_synonyms_find_the_official_name():
    index = loaded(
        payload("C-01", "机动车驾驶证换证"),
        payload("C-02", "居民身份证首次申领"),
        payload("C-03", "住房公积金提取"),
        payload("C-04", "户籍迁入"),
        payload("C-05", "结婚登记（内地居民）"),
        payload("C-06", "驾照科目考试预约"),
    )
    assert codes(index.search(q="驾照")) == ["C-06", "C-01"]  # the word itself first
    assert codes(index.search(q="驾照换证")) == ["C-01"]
    assert codes(index.search(q="身份证")) == ["C-02"]
    assert codes(index.search(q="公积金")) == ["C-03"]
    assert codes(index.search(q="户口")) == ["C-04"]
    assert codes(index.search(q="结婚证")) == ["C-05"]


def test_code_prefix_and_english_name_rank_with_the_other_matches():
    index = ranking_index()
    assert codes(index.search(q="a-0")) == ["A-01", "A-02", "A-03", "A-04", "A-05", "A-06"]
    assert codes(index.search(q="licence holder")) == ["A-06"]
    assert codes(index.search(q="0000000000")) == codes(index.search(page_size=100))


def test_ties_by_code_and_without_a_query_by_code():
    index = loaded(*(payload(f"X-{n:02d}", "养老机构备案") for n in (3, 1, 2)))
    assert codes(index.search(q="养老机构备案")) == ["X-01", "X-02", "X-03"]
    assert codes(index.search()) == ["X-01", "X-02", "X-03"]
    assert codes(index.search(q="   ")) == ["X-01", "X-02", "X-03"]


def test_nothing_matches():
    assert ranking_index().search(q="护照") == {"items": [], "page": 1, "page_size": 20, "total": 0}


# --- filters ----------------------------------------------------------------------


def filtered_index():
    return loaded(
        payload("P-1", "普通护照签发", region_code="320000", serves=["natural_person"]),
        payload("N-1", "普通护照签发", region_code="320100", department_code="nj-amr"),
        payload("N-2", "普通护照签发", region_code="320115", type="20", modes=["window"]),
        payload("N-3", "普通护照签发", region_code="320102", serves=["natural_person"]),
        payload("S-1", "普通护照签发", region_code="320500", type="20"),
        payload("S-2", "普通护照签发", region_code="320505", department_code="sz-amr"),
    )


def test_a_region_includes_its_children():
    index = filtered_index()
    assert codes(index.search(q="护照", region="320100")) == ["N-1", "N-2", "N-3"]
    assert codes(index.search(region="320500")) == ["S-1", "S-2"]
    assert codes(index.search(region="320102")) == ["N-3"]
    assert index.search(region="320000")["total"] == 6


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"department": "nj-amr"}, ["N-1"]),
        ({"level": "county"}, ["N-2", "N-3", "S-2"]),
        ({"type": "20"}, ["N-2", "S-1"]),
        ({"mode": "window"}, ["N-1", "N-2", "N-3", "P-1", "S-1", "S-2"]),
        ({"mode": "online"}, ["N-1", "N-3", "P-1", "S-1", "S-2"]),
        ({"serves": "natural_person"}, ["N-3", "P-1"]),
        ({"serves": "legal_person"}, ["N-1", "N-2", "S-1", "S-2"]),
        ({"region": "320100", "level": "county", "type": "20"}, ["N-2"]),
        ({"department": "js-amr", "region": "320500"}, ["S-1"]),
    ],
)
def test_every_filter(query, expected):
    assert codes(filtered_index().search(q="普通护照", **query)) == expected
    assert codes(filtered_index().search(**query)) == expected


def test_unknown_region_or_department_names_the_filter():
    with pytest.raises(Invalid) as raised:
        filtered_index().search(region="999999", department="nowhere")
    assert raised.value.fields == {"region": "unknown region", "department": "unknown department"}


def test_pages_and_total():
    index = loaded(*(payload(f"Q-{n:03d}", f"事项{n}") for n in range(45)))
    first = index.search(q="事项", page=1, page_size=20)
    third = index.search(q="事项", page=3, page_size=20)
    beyond = index.search(q="事项", page=4, page_size=20)
    assert first["total"] == third["total"] == beyond["total"] == 45
    assert codes(first) == [f"Q-{n:03d}" for n in range(20)]
    assert codes(third) == [f"Q-{n:03d}" for n in range(40, 45)]
    assert beyond["items"] == [] and beyond["page"] == 4


def test_a_page_spans_relevance_tiers():
    index = loaded(
        *(payload(f"T-{n}", "登记") for n in range(3)),
        *(payload(f"U-{n}", "设立登记") for n in range(3)),
    )
    assert codes(index.search(q="登记", page=2, page_size=2)) == ["T-2", "U-0"]


def test_results_are_item_summaries():
    item = ranking_index().search(q="营业执照")["items"][0]
    assert set(item) == set(catalog.ItemSummary().fields)
    assert catalog.ItemSummary().validate(item) == {}
    assert item["status"] == "published"


# --- events and loads -------------------------------------------------------------


def test_a_lower_revision_is_ignored():
    index = loaded(payload("R-1", "新名称", revision=3))
    assert index.publish(payload("R-1", "旧名称", revision=2)) is False
    assert codes(index.search(q="新名称")) == ["R-1"]
    assert codes(index.search(q="旧名称")) == []


def test_a_higher_revision_replaces_the_item_everywhere():
    index = loaded(payload("R-1", "旧名称", region_code="320102", revision=1))
    assert index.publish(payload("R-1", "新名称", region_code="320102", revision=2, type="20"))
    assert codes(index.search(q="旧名称")) == []
    assert codes(index.search(q="新名称", type="20", region="320100")) == ["R-1"]
    assert codes(index.search(type="01")) == []
    assert len(index) == 1


def test_retired_items_leave_a_tombstone():
    index = loaded(payload("R-1", "事项", revision=2), payload("R-2", "事项"))
    assert index.retire("id-R-1", 3)
    assert codes(index.search(q="事项")) == ["R-2"]
    # The publication the retirement followed arrives late: it stays retired.
    assert index.publish(payload("R-1", "事项", revision=2)) is False
    assert codes(index.search(q="事项")) == ["R-2"]
    # Published again later.
    assert index.apply("item_published", payload("R-1", "事项", revision=4))
    assert codes(index.search(q="事项")) == ["R-1", "R-2"]


def test_items_published_after_the_layout_are_in_code_order():
    index = loaded(*(payload(f"L-{n:02d}", "事项") for n in (0, 2, 4, 6, 8)))
    for n in (7, 1, 9):
        index.publish(payload(f"L-{n:02d}", "事项"))
    assert index.unordered == 3
    expected = [f"L-{n:02d}" for n in (0, 1, 2, 4, 6, 7, 8, 9)]
    assert codes(index.search(q="事项", page_size=100)) == expected
    assert codes(index.search(page_size=100)) == expected
    for page in range(1, 5):
        answer = index.search(q="事项", page=page, page_size=2)
        assert codes(answer) == expected[(page - 1) * 2 : page * 2]
    assert codes(index.search(q="事项", page=2, page_size=3)) == expected[3:6]
    index.layout()
    assert index.unordered == 0
    assert codes(index.search(page_size=100)) == expected


def test_search_waits_for_nothing_before_the_first_load():
    index = SearchIndex()
    index.publish(payload("E-1", "事项"))
    assert not index.loaded  # the gateway asks catalog meanwhile


def test_events_during_a_load_win_by_revision():
    index = SearchIndex()
    index.set_regions(REGIONS)
    mark = index.begin_load()
    # An event overtakes the load's page, another is older than the load.
    index.apply("item_published", payload("I-1", "新名称", revision=5))
    index.apply("item_retired", {"item_id": "id-I-2", "revision": 4})
    page = [
        payload("I-1", "旧名称", revision=4),
        payload("I-2", "已撤销", revision=3),
        payload("I-3", "照常", revision=1),
    ]
    for body in page:
        index.publish(body)
    index.apply("item_published", payload("I-4", "新事项", revision=1))  # after the page
    index.finish_load(mark, {body["item_id"] for body in page})
    assert index.loaded
    assert codes(index.search(page_size=100)) == ["I-1", "I-3", "I-4"]
    assert index.search(q="新名称")["items"][0]["name"] == "新名称"


def test_a_reload_drops_what_catalog_no_longer_exports():
    index = loaded(payload("G-1", "事项"), payload("G-2", "事项"))
    mark = index.begin_load()
    index.publish(payload("G-1", "事项"))
    index.apply("item_published", payload("G-3", "事项"))  # arrived during the reload
    index.finish_load(mark, {"id-G-1"})
    assert codes(index.search(page_size=100)) == ["G-1", "G-3"]


def test_a_reload_of_unchanged_items_keeps_the_layout():
    bodies = [payload(f"K-{n}", "事项") for n in range(3)]
    index = loaded(*bodies)
    mark = index.begin_load()
    assert not any(index.publish(dict(body)) for body in bodies)
    index.finish_load(mark, {body["item_id"] for body in bodies})
    assert index.unordered == 0 and len(index) == 3


def test_synthetic_catalogue_at_a_small_scale():
    bodies = list(synthetic_catalogue.payloads(3000))
    index = SearchIndex()
    index.set_regions(synthetic_catalogue.regions())
    mark = index.begin_load()
    for body in bodies:
        index.publish(body)
    index.finish_load(mark, {body["item_id"] for body in bodies})
    assert len(index) == 3000
    every = index.search(page_size=100)
    assert every["total"] == 3000
    assert codes(every) == sorted(body["code"] for body in bodies)[:100]
    city = index.search(region="320500", page_size=100)
    counties = {r["code"] for r in synthetic_catalogue.regions() if r["parent_code"] == "320500"}
    assert city["total"] == sum(1 for b in bodies if b["region_code"] in counties | {"320500"})
    answer = index.search(q="营业执照", page_size=100)
    names = [item["name"] for item in answer["items"]]
    assert answer["total"] > 0 and all("营业执照" in name for name in names[: answer["total"]])


@pytest.fixture(params=["item by item", "by bitmaps", "by description grams"])
def either_way(request, monkeypatch):
    """Runs a test on each way of finding tiers (few items, many items, words
    held by many descriptions)."""
    if request.param != "item by item":
        monkeypatch.setattr(SearchIndex, "scan_limit", -1)
        monkeypatch.setattr(SearchIndex, "few_descriptions", -1)
    if request.param == "by description grams":
        monkeypatch.setattr(search, "DENSE_DESCRIPTION_GRAM", 1)
    return request.param


def test_both_ways_rank_and_filter_alike(either_way):
    index = ranking_index()
    assert codes(index.search(q="营业执照")) == ["A-03", "A-01", "A-04", "A-05", "A-02"]
    assert codes(index.search(q="licence holder")) == ["A-06"]
    filters = filtered_index()
    assert codes(filters.search(q="护照", region="320100", type="20")) == ["N-2"]


def test_both_ways_see_a_changed_description(either_way):
    index = loaded(
        payload("D-1", "企业开办", description="一次领取营业执照"),
        payload("D-2", "社会团体登记", description="社会团体成立"),
    )
    assert codes(index.search(q="营业执照")) == ["D-1"]
    index.publish(payload("D-1", "企业开办", revision=2, description="一次领取公章"))
    index.publish(payload("D-2", "社会团体登记", revision=2, description="领取营业执照"))
    index.publish(payload("D-0", "新事项", description="营业执照"))
    assert codes(index.search(q="营业执照")) == ["D-0", "D-2"]
    assert codes(index.search(q="公章")) == ["D-1"]


def test_both_ways_agree_after_changes_on_a_synthetic_catalogue(monkeypatch):
    import random

    rng = random.Random(5)
    bodies = list(synthetic_catalogue.payloads(4000))
    index = SearchIndex()
    index.set_regions(synthetic_catalogue.regions())
    mark = index.begin_load()
    for body in bodies[:3500]:
        index.publish(body)
    index.finish_load(mark, {body["item_id"] for body in bodies[:3500]})
    # Events after the layout: new items, changed names and descriptions, retirements.
    for body in bodies[3500:]:
        index.publish(body)
    for body in rng.sample(bodies[:3500], 200):
        other = rng.choice(bodies)
        index.publish(
            {**body, "name": other["name"], "description": other["description"], "revision": 2}
        )
    for body in rng.sample(bodies, 200):
        index.retire(body["item_id"], 3)
    regions = [None, *(r["code"] for r in synthetic_catalogue.regions()[:20])]
    queries = [
        {
            "q": rng.choice(
                ["营业执照", "证", "登记 变更", "yyzz", "驾照", "申请", "service item 1"]
            ),
            "region": rng.choice(regions),
            "page": rng.choice([1, 2, 7]),
            "page_size": 30,
        }
        for _ in range(40)
    ]
    by_scan = [index.search(**query) for query in queries]
    monkeypatch.setattr(SearchIndex, "scan_limit", -1)
    monkeypatch.setattr(SearchIndex, "few_descriptions", -1)
    assert [index.search(**query) for query in queries] == by_scan
    index.layout()
    assert [index.search(**query) for query in queries] == by_scan
    # Every gram dense: descriptions found by intersecting the grams' items.
    monkeypatch.setattr(search, "DENSE_DESCRIPTION_GRAM", 1)
    index.layout()
    assert index._description_gram_slots
    assert [index.search(**query) for query in queries] == by_scan
    assert any(answer["items"] for answer in by_scan)


def test_knows_its_regions_and_departments():
    index = filtered_index()
    assert index.knows(region="320100", department="nj-amr", q="x")
    assert not index.knows(region="999999")
    assert not index.knows(department="new-dept")


def test_every_change_moves_the_version():
    index = loaded(payload("320000-A-001", "食品经营许可"))
    seen = [index.version]

    def moved():
        seen.append(index.version)
        return seen[-1] > seen[-2]

    index.publish(payload("320000-A-002", "药品经营许可"))
    assert moved()
    index.publish(payload("320000-A-002", "药品经营许可（变更）", revision=2))
    assert moved()
    index.retire("320000-A-001", revision=9)
    assert moved()
    index.layout()
    assert moved()
    index.set_departments(["js-amr"])
    assert moved()
    index.set_regions([{"code": "320000", "parent_code": None}])
    assert moved()
    # A question asked again changes nothing.
    index.search(q="药品")
    assert index.version == seen[-1]
