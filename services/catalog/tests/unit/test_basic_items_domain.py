"""Basic items, the national item elements and the lock rules of 三级四同, as
plain domain rules."""

import pytest

from services.catalog.domain.basic import (
    ITEM_TYPES,
    LEVEL_DIGITS,
    BasicItem,
    LegalReference,
    derived_values,
    implementing_code,
    lock_conflicts,
    split_reference,
)
from services.catalog.domain.events import BasicItemPublished, ItemPublished
from services.catalog.domain.exceptions import ValidationFailed
from services.catalog.domain.model import Item, Material

USCC = "11320583113610980U"
FOOD_LAW = {"law": "《中华人民共和国食品安全法》", "article": "第三十五条"}


def basic(**overrides) -> BasicItem:
    data = {
        "basic_code": "000117006000",
        "name": "食品经营许可证核发",
        "type": "01",
        "legal_basis": [FOOD_LAW],
        "department_code": "js-amr",
        "serves": ["legal_person"],
    }
    data.update(overrides)
    return BasicItem.create(**data)


def item(**overrides) -> Item:
    data = {
        "code": "320583-KSXZSPJ-002",
        "basic_code": "000117006000",
        "name": "食品经营许可证核发",
        "type": "01",
        "legal_basis": [FOOD_LAW],
        "department_code": "ks-xzsp",
        "region_code": "320583",
        "level": "county",
        "modes": ["online", "express", "window"],
        "promised_days": 5,
        "statutory_days": 20,
        "materials": [{"name": "食品经营许可申请书"}],
        "serves": ["legal_person"],
    }
    data.update(overrides)
    return Item.create("item-1", **data)


# --- codes and types ------------------------------------------------------------


def test_the_implementing_code_is_uscc_level_digit_and_basic_code():
    code = implementing_code(USCC, "county", "000117006000")
    assert code == USCC + "4" + "000117006000"
    assert len(code) == 31
    assert LEVEL_DIGITS == {"province": "2", "city": "3", "county": "4"}
    with pytest.raises(ValueError):
        implementing_code(USCC, "national", "000117006000")
    with pytest.raises(ValueError):
        implementing_code(USCC, "city", "12345")


def test_item_types_are_the_national_codes():
    assert list(ITEM_TYPES) == [f"{n:02d}" for n in range(1, 11)] + ["20"]
    assert ITEM_TYPES["01"] == "行政许可" and ITEM_TYPES["20"] == "公共服务"


@pytest.mark.parametrize(
    ("line", "reference"),
    [
        ("《中华人民共和国食品安全法》第三十五条", ("《中华人民共和国食品安全法》", "第三十五条")),
        ("《食品经营许可和备案管理办法》", ("《食品经营许可和备案管理办法》", "")),
        ("南京市住房限购政策相关规定", ("南京市住房限购政策相关规定", "")),
    ],
)
def test_a_legal_reference_line_splits_into_law_and_article(line, reference):
    assert split_reference(line) == LegalReference(*reference)


# --- basic items ----------------------------------------------------------------


def test_a_new_basic_item_is_revision_1_and_announced():
    created = basic()
    assert created.revision == 1
    assert created.legal_basis == [LegalReference(**FOOD_LAW)]
    assert created.events == [
        BasicItemPublished(
            basic_code="000117006000",
            name="食品经营许可证核发",
            name_en="",
            item_type="01",
            legal_basis=(FOOD_LAW,),
            department_code="js-amr",
            serves=("legal_person",),
            description="",
            revision=1,
        )
    ]
    payload = created.events[0].payload()
    assert payload["type"] == "01" and "item_type" not in payload


def test_a_basic_item_names_every_bad_field():
    with pytest.raises(ValidationFailed) as failure:
        BasicItem.create(
            basic_code="12AB",
            name=" ",
            type="99",
            legal_basis=[{"article": "第一条"}],
            serves=["robot"],
            colour="red",
        )
    assert failure.value.fields == {
        "department_code": "is required",
        "basic_code": "must be 12 digits",
        "name": "is required",
        "type": "must be one of 01, 02, 03, 04, 05, 06, 07, 08, 09, 10, 20",
        "legal_basis.0.law": "is required",
        "serves": "unknown value 'robot'; allowed: natural_person, legal_person",
        "colour": "unknown field",
    }


def test_a_change_grows_the_revision_and_is_announced_once():
    changed = basic()
    changed.events.clear()
    assert changed.update(name="食品经营许可证核发（含仅销售预包装食品备案）")
    assert changed.revision == 2
    assert [event.revision for event in changed.events] == [2]
    # the same values again change nothing
    assert not changed.update(name="食品经营许可证核发（含仅销售预包装食品备案）", type="01")
    assert changed.revision == 2 and len(changed.events) == 1
    with pytest.raises(ValidationFailed) as failure:
        changed.update(basic_code="000117007000")
    assert failure.value.fields == {"basic_code": "unknown field"}


# --- lock rules -----------------------------------------------------------------


