"""Item rules: creation, publication, retirement and edits, with their events."""

import pytest

from services.catalog.domain.events import ItemPublished, ItemRetired
from services.catalog.domain.exceptions import InvalidTransition, ValidationFailed
from services.catalog.domain.fees import Fee
from services.catalog.domain.model import DRAFT, PUBLISHED, RETIRED, Item, Material, Window

WINDOW = Window("昆山市政务服务中心综合受理窗口", "昆山市前进西路1801号", "0512-57556012", "215300")


def make_item(**overrides) -> Item:
    data = {
        "code": "320583-KSXZSPJ-001",
        "name": "个体工商户设立登记",
        "department_code": "ks-xzsp",
        "region_code": "320583",
        "level": "county",
        "modes": ["online", "express"],
        "promised_days": 1,
        "statutory_days": 15,
        "materials": [{"name": "申请书", "copies": 1, "original": True, "note": ""}],
        "store_id": "store-ks-xzsp",
        "window": WINDOW,
        "type": "01",
        "serves": ["natural_person"],
    }
    data.update(overrides)
    return Item.create("item-1", **data)


def test_new_item_is_a_draft_without_events():
    item = make_item()
    assert item.status == DRAFT
    assert item.events == []
    assert item.materials == [Material("申请书", 1, True, "")]


def test_create_names_every_bad_field():
    with pytest.raises(ValidationFailed) as failure:
        Item.create(
            "x",
            code="",
            name="ok",
            department_code="d",
            level="planet",
            modes=["fax"],
            promised_days=-1,
            materials=[{"copies": -1}],
            colour="red",
        )
    assert failure.value.fields == {
        "region_code": "is required",
        "code": "is required",
        "level": "must be one of province, city, county",
        "modes": "unknown mode 'fax'; allowed: online, express, window",
        "promised_days": "must be between 0 and 365",
        "materials.0.name": "is required",
        "materials.0.copies": "must be a whole number from 0 to 99",
        "colour": "unknown field",
    }


def test_create_accepts_window_as_a_mapping():
    item = make_item(window={"name": "n", "address": "a", "phone": "p", "postcode": "215300"})
    assert item.window == Window("n", "a", "p", "215300")


def test_publish_records_item_published_with_the_contract_fields():
    item = make_item(joint_departments=["sz-amr", "sz-ga"])
    item.publish()
    assert item.status == PUBLISHED
    assert item.events == [
        ItemPublished(
            item_id="item-1",
            code="320583-KSXZSPJ-001",
            name="个体工商户设立登记",
            department_code="ks-xzsp",
            region_code="320583",
            level="county",
            store_id="store-ks-xzsp",
            promised_days=1,
            modes=("online", "express"),
            joint_departments=("sz-amr", "sz-ga"),
            window=WINDOW,
            handled_by="workflow",
            item_type="01",
            serves=("natural_person",),
            visits=0,
            statutory_days=15,
            revision=2,
        )
    ]
    payload = item.events[0].payload()
    assert payload["type"] == "01" and "item_type" not in payload
    assert ItemPublished.type == "item_published"
    assert payload["modes"] == ["online", "express"]
    assert payload["window"] == {
        "name": WINDOW.name,
        "address": WINDOW.address,
        "phone": WINDOW.phone,
        "postcode": WINDOW.postcode,
    }


def test_publish_refuses_an_incomplete_guide_naming_every_gap():
    item = Item.create(
        "x",
        code="c",
        name="n",
        department_code="d",
        region_code="320000",
        level="province",
        promised_days=0,
    )
    with pytest.raises(ValidationFailed) as failure:
        item.publish()
    assert set(failure.value.fields) == {
        "modes",
        "promised_days",
        "statutory_days",
        "materials",
        "type",
        "serves",
    }
    assert item.status == DRAFT
    assert item.events == []


def test_promised_days_may_not_exceed_statutory_days():
    item = make_item(promised_days=20, statutory_days=15)
    with pytest.raises(ValidationFailed) as failure:
        item.publish()
    assert failure.value.fields == {"promised_days": "must not exceed statutory_days"}


