"""集中批 and fees as items: an approval bureau holds items taken over from
other departments; fees are listed in fen with an optional waiver rule; the
licence type and the issuer's USCC are in the guide."""

import pytest

from services.catalog.domain.exceptions import ValidationFailed
from services.catalog.domain.fees import (
    Fee,
    FeeWaiver,
    LicenceType,
    parse_fee_waiver,
    parse_fees,
    parse_licence_type,
)
from services.catalog.domain.model import Department
from services.catalog.service_layer import use_cases
from services.catalog.service_layer.use_cases import item_id_for
from services.common.errors import Forbidden, Invalid

from .conftest import AMR_ADMIN, BUREAU_ADMIN, OPERATOR, new_item, outbox

AGED_70 = {"fact": "applicant.age", "op": "ge", "value": 70}


def bureau_item(**overrides):
    data = {
        "code": "320115-JNXZSPJ-900",
        "department_code": "jn-xzsp",
        "transferred_from": "jn-amr",
        **overrides,
    }
    return new_item(**data)


# --- transferred items --------------------------------------------------------


def test_a_bureau_holds_an_item_taken_over_from_a_department(uow):
    guide = use_cases.create_item(uow, BUREAU_ADMIN, **bureau_item())
    assert guide["department_code"] == "jn-xzsp"
    assert guide["transferred_from"] == "jn-amr"
    # the bureau is the implementing body: its store, window and USCC
    assert guide["store_id"] == "store-jn-xzsp"
    assert guide["window"]["name"] == "江宁区政务服务中心综合窗口"
    assert guide["issuer_uscc"] == "113201154587911581"
    use_cases.publish_item(uow, BUREAU_ADMIN, guide["item_id"])
    found = use_cases.search_items(uow, department="jn-xzsp", q="充装")["items"]
    assert [(x["department_code"], x["transferred_from"]) for x in found] == [("jn-xzsp", "jn-amr")]


def test_the_original_department_may_not_edit_the_transferred_item(uow):
    guide = use_cases.create_item(uow, BUREAU_ADMIN, **bureau_item())
    jn_amr_admin = {**AMR_ADMIN, "department_code": "jn-amr"}
    with pytest.raises(Forbidden):
        use_cases.update_item(uow, jn_amr_admin, guide["item_id"], promised_days=2)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"transferred_from": "jn-nowhere"}, "unknown department"),
        ({"transferred_from": "jn-xzsp"}, "must be another department than the item's own"),
    ],
)
def test_the_transferring_department_is_known_and_another(uow, overrides, reason):
    with pytest.raises(Invalid) as failure:
        use_cases.create_item(uow, BUREAU_ADMIN, **bureau_item(**overrides))
    assert failure.value.fields == {"transferred_from": reason}
    assert uow.items.ids_by_code(["320115-JNXZSPJ-900"]) == {}


def test_only_an_approval_bureau_holds_transferred_items(uow):
    with pytest.raises(Invalid) as failure:
        use_cases.create_item(uow, AMR_ADMIN, **new_item(transferred_from="js-ga"))
    assert failure.value.fields == {
        "transferred_from": "only an approval bureau holds transferred items;"
        " js-amr is a department"
    }
    food = item_id_for("320000-JSSCJG-001")
    with pytest.raises(Invalid) as failure:
        use_cases.update_item(uow, OPERATOR, food, transferred_from="js-ga")
    assert list(failure.value.fields) == ["transferred_from"]
    assert use_cases.get_item(uow, food)["transferred_from"] is None


def test_a_transfer_is_recorded_and_undone_by_an_update(uow):
    sole_trader = item_id_for("320115-JNXZSPJ-001")
    assert use_cases.get_item(uow, sole_trader)["transferred_from"] == "jn-amr"
    changed = use_cases.update_item(uow, BUREAU_ADMIN, sole_trader, transferred_from="jn-zjj")
    assert changed["transferred_from"] == "jn-zjj"
    changed = use_cases.update_item(uow, BUREAU_ADMIN, sole_trader, transferred_from=None)
    assert changed["transferred_from"] is None
    assert [e["type"] for e in outbox(uow)] == ["item_published", "item_published"]


# --- fees ---------------------------------------------------------------------


def test_fees_waiver_and_licence_type_are_stored_and_shown(uow):
    guide = use_cases.create_item(
        uow,
        AMR_ADMIN,
        **new_item(
            fees=[
                {"name": "工本费", "amount_fen": 5000, "standard": "50元/件", "waivable": True},
                {"name": "检验费", "amount_fen": 0, "legal_basis": "价费字〔1992〕"},
            ],
            fee_waiver={"description": "70周岁以上老年人免收工本费", "rule": AGED_70},
            licence_type={"code": "YDRQCZ", "name": "移动式压力容器充装许可证", "valid_years": 4},
        ),
    )
    stored = use_cases.get_item(uow, guide["item_id"])
    assert stored == guide
    assert stored["fees"] == [
        {
            "name": "工本费",
            "amount_fen": 5000,
            "standard": "50元/件",
            "legal_basis": "",
            "waivable": True,
        },
        {
            "name": "检验费",
            "amount_fen": 0,
            "standard": "",
            "legal_basis": "价费字〔1992〕",
            "waivable": False,
        },
    ]
    assert stored["fee_waiver"] == {"description": "70周岁以上老年人免收工本费", "rule": AGED_70}
    assert stored["licence_type"] == {
        "code": "YDRQCZ",
        "name": "移动式压力容器充装许可证",
        "valid_years": 4,
    }


