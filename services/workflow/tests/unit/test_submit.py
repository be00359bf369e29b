from datetime import date, datetime

import pytest

from services.workflow.domain.events import ApplicationSubmitted
from services.workflow.domain.exceptions import Forbidden, ValidationFailed
from services.workflow.domain.model import Decision, ItemSnapshot, State

from .conftest import (
    ADDRESS,
    APPLICANT,
    CLERK,
    JOINT_A,
    JOINT_B,
    NOW,
    OPERATOR,
    OWN,
    make_item,
    submit,
)


def failed_fields(**overrides) -> dict:
    with pytest.raises(ValidationFailed) as caught:
        submit(**overrides)
    return caught.value.fields


def test_submit_opens_a_case_with_a_due_date_in_working_days():
    app = submit("express", joint=(JOINT_A,))
    assert app.state == State.SUBMITTED
    assert len(app.application_id) == 32
    int(app.application_id, 16)
    assert app.due_date == date(2026, 10, 12)
    assert app.submitted_at == NOW
    assert app.applicant_id == APPLICANT["user_id"]
    assert app.item_name == "食品经营许可"
    assert app.reviews == {OWN: Decision.PENDING, JOINT_A: Decision.PENDING}
    assert app.delivery == {"mode": "express", "address": ADDRESS}
    assert [(e.state, e.action, e.actor_id, e.actor_role) for e in app.timeline] == [
        ("submitted", "submit", "u-applicant", "applicant")
    ]


def test_submit_records_application_submitted_with_the_contract_payload():
    app = submit("express")
    (event,) = app.events
    assert isinstance(event, ApplicationSubmitted)
    assert event.type == "application_submitted"
    assert event.application_id == app.application_id
    assert event.item_id == "item-1"
    assert event.department_code == OWN
    assert event.region_code == "320102"
    assert event.store_id == "store-1"
    assert event.delivery == {"mode": "express", "address": ADDRESS}
    assert event.window["name"] == "玄武区政务服务中心"
    assert event.due_date == date(2026, 10, 12)
    assert event.submitted_at == NOW


def test_due_date_counts_from_the_nanjing_calendar_day():
    # 17:00 UTC on 29 Sep is already 30 Sep in Nanjing.
    late_evening = datetime.fromisoformat("2026-09-29T17:00:00+00:00")
    assert submit(now=late_evening).due_date == date(2026, 10, 13)


def test_joint_departments_are_deduplicated_and_keep_order():
    app = submit(joint=(JOINT_B, OWN, JOINT_A, JOINT_B))
    assert list(app.reviews) == [OWN, JOINT_B, JOINT_A]


def test_submission_keeps_copies_not_the_callers_objects():
    form = {"shop": {"name": "面馆"}}
    materials = [{"name": "营业执照"}]
    app = submit(form=form, materials=materials)
    form["shop"]["name"] = "changed"
    materials[0]["name"] = "changed"
    assert app.form == {"shop": {"name": "面馆"}}
    assert app.materials == [{"name": "营业执照"}]


def test_address_sent_with_online_delivery_is_dropped():
    app = submit(delivery={"mode": "online", "address": {"name": "x"}})
    assert app.delivery == {"mode": "online", "address": None}


def test_postcode_is_optional():
    address = {k: v for k, v in ADDRESS.items() if k != "postcode"}
    app = submit(delivery={"mode": "express", "address": address})
    assert app.delivery["address"]["postcode"] is None


@pytest.mark.parametrize("actor", [CLERK, OPERATOR, {"kind": "citizen"}])
def test_only_citizens_submit(actor):
    with pytest.raises(Forbidden):
        submit(actor=actor)


def test_express_without_address_names_delivery_address():
    assert failed_fields(delivery={"mode": "express"}) == {
        "delivery.address": "is required for express delivery"
    }


@pytest.mark.parametrize("missing", ["name", "phone", "province", "city", "district", "street"])
def test_express_address_needs_every_part(missing):
    address = dict(ADDRESS, **{missing: "  "})
    fields = failed_fields(delivery={"mode": "express", "address": address})
    assert fields == {f"delivery.address.{missing}": "is required"}


@pytest.mark.parametrize("phone", ["1380013800", "138001380000", "1380013800a", "138-0013-800"])
def test_express_phone_must_be_11_digits(phone):
    address = dict(ADDRESS, phone=phone)
    fields = failed_fields(delivery={"mode": "express", "address": address})
    assert fields == {"delivery.address.phone": "must be 11 digits"}


