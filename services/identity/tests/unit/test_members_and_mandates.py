"""Enterprise members and mandates to agents (代办制), and the check workflow asks:
may this account act for this principal on this item today?"""

from datetime import UTC, date, datetime, timedelta

import pytest
from prometheus_client import REGISTRY

from services.common.errors import Conflict, Forbidden, Invalid, NotFound
from services.identity.contract import EVENTS
from services.identity.domain.uscc import uscc_check_char
from services.identity.service_layer import mandates, use_cases
from services.identity.tests.unit.conftest import (
    ID_NUMBER,
    OTHER_ID_NUMBER,
    PASSWORD,
    USCC,
    actor_of,
    outbox,
)

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
TODAY = date(2026, 12, 1)
NEXT_MONTH = TODAY + timedelta(days=30)
ITEM = "item-food-licence"
ENTERPRISE = {"kind": "enterprise", "uscc": USCC}


def verified_citizen(uow, crypto, phone, name, id_number):
    user = use_cases.register(uow, crypto, phone, PASSWORD, name)
    return use_cases.verify_real_name(uow, crypto, user.user_id, name, id_number)


@pytest.fixture
def owner(uow, crypto):
    user = verified_citizen(uow, crypto, "13900000010", "张三", ID_NUMBER)
    use_cases.register_enterprise(uow, actor_of(user), "南京某某科技有限公司", USCC, "张三")
    return actor_of(user)


@pytest.fixture
def member(uow, crypto):
    return actor_of(verified_citizen(uow, crypto, "13900000011", "王五", OTHER_ID_NUMBER))


@pytest.fixture
def agent(uow, crypto, operator):
    user = use_cases.create_staff(
        uow, crypto, operator, "13700000020", "Staff2026", "赵代办", "js-zwfw", ["agent"]
    )
    return actor_of(user)


@pytest.fixture
def stranger(uow, crypto):
    return actor_of(use_cases.register(uow, crypto, "13900000012", PASSWORD, "路人"))


def counted(name, **labels):
    return REGISTRY.get_sample_value(f"tongban_identity_{name}_total", labels) or 0.0


def grant(uow, owner, agent, **overrides):
    arguments = {"agent_user_id": agent["user_id"], "expires_on": NEXT_MONTH, "now": NOW}
    arguments.update(overrides)
    return mandates.grant_enterprise_mandate(uow, owner, USCC, **arguments)["mandate_id"]


def authorise(uow, actor, principal=ENTERPRISE, item_id=ITEM, on=TODAY):
    return mandates.authorise_principal(uow, actor["user_id"], principal, item_id, on)


# --- members ----------------------------------------------------------------------


def test_the_owner_adds_a_member_who_then_acts_for_the_enterprise(uow, owner, member):
    mandates.add_member(uow, owner, USCC, member["user_id"], now=NOW)
    envelope = outbox(uow)[-1]
    assert envelope["type"] == "enterprise_member_added"
    assert envelope["payload"] == {"uscc": USCC, "user_id": member["user_id"]}
    EVENTS["enterprise_member_added"]().load(envelope["payload"])

    answer = authorise(uow, member)
    assert answer == {
        "basis": "member",
        "mandate_id": None,
        "principal": {"kind": "enterprise", "uscc": USCC, "name": "南京某某科技有限公司"},
    }
    assert authorise(uow, owner)["basis"] == "owner"
    page = mandates.list_members(uow, member, USCC)
    assert [(m.user_id, m.name) for m in page["items"]] == [(member["user_id"], "王五")]
    assert page["total"] == 1


def test_only_the_owner_manages_members(uow, owner, member, stranger):
    with pytest.raises(Forbidden):
        mandates.add_member(uow, member, USCC, stranger["user_id"])
    mandates.add_member(uow, owner, USCC, member["user_id"])
    with pytest.raises(Forbidden):
        mandates.remove_member(uow, member, USCC, member["user_id"])
    with pytest.raises(Forbidden):
        mandates.list_members(uow, stranger, USCC)


