"""The service's entrypoints: named arguments, the contract at the edge, bad input
named, errors leaving as the shared types."""

import pytest
from nameko.testing.services import worker_factory

from services.catalog.demo import load_departments, load_items
from services.catalog.service import CatalogService
from services.catalog.service_layer.use_cases import item_id_for
from services.common.errors import Conflict, Forbidden, Invalid, NotFound
from services.common.testing import envelope

from .conftest import AMR_ADMIN, new_item, rating_payload

FOOD_LICENCE = item_id_for("320000-JSSCJG-001")
ITEMS = len(load_items())
DEPARTMENTS = len(load_departments())


@pytest.fixture
def service(uow):
    return worker_factory(CatalogService, uow=uow)


def test_search_with_the_gateways_query(service):
    result = service.search_items(q=" 食品 ", page=1, page_size=2)
    assert (result["total"], result["page"], result["page_size"]) == (6, 1, 2)
    assert len(result["items"]) == 2
    assert service.search_items()["total"] == ITEMS
    # an empty or blank keyword is no keyword
    assert service.search_items(q="")["total"] == ITEMS
    assert service.search_items(q="   ")["total"] == ITEMS
    # query strings arrive as text
    assert service.search_items(page="2", page_size="20")["items"]


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"level": "galaxy"}, "level"),
        ({"mode": "teleport"}, "mode"),
        ({"page": 0}, "page"),
        ({"page": "first"}, "page"),
        ({"page": True}, "page"),
        ({"page_size": 1000}, "page_size"),
        ({"page_size": 0}, "page_size"),
        ({"q": "x" * 101}, "q"),
        ({"region": ""}, "region"),
        ({"region": None}, "region"),
        ({"region": "999999"}, "region"),
        ({"department": ""}, "department"),
        ({"department": 42}, "department"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_search_filters_are_invalid_naming_the_field(service, arguments, field):
    with pytest.raises(Invalid) as failure:
        service.search_items(**arguments)
    assert list(failure.value.fields) == [field]


@pytest.mark.parametrize("region", ["", None, "000000"])
def test_a_bad_department_filter_is_invalid_naming_it(service, region):
    with pytest.raises(Invalid) as failure:
        service.list_departments(region=region)
    assert list(failure.value.fields) == ["region"]


def test_get_item_and_store(service):
    guide = service.get_item(item_id=FOOD_LICENCE)
    assert guide["window"]["postcode"] == "210019"
    assert guide["materials"][0] == {
        "name": "食品生产许可申请书",
        "copies": 1,
        "original": True,
        "note": "",
        "necessity": "required",
        "source": "applicant",
        "paper_size": "A4",
        "blank_form": "https://zwfw.jiangsu.gov.cn/forms/320000-jsscjg-001/blank.pdf",
        "sample": "https://zwfw.jiangsu.gov.cn/forms/320000-jsscjg-001/sample.pdf",
        "acceptance_standard": "原件与复印件一致，内容完整、清晰",
    }
    for arguments in ({"item_id": None}, {}, {"item_id": ""}):
        with pytest.raises(Invalid) as failure:
            service.get_item(**arguments)
        assert list(failure.value.fields) == ["item_id"]
    with pytest.raises(NotFound):
        service.get_item(item_id="0" * 128)
    assert service.get_store(store_id="store-js-amr")["rating"]["reviews"] == 0
    with pytest.raises(NotFound):
        service.get_store(store_id="store-nowhere")
    assert service.list_stores(kind="department")["total"] == DEPARTMENTS


def test_methods_without_arguments_refuse_any(service):
    with pytest.raises(Invalid) as failure:
        service.list_regions(region="320100")
    assert list(failure.value.fields) == ["region"]


def test_regions_departments_and_stats(service):
    assert len(service.list_regions()["items"]) == 48
    departments = service.list_departments(region="320100")["items"]
    assert departments and {d["region_code"] for d in departments} == {"320100"}
    assert len(service.list_departments()["items"]) == DEPARTMENTS
    # Kept by catalog's own events (none handled here).
    stats = service.catalog_stats()
    assert len(stats["by_region"]) == 48
    assert set(stats["by_level"]) == {"province", "city", "county"}


def test_item_commands(service):
    created = service.create_item(actor=AMR_ADMIN, **new_item())
    assert created["status"] == "draft"
    fee = {"name": "工本费", "amount_fen": 1000}
    changed = service.update_item(actor=AMR_ADMIN, item_id=created["item_id"], fees=[fee])
    assert changed["fees"] == [{**fee, "standard": "", "legal_basis": "", "waivable": False}]
    published = service.publish_item(actor=AMR_ADMIN, item_id=created["item_id"])
    assert published["status"] == "published"
    retired = service.retire_item(actor=AMR_ADMIN, item_id=created["item_id"])
    assert retired["status"] == "retired"
    assert service.get_item(item_id=created["item_id"]) == retired


def test_create_names_bad_fields_before_touching_the_database(service):
    with pytest.raises(Invalid) as failure:
        service.create_item(
            actor=AMR_ADMIN,
            **new_item(
                promised_days="5",
                materials=[{"copies": 1, "original": 1}],
                window={"name": "x"},
                store_id="store-js-ga",
                colour="red",
            ),
        )
    assert set(failure.value.fields) == {
        "promised_days",
        "materials.0.name",
        "materials.0.original",
        "window",
        "store_id",
        "colour",
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"promised_days": True}, "promised_days"),
        ({"promised_days": 5.0}, "promised_days"),
        ({"statutory_days": 366}, "statutory_days"),
        ({"modes": ["online", "online"]}, "modes"),
        ({"modes": ["fax"]}, "modes.0"),
        ({"handled_by": "workflow\n"}, "handled_by"),
        ({"handled_by": "workflow-"}, "handled_by"),
        ({"handled_by": "workflow-JS GA"}, "handled_by"),
        ({"materials": [{"name": "申请书", "original": "yes"}]}, "materials.0.original"),
        ({"materials": [{"name": "申请书", "copies": 100}]}, "materials.0.copies"),
        ({"materials": [{"name": "申请书", "note": ""}]}, "materials.0.note"),
        ({"conditions": [""]}, "conditions.0"),
        ({"joint_departments": ["js-ga", "js-ga"]}, "joint_departments"),
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"department_code": "js-ga"}, "department_code"),
        ({"code": "X"}, "code"),
        ({"status": "published"}, "status"),
    ],
)
def test_update_refuses_what_its_body_schema_refuses(service, changes, field):
    with pytest.raises(Invalid) as failure:
        service.update_item(actor=AMR_ADMIN, item_id=FOOD_LICENCE, **changes)
    assert list(failure.value.fields) == [field]


