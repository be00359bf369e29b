"""Online rate by level and region, and the three-level consistency report."""

from services.catalog.demo import load_items, load_regions
from services.catalog.domain.model import Item, Region
from services.catalog.domain.stats import catalogue_stats

REGIONS = [
    Region("320000", "江苏省", "province"),
    Region("320100", "南京市", "city", "320000"),
    Region("320115", "江宁区", "county", "320100"),
    Region("320500", "苏州市", "city", "320000"),
    Region("320583", "昆山市", "county", "320500"),
]

_counter = iter(range(10_000))


def item(name, region_code, level, modes, status="published") -> Item:
    new = Item.create(
        f"item-{next(_counter)}",
        code=f"{region_code}-X-{name}",
        name=name,
        department_code="d",
        region_code=region_code,
        level=level,
        modes=modes,
        promised_days=1,
        statutory_days=5,
        materials=[{"name": "申请书"}],
    )
    if status != "draft":
        new.publish()
    if status == "retired":
        new.retire()
    return new


def test_online_rate_counts_online_or_express_among_published_items():
    items = [
        item("排污许可证核发", "320000", "province", ["online"]),
        item("医师执业注册", "320000", "province", ["window"]),
        item("食品经营许可证核发", "320100", "city", ["express", "window"]),
        item("婚姻登记", "320100", "city", ["window"]),
        item("个体工商户设立登记", "320583", "county", ["online"]),
        item("草稿事项", "320583", "county", ["online"], status="draft"),
        item("已退役事项", "320583", "county", ["window"], status="retired"),
    ]
    stats = catalogue_stats(items, REGIONS)
    assert (stats["published"], stats["online"], stats["online_rate"]) == (5, 3, 0.6)
    assert stats["by_level"] == {
        "province": {"published": 2, "online": 1, "online_rate": 0.5},
        "city": {"published": 2, "online": 1, "online_rate": 0.5},
        "county": {"published": 1, "online": 1, "online_rate": 1.0},
    }
    assert stats["by_region"] == [
        {
            "region_code": "320000",
            "name": "江苏省",
            "level": "province",
            "published": 2,
            "online": 1,
            "online_rate": 0.5,
        },
        {
            "region_code": "320100",
            "name": "南京市",
            "level": "city",
            "published": 2,
            "online": 1,
            "online_rate": 0.5,
        },
        {
            "region_code": "320583",
            "name": "昆山市",
            "level": "county",
            "published": 1,
            "online": 1,
            "online_rate": 1.0,
        },
    ]


def test_empty_catalogue_has_no_rates():
    stats = catalogue_stats([], REGIONS)
    assert stats["published"] == 0 and stats["online_rate"] is None
    assert stats["by_level"]["city"] == {"published": 0, "online": 0, "online_rate": None}
    assert stats["by_region"] == []
    assert stats["consistency"] == {
        "cities": 2,
        "province_items": 0,
        "consistent_items": 0,
        "items": [],
    }


def test_consistency_matches_province_names_in_cities_and_their_counties():
    items = [
        item("排污许可证核发", "320000", "province", ["online"]),
        item("食品经营许可证核发", "320000", "province", ["online"]),
        item("排污许可证核发", "320100", "city", ["online"]),
        # a county item counts for its city
        item("排污许可证核发", "320583", "county", ["online"]),
        item("食品经营许可证核发", "320115", "county", ["online"]),
        # a retired item does not count
        item("食品经营许可证核发", "320500", "city", ["online"], status="retired"),
    ]
    consistency = catalogue_stats(items, REGIONS)["consistency"]
    assert consistency == {
        "cities": 2,
        "province_items": 2,
        "consistent_items": 1,
        "items": [
            {
                "name": "排污许可证核发",
                "cities_with_item": ["320100", "320500"],
                "cities_missing": [],
                "coverage": 1.0,
            },
            {
                "name": "食品经营许可证核发",
                "cities_with_item": ["320100"],
                "cities_missing": ["320500"],
                "coverage": 0.5,
            },
        ],
    }


def test_stats_over_the_demo_catalogue():
    regions = [Region.from_dict(region) for region in load_regions()]
    items = []
    for index, data in enumerate(load_items()):
        demo_item = Item.create(f"demo-{index}", **data)
        demo_item.publish()
        items.append(demo_item)
    stats = catalogue_stats(items, regions)
    assert stats["published"] == len(items)
    assert sum(level["published"] for level in stats["by_level"].values()) == len(items)
    assert sum(region["published"] for region in stats["by_region"]) == len(items)
    assert stats["consistency"]["cities"] == 13
    entries = {entry["name"]: entry for entry in stats["consistency"]["items"]}
    assert "320300" in entries["医师执业注册"]["cities_with_item"]