def test_promised_days_equal_to_statutory_days_is_allowed():
    item = make_item(promised_days=15, statutory_days=15)
    item.publish()
    assert item.is_published


def test_publishing_twice_is_an_invalid_transition():
    item = make_item()
    item.publish()
    with pytest.raises(InvalidTransition):
        item.publish()
    assert len(item.events) == 1


def test_retire_only_a_published_item():
    item = make_item()
    with pytest.raises(InvalidTransition):
        item.retire()
    item.publish()
    item.retire()
    assert item.status == RETIRED
    assert item.events[-1] == ItemRetired(item_id="item-1", revision=3)
    assert ItemRetired.type == "item_retired"
    with pytest.raises(InvalidTransition):
        item.retire()


def test_a_retired_item_can_be_published_again():
    item = make_item()
    item.publish()
    item.retire()
    item.publish()
    assert item.status == PUBLISHED
    assert [type(event) for event in item.events] == [ItemPublished, ItemRetired, ItemPublished]


def test_update_changes_guide_fields_of_a_draft_without_events():
    item = make_item()
    item.update(
        fees=[{"name": "工本费", "amount_fen": 1000}],
        conditions=["有固定经营场所"],
        modes=["window", "online"],
    )
    assert item.fees == [Fee("工本费", 1000)]
    assert item.conditions == ["有固定经营场所"]
    assert item.modes == ["online", "window"]
    assert item.events == []


def test_update_may_leave_a_draft_incomplete():
    item = make_item()
    item.update(materials=[])
    assert item.materials == []


def test_update_is_all_or_nothing_and_names_every_bad_field():
    item = make_item()
    with pytest.raises(ValidationFailed) as failure:
        item.update(
            fees=[{"name": "工本费", "amount_fen": 2000}],
            code="other",
            statutory_days="ten",
            handled_by="somewhere",
            joint_departments=["ks-xzsp"],
        )
    assert failure.value.fields == {
        "code": "not an editable field",
        "statutory_days": "must be a whole number of working days",
        "handled_by": 'must be "workflow" or "workflow-<department code>"',
    }
    assert item.fees == []


@pytest.mark.parametrize(
    "handled_by", ["workflow-", "workflow-KS", "workflow-ks xzsp", "workflow-" + "k" * 25]
)
def test_an_own_workflow_instance_is_named_by_a_department_code(handled_by):
    item = make_item()
    with pytest.raises(ValidationFailed) as failure:
        item.update(handled_by=handled_by)
    assert list(failure.value.fields) == ["handled_by"]
    item.update(handled_by="workflow-" + "k" * 24)
    assert item.handled_by == "workflow-" + "k" * 24


def test_update_refuses_the_own_department_as_joint_reviewer():
    item = make_item()
    with pytest.raises(ValidationFailed) as failure:
        item.update(joint_departments=["ks-xzsp"])
    assert failure.value.fields == {
        "joint_departments": "must not include the item's own department"
    }


def test_update_of_a_published_item_keeps_it_complete():
    item = make_item()
    item.publish()
    with pytest.raises(ValidationFailed) as failure:
        item.update(modes=[], promised_days=30)
    assert set(failure.value.fields) == {"modes", "promised_days"}
    assert item.modes == ["online", "express"]
    assert len(item.events) == 1


def test_update_of_a_published_item_announces_the_new_guide():
    item = make_item()
    item.publish()
    item.update(promised_days=2, handled_by="workflow-ks-xzsp")
    assert len(item.events) == 2
    assert item.events[-1].promised_days == 2
    assert item.events[-1].handled_by == "workflow-ks-xzsp"


def test_validation_failed_reads_well():
    failure = ValidationFailed({"grade": "must be an integer from 1 to 5"})
    assert failure.message == "invalid input"
    assert "grade: must be an integer from 1 to 5" in str(failure)
