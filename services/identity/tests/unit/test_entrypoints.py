"""The RPC entrypoints, with the real use cases on a SQLite unit of work."""

import pytest
from nameko.testing.services import worker_factory

from services.common.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from services.common.tokens import TokenVerifier
from services.identity.service import IdentityService
from services.identity.tests.unit.conftest import ID_NUMBER, PASSWORD, USCC


@pytest.fixture
def service(uow, crypto):
    return worker_factory(IdentityService, uow=uow, crypto=crypto)


@pytest.fixture
def operator_actor(service):
    user_id = service.ensure_operator(
        phone="13800000000", password="Operator2026", name="平台运营"
    )["user_id"]
    return {"user_id": user_id, "kind": "operator", "roles": [], "department_code": None}


def test_register_login_refresh_logout(service):
    assert set(service.register(phone="13800138000", password=PASSWORD, name="张三")) == {"user_id"}
    pair = service.login(phone="13800138000", password=PASSWORD)
    assert set(pair) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert pair["token_type"] == "Bearer" and pair["expires_in"] == 900
    claims = TokenVerifier(service.jwks()).verify(pair["access_token"])
    renewed = service.refresh(refresh_token=pair["refresh_token"])
    assert set(renewed) == set(pair) and renewed["refresh_token"] != pair["refresh_token"]
    assert service.logout(session_id=claims["sid"]) is None
    with pytest.raises(Unauthorized):
        service.refresh(refresh_token=renewed["refresh_token"])


def test_profile_real_name_and_enterprise(service):
    user_id = service.register(phone="13800138000", password=PASSWORD, name="张三")["user_id"]
    assert service.verify_real_name(user_id=user_id, name="张三", id_number=ID_NUMBER) == {
        "level": 2
    }
    profile = service.get_profile(user_id=user_id)
    assert profile == {
        "user_id": user_id,
        "phone": "138****8000",
        "name": "张三",
        "kind": "citizen",
        "assurance_level": 2,
        "id_number_masked": "1101**********002X",
        "roles": [],
        "department_code": None,
        "created_at": profile["created_at"],
    }
    actor = {"user_id": user_id, "kind": "citizen", "roles": [], "level": 2, "name": "张三"}
    enterprise = service.register_enterprise(
        actor=actor, name="南京某某科技有限公司", uscc=USCC, legal_representative="张三"
    )
    assert {"enterprise_id", "uscc", "name", "legal_representative"} <= set(enterprise)
    assert service.get_enterprise(uscc=USCC) == enterprise
    with pytest.raises(NotFound):
        service.get_profile(user_id="nobody")


def test_create_staff(service, operator_actor):
    result = service.create_staff(
        actor=operator_actor,
        phone="13700000001",
        password="Staff2026",
        name="李审批",
        department_code="js-amr",
        roles=["approver"],
    )
    assert set(result) == {"user_id"}
    citizen_id = service.register(phone="13800138000", password=PASSWORD, name="张三")["user_id"]
    with pytest.raises(Forbidden):
        service.create_staff(
            actor={"user_id": citizen_id, "kind": "citizen"},
            phone="13700000002",
            password="Staff2026",
            name="王窗口",
            department_code="js-amr",
            roles=["window_clerk"],
        )


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"password": PASSWORD, "name": "张三"}, "phone"),
        ({"phone": None, "password": PASSWORD, "name": "张三"}, "phone"),
        ({"phone": "12345", "password": PASSWORD, "name": "张三"}, "phone"),
        ({"phone": 13800138000, "password": PASSWORD, "name": "张三"}, "phone"),
        ({"phone": "13800138000", "password": "abc123", "name": "张三"}, "password"),
        ({"phone": "13800138000", "password": PASSWORD}, "name"),
    ],
)
def test_bad_registration_input_is_named(service, arguments, field):
    with pytest.raises(Invalid) as excinfo:
        service.register(**arguments)
    assert set(excinfo.value.fields) == {field}
    if "password" in arguments:
        assert str(arguments["password"]) not in str(excinfo.value)


def test_bad_staff_input_is_named(service, operator_actor):
    with pytest.raises(Invalid) as excinfo:
        service.create_staff(
            actor=operator_actor,
            phone="13700000001",
            password="Staff2026",
            name="李审批",
            department_code="js-amr",
            roles=["king"],
        )
    assert set(excinfo.value.fields) == {"roles.0"}
    with pytest.raises(Invalid) as excinfo:
        service.create_staff(
            actor=operator_actor,
            phone="13700000001",
            password="Staff2026",
            name="李审批",
            roles="x",
        )
    assert set(excinfo.value.fields) == {"department_code", "roles"}
    with pytest.raises(Invalid) as excinfo:
        service.create_staff(
            actor={"kind": "pirate"},
            phone="13700000001",
            password="Staff2026",
            name="李",
            department_code="d",
            roles=["approver"],
        )
    assert set(excinfo.value.fields) == {"actor.user_id", "actor.kind"}


def test_other_bad_inputs_are_named(service):
    with pytest.raises(Invalid) as excinfo:
        service.login(phone="13800138000")
    assert set(excinfo.value.fields) == {"password"}
    with pytest.raises(Invalid) as excinfo:
        service.refresh()
    assert set(excinfo.value.fields) == {"refresh_token"}
    with pytest.raises(Invalid) as excinfo:
        service.verify_real_name(user_id="u1", name="张三", id_number=110105194912310021)
    assert set(excinfo.value.fields) == {"id_number"}
    with pytest.raises(Invalid) as excinfo:
        service.get_enterprise(uscc=None)
    assert set(excinfo.value.fields) == {"uscc"}


def test_errors_are_the_shared_types(service):
    service.register(phone="13800138000", password=PASSWORD, name="张三")
    with pytest.raises(Conflict):
        service.register(phone="13800138000", password=PASSWORD, name="张三")
    with pytest.raises(Unauthorized):
        service.login(phone="13800138000", password="wrong1234")
    with pytest.raises(Unauthorized):
        service.login(phone="13900000009", password="whatever")
    with pytest.raises(Invalid):
        service.login(phone="12345", password="whatever")
