"""三级四同 through the use cases: basic items published and changed, items
derived from them with locked fields, a change reaching every derived item once,
and drafts hidden from everyone but their department and the operator."""

import pytest

from services.catalog import contract
from services.catalog.adapters import orm
from services.catalog.service_layer import basic_items, use_cases
from services.catalog.service_layer.use_cases import item_id_for
from services.common.errors import Conflict, Forbidden, Invalid, NotFound
from services.common.testing import assert_documented, delivered, staff

from .conftest import AMR_ADMIN, CITIZEN, GA_ADMIN, NEW_BASIC, OPERATOR, clear_outbox, outbox

SZ_AMR_ADMIN = staff("u-sz-amr", "sz-amr", "dept_admin")
SZ_AMR_CLERK = staff("u-sz-amr-clerk", "sz-amr", "window_clerk")
KS_ADMIN = staff("u-ks", "ks-xzsp", "dept_admin")
SZ_AMR_USCC = "11320500112708812C"
KS_USCC = "11320583113610980U"
CODE = NEW_BASIC["basic_code"]
LOCAL = {
    "modes": ["online", "express", "window"],
    "promised_days": 3,
    "statutory_days": 20,
    "materials": [{"name": "充装许可申请书", "necessity": "required", "source": "applicant"}],
    "case_type": "promised",
    "place": "苏州市姑苏区三香路998号",
    "hours": "周一至周五 9:00—17:00",
    "consultation_phone": "0512-12345",
    "complaint_phone": "12345",
}


def implement(uow, actor, department_code, **overrides):
    return use_cases.create_item(
        uow, actor, basic_code=CODE, department_code=department_code, **{**LOCAL, **overrides}
    )


# --- basic items ------------------------------------------------------------------


def test_the_operator_and_a_provincial_admin_publish_basic_items(uow):
    created = basic_items.create_basic_item(
        uow,
        AMR_ADMIN,
        basic_code="000117098000",
        name="计量器具型式批准",
        type="01",
        legal_basis=[{"law": "《中华人民共和国计量法》", "article": "第十三条"}],
        department_code="js-amr",
    )
    assert (created["revision"], created["type_name"]) == (1, "行政许可")
    assert_documented(contract.BasicItem, created)
    [event] = outbox(uow)
    assert event["type"] == "basic_item_published"
    assert_documented(contract.BasicItemPublished, event["payload"])
    assert basic_items.get_basic_item(uow, "000117098000") == created
    with pytest.raises(Conflict) as failure:
        basic_items.create_basic_item(uow, OPERATOR, **{**NEW_BASIC, "basic_code": "000117098000"})
    assert failure.value.fields == {"basic_code": "already in use"}


@pytest.mark.parametrize(
    ("actor", "department_code", "error", "fields"),
    [
        (GA_ADMIN, "js-amr", Forbidden, None),
        (CITIZEN, "js-amr", Forbidden, None),
        (
            SZ_AMR_ADMIN,
            "sz-amr",
            Invalid,
            {"department_code": "basic items are published by province-level departments"},
        ),
        (OPERATOR, "js-nowhere", Invalid, {"department_code": "unknown department"}),
    ],
)
def test_only_a_provincial_department_or_the_operator_publishes(
    uow, actor, department_code, error, fields
):
    with pytest.raises(error) as failure:
        basic_items.create_basic_item(
            uow,
            actor,
            **{**NEW_BASIC, "basic_code": "000117097000", "department_code": department_code},
        )
    if fields is not None:
        assert failure.value.fields == fields
    assert outbox(uow) == []


def test_basic_items_are_listed_a_page_at_a_time_with_filters(uow):
    page = basic_items.list_basic_items(uow, department="js-amr", page_size=3)
    assert page["page_size"] == 3 and len(page["items"]) == 3
    assert page["total"] > 3
    codes = [item["basic_code"] for item in page["items"]]
    assert codes == sorted(codes)
    found = basic_items.list_basic_items(uow, q="食品经营")["items"]
    assert [item["name"] for item in found] == ["食品经营许可证核发"]
    assert basic_items.list_basic_items(uow, type="05")["total"] == 1
    with pytest.raises(NotFound):
        basic_items.get_basic_item(uow, "999999999999")


# --- derivation -------------------------------------------------------------------


def test_a_city_and_a_county_implement_a_basic_item(uow):
    city = implement(uow, SZ_AMR_ADMIN, "sz-amr")
    county = implement(uow, KS_ADMIN, "ks-xzsp", code="320583-KSXZSPJ-900")
    for guide in (city, county):
        assert (guide["name"], guide["type"], guide["basic_code"]) == (
            NEW_BASIC["name"],
            "01",
            CODE,
        )
        assert guide["legal_basis"] == NEW_BASIC["legal_basis"]
        assert guide["name_en"] == NEW_BASIC["name_en"]
        assert guide["serves"] == ["legal_person"]
        assert guide["revision"] == 1
        assert_documented(contract.ItemGuide, guide)
    # code defaults to the implementing code: USCC, level digit, basic code
    assert city["implementing_code"] == city["code"] == SZ_AMR_USCC + "3" + CODE
    assert county["implementing_code"] == KS_USCC + "4" + CODE
    assert county["code"] == "320583-KSXZSPJ-900"
    published = use_cases.publish_item(uow, SZ_AMR_ADMIN, city["item_id"])
    assert published["revision"] == 2
    [event] = [e for e in outbox(uow) if e["type"] == "item_published"]
    assert_documented(contract.ItemPublished, event["payload"])
    assert event["payload"]["implementing_code"] == city["implementing_code"]


