"""Item commands: who may act, what must exist, and the events in the outbox."""

import pytest

from services.catalog import contract
from services.catalog.service_layer import use_cases
from services.catalog.service_layer.use_cases import item_id_for
from services.common.errors import Conflict, Forbidden, Invalid, NotFound

from .conftest import AMR_ADMIN, AMR_CLERK, CITIZEN, GA_ADMIN, OPERATOR, new_item, outbox

FOOD_LICENCE = item_id_for("320000-JSSCJG-001")


def test_department_admin_creates_a_draft_without_events(uow):
    item = use_cases.create_item(uow, AMR_ADMIN, **new_item())
    assert item["item_id"] == item_id_for("320000-JSSCJG-900")
    assert item["status"] == "draft"
    # identity, store and window follow the department
    assert (item["region_code"], item["level"]) == ("320000", "province")
    assert item["store_id"] == "store-js-amr"
    assert item["window"]["name"] == "江苏省政务服务中心市场监管窗口"
    assert item["department_name"] == "江苏省市场监督管理局"
    assert outbox(uow) == []
    assert use_cases.get_item(uow, item["item_id"]) == item
    assert use_cases.search_items(uow, q="压力容器")["total"] == 0  # not published yet


@pytest.mark.parametrize("actor", [GA_ADMIN, AMR_CLERK, CITIZEN])
def test_only_the_departments_admin_or_an_operator_may_create(uow, actor):
    with pytest.raises(Forbidden):
        use_cases.create_item(uow, actor, **new_item())
    assert use_cases.create_item(uow, OPERATOR, **new_item())["status"] == "draft"


def test_referenced_department_region_and_joint_departments_must_exist(uow):
    with pytest.raises(Invalid) as failure:
        use_cases.create_item(uow, OPERATOR, **new_item(department_code="js-nowhere"))
    assert failure.value.fields == {"department_code": "unknown department"}
    with pytest.raises(Invalid) as failure:
        use_cases.create_item(
            uow,
            OPERATOR,
            **new_item(region_code="329999", joint_departments=["js-ga", "js-x", "js-y"]),
        )
    assert failure.value.fields == {
        "region_code": "unknown region",
        "joint_departments": "unknown department(s): js-x, js-y",
    }


def test_domain_rules_and_references_are_reported_together(uow):
    with pytest.raises(Invalid) as failure:
        use_cases.create_item(
            uow, AMR_ADMIN, **new_item(level="galaxy", joint_departments=["js-amr", "js-x"])
        )
    assert failure.value.fields == {
        "level": "must be one of province, city, county",
        "joint_departments": "unknown department(s): js-x",
    }


def test_an_existing_code_is_a_conflict(uow):
    with pytest.raises(Conflict) as failure:
        use_cases.create_item(uow, AMR_ADMIN, **new_item(code="320000-JSSCJG-001"))
    assert failure.value.fields == {"code": "already in use"}


def test_publish_puts_item_published_in_the_outbox(uow):
    created = use_cases.create_item(uow, AMR_ADMIN, **new_item(joint_departments=["js-ga"]))
    published = use_cases.publish_item(uow, AMR_ADMIN, created["item_id"])
    assert published["status"] == "published"
    [envelope] = outbox(uow)
    assert (envelope["type"], envelope["source"]) == ("item_published", "catalog")
    payload = contract.ItemPublished().load(envelope["payload"])
    assert payload["item_id"] == created["item_id"]
    assert payload["store_id"] == "store-js-amr"
    assert payload["joint_departments"] == ["js-ga"]
    assert payload["window"] == created["window"]
    assert payload["handled_by"] == "workflow"
    assert use_cases.search_items(uow, q="压力容器")["total"] == 1


def test_an_incomplete_guide_cannot_be_published(uow):
    created = use_cases.create_item(uow, AMR_ADMIN, **new_item(materials=[], modes=[]))
    with pytest.raises(Invalid) as failure:
        use_cases.publish_item(uow, AMR_ADMIN, created["item_id"])
    assert set(failure.value.fields) == {"materials", "modes"}
    assert outbox(uow) == []
    assert use_cases.get_item(uow, created["item_id"])["status"] == "draft"


def test_retire_and_publish_again(uow):
    retired = use_cases.retire_item(uow, AMR_ADMIN, FOOD_LICENCE)
    assert retired["status"] == "retired"
    with pytest.raises(Conflict):
        use_cases.retire_item(uow, AMR_ADMIN, FOOD_LICENCE)
    use_cases.publish_item(uow, OPERATOR, FOOD_LICENCE)
    with pytest.raises(Conflict):
        use_cases.publish_item(uow, OPERATOR, FOOD_LICENCE)
    events = outbox(uow)
    assert [e["type"] for e in events] == ["item_retired", "item_published"]
    assert contract.ItemRetired().load(events[0]["payload"]) == {
        "item_id": FOOD_LICENCE,
        "revision": 3,
    }


def test_other_departments_may_not_touch_an_item(uow):
    for command in (use_cases.publish_item, use_cases.retire_item):
        with pytest.raises(Forbidden):
            command(uow, GA_ADMIN, FOOD_LICENCE)
    with pytest.raises(Forbidden):
        use_cases.update_item(uow, CITIZEN, FOOD_LICENCE, fees="10 元")
    assert outbox(uow) == []


def test_unknown_item_is_not_found(uow):
    with pytest.raises(NotFound):
        use_cases.publish_item(uow, OPERATOR, "f" * 32)
    with pytest.raises(NotFound):
        use_cases.update_item(uow, OPERATOR, "f" * 32, fees="免费")


def test_updating_a_published_item_announces_the_new_guide(uow):
    updated = use_cases.update_item(
        uow, AMR_ADMIN, FOOD_LICENCE, promised_days=7, joint_departments=["js-ga"]
    )
    assert (updated["promised_days"], updated["joint_departments"]) == (7, ["js-ga"])
    [envelope] = outbox(uow)
    assert envelope["type"] == "item_published"
    assert envelope["payload"]["promised_days"] == 7
    assert use_cases.get_item(uow, FOOD_LICENCE)["promised_days"] == 7


def test_update_refuses_identity_fields_unknown_departments_and_gaps(uow):
    with pytest.raises(Invalid) as failure:
        use_cases.update_item(uow, AMR_ADMIN, FOOD_LICENCE, code="X", level="city")
    assert failure.value.fields == {
        "code": "not an editable field",
        "level": "not an editable field",
    }
    with pytest.raises(Invalid) as failure:
        use_cases.update_item(uow, AMR_ADMIN, FOOD_LICENCE, joint_departments=["js-x"])
    assert failure.value.fields == {"joint_departments": "unknown department(s): js-x"}
    with pytest.raises(Invalid) as failure:
        use_cases.update_item(uow, AMR_ADMIN, FOOD_LICENCE, materials=[])
    assert failure.value.fields == {"materials": "at least one material is required"}
    assert outbox(uow) == []
    assert use_cases.get_item(uow, FOOD_LICENCE)["materials"]