def test_a_waiver_needs_a_waivable_fee(uow):
    waiver = {"description": "老年人免收", "rule": AGED_70}
    with pytest.raises(Invalid) as failure:
        use_cases.create_item(uow, AMR_ADMIN, **new_item(fee_waiver=waiver))
    assert failure.value.fields == {"fee_waiver": "there is no waivable fee to waive"}
    # an item whose fees become free may not keep its waiver
    card = item_id_for("320100-NJRSJ-001")
    assert use_cases.get_item(uow, card)["fee_waiver"]["rule"] == AGED_70
    with pytest.raises(Invalid):
        use_cases.update_item(uow, OPERATOR, card, fees=[])
    use_cases.update_item(uow, OPERATOR, card, fees=[], fee_waiver=None)
    assert use_cases.get_item(uow, card)["fees"] == []


@pytest.mark.parametrize(
    ("value", "fields"),
    [
        ("免费", {"fees": "must be a list of fees ([] when free)"}),
        ([{"name": "工本费", "amount_fen": 12.5}], {"fees.0.amount_fen"}),
        ([{"name": "工本费", "amount_fen": True}], {"fees.0.amount_fen"}),
        ([{"name": "工本费", "amount_fen": -1}], {"fees.0.amount_fen"}),
        ([{"name": " ", "amount_fen": 1}], {"fees.0.name"}),
        ([{"name": "a", "amount_fen": 1, "waivable": "no"}], {"fees.0.waivable"}),
        ([{"name": "a", "amount_fen": 1, "yuan": 1}], {"fees.0.yuan"}),
        ([{"name": "a", "amount_fen": 1}, {"name": "a", "amount_fen": 2}], {"fees"}),
        (["工本费"], {"fees.0"}),
    ],
)
def test_bad_fees_are_named(value, fields):
    with pytest.raises(ValidationFailed) as failure:
        parse_fees("fees", value)
    assert set(failure.value.fields) == set(fields)


def test_fees_parse_to_whole_fen():
    assert parse_fees("fees", []) == []
    assert parse_fees("fees", [{"name": " 护照工本费 ", "amount_fen": 12000}]) == [
        Fee("护照工本费", 12000)
    ]


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ({"description": "x"}, "fee_waiver.rule"),
        (
            {"description": "x", "rule": {"fact": "applicant.shoe_size", "op": "ge", "value": 1}},
            "fee_waiver.rule.fact",
        ),
        (
            {"description": "x", "rule": {"fact": "applicant.age", "op": "older", "value": 1}},
            "fee_waiver.rule.op",
        ),
        ({"description": "", "rule": AGED_70}, "fee_waiver.description"),
        ({"description": "x", "rule": AGED_70, "until": "2030"}, "fee_waiver.until"),
        ("70岁以上", "fee_waiver"),
    ],
)
def test_a_bad_waiver_is_named(value, field):
    with pytest.raises(ValidationFailed) as failure:
        parse_fee_waiver("fee_waiver", value)
    assert field in failure.value.fields


def test_a_waiver_rule_may_combine_facts():
    rule = {"any": [AGED_70, {"fact": "applicant.household_region", "op": "eq", "value": "320115"}]}
    assert parse_fee_waiver("fee_waiver", {"description": "x", "rule": rule}) == FeeWaiver(
        "x", rule
    )
    assert parse_fee_waiver("fee_waiver", None) is None


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ({"code": "spjy", "name": "x", "valid_years": 5}, "licence_type.code"),
        ({"code": "S", "name": "x", "valid_years": 5}, "licence_type.code"),
        ({"code": "S" * 21, "name": "x", "valid_years": 5}, "licence_type.code"),
        ({"code": "SPJY", "name": "", "valid_years": 5}, "licence_type.name"),
        ({"code": "SPJY", "name": "x", "valid_years": 0}, "licence_type.valid_years"),
        ({"code": "SPJY", "name": "x", "valid_years": 2.5}, "licence_type.valid_years"),
        ({"code": "SPJY", "name": "x", "colour": 1}, "licence_type.colour"),
    ],
)
def test_a_bad_licence_type_is_named(value, field):
    with pytest.raises(ValidationFailed) as failure:
        parse_licence_type("licence_type", value)
    assert field in failure.value.fields


def test_a_licence_may_be_valid_without_end():
    assert parse_licence_type(
        "licence_type", {"code": "YYZZ", "name": "营业执照", "valid_years": None}
    ) == LicenceType("YYZZ", "营业执照", None)


# --- departments --------------------------------------------------------------


def test_departments_show_their_kind_and_uscc(uow):
    jiangning = {d["code"]: d for d in use_cases.list_departments(uow, region="320115")["items"]}
    assert {code: d["kind"] for code, d in jiangning.items()} == {
        "jn-xzsp": "approval_bureau",
        "jn-amr": "department",
        "jn-zjj": "department",
        "jn-kfq": "zone_committee",
    }
    assert all(d["uscc"].startswith("11320115") for d in jiangning.values())


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "ministry"}, "kind"),
        ({"uscc": "11320115458791158"}, "uscc"),
        ({"uscc": "113201154587911582"}, "uscc"),
        ({"uscc": "11320115458791158I"}, "uscc"),
    ],
)
def test_a_department_with_a_bad_kind_or_uscc_is_refused(changes, field):
    data = {
        "code": "jn-x",
        "name": "x",
        "region_code": "320115",
        "level": "county",
        "store": {"store_id": "store-jn-x", "name": "x旗舰店"},
        "window": {"name": "w", "address": "a", "phone": "p", "postcode": "211100"},
        "uscc": "113201154587911581",
        **changes,
    }
    with pytest.raises(ValidationFailed) as failure:
        Department.from_dict(data)
    assert list(failure.value.fields) == [field]