def test_bad_postcode_is_named():
    address = dict(ADDRESS, postcode="2100")
    fields = failed_fields(delivery={"mode": "express", "address": address})
    assert fields == {"delivery.address.postcode": "must be 6 digits"}


@pytest.mark.parametrize("mode", ["drone", None, ["express"], {"mode": "express"}])
def test_mode_must_be_known(mode):
    assert failed_fields(delivery={"mode": mode}) == {
        "delivery.mode": "must be one of online, express, window"
    }


def test_mode_must_be_offered_by_the_item():
    fields = failed_fields(item=make_item(modes=("window",)), delivery={"mode": "online"})
    assert fields == {"delivery.mode": "this item offers window"}


@pytest.mark.parametrize("delivery", [None, "express", ["express"]])
def test_delivery_must_be_an_object(delivery):
    assert set(failed_fields(delivery=delivery)) == {"delivery"}


def test_every_bad_field_is_named_at_once():
    with pytest.raises(ValidationFailed) as caught:
        submit(
            form=["not", "a", "dict"],
            materials=[{"name": "身份证"}, {"copies": 1}, "营业执照"],
            delivery={"mode": "express", "address": dict(ADDRESS, phone="123", city="")},
            on_behalf_of={"kind": "enterprise", "uscc": "bad"},
        )
    assert set(caught.value.fields) == {
        "form",
        "materials.1.name",
        "materials.2",
        "delivery.address.phone",
        "delivery.address.city",
        "on_behalf_of.uscc",
    }
    message = str(caught.value)
    assert "delivery.address.phone: must be 11 digits" in message
    assert "materials.1.name: is required" in message


def test_materials_must_be_a_list():
    assert failed_fields(materials={"name": "x"}) == {"materials": "must be a list"}


def test_no_materials_is_allowed_at_submission():
    # Express cases mail the paper materials; the list may start empty.
    assert submit(materials=[]).materials == []


def test_agent_applies_for_an_enterprise():
    app = submit(
        on_behalf_of={"kind": "enterprise", "uscc": "91320102MA1XYR1234", "name": "某公司"}
    )
    assert app.on_behalf_of == {
        "kind": "enterprise",
        "uscc": "91320102MA1XYR1234",
        "name": "某公司",
    }
    assert app.applicant_id == APPLICANT["user_id"]


def test_agent_applies_for_a_person():
    principal = {"kind": "person", "user_id": "u-principal", "name": "李四", "x": 1}
    app = submit(on_behalf_of=principal, mandate_id="m-1")
    assert app.on_behalf_of == {"kind": "person", "user_id": "u-principal", "name": "李四"}
    assert (app.mandate_id, app.holder_id) == ("m-1", "u-principal")


@pytest.mark.parametrize(
    ("principal", "fields"),
    [
        ("91320102MA1XYR1234", {"on_behalf_of"}),
        ({"uscc": "91320102MA1XYR1234"}, {"on_behalf_of.kind"}),
        ({"kind": "enterprise", "uscc": "91320102MA1XYZ123I"}, {"on_behalf_of.uscc"}),
        ({"kind": "person", "name": "李四", "id_number": "123"}, {"on_behalf_of.user_id"}),
        ({"kind": "person", "user_id": "u-principal", "name": " "}, {"on_behalf_of.name"}),
    ],
)
def test_bad_principal_is_named(principal, fields):
    assert set(failed_fields(on_behalf_of=principal)) == fields


def test_item_snapshot_from_catalog_item():
    item = ItemSnapshot.from_catalog(
        {
            "item_id": "i1",
            "name": "建设工程规划许可",
            "department_code": OWN,
            "region_code": "320102",
            "store_id": "s1",
            "modes": ["online", "window"],
            "promised_days": "10",
            "joint_departments": [JOINT_A],
            "window": {"name": "中心"},
            "status": "published",
        }
    )
    assert item.item_name == "建设工程规划许可"
    assert item.modes == ("online", "window")
    assert item.promised_days == 10
    assert item.joint_departments == (JOINT_A,)


def test_naive_instants_are_refused():
    with pytest.raises(ValueError):
        submit(now=datetime(2026, 9, 29, 10, 0))
