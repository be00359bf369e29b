"""The catalogue statistics read model: kept by catalog's own events, once per
event, at the highest revision of each item and basic item; answered from
counters per scope."""

import random
import uuid

import pytest
from nameko.testing.services import worker_factory

from services.catalog.bootstrap import load_demo
from services.catalog.demo import load_items, load_regions
from services.catalog.domain.model import Region
from services.catalog.domain.stats import (
    ALL,
    BasicFacts,
    Counts,
    ItemFacts,
    Tally,
    count_changes,
    legal_basis_key,
    level_scope,
    region_scope,
)
from services.catalog.service import CatalogService
from services.catalog.service_layer import stats
from services.catalog.service_layer.unit_of_work import CatalogUnitOfWork
from services.common.testing import outbox

LAW = [{"law": "中华人民共和国食品安全法", "article": "第三十五条"}]
OTHER_LAW = [{"law": "中华人民共和国特种设备安全法", "article": "第三十三条"}]
BASIC = "000108001000"
OTHER_BASIC = "000108002000"


@pytest.fixture
def uow(uow_factory):
    """A catalogue that knows the demo regions and nothing else."""
    uow = uow_factory(CatalogUnitOfWork, source="catalog")
    with uow:
        for data in load_regions():
            uow.regions.add(Region.from_dict(data))
        uow.commit()
    return uow


def envelope(payload: dict, event_id: str | None = None) -> dict:
    return {"id": event_id or uuid.uuid4().hex, "payload": payload}


def published(item_id="i-1", revision=1, **overrides) -> dict:
    payload = {
        "item_id": item_id,
        "code": f"code-{item_id}",
        "name": "食品生产许可",
        "region_code": "320100",
        "level": "city",
        "modes": ["window", "online"],
        "basic_code": BASIC,
        "type": "01",
        "legal_basis": LAW,
        "revision": revision,
    }
    payload.update(overrides)
    return envelope(payload)


def retired(item_id="i-1", revision=2) -> dict:
    return envelope({"item_id": item_id, "revision": revision})


def basic(basic_code=BASIC, revision=1, **overrides) -> dict:
    payload = {
        "basic_code": basic_code,
        "name": "食品生产许可",
        "type": "01",
        "legal_basis": LAW,
        "revision": revision,
    }
    payload.update(overrides)
    return envelope(payload)


def answer(uow) -> dict:
    return stats.catalog_stats(uow)


def region(answer: dict, code: str) -> dict:
    return next(entry for entry in answer["by_region"] if entry["region_code"] == code)


def test_a_published_item_counts_overall_by_level_and_where_it_sits(uow):
    stats.record_basic_item_published(uow, basic())
    assert stats.record_item_published(uow, published())
    stats.record_item_published(
        uow, published("i-2", region_code="320102", level="county", modes=["window"])
    )

    figures = answer(uow)
    assert figures["published"] == 2
    assert figures["online"] == 1
    assert figures["online_rate"] == 0.5
    assert figures["basic_items"] == 1
    assert figures["implemented"] == 1
    assert figures["deviating"] == 0
    assert figures["by_level"]["city"] == {
        "published": 1,
        "online": 1,
        "online_rate": 1.0,
        "implemented": 1,
        "deviating": 0,
    }
    assert figures["by_level"]["province"]["online_rate"] is None
    assert region(figures, "320100") == {
        "region_code": "320100",
        "name": "南京市",
        "level": "city",
        "published": 1,
        "online": 1,
        "online_rate": 1.0,
        "implemented": 1,
        "implementation_rate": 1.0,
        "deviating": 0,
    }
    # A city's figures do not include its counties'.
    assert region(figures, "320102")["published"] == 1
    assert region(figures, "320500")["published"] == 0


def test_every_region_is_listed_in_code_order(uow):
    figures = answer(uow)
    codes = [entry["region_code"] for entry in figures["by_region"]]
    assert codes == sorted(data["code"] for data in load_regions())
    assert all(entry["implementation_rate"] is None for entry in figures["by_region"])


def test_the_same_event_twice_counts_once(uow):
    event = published()
    assert stats.record_item_published(uow, event)
    assert not stats.record_item_published(uow, event)
    retirement = retired()
    assert stats.record_item_retired(uow, retirement)
    assert not stats.record_item_retired(uow, retirement)
    assert answer(uow)["published"] == 0


def test_an_older_revision_arriving_later_changes_nothing(uow):
    stats.record_item_published(uow, published(revision=3, modes=["online"]))
    assert not stats.record_item_published(uow, published(revision=2, modes=["window"]))
    assert not stats.record_item_published(uow, published(revision=3, modes=["window"]))
    assert answer(uow)["online"] == 1


def test_a_retirement_before_its_publication_arrives_wins(uow):
    # Revision 2 retires; revision 1 (the publication) is delivered after it.
    assert stats.record_item_retired(uow, retired(revision=2))
    assert not stats.record_item_published(uow, published(revision=1))
    figures = answer(uow)
    assert figures["published"] == 0
    assert figures["implemented"] == 0
    # Published again later: counted.
    assert stats.record_item_published(uow, published(revision=3))
    assert answer(uow)["published"] == 1


