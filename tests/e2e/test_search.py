"""Item search through the gateway on the running cluster: answered from the
gateway's own index of the demo catalogue, ranked, filtered by region with its
children, and following catalog's events."""

from __future__ import annotations

from tests.e2e.test_journey import OPERATOR, Client, eventually

WORDS = ("营业执照", "登记", "企业", "核发", "证")


def search(client: Client, **params) -> dict:
    response = client.get("/api/v1/items", params={"page_size": 100, **params})
    assert response.status_code == 200, response.text
    return response.json()


def every_item(client: Client, **params) -> list[dict]:
    items, page = [], 1
    while True:
        answer = search(client, page=page, **params)
        items.extend(answer["items"])
        if page * answer["page_size"] >= answer["total"]:
            return items
        page += 1


def indexed_items(client: Client) -> int | None:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith("tongban_search_index_items "):
            return int(float(line.split()[1]))
    return None


def test_the_gateway_indexes_every_published_item(cluster):
    client = Client(cluster.gateway_url)
    total = search(client)["total"]
    assert total > 0
    eventually(lambda: indexed_items(client) == total, timeout=30, what="the index loaded")


def test_a_name_match_ranks_before_a_description_match(cluster):
    client = Client(cluster.gateway_url)
    ranked = 0
    for word in WORDS:
        found = search(client, q=word)["items"]
        in_name = [word in item["name"] for item in found]
        # Every name match comes before every item matched by anything else.
        assert in_name == sorted(in_name, reverse=True), (word, [i["name"] for i in found])
        others = [item for item in found if word not in item["name"]]
        for item in others:
            guide = client.get(f"/api/v1/items/{item['item_id']}").json()
            if word in guide["description"]:
                ranked += 1
        names = [item for item in found if word in item["name"]]
        # Within equal names, code order.
        for earlier, later in zip(names, names[1:], strict=False):
            if earlier["name"] == later["name"]:
                assert earlier["code"] < later["code"]
    assert ranked, "the demo catalogue has a word found only in a description"


def test_a_partial_word_matches_a_longer_name(cluster):
    client = Client(cluster.gateway_url)
    longest = max(every_item(client), key=lambda item: len(item["name"]))
    part = longest["name"][1:4]
    found = search(client, q=part)["items"]
    assert longest["item_id"] in {item["item_id"] for item in found}


def test_a_city_includes_its_counties(cluster):
    client = Client(cluster.gateway_url)
    regions = client.get("/api/v1/regions").json()["items"]
    parent = {region["code"]: region["parent_code"] for region in regions}
    everything = every_item(client)
    county_items = [item for item in everything if item["level"] == "county"]
    assert county_items, "the demo catalogue has county items"
    for city in {parent[item["region_code"]] for item in county_items}:
        inside = {city} | {code for code, up in parent.items() if up == city}
        expected = sorted(item["code"] for item in everything if item["region_code"] in inside)
        found = [item["code"] for item in every_item(client, region=city)]
        assert found == expected, city
        assert any(parent[item["region_code"]] == city for item in county_items)
    # The province includes everything.
    province = next(code for code, up in parent.items() if up is None)
    assert search(client, region=province)["total"] == len(everything)


def test_filters_apply_together(cluster):
    client = Client(cluster.gateway_url)
    everything = every_item(client)
    for params, holds in (
        ({"level": "province"}, lambda item: item["level"] == "province"),
        ({"mode": "express"}, lambda item: "express" in item["modes"]),
        (
            {"department": everything[0]["department_code"], "level": everything[0]["level"]},
            lambda item: (
                item["department_code"] == everything[0]["department_code"]
                and item["level"] == everything[0]["level"]
            ),
        ),
    ):
        found = [item["code"] for item in every_item(client, **params)]
        assert found == sorted(item["code"] for item in everything if holds(item)), params


def test_a_retired_and_published_again_item_follows_the_events(cluster):
    client = Client(cluster.gateway_url)
    operator = Client(cluster.gateway_url)
    operator.login(**OPERATOR)
    # An item whose name no other item shares, found by its whole name.
    everything = every_item(client)
    item = next(
        item
        for item in everything
        if sum(other["name"] == item["name"] for other in everything) == 1
    )

    def listed() -> bool:
        found = search(client, q=item["name"])["items"]
        return bool(found) and found[0]["item_id"] == item["item_id"]

    assert listed()
    response = operator.post(f"/api/v1/items/{item['item_id']}/retire", json={})
    assert response.status_code == 200, response.text
    eventually(lambda: not listed(), timeout=15, what="the retired item to leave the results")
    response = operator.post(f"/api/v1/items/{item['item_id']}/publish", json={})
    assert response.status_code == 200, response.text
    eventually(listed, timeout=15, what="the published item to be found again")
    assert search(client)["total"] == len(everything)