def test_the_domain_still_names_what_the_schema_lets_through(service):
    with pytest.raises(Invalid) as failure:
        service.update_item(actor=AMR_ADMIN, item_id=FOOD_LICENCE, name="   ")
    assert failure.value.fields == {"name": "is required"}
    with pytest.raises(Invalid) as failure:
        service.update_item(actor=AMR_ADMIN, item_id=FOOD_LICENCE, promised_days=0)
    assert failure.value.fields == {"promised_days": "must be at least 1"}


def test_a_malformed_actor_is_invalid_and_a_wrong_one_forbidden(service):
    with pytest.raises(Invalid) as failure:
        service.publish_item(actor={"user_id": "u", "kind": "alien"}, item_id=FOOD_LICENCE)
    assert list(failure.value.fields) == ["actor.kind"]
    with pytest.raises(Invalid) as failure:
        service.publish_item(actor=None, item_id=FOOD_LICENCE)
    assert list(failure.value.fields) == ["actor"]
    with pytest.raises(Invalid) as failure:
        service.publish_item(item_id=FOOD_LICENCE)
    assert list(failure.value.fields) == ["actor"]
    with pytest.raises(Forbidden):
        service.retire_item(actor={**AMR_ADMIN, "department_code": "js-ga"}, item_id=FOOD_LICENCE)


def test_domain_errors_leave_as_the_shared_types(service):
    with pytest.raises(Conflict) as failure:
        service.publish_item(actor=AMR_ADMIN, item_id=FOOD_LICENCE)
    assert type(failure.value) is Conflict
    assert "already published" in failure.value.message
    draft = service.create_item(actor=AMR_ADMIN, **new_item(materials=[]))
    with pytest.raises(Invalid) as failure:
        service.publish_item(actor=AMR_ADMIN, item_id=draft["item_id"])
    assert type(failure.value) is Invalid
    assert failure.value.fields == {"materials": "at least one material is required"}
    assert failure.value.message == "the guide is incomplete"


def test_the_rating_handler_takes_an_event_once(service):
    event = envelope("ratings", "store_rating_changed", rating_payload(2, 0.5, 3.5, "store-js-ga"))
    service.on_store_rating_changed(event)
    service.on_store_rating_changed(
        {**event, "payload": rating_payload(1, 1.0, 5.0, "store-js-ga")}  # the same id
    )
    assert service.get_store(store_id="store-js-ga")["rating"] == {
        "reviews": 2,
        "praise_rate": 0.5,
        "average_grade": 3.5,
    }


def test_the_rating_handler_names_a_bad_payload(service):
    payload = rating_payload(store_id="store-js-ga")
    del payload["reviews"]
    with pytest.raises(Invalid) as failure:
        service.on_store_rating_changed(envelope("ratings", "store_rating_changed", payload))
    assert failure.value.fields == {"payload.reviews": "Missing data for required field."}
    with pytest.raises(Invalid) as failure:
        service.on_store_rating_changed(
            envelope("ratings", "store_rating_changed", rating_payload(1, 1.5, 5.0, "store-js-ga"))
        )
    assert list(failure.value.fields) == ["payload.praise_rate"]
    assert service.get_store(store_id="store-js-ga")["rating"]["reviews"] == 0


def test_a_rating_change_may_carry_fields_catalog_does_not_know(service):
    payload = {**rating_payload(store_id="store-js-ga"), "evaluation_rate": 0.5}
    service.on_store_rating_changed(envelope("ratings", "store_rating_changed", payload))
    assert service.get_store(store_id="store-js-ga")["rating"]["reviews"] == 1
