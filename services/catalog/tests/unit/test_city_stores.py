"""City flagship stores: one per city, their rating aggregating the stores of
the departments seated in the city or its counties; the store list's filters."""

from datetime import UTC, datetime, timedelta

import pytest

from services.catalog.bootstrap import load_demo
from services.catalog.demo import load_departments, load_regions
from services.catalog.domain.model import Department, Region, StoreRating
from services.catalog.domain.stores import aggregate_rating, city_store_for
from services.catalog.service_layer import stores, use_cases
from services.catalog.service_layer.unit_of_work import CatalogUnitOfWork
from services.common.errors import Invalid, NotFound
from services.common.testing import clear_outbox, outbox

from .conftest import rating_payload

CITIES = 13
NANJING = "store-city-320100"
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def uow(uow_factory):
    """The demo regions and departments with their stores, and the city stores."""
    uow = uow_factory(CatalogUnitOfWork, source="catalog")
    with uow:
        for data in load_regions():
            uow.regions.add(Region.from_dict(data))
        for data in load_departments():
            uow.departments.add(Department.from_dict(data))
        assert stores.add_city_stores(uow) == CITIES
        uow.commit()
    clear_outbox(uow)
    return uow


def rate(uow, store_id, reviews, praise_rate, average_grade, minutes=0, department="js-amr"):
    envelope = {
        "id": f"e-{store_id}-{minutes}-{reviews}",
        "occurred_at": (T0 + timedelta(minutes=minutes)).isoformat(),
        "payload": rating_payload(
            reviews=reviews,
            praise_rate=praise_rate,
            average_grade=average_grade,
            store_id=store_id,
            department_code=department,
        ),
    }
    return use_cases.record_store_rating(uow, envelope)


def nanjing_stores(uow) -> list[str]:
    """Department stores of 南京市 and its counties (江宁区)."""
    with uow:
        return [
            store.store_id for store in uow.stores.of_departments_in(["320100", "320115", "320102"])
        ]


# ---------------------------------------------------------------- the rule


def test_reviews_add_up_and_rates_are_weighted_by_reviews():
    rating = aggregate_rating(
        [StoreRating(3, 1.0, 5.0), StoreRating(1, 0.0, 2.0), StoreRating(0, None, None)]
    )
    assert rating == StoreRating(4, 0.75, 4.25)


def test_rates_are_rounded_as_ratings_rounds_them():
    rating = aggregate_rating([StoreRating(3, 0.6667, 4.33), StoreRating(4, 0.5, 3.75)])
    assert rating.reviews == 7
    assert rating.praise_rate == round((0.6667 * 3 + 0.5 * 4) / 7, 4) == 0.5714
    assert rating.average_grade == round((4.33 * 3 + 3.75 * 4) / 7, 2) == 4.0


def test_a_city_with_no_review_has_no_rates():
    assert aggregate_rating([StoreRating(), StoreRating()]) == StoreRating(0, None, None)
    assert aggregate_rating([]) == StoreRating()


def test_only_a_city_has_a_city_store():
    store = city_store_for(Region("320500", "苏州市", "city", "320000"))
    assert (store.store_id, store.name, store.kind, store.department_code) == (
        "store-city-320500",
        "苏州市旗舰店",
        "city",
        None,
    )
    with pytest.raises(ValueError):
        city_store_for(Region("320000", "江苏省", "province"))


# ---------------------------------------------------------------- opening them


def test_every_city_gets_its_store_once(uow):
    with uow:
        assert stores.add_city_stores(uow) == 0
        uow.commit()
    page = stores.list_stores(uow, kind="city", page_size=100)
    assert page["total"] == CITIES
    assert [store["store_id"] for store in page["items"]][:2] == [
        "store-city-320100",
        "store-city-320200",
    ]
    assert stores.get_store(uow, NANJING) == {
        "store_id": NANJING,
        "name": "南京市旗舰店",
        "kind": "city",
        "department_code": None,
        "region_code": "320100",
        "rating": {"reviews": 0, "praise_rate": None, "average_grade": None},
    }


def test_the_demo_load_opens_the_city_stores_idempotently(empty_uow):
    load_demo(empty_uow)
    load_demo(empty_uow)
    assert stores.list_stores(empty_uow, kind="city")["total"] == CITIES