def test_the_same_changes_in_any_order_give_the_same_figures(uow_factory):
    events = [
        basic(revision=1),
        basic(revision=2, name="食品生产许可（新）"),
        published("i-1", revision=1),
        published("i-1", revision=2, name="食品生产许可（新）"),
        published("i-2", revision=1, region_code="320102", level="county"),
        retired("i-2", revision=2),
        published(
            "i-3", revision=1, basic_code=OTHER_BASIC, region_code="320000", level="province"
        ),
    ]
    handlers = {
        "item_id": lambda uow, event: (
            stats.record_item_published(uow, event)
            if "code" in event["payload"]
            else stats.record_item_retired(uow, event)
        ),
        "basic_code": stats.record_basic_item_published,
    }
    answers = []
    for attempt in range(4):
        shuffled = list(events)
        random.Random(attempt).shuffle(shuffled)
        uow = uow_factory(CatalogUnitOfWork, source=f"catalog{attempt}")
        for event in shuffled:
            kind = "item_id" if "item_id" in event["payload"] else "basic_code"
            handlers[kind](uow, event)
        answers.append(answer(uow))
    assert all(figures == answers[0] for figures in answers)
    figures = answers[0]
    assert (figures["published"], figures["implemented"], figures["deviating"]) == (2, 2, 0)
    # One basic item of the two is known (the other's event never came).
    assert figures["basic_items"] == 1


def test_an_item_differing_from_its_basic_item_deviates_until_it_follows(uow):
    stats.record_basic_item_published(uow, basic())
    stats.record_item_published(uow, published("i-1", name="食品生产许可证"))
    stats.record_item_published(
        uow, published("i-2", type="07", region_code="320102", level="county")
    )
    stats.record_item_published(
        uow, published("i-3", legal_basis=OTHER_LAW, region_code="320102", level="county")
    )
    stats.record_item_published(uow, published("i-4", region_code="320102", level="county"))
    figures = answer(uow)
    assert figures["deviating"] == 3
    assert figures["by_level"]["county"]["deviating"] == 2
    assert region(figures, "320100")["deviating"] == 1

    # The items follow the basic item (their new revisions); one is retired.
    stats.record_item_published(uow, published("i-1", revision=2))
    stats.record_item_published(
        uow, published("i-2", revision=2, region_code="320102", level="county")
    )
    stats.record_item_retired(uow, retired("i-3", revision=2))
    figures = answer(uow)
    assert figures["deviating"] == 0
    assert figures["published"] == 3


def test_a_change_of_the_basic_item_makes_its_items_deviate_until_they_follow(uow):
    stats.record_basic_item_published(uow, basic())
    stats.record_item_published(uow, published("i-1"))
    stats.record_item_published(uow, published("i-2", region_code="320102", level="county"))
    stats.record_basic_item_published(uow, basic(revision=2, name="食品生产许可（含保健食品）"))
    assert answer(uow)["deviating"] == 2
    # An older revision of the basic item arriving now changes nothing.
    assert not stats.record_basic_item_published(uow, basic(revision=1))
    assert answer(uow)["deviating"] == 2
    stats.record_item_published(
        uow, published("i-1", revision=2, name="食品生产许可（含保健食品）")
    )
    figures = answer(uow)
    assert figures["deviating"] == 1
    assert figures["by_level"]["county"]["deviating"] == 1
    assert figures["by_level"]["city"]["deviating"] == 0


def test_an_item_whose_basic_item_is_not_known_yet_does_not_deviate(uow):
    stats.record_item_published(uow, published(name="别的名字"))
    assert answer(uow)["deviating"] == 0
    stats.record_basic_item_published(uow, basic())
    assert answer(uow)["deviating"] == 1


def test_a_basic_item_is_implemented_once_per_scope_however_many_items(uow):
    stats.record_basic_item_published(uow, basic())
    stats.record_basic_item_published(uow, basic(OTHER_BASIC))
    for number, (code, level) in enumerate(
        [("320100", "city"), ("320100", "city"), ("320102", "county"), ("320500", "city")]
    ):
        stats.record_item_published(uow, published(f"i-{number}", region_code=code, level=level))
    figures = answer(uow)
    assert figures["implemented"] == 1
    assert figures["by_level"]["city"]["implemented"] == 1
    assert region(figures, "320100")["implemented"] == 1
    assert region(figures, "320100")["implementation_rate"] == 0.5

    # Retiring one of two in 南京市 keeps it implemented there; the second not.
    stats.record_item_retired(uow, retired("i-0"))
    assert region(answer(uow), "320100")["implemented"] == 1
    stats.record_item_retired(uow, retired("i-1"))
    figures = answer(uow)
    assert region(figures, "320100")["implemented"] == 0
    assert figures["by_level"]["city"]["implemented"] == 1  # 苏州市 still has it
    assert figures["implemented"] == 1

    # An item moving to the other basic item.
    stats.record_item_published(
        uow, published("i-3", revision=2, basic_code=OTHER_BASIC, region_code="320500")
    )
    figures = answer(uow)
    assert figures["by_level"]["city"]["implemented"] == 1
    assert figures["implemented"] == 2  # the county item still implements the first