def test_equal_locked_values_are_fine_in_any_spelling():
    assert lock_conflicts(basic(), {}) == {}
    assert (
        lock_conflicts(
            basic(),
            {
                "name": "食品经营许可证核发",
                "type": "01",
                "legal_basis": ["《中华人民共和国食品安全法》第三十五条"],
                "basic_code": "000117006000",
                "promised_days": 3,
            },
        )
        == {}
    )


def test_each_differing_locked_field_is_named_with_the_basic_items_value():
    conflicts = lock_conflicts(
        basic(),
        {
            "name": "餐饮服务许可",
            "type": "07",
            "legal_basis": [{"law": "《餐饮服务许可管理办法》"}],
            "basic_code": "000117007000",
        },
    )
    assert conflicts == {
        "name": "locked to the basic item's: 食品经营许可证核发",
        "type": "locked to the basic item's: 01",
        "legal_basis": "locked to the basic item's: 《中华人民共和国食品安全法》第三十五条",
        "basic_code": "locked to the basic item's: 000117006000",
    }


def test_a_derived_item_takes_the_locked_values_and_defaults():
    values = derived_values(basic(name_en="Food business licence"), {"promised_days": 3})
    assert values == {
        "promised_days": 3,
        "name": "食品经营许可证核发",
        "type": "01",
        "legal_basis": [LegalReference(**FOOD_LAW)],
        "basic_code": "000117006000",
        "name_en": "Food business licence",
        "serves": ["legal_person"],
    }
    assert derived_values(basic(), {"serves": ["natural_person"]})["serves"] == ["natural_person"]


def test_an_item_follows_its_basic_item_and_announces_it_when_published():
    derived = item()
    derived.publish()
    derived.events.clear()
    changed = basic()
    changed.update(
        name="食品经营许可", legal_basis=[FOOD_LAW, {"law": "《食品经营许可和备案管理办法》"}]
    )
    assert derived.follow(changed)
    assert (derived.name, derived.revision) == ("食品经营许可", 3)
    assert [type(event) for event in derived.events] == [ItemPublished]
    assert derived.events[0].payload()["legal_basis"][1] == {
        "law": "《食品经营许可和备案管理办法》",
        "article": "",
    }
    # following again changes nothing
    assert not derived.follow(changed)
    assert derived.revision == 3
    with pytest.raises(ValueError):
        derived.follow(basic(basic_code="000117007000"))


def test_a_draft_follows_silently():
    draft = item()
    assert draft.follow(basic(type="07"))
    assert (draft.type, draft.revision, draft.events) == ("07", 2, [])


# --- elements -------------------------------------------------------------------


def test_the_elements_default_and_old_materials_stay_valid():
    created = item(modes=["online"])
    assert created.visits == 0  # no window: nothing to visit
    assert item().visits == 1
    assert (created.case_type, created.limit_unit, created.online_depth) == (
        "promised",
        "working_days",
        None,
    )
    assert created.materials == [Material("食品经营许可申请书")]
    assert created.materials[0].necessity == "required"
    assert created.materials[0].source == "applicant"
    assert created.materials[0].paper_size == "A4"
    assert created.revision == 1


def test_every_bad_element_is_named():
    with pytest.raises(ValidationFailed) as failure:
        item(
            type="30",
            case_type="someday",
            visits=6,
            online_depth=8,
            limit_unit="moons",
            limit_note="x" * 501,
            process_summary="x" * 2001,
            place="x" * 301,
            hours="x" * 201,
            consultation_phone="x" * 51,
            complaint_phone=5,
            serves=["natural_person", "natural_person"],
            legal_basis=[{"law": "法", "page": 3}],
            basic_code="0001170060",
            materials=[
                {
                    "name": "申请书",
                    "necessity": "maybe",
                    "source": "friend",
                    "copies": 100,
                    "paper_size": "x" * 21,
                    "blank_form": "",
                    "sample": 7,
                    "acceptance_standard": "x" * 501,
                }
            ],
        )
    assert set(failure.value.fields) == {
        "type",
        "case_type",
        "visits",
        "online_depth",
        "limit_unit",
        "limit_note",
        "process_summary",
        "place",
        "hours",
        "consultation_phone",
        "complaint_phone",
        "serves",
        "legal_basis.0.page",
        "basic_code",
        "materials.0.necessity",
        "materials.0.source",
        "materials.0.copies",
        "materials.0.paper_size",
        "materials.0.blank_form",
        "materials.0.sample",
        "materials.0.acceptance_standard",
    }


def test_publishing_needs_a_type_whom_it_serves_and_a_visit_without_online():
    untyped = item(type=None, serves=[], modes=["window"], visits=0)
    with pytest.raises(ValidationFailed) as failure:
        untyped.publish()
    assert set(failure.value.fields) == {"type", "serves", "visits"}
    online = item(modes=["online"], visits=0)
    online.publish()
    assert online.is_published


def test_publish_retire_and_change_each_grow_the_revision():
    changed = item()
    changed.update(promised_days=5)  # the same value: no change
    assert changed.revision == 1
    changed.update(place="昆山市前进西路1801号")
    changed.publish()
    changed.retire()
    changed.publish()
    assert changed.revision == 5
    assert [event.revision for event in changed.events] == [3, 4, 5]
