"""The identity contract holds on both sides: every RPC method, driven with the
arguments the gateway sends, answers exactly what its response schema documents,
and every event the domain records is exactly its documented payload."""

import base64
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from nameko.testing.services import worker_factory

from services.common.entrypoints import contract_entrypoints
from services.common.errors import Unauthorized
from services.common.testing import assert_documented, operator
from services.common.testing import envelope as sent_event
from services.common.tokens import TokenVerifier
from services.identity import contract
from services.identity.adapters.oidc_context import OidcContext
from services.identity.domain.uscc import uscc_check_char
from services.identity.service import IdentityService
from services.identity.service_layer import signing_keys
from services.identity.tests.unit.conftest import (
    ID_NUMBER,
    OTHER_ID_NUMBER,
    PASSWORD,
    USCC,
    outbox,
)

EXPIRES_ON = (date.today() + timedelta(days=30)).isoformat()


class DeliveredBackchannel:
    def deliver(self, uri, logout_token):
        return 200


@pytest.fixture
def service(uow, crypto):
    context = OidcContext(backchannel=DeliveredBackchannel())
    return worker_factory(IdentityService, uow=uow, crypto=crypto, oidc_context=context)


OIDC_CLIENT = {
    "name": "苏州市住房公积金管理中心",
    "department_code": "sz-gjj",
    "redirect_uris": ["http://127.0.0.1:8600/callback"],
    "post_logout_redirect_uris": ["http://127.0.0.1:8600/"],
    "backchannel_logout_uri": "http://127.0.0.1:8600/backchannel-logout",
}


def oidc_calls(service, phone: str, user_id: str, ops: dict) -> list[tuple[str, dict]]:
    """The OpenID provider's methods, after a browser signed in and got a code."""
    op = operator(ops["user_id"])
    client = service.register_oidc_client(actor=op, **OIDC_CLIENT)
    client_id = client["client_id"]
    verifier = "v" * 50
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": OIDC_CLIENT["redirect_uris"][0],
        "scope": "openid profile phone",
        "state": "s",
        "nonce": "n",
        "code_challenge": create_s256_code_challenge(verifier),
        "code_challenge_method": "S256",
    }
    cookie = service.oidc_sign_in(phone=phone, password=PASSWORD)["browser_session"]
    answer = service.oidc_consent(query=query, browser_session=cookie, allow=True)
    code = parse_qs(urlsplit(answer["location"]).query)["code"][0]
    basic = "Basic " + base64.b64encode(f"{client_id}:{client['client_secret']}".encode()).decode()
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": query["redirect_uri"],
        "code_verifier": verifier,
    }
    due = {
        "client_id": client_id,
        "backchannel_logout_uri": OIDC_CLIENT["backchannel_logout_uri"],
        "user_id": user_id,
        "sid": "a" * 32,
        "jti": "b" * 32,
    }
    return [
        ("oidc_authorize", {"query": {**query, "nonce": "n2"}, "browser_session": cookie}),
        ("oidc_authorize", {"query": {**query, "client_id": "c_unknown"}}),
        ("oidc_sign_in", {"phone": phone, "password": PASSWORD, "client_address": "192.0.2.1"}),
        ("oidc_consent", {"query": query, "browser_session": cookie, "allow": False}),
        ("oidc_token", {"form": form, "authorization": basic}),
        ("oidc_token", {"form": form, "authorization": basic}),
        (
            "oidc_userinfo",
            {"user_id": user_id, "scope": "openid profile phone", "client_id": client_id},
        ),
        ("list_oidc_clients", {"actor": op, "page_size": "5"}),
        ("get_oidc_client", {"actor": op, "client_id": client_id}),
        (
            "update_oidc_client",
            {"actor": op, "client_id": client_id, **OIDC_CLIENT, "skip_consent": True},
        ),
        ("rotate_oidc_client_secret", {"actor": op, "client_id": client_id}),
        ("oidc_end_session", {"query": {"client_id": client_id}, "browser_session": cookie}),
        (
            "oidc_end_session",
            {"query": {"client_id": client_id}, "browser_session": cookie, "confirmed": True},
        ),
        (
            "on_backchannel_logout_due",
            {"envelope": sent_event("identity", "backchannel_logout_due", due)},
        ),
        ("delete_oidc_client", {"actor": op, "client_id": client_id}),
        ("register_oidc_client", {"actor": op, **OIDC_CLIENT, "public": True}),
    ]


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
    for _ in range(5):  # the member's phone gets locked (account_locked)
        with pytest.raises(Unauthorized):
            service.login(phone="13900000003", password="wrong1234", client_address="192.0.2.7")
    return [
        ("register", {"phone": "13900000002", "password": PASSWORD, "name": "李四"}),
        ("login", {"phone": phone, "password": PASSWORD, "client_address": "192.0.2.1"}),
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
        ("locked_accounts", {"page_size": 5}),
        ("unlock_account", {"actor": operator(ops["user_id"]), "user_id": member_id}),
        ("refresh", {"refresh_token": pair["refresh_token"]}),
        ("logout", {"session_id": claims["sid"]}),
        ("revoked_sessions", {}),
        ("rotate_signing_key", {"actor": operator(ops["user_id"])}),
        ("list_signing_keys", {"actor": operator(ops["user_id"]), "page_size": 5}),
        (
            "person_facts",
            {
                "user_id": member_id,
                "purpose": "case_review",
                "accessor_id": agent_id,
                "accessor_kind": "staff",
            },
        ),
        ("on_pii_accessed", {"envelope": workflow_read(agent_id)}),
        ("list_pii_access", {"actor": operator(ops["user_id"]), "subject_id": member_id}),
        ("list_pii_access", {"actor": operator(ops["user_id"]), "page": "1", "page_size": "2"}),
        *oidc_calls(service, phone, user_id, ops),
    ]


def workflow_read(accessor_id: str) -> dict:
    """workflow's record of a reviewer reading a case's principal's number."""
    return sent_event(
        "workflow",
        "pii_accessed",
        {
            "accessor_id": accessor_id,
            "accessor_kind": "staff",
            "subject_id": "3f2a9c4e5b6d4e7f8a9b0c1d2e3f4a5b",
            "subject_kind": "application_principal",
            "purpose": "case_review",
            "service": "workflow",
            "at": "2026-12-02T01:00:00Z",
        },
    )


def test_every_answer_is_exactly_its_documented_schema(service):
    entrypoints = dict(contract_entrypoints(IdentityService))
    called = set()
    for method, arguments in calls(service):
        answer = getattr(service, method)(**arguments)
        response = getattr(entrypoints[method], "response", None)  # a handler answers nothing
        if response is None:
            assert answer is None, method
        else:
            assert_documented(response, answer)
        called.add(method)
    assert called == set(entrypoints), "every RPC method is exercised here"


def test_every_recorded_event_is_exactly_its_documented_payload(service, uow, crypto):
    for method, arguments in calls(service):
        getattr(service, method)(**arguments)
    # Once the rotated key signs and the old key's tokens expired, it retires.
    signing_keys.keep_signing_keys(uow, crypto, now=datetime.now(UTC) + timedelta(days=1))
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