def test_a_locked_field_given_differently_is_409_naming_it(uow):
    with pytest.raises(Conflict) as failure:
        implement(uow, SZ_AMR_ADMIN, "sz-amr", name="压力容器充装许可", type="07")
    assert failure.value.fields == {
        "name": "locked to the basic item's: 移动式压力容器充装许可",
        "type": "locked to the basic item's: 01",
    }
    # the same values are fine
    same = implement(
        uow,
        SZ_AMR_ADMIN,
        "sz-amr",
        name=NEW_BASIC["name"],
        legal_basis=NEW_BASIC["legal_basis"],
        type="01",
    )
    assert same["status"] == "draft"


def test_a_department_implements_a_basic_item_once(uow):
    implement(uow, SZ_AMR_ADMIN, "sz-amr")
    with pytest.raises(Conflict) as failure:
        implement(uow, SZ_AMR_ADMIN, "sz-amr", code="320500-SZSCJG-900")
    assert list(failure.value.fields) == ["basic_code"]


def test_an_unknown_basic_item_or_a_department_without_uscc_is_invalid(uow):
    with pytest.raises(Invalid) as failure:
        use_cases.create_item(
            uow, SZ_AMR_ADMIN, basic_code="999999999999", department_code="sz-amr", **LOCAL
        )
    assert failure.value.fields == {"basic_code": "unknown basic item"}
    with uow:
        uow.session.execute(
            orm.departments.update().where(orm.departments.c.code == "sz-amr").values(uscc=None)
        )
        uow.commit()
    with pytest.raises(Invalid) as failure:
        implement(uow, SZ_AMR_ADMIN, "sz-amr")
    assert list(failure.value.fields) == ["department_code"]


def test_changing_a_locked_field_of_a_derived_item_is_409(uow):
    guide = implement(uow, SZ_AMR_ADMIN, "sz-amr")
    for change, field in (
        ({"name": "别的名称"}, "name"),
        ({"type": "20"}, "type"),
        ({"legal_basis": [{"law": "《别的法》"}]}, "legal_basis"),
        ({"basic_code": "000117001000"}, "basic_code"),
    ):
        with pytest.raises(Conflict) as failure:
            use_cases.update_item(uow, SZ_AMR_ADMIN, guide["item_id"], **change)
        assert list(failure.value.fields) == [field]
    same = use_cases.update_item(
        uow, SZ_AMR_ADMIN, guide["item_id"], name=NEW_BASIC["name"], promised_days=2
    )
    assert (same["promised_days"], same["revision"]) == (2, 2)


# --- propagation ------------------------------------------------------------------


def test_a_change_of_the_basic_item_reaches_every_derived_item_once(uow):
    city = implement(uow, SZ_AMR_ADMIN, "sz-amr")
    county = implement(uow, KS_ADMIN, "ks-xzsp")
    use_cases.publish_item(uow, SZ_AMR_ADMIN, city["item_id"])
    clear_outbox(uow)

    changed = basic_items.update_basic_item(
        uow,
        OPERATOR,
        CODE,
        name="移动式压力容器充装许可（含气瓶）",
        legal_basis=[*NEW_BASIC["legal_basis"], {"law": "《特种设备安全监察条例》"}],
    )
    assert changed["revision"] == 2
    [event] = outbox(uow)
    assert event["type"] == "basic_item_published"
    clear_outbox(uow)

    handled = delivered(event, contract.BasicItemPublished)
    assert basic_items.follow_basic_item(uow, handled, batch_size=1) == 2
    for item_id, revision in ((city["item_id"], 3), (county["item_id"], 2)):
        guide = use_cases.get_item(uow, item_id)
        assert guide["name"] == "移动式压力容器充装许可（含气瓶）"
        assert guide["legal_basis"][-1] == {"law": "《特种设备安全监察条例》", "article": ""}
        assert guide["revision"] == revision
    # only the published one is announced
    announced = outbox(uow)
    assert [(e["type"], e["payload"]["item_id"]) for e in announced] == [
        ("item_published", city["item_id"])
    ]
    assert announced[0]["payload"]["revision"] == 3

    # the same event again changes nothing
    assert basic_items.follow_basic_item(uow, handled) is None
    assert len(outbox(uow)) == 1


def test_an_unchanged_basic_item_announces_nothing(uow):
    same = basic_items.update_basic_item(uow, OPERATOR, CODE, name=NEW_BASIC["name"])
    assert same["revision"] == 1
    assert outbox(uow) == []
    with pytest.raises(Forbidden):
        basic_items.update_basic_item(uow, GA_ADMIN, CODE, name="x")
    with pytest.raises(NotFound):
        basic_items.update_basic_item(uow, OPERATOR, "999999999999", name="x")


# --- drafts -----------------------------------------------------------------------


def test_a_draft_is_seen_only_by_its_departments_staff_and_the_operator(uow):
    draft = implement(uow, SZ_AMR_ADMIN, "sz-amr")["item_id"]
    for actor in (None, CITIZEN, AMR_ADMIN, KS_ADMIN):
        with pytest.raises(NotFound) as failure:
            use_cases.get_item(uow, draft, actor=actor)
        assert failure.value.fields == {"item_id": "unknown item"}
    for actor in (SZ_AMR_ADMIN, SZ_AMR_CLERK, OPERATOR):
        assert use_cases.get_item(uow, draft, actor=actor)["status"] == "draft"
    # another service asking (no actor) sees it
    assert use_cases.get_item(uow, draft)["status"] == "draft"
    # a published item is public, a retired one hidden again
    food = item_id_for("320000-JSSCJG-001")
    assert use_cases.get_item(uow, food, actor=None)["status"] == "published"
    use_cases.retire_item(uow, OPERATOR, food)
    with pytest.raises(NotFound):
        use_cases.get_item(uow, food, actor=None)