@pytest.mark.parametrize("who", ["stranger", "owner", "unknown"])
def test_a_member_must_be_another_verified_citizen(uow, owner, stranger, who):
    user_id = {"stranger": stranger["user_id"], "owner": owner["user_id"], "unknown": "u-x"}[who]
    with pytest.raises(Invalid) as refused:
        mandates.add_member(uow, owner, USCC, user_id)
    assert set(refused.value.fields) == {"user_id"}


def test_adding_a_member_twice_is_a_conflict_and_removing_ends_the_right(uow, owner, member):
    mandates.add_member(uow, owner, USCC, member["user_id"])
    with pytest.raises(Conflict):
        mandates.add_member(uow, owner, USCC, member["user_id"])
    removed_before = counted("enterprise_members", action="removed")
    mandates.remove_member(uow, owner, USCC, member["user_id"])
    assert outbox(uow)[-1]["type"] == "enterprise_member_removed"
    assert counted("enterprise_members", action="removed") == removed_before + 1
    with pytest.raises(Forbidden):
        authorise(uow, member)
    with pytest.raises(NotFound):
        mandates.remove_member(uow, owner, USCC, member["user_id"])


def test_members_of_an_unknown_enterprise_are_not_found(uow, owner):
    with pytest.raises(NotFound):
        mandates.list_members(
            uow, owner, "91320102MA1XY20K6" + uscc_check_char("91320102MA1XY20K6")
        )
    with pytest.raises(Invalid) as refused:
        mandates.list_members(uow, owner, "not-a-code")
    assert set(refused.value.fields) == {"uscc"}


# --- enterprise mandates -------------------------------------------------------------


def test_a_mandate_lets_the_agent_act_for_its_items_until_it_expires(uow, owner, agent):
    before = counted("mandates", action="granted", principal_kind="enterprise")
    mandate_id = grant(uow, owner, agent, item_ids=[ITEM, "item-other"])
    assert counted("mandates", action="granted", principal_kind="enterprise") == before + 1
    envelope = outbox(uow)[-1]
    assert envelope["type"] == "mandate_granted"
    assert envelope["payload"] == {
        "mandate_id": mandate_id,
        "principal": {"kind": "enterprise", "uscc": USCC, "name": "南京某某科技有限公司"},
        "agent_user_id": agent["user_id"],
        "item_ids": [ITEM, "item-other"],
        "expires_on": NEXT_MONTH.isoformat(),
    }

    assert authorise(uow, agent) == {
        "basis": "mandate",
        "mandate_id": mandate_id,
        "principal": {"kind": "enterprise", "uscc": USCC, "name": "南京某某科技有限公司"},
    }
    assert authorise(uow, agent, on=NEXT_MONTH)["mandate_id"] == mandate_id
    with pytest.raises(Forbidden):
        authorise(uow, agent, on=NEXT_MONTH + timedelta(days=1))
    with pytest.raises(Forbidden):
        authorise(uow, agent, item_id="item-not-listed")


def test_revoking_stops_the_agent_at_once_and_is_listed(uow, owner, agent, member):
    mandate_id = grant(uow, owner, agent)
    mandates.revoke_enterprise_mandate(uow, owner, USCC, mandate_id, now=NOW)
    assert outbox(uow)[-1]["type"] == "mandate_revoked"
    with pytest.raises(Forbidden) as refused:
        authorise(uow, agent)
    assert "mandate" in refused.value.message
    # Revoking again changes nothing and records nothing.
    events = len(outbox(uow))
    mandates.revoke_enterprise_mandate(uow, owner, USCC, mandate_id)
    assert len(outbox(uow)) == events

    mandates.add_member(uow, owner, USCC, member["user_id"])
    listed = mandates.list_enterprise_mandates(uow, member, USCC, now=NOW)
    assert [(m["mandate_id"], m["status"]) for m in listed["items"]] == [(mandate_id, "revoked")]


