"""The catalogue statistics' rules (plain Python): what an item counts for,
when it deviates from its basic item, and the shape of the answer."""

from services.catalog.domain.model import Region
from services.catalog.domain.stats import (
    ALL,
    BasicFacts,
    Counts,
    ItemFacts,
    Tally,
    catalogue_stats,
    count_changes,
    implementation_keys,
    level_scope,
    region_scope,
    supersedes,
)

REGIONS = [
    Region("320000", "江苏省", "province"),
    Region("320100", "南京市", "city", "320000"),
    Region("320102", "玄武区", "county", "320100"),
]
LAW = (("中华人民共和国食品安全法", "第三十五条"),)
BASIC = BasicFacts("000108001000", 2, "食品生产许可", "01", LAW)


def facts(item_id="i-1", **overrides) -> ItemFacts:
    values = {
        "item_id": item_id,
        "revision": 1,
        "published": True,
        "region_code": "320100",
        "level": "city",
        "online": True,
        "basic_code": BASIC.basic_code,
        "name": BASIC.name,
        "type": BASIC.type,
        "legal_basis": LAW,
    }
    values.update(overrides)
    return ItemFacts(**values)


def test_online_means_online_or_express():
    published = {"item_id": "i", "region_code": "320100", "level": "city", "name": "x"}
    assert ItemFacts.from_published({**published, "modes": ["express"]}).online
    assert ItemFacts.from_published({**published, "modes": ["online", "window"]}).online
    assert not ItemFacts.from_published({**published, "modes": ["window"]}).online


def test_an_item_deviates_when_a_locked_field_differs():
    assert not facts().compared_with(BASIC).deviating
    assert facts(name="食品生产许可证").compared_with(BASIC).deviating
    assert facts(type="07").compared_with(BASIC).deviating
    assert facts(legal_basis=(("别的法", ""),)).compared_with(BASIC).deviating
    # Nothing to compare with: no basic item, or not known yet.
    assert not facts(basic_code=None, name="x").compared_with(None).deviating
    assert not facts(name="x").compared_with(None).deviating


def test_a_higher_revision_supersedes_and_an_equal_one_does_not():
    assert supersedes(1, None)
    assert supersedes(3, 2)
    assert not supersedes(2, 2)
    assert not supersedes(1, 2)


def test_an_item_counts_in_everything_its_level_and_its_region():
    assert facts().scopes() == (ALL, level_scope("city"), region_scope("320100"))
    assert ItemFacts("i-9", 2, False).scopes() == (ALL,)


def test_retiring_takes_an_item_out_of_every_count():
    before = facts(deviating=True)
    changes = count_changes(before, before.retired(2))
    assert changes == {
        scope: Counts(published=-1, online=-1, deviating=-1) for scope in before.scopes()
    }
    assert implementation_keys(before, before.retired(2)) == {
        (scope, BASIC.basic_code) for scope in before.scopes()
    }


def test_a_change_that_does_not_move_a_count_changes_nothing():
    assert count_changes(facts(), facts(revision=2, name="same counts")) == {}
    assert count_changes(None, facts(published=False)) == {}


def test_the_answer_lists_every_region_with_rates():
    tally = Tally()
    tally.add(facts("i-1"))
    tally.add(facts("i-2", online=False, deviating=True))
    tally.add(facts("i-3", region_code="320102", level="county"))
    tally.add(facts("i-4", region_code="329999", level="county", basic_code="000108002000"))
    stats = catalogue_stats(tally.result(), basic_items=4, regions=REGIONS)

    assert {key: stats[key] for key in stats if key not in ("by_level", "by_region")} == {
        "published": 4,
        "online": 3,
        "online_rate": 0.75,
        "implemented": 2,
        "deviating": 1,
        "basic_items": 4,
    }
    assert stats["by_level"]["province"] == {
        "published": 0,
        "online": 0,
        "online_rate": None,
        "implemented": 0,
        "deviating": 0,
    }
    assert stats["by_level"]["county"]["implemented"] == 2
    assert [entry["region_code"] for entry in stats["by_region"]] == [
        "320000",
        "320100",
        "320102",
        "329999",  # named by an item, not known to the catalogue
    ]
    assert stats["by_region"][1] == {
        "region_code": "320100",
        "name": "南京市",
        "level": "city",
        "published": 2,
        "online": 1,
        "online_rate": 0.5,
        "implemented": 1,
        "implementation_rate": 0.25,
        "deviating": 1,
    }
    assert stats["by_region"][3]["name"] is None


def test_without_basic_items_there_is_no_implementation_rate():
    stats = catalogue_stats({}, basic_items=0, regions=REGIONS)
    assert stats["published"] == 0
    assert stats["online_rate"] is None
    assert all(entry["implementation_rate"] is None for entry in stats["by_region"])