def test_an_item_made_before_basic_items_counts_but_implements_nothing(uow):
    stats.record_item_published(uow, published(basic_code=None, type=None, revision=None))
    figures = answer(uow)
    assert (figures["published"], figures["implemented"], figures["deviating"]) == (1, 0, 0)


def test_an_old_legal_basis_of_plain_strings_compares_as_laws_without_articles():
    assert legal_basis_key(["《食品安全法》"]) == (("《食品安全法》", ""),)
    assert legal_basis_key(LAW) == (("中华人民共和国食品安全法", "第三十五条"),)


# ---------------------------------------------------------------- at scale

LEVEL_OF = {data["code"]: data["level"] for data in load_regions()}


def _facts_at_scale(count: int, basic_items: int) -> list[ItemFacts]:
    chooser = random.Random(13)
    codes = sorted(LEVEL_OF)
    facts = []
    for number in range(count):
        code = codes[number % len(codes)]
        basic_code = f"{chooser.randrange(basic_items):012d}"
        facts.append(
            ItemFacts(
                item_id=f"{number:032x}",
                revision=1,
                published=chooser.random() < 0.95,
                region_code=code,
                level=LEVEL_OF[code],
                online=chooser.random() < 0.7,
                basic_code=basic_code,
                name=f"事项{basic_code}",
                deviating=chooser.random() < 0.01,
            )
        )
    return facts


def _expected(facts: list[ItemFacts], scope) -> dict:
    chosen = [entry for entry in facts if entry.published and scope(entry)]
    online = sum(entry.online for entry in chosen)
    return {
        "published": len(chosen),
        "online": online,
        "online_rate": round(online / len(chosen), 4) if chosen else None,
        "implemented": len({entry.basic_code for entry in chosen}),
        "deviating": sum(entry.deviating for entry in chosen),
    }


def test_the_answer_at_75000_items_is_read_from_the_counters(uow):
    facts = _facts_at_scale(75_000, basic_items=1_327)
    with uow:
        uow.catalogue.add_items(facts)
        tally = Tally()
        for entry in facts:
            tally.add(entry)
        uow.catalogue.replace_counts(tally.result())
        for number in range(1_327):
            uow.catalogue.save_basic(BasicFacts(f"{number:012d}", 1, f"事项{number:012d}"))
        uow.commit()
    # A few changes on top, through the handlers.
    stats.record_item_published(
        uow,
        published(
            f"{1:032x}",
            revision=2,
            basic_code=f"{5:012d}",
            name="事项000000000005",
            type=None,
            legal_basis=[],
        ),
    )
    stats.record_item_retired(uow, retired(f"{2:032x}", revision=2))
    with uow:
        for number in (1, 2):
            facts[number] = uow.catalogue.item(facts[number].item_id)
    assert (facts[1].basic_code, facts[2].published) == (f"{5:012d}", False)

    figures = answer(uow)

    assert {key: figures[key] for key in _expected(facts, lambda e: True)} == _expected(
        facts, lambda e: True
    )
    assert figures["basic_items"] == 1_327
    for level in ("province", "city", "county"):
        assert figures["by_level"][level] == _expected(facts, lambda e, lv=level: e.level == lv)
    by_region = {}
    for entry in facts:
        by_region.setdefault(entry.region_code, []).append(entry)
    for entry in figures["by_region"]:
        expected = _expected(by_region.get(entry["region_code"], []), lambda e: True)
        assert {key: entry[key] for key in expected} == expected


def test_counts_change_only_where_the_item_counts():
    before = ItemFacts("i-1", 1, True, "320100", "city", online=True, basic_code=BASIC)
    after = ItemFacts("i-1", 2, True, "320102", "county", online=True, basic_code=BASIC)
    changes = count_changes(before, after)
    assert ALL not in changes
    assert changes[level_scope("city")] == Counts(published=-1, online=-1)
    assert changes[region_scope("320102")] == Counts(published=1, online=1)


# ---------------------------------------------------------------- from catalog's own events


def test_the_demo_catalogue_is_counted_from_the_events_it_recorded(empty_uow):
    load_demo(empty_uow)
    service = worker_factory(CatalogService, uow=empty_uow)
    handlers = {
        "item_published": service.count_item_published,
        "item_retired": service.count_item_retired,
        "basic_item_published": service.count_basic_item_published,
    }
    events = [event for event in outbox(empty_uow) if event["type"] in handlers]
    for event in events:
        handlers[event["type"]](event)
    for event in events:  # delivered again: counted once
        handlers[event["type"]](event)

    figures = service.catalog_stats()
    items = load_items()
    assert figures["published"] == len(items)
    assert figures["online"] == sum(1 for i in items if {"online", "express"} & set(i["modes"]))
    assert figures["deviating"] == 0
    assert sum(level["published"] for level in figures["by_level"].values()) == len(items)