def test_an_expired_mandate_is_listed_as_expired(uow, owner, agent):
    grant(uow, owner, agent, expires_on=TODAY + timedelta(days=1))
    later = NOW + timedelta(days=3)
    [shown] = mandates.list_enterprise_mandates(uow, owner, USCC, now=later)["items"]
    assert shown["status"] == "expired"


def test_only_the_owner_grants_and_revokes(uow, owner, agent, member):
    mandates.add_member(uow, owner, USCC, member["user_id"])
    with pytest.raises(Forbidden):
        grant(uow, member, agent)
    mandate_id = grant(uow, owner, agent)
    with pytest.raises(Forbidden):
        mandates.revoke_enterprise_mandate(uow, member, USCC, mandate_id)
    with pytest.raises(NotFound):
        mandates.revoke_enterprise_mandate(uow, owner, USCC, "no-such-mandate")


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"expires_on": TODAY}, {"expires_on"}),
        ({"expires_on": TODAY + timedelta(days=400)}, {"expires_on"}),
        ({"agent_user_id": "u-nobody"}, {"agent_user_id"}),
        ({"item_ids": ["bad id!"]}, {"item_ids.0"}),
        ({"item_ids": ["x"] * 51}, {"item_ids"}),
    ],
)
def test_a_bad_mandate_is_refused_naming_the_field(uow, owner, agent, overrides, fields):
    with pytest.raises(Invalid) as refused:
        grant(uow, owner, agent, **overrides)
    assert set(refused.value.fields) == fields


def test_the_agent_must_be_an_agent_staff_member_or_a_verified_citizen(
    uow, crypto, operator, owner, stranger
):
    clerk = use_cases.create_staff(
        uow, crypto, operator, "13700000021", "Staff2026", "窗口", "js-amr", ["window_clerk"]
    )
    for agent_id in (clerk.user_id, stranger["user_id"], owner["user_id"]):
        with pytest.raises(Invalid) as refused:
            grant(uow, owner, {"user_id": agent_id})
        assert set(refused.value.fields) == {"agent_user_id"}


def test_an_unknown_principal_is_refused_like_a_missing_mandate(uow, agent):
    with pytest.raises(Forbidden):
        authorise(uow, agent, {"kind": "enterprise", "uscc": USCC})
    with pytest.raises(Forbidden):
        authorise(uow, agent, {"kind": "person", "user_id": "u-nobody"})


# --- a person's mandates -----------------------------------------------------------


def test_a_citizen_mandates_another_citizen_and_both_see_it(uow, member, owner, agent):
    principal = {"kind": "person", "user_id": member["user_id"]}
    assert authorise(uow, member, principal)["basis"] == "owner"
    with pytest.raises(Forbidden):
        authorise(uow, owner, principal)

    mandate_id = mandates.grant_personal_mandate(
        uow, member, owner["user_id"], NEXT_MONTH, now=NOW
    )["mandate_id"]
    answer = authorise(uow, owner, principal)
    assert answer == {
        "basis": "mandate",
        "mandate_id": mandate_id,
        "principal": {"kind": "person", "user_id": member["user_id"], "name": "王五"},
    }
    granted = mandates.list_my_mandates(uow, member, now=NOW)
    received = mandates.list_my_mandates(uow, owner, role="agent", now=NOW)
    assert [m["mandate_id"] for m in granted["items"]] == [mandate_id]
    assert [m["principal"]["user_id"] for m in received["items"]] == [member["user_id"]]
    assert mandates.list_my_mandates(uow, agent, role="agent")["total"] == 0

    with pytest.raises(NotFound):  # not the owner's to revoke
        mandates.revoke_my_mandate(uow, owner, mandate_id)
    mandates.revoke_my_mandate(uow, member, mandate_id, now=NOW)
    with pytest.raises(Forbidden):
        authorise(uow, owner, principal)


def test_staff_grant_no_personal_mandate(uow, agent, member):
    with pytest.raises(Forbidden):
        mandates.grant_personal_mandate(uow, agent, member["user_id"], NEXT_MONTH)
