"""City flagship stores and the catalogue statistics, end to end through the
gateway: the 13 city stores listed by kind and region, a city store's rating
following the reviews of two of its departments, and the statistics counting
an item retired and published again by its department's admin."""

import pytest

from tests.e2e.approvals import citizen, end, item, operator, staff, submit
from tests.e2e.test_evaluation import reviewed
from tests.e2e.test_journey import Client, eventually

pytestmark = pytest.mark.e2e

NANJING = "320100"
NANJING_STORE = "store-city-320100"
FOOD = "320100-NJSCJG-001"  # nj-amr: accept, site check, decide
PLANNING = "320100-NJGHZYJ-001"  # nj-ghzy: accept, plan check, decide
REGISTRATION = "320100-NJSCJG-002"  # nj-amr, retired and published again


@pytest.fixture(scope="module")
def the_operator(cluster):
    return operator(cluster.gateway_url)


@pytest.fixture(scope="module")
def anyone(cluster):
    return Client(cluster.gateway_url)


def stores(client: Client, **params) -> dict:
    response = client.get("/api/v1/stores", params={"page_size": 100, **params})
    assert response.status_code == 200, response.text
    return response.json()


def store(client: Client, store_id: str) -> dict:
    response = client.get(f"/api/v1/stores/{store_id}")
    assert response.status_code == 200, response.text
    return response.json()


def aggregate(department_stores: list[dict]) -> dict:
    """The city store's rating as the rule makes it from its department stores."""
    rated = [s["rating"] for s in department_stores if s["rating"]["reviews"]]
    reviews = sum(r["reviews"] for r in rated)
    if not reviews:
        return {"reviews": 0, "praise_rate": None, "average_grade": None}
    return {
        "reviews": reviews,
        "praise_rate": round(sum(r["praise_rate"] * r["reviews"] for r in rated) / reviews, 4),
        "average_grade": round(sum(r["average_grade"] * r["reviews"] for r in rated) / reviews, 2),
    }


def test_each_city_has_a_store_listed_by_kind_and_region(anyone):
    cities = stores(anyone, kind="city")
    assert cities["total"] == 13
    assert all(s["kind"] == "city" and s["department_code"] is None for s in cities["items"])
    names = {s["store_id"]: s["name"] for s in cities["items"]}
    assert names[NANJING_STORE] == "南京市旗舰店"
    assert names["store-city-320500"] == "苏州市旗舰店"

    in_nanjing = stores(anyone, region=NANJING)
    found = {s["store_id"]: s for s in in_nanjing["items"]}
    assert NANJING_STORE in found
    assert "store-nj-amr" in found and "store-jn-xzsp" in found  # 江宁区 is in 南京市
    assert "store-js-amr" not in found and "store-city-320500" not in found
    assert stores(anyone, kind="city", region=NANJING)["items"] == [found[NANJING_STORE]]

    first = stores(anyone, page_size=5)
    assert (first["page"], first["page_size"], len(first["items"])) == (1, 5, 5)
    assert first["total"] == stores(anyone)["total"]

    response = anyone.get("/api/v1/stores", params={"kind": "county"})
    assert response.status_code in (400, 422), response.text
    assert "kind" in response.text
    response = anyone.get("/api/v1/stores", params={"region": "999999"})
    assert response.status_code in (400, 422), response.text
    assert "region" in response.text


def test_a_city_store_aggregates_the_reviews_of_its_departments(cluster, the_operator, anyone):
    before = store(anyone, NANJING_STORE)["rating"]["reviews"]
    applicant, _ = citizen(cluster.gateway_url, "李华", region="320102", fresh_token=True)
    for code, department, grade in ((FOOD, "nj-amr", 5), (PLANNING, "nj-ghzy", 2)):
        worker = staff(the_operator, department, "window_clerk", "approver", name="窗口")
        application_id = submit(applicant, item(applicant, code))
        end(worker, application_id, "completed")
        reviewed(applicant, application_id, grade, comment="城市旗舰店")

    def followed():
        city = store(anyone, NANJING_STORE)
        departments = stores(anyone, kind="department", region=NANJING)["items"]
        expected = aggregate(departments)
        if city["rating"] == expected and expected["reviews"] >= before + 2:
            return city
        return None

    city = eventually(followed, timeout=60, what="the city store to follow its departments")
    assert city["rating"]["reviews"] >= before + 2
    assert city["kind"] == "city" and city["region_code"] == NANJING


def counts(client: Client) -> tuple[int, int]:
    """Published items overall and in 南京市 itself, as the statistics say."""
    response = client.get("/api/v1/stats/catalog")
    assert response.status_code == 200, response.text
    body = response.json()
    nanjing = next(entry for entry in body["by_region"] if entry["region_code"] == NANJING)
    return body["published"], nanjing["published"]


def test_the_statistics_follow_an_item_retired_and_published_again(the_operator, anyone):
    stats = anyone.get("/api/v1/stats/catalog").json()
    assert stats["deviating"] == 0
    assert set(stats["by_level"]) == {"province", "city", "county"}
    assert [entry["region_code"] for entry in stats["by_region"]] == sorted(
        entry["region_code"] for entry in stats["by_region"]
    )
    published, in_nanjing = eventually(
        lambda: counts(anyone) if counts(anyone)[0] > 0 else None,
        what="the statistics to count the demo catalogue",
    )

    admin = staff(the_operator, "nj-amr", "dept_admin", name="市场监管管理员")
    item_id = item(anyone, REGISTRATION)["item_id"]
    response = admin.post(f"/api/v1/items/{item_id}/retire", json={})
    assert response.status_code == 200, response.text
    eventually(
        lambda: counts(anyone) == (published - 1, in_nanjing - 1),
        timeout=30,
        what="the statistics to drop the retired item",
    )

    response = admin.post(f"/api/v1/items/{item_id}/publish", json={})
    assert response.status_code == 200, response.text
    eventually(
        lambda: counts(anyone) == (published, in_nanjing),
        timeout=30,
        what="the statistics to count the item published again",
    )
