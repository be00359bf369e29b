"""The identity contract holds on both sides: every RPC method, driven with the
arguments the gateway sends, answers exactly what its response schema documents,
and every event the domain records is exactly its documented payload."""

from datetime import date, timedelta

import pytest
from nameko.testing.services import worker_factory

from services.common.entrypoints import contract_entrypoints
from services.common.testing import assert_documented, operator
from services.common.tokens import TokenVerifier
from services.identity import contract
from services.identity.domain.uscc import uscc_check_char
from services.identity.service import IdentityService
from services.identity.tests.unit.conftest import (
    ID_NUMBER,
    OTHER_ID_NUMBER,
    PASSWORD,
    USCC,
    outbox,
)

EXPIRES_ON = (date.today() + timedelta(days=30)).isoformat()


@pytest.fixture
def service(uow, crypto):
    return worker_factory(IdentityService, uow=uow, crypto=crypto)


def calls(service) -> list[tuple[str, dict]]:
    """Each RPC method with arguments as the gateway sends them, in an order in
    which each succeeds."""
    phone = "13900000001"
    service.register(phone=phone, password=PASSWORD, name="张三")
    pair = service.login(phone=phone, password=PASSWORD)
    claims = TokenVerifier(service.jwks()).verify(pair["access_token"])
    user_id = claims["sub"]
    ops = service.ensure_operator(phone="13800000000", password="Operator2026", name="运营")
    citizen = {"user_id": user_id, "kind": "citizen", "roles": [], "level": 2, "name": "张三"}
    member_id = service.register(phone="13900000003", password=PASSWORD, name="王五")["user_id"]
    service.verify_real_name(user_id=member_id, name="王五", id_number=OTHER_ID_NUMBER)
    member = {"user_id": member_id, "kind": "citizen", "roles": [], "level": 2, "name": "王五"}
    agent_id = service.create_staff(
        actor=operator(ops["user_id"]),
        phone="13700000009",
        password="Staff2026",
        name="赵代办",
        department_code="js-zwfw",
        roles=["agent"],
    )["user_id"]
    own = service.grant_personal_mandate(
        actor=member, agent_user_id=agent_id, expires_on=EXPIRES_ON
    )["mandate_id"]
    other = "91320102MA1XY20K6" + uscc_check_char("91320102MA1XY20K6")
    service.register_enterprise(
        actor=member, name="南京另一公司", uscc=other, legal_representative="王五"
    )
    granted = service.grant_enterprise_mandate(
        actor=member, uscc=other, agent_user_id=agent_id, expires_on=EXPIRES_ON
    )["mandate_id"]
    enterprise_mandate = {"uscc": USCC, "agent_user_id": agent_id, "expires_on": EXPIRES_ON}
    return [
        ("register", {"phone": "13900000002", "password": PASSWORD, "name": "李四"}),
        ("login", {"phone": phone, "password": PASSWORD}),
        ("jwks", {}),
        ("get_profile", {"user_id": user_id}),
        ("person_facts", {"user_id": user_id}),
        ("verify_real_name", {"user_id": user_id, "name": "张三", "id_number": ID_NUMBER}),
        ("get_profile", {"user_id": user_id}),
        ("person_facts", {"user_id": user_id}),
        (
            "register_enterprise",
            {
                "actor": citizen,
                "name": "南京某某科技有限公司",
                "uscc": USCC,
                "legal_representative": "张三",
            },
        ),
        ("get_enterprise", {"uscc": USCC}),
        ("add_enterprise_member", {"actor": citizen, "uscc": USCC, "user_id": member_id}),
        ("list_enterprise_members", {"actor": member, "uscc": USCC, "page": 1}),
        ("grant_enterprise_mandate", {"actor": citizen, **enterprise_mandate}),
        ("list_enterprise_mandates", {"actor": member, "uscc": USCC}),
        (
            "authorise_principal",
            {
                "actor_id": agent_id,
                "principal": {"kind": "enterprise", "uscc": USCC},
                "item_id": "item-food-licence",
            },
        ),
        (
            "authorise_principal",
            {
                "actor_id": member_id,
                "principal": {"kind": "enterprise", "uscc": USCC},
                "item_id": "item-food-licence",
                "on": EXPIRES_ON,
            },
        ),
        (
            "grant_personal_mandate",
            {
                "actor": member,
                "agent_user_id": user_id,
                "expires_on": EXPIRES_ON,
                "item_ids": ["a"],
            },
        ),
        ("list_my_mandates", {"actor": member}),
        ("list_my_mandates", {"actor": {**citizen, "user_id": agent_id}, "role": "agent"}),
        ("revoke_my_mandate", {"actor": member, "mandate_id": own}),
        (
            "revoke_enterprise_mandate",
            {"actor": member, "uscc": other, "mandate_id": granted},
        ),
        ("remove_enterprise_member", {"actor": citizen, "uscc": USCC, "user_id": member_id}),
        (
            "create_staff",
            {
                "actor": operator(ops["user_id"]),
                "phone": "13700000001",
                "password": "Staff2026",
                "name": "李审批",
                "department_code": "js-amr",
                "roles": ["approver"],
            },
        ),
        ("ensure_operator", {"phone": "13800000000", "password": "Operator2026", "name": "运营"}),
        ("refresh", {"refresh_token": pair["refresh_token"]}),
        ("logout", {"session_id": claims["sid"]}),
    ]


def test_every_answer_is_exactly_its_documented_schema(service):
    entrypoints = dict(contract_entrypoints(IdentityService))
    called = set()
    for method, arguments in calls(service):
        answer = getattr(service, method)(**arguments)
        response = entrypoints[method].response
        if response is None:
            assert answer is None, method
        else:
            assert_documented(response, answer)
        called.add(method)
    assert called == set(entrypoints), "every RPC method is exercised here"


def test_every_recorded_event_is_exactly_its_documented_payload(service, uow):
    for method, arguments in calls(service):
        getattr(service, method)(**arguments)
    seen = set()
    for envelope in outbox(uow):
        assert_documented(contract.EVENTS[envelope["type"]], envelope["payload"])
        seen.add(envelope["type"])
    assert seen == set(contract.EVENTS)


def test_a_contract_error_names_the_field():
    from services.common.errors import Invalid
    from services.common.schemas import load

    with pytest.raises(Invalid) as refused:
        load(contract.Register, {"phone": "12", "password": "x", "name": ""})
    assert set(refused.value.fields) == {"phone", "password", "name"}
