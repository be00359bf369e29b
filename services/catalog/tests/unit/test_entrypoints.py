"""The service's entrypoints: keyword names, schemas at the edge, bad input named."""

import pytest
from nameko.testing.services import worker_factory

from services.catalog.service import CatalogService
from services.catalog.service_layer.use_cases import item_id_for
from services.common.errors import Forbidden, Invalid
from services.common.messaging.envelope import make_envelope

from .conftest import AMR_ADMIN, new_item


@pytest.fixture
def service(uow):
    return worker_factory(CatalogService, uow=uow)


def test_search_with_the_gateways_keywords(service):
    result = service.search_items(
        q=" 食品 ", region=None, department=None, level=None, mode=None, page=1, page_size=2
    )
    assert (result["total"], result["page"], result["page_size"]) == (5, 1, 2)
    assert len(result["items"]) == 2
    assert service.search_items()["total"] == 45
    assert service.search_items(q="")["total"] == 45


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"level": "galaxy"}, "level"),
        ({"mode": "teleport"}, "mode"),
        ({"page": 0}, "page"),
        ({"page": "first"}, "page"),
        ({"page_size": 1000}, "page_size"),
        ({"page_size": 0}, "page_size"),
        ({"q": "x" * 101}, "q"),
        ({"region": ""}, "region"),
        ({"region": "999999"}, "region"),
        ({"department": 42}, "department"),
    ],
)
def test_bad_search_filters_are_invalid_naming_the_field(service, arguments, field):
    with pytest.raises(Invalid) as failure:
        service.search_items(**arguments)
    assert list(failure.value.fields) == [field]


def test_get_item_and_store(service):
    guide = service.get_item(item_id_for("320000-JSSCJG-001"))
    assert guide["window"]["postcode"] == "210019"
    assert guide["materials"][0] == {
        "name": "食品生产许可申请书",
        "copies": 1,
        "original": True,
        "note": "",
    }
    with pytest.raises(Invalid) as failure:
        service.get_item(None)
    assert list(failure.value.fields) == ["item_id"]
    assert service.get_store("store-js-amr")["rating"]["reviews"] == 0
    assert len(service.list_stores()) == 26


def test_regions_departments_and_stats(service):
    assert len(service.list_regions()) == 48
    assert {d["region_code"] for d in service.list_departments(region="320100")} == {"320100"}
    stats = service.catalog_stats()
    assert stats["published"] == 45
    assert set(stats["by_level"]) == {"province", "city", "county"}


def test_item_commands(service):
    created = service.create_item(AMR_ADMIN, new_item())
    assert created["status"] == "draft"
    changed = service.update_item(AMR_ADMIN, created["item_id"], {"fees": "免费"})
    assert changed["fees"] == "免费"
    assert service.publish_item(AMR_ADMIN, created["item_id"])["status"] == "published"
    assert service.retire_item(AMR_ADMIN, created["item_id"])["status"] == "retired"


def test_create_names_bad_fields_before_touching_the_database(service):
    with pytest.raises(Invalid) as failure:
        service.create_item(
            AMR_ADMIN,
            new_item(
                promised_days="5",
                materials=[{"copies": 1}],
                window={"name": "x"},
                colour="red",
            ),
        )
    assert set(failure.value.fields) == {
        "promised_days",
        "materials.0.name",
        "window",
        "colour",
    }
    with pytest.raises(Invalid) as failure:
        service.create_item(AMR_ADMIN, "not an object")
    assert list(failure.value.fields) == ["_schema"]


def test_update_refuses_identity_fields(service):
    with pytest.raises(Invalid) as failure:
        service.update_item(AMR_ADMIN, item_id_for("320000-JSSCJG-001"), {"department_code": "x"})
    assert list(failure.value.fields) == ["department_code"]


def test_a_malformed_actor_is_invalid_and_a_wrong_one_forbidden(service):
    with pytest.raises(Invalid) as failure:
        service.publish_item({"user_id": "u", "kind": "alien"}, item_id_for("320000-JSSCJG-001"))
    assert list(failure.value.fields) == ["actor.kind"]
    with pytest.raises(Invalid) as failure:
        service.publish_item(None, item_id_for("320000-JSSCJG-001"))
    assert list(failure.value.fields) == ["actor"]
    with pytest.raises(Forbidden):
        service.retire_item(
            {**AMR_ADMIN, "department_code": "js-ga"}, item_id_for("320000-JSSCJG-001")
        )


def test_review_handler_counts_once(service):
    envelope = make_envelope(
        "ratings",
        "review_submitted",
        {"review_id": "r", "application_id": "a", "store_id": "store-js-ga", "grade": 4},
    )
    service.on_review_submitted(envelope)
    service.on_review_submitted(envelope)
    assert service.get_store("store-js-ga")["rating"] == {
        "reviews": 1,
        "praise_rate": 1.0,
        "average_grade": 4.0,
    }


def test_review_handler_names_a_bad_payload(service):
    envelope = make_envelope("ratings", "review_submitted", {"store_id": "store-js-ga"})
    with pytest.raises(Invalid) as failure:
        service.on_review_submitted(envelope)
    assert failure.value.fields == {"payload.grade": "Missing data for required field."}