# ---------------------------------------------------------------- aggregation


def test_a_department_store_rating_moves_its_city_store_in_the_same_transaction(uow):
    first, second = nanjing_stores(uow)[:2]
    rate(uow, first, 3, 1.0, 5.0)
    rate(uow, second, 1, 0.0, 2.0, minutes=1)

    assert stores.get_store(uow, NANJING)["rating"] == {
        "reviews": 4,
        "praise_rate": 0.75,
        "average_grade": 4.25,
    }
    city_events = [
        envelope["payload"]
        for envelope in outbox(uow)
        if envelope["type"] == "store_rating_updated" and envelope["payload"]["store_id"] == NANJING
    ]
    assert city_events[-1] == {
        "store_id": NANJING,
        "reviews": 4,
        "praise_rate": 0.75,
        "average_grade": 4.25,
    }
    assert len(city_events) == 2


def test_a_county_department_counts_for_its_city(uow):
    with uow:
        county = [s.store_id for s in uow.stores.of_departments_in(["320115"])][0]
    rate(uow, county, 2, 0.5, 3.5)
    assert stores.get_store(uow, NANJING)["rating"]["reviews"] == 2


def test_a_provincial_department_moves_no_city_store(uow):
    rate(uow, "store-js-amr", 5, 1.0, 5.0)
    types = [(e["type"], e["payload"]["store_id"]) for e in outbox(uow)]
    assert types == [("store_rating_updated", "store-js-amr")]
    page = stores.list_stores(uow, kind="city", page_size=100)
    assert all(store["rating"]["reviews"] == 0 for store in page["items"])


def test_an_unchanged_aggregate_records_no_event_for_the_city(uow):
    first = nanjing_stores(uow)[0]
    rate(uow, first, 1, 1.0, 5.0)
    clear_outbox(uow)
    # Ratings announcing the same figures again, later: nothing changes.
    rate(uow, first, 1, 1.0, 5.0, minutes=5)
    assert outbox(uow) == []


def test_the_last_review_excluded_leaves_the_city_without_rates(uow):
    first = nanjing_stores(uow)[0]
    rate(uow, first, 1, 1.0, 5.0)
    rate(uow, first, 0, None, None, minutes=1)
    assert stores.get_store(uow, NANJING)["rating"] == {
        "reviews": 0,
        "praise_rate": None,
        "average_grade": None,
    }


# ---------------------------------------------------------------- the list


def test_stores_filter_by_kind_and_region_with_its_children(uow):
    nanjing = stores.list_stores(uow, region="320100", page_size=100)
    in_nanjing = {store["store_id"] for store in nanjing["items"]}
    assert NANJING in in_nanjing
    assert set(nanjing_stores(uow)) <= in_nanjing
    assert "store-js-amr" not in in_nanjing
    assert nanjing["total"] == len(in_nanjing)

    departments = stores.list_stores(uow, kind="department", region="320100", page_size=100)
    assert {s["store_id"] for s in departments["items"]} == set(nanjing_stores(uow))
    assert all(store["kind"] == "department" for store in departments["items"])

    county = stores.list_stores(uow, region="320115", page_size=100)
    assert NANJING not in {store["store_id"] for store in county["items"]}

    everything = stores.list_stores(uow, region="320000", page_size=100)
    assert everything["total"] == len(load_departments()) + CITIES


def test_stores_come_a_page_at_a_time(uow):
    first = stores.list_stores(uow, page=1, page_size=5)
    second = stores.list_stores(uow, page=2, page_size=5)
    assert (first["page"], first["page_size"], first["total"]) == (
        1,
        5,
        len(load_departments()) + CITIES,
    )
    ids = [store["store_id"] for store in first["items"] + second["items"]]
    assert ids == sorted(ids) and len(set(ids)) == 10


def test_an_unknown_region_is_named(uow):
    with pytest.raises(Invalid) as refused:
        stores.list_stores(uow, region="999999")
    assert refused.value.fields == {"region": "unknown region"}
    with pytest.raises(NotFound):
        stores.get_store(uow, "store-city-999999")
