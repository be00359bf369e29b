"""A client that sends its application again under the same Idempotency-Key
(a retry after a lost answer) gets the case it opened, not a second one."""

import uuid

import pytest

from tests.e2e.test_journey import ADDRESS, find_express_item, register_citizen

pytestmark = pytest.mark.e2e


def test_a_retried_submit_opens_one_case(cluster):
    citizen, _ = register_citizen(cluster.gateway_url, "周六")
    item = find_express_item(citizen)
    body = {
        "item_id": item["item_id"],
        "materials": [{"name": material["name"]} for material in item["materials"]],
        "delivery": {"mode": "express", "address": ADDRESS},
    }
    key = uuid.uuid4().hex
    first = citizen.post("/api/v1/applications", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == 201, first.text
    again = citizen.post("/api/v1/applications", json=body, headers={"Idempotency-Key": key})
    assert again.status_code == 201, again.text
    assert again.json()["application_id"] == first.json()["application_id"]

    other = citizen.post("/api/v1/applications", json=body)
    assert other.status_code == 201, other.text
    assert other.json()["application_id"] != first.json()["application_id"]

    mine = citizen.get("/api/v1/applications").json()
    ids = [case["application_id"] for case in mine["items"]]
    assert sorted(ids) == sorted({first.json()["application_id"], other.json()["application_id"]})


def test_a_bad_key_is_a_named_422(cluster):
    citizen, _ = register_citizen(cluster.gateway_url, "吴七")
    item = find_express_item(citizen)
    response = citizen.post(
        "/api/v1/applications",
        json={"item_id": item["item_id"], "delivery": {"mode": "online"}},
        headers={"Idempotency-Key": "x" * 200},
    )
    assert response.status_code == 422, response.text
    assert "Idempotency-Key" in response.json()["error"]["fields"]
