"""Real-name verification, enterprises, staff and the operator bootstrap."""

import logging

import pytest
from prometheus_client import REGISTRY

from services.common.errors import Conflict, Forbidden, Invalid, NotFound
from services.common.pii import PiiCipher
from services.identity.contract import EVENTS
from services.identity.service_layer import use_cases
from services.identity.tests.unit.conftest import (
    ID_NUMBER,
    OTHER_ID_NUMBER,
    PASSWORD,
    PII_KEY,
    USCC,
    actor_of,
    outbox,
    rows,
)


def verifications(outcome):
    return (
        REGISTRY.get_sample_value(
            "tongban_identity_real_name_verifications_total", {"outcome": outcome}
        )
        or 0.0
    )


# --- real name --------------------------------------------------------------


def test_verification_raises_the_level_and_emits_user_verified(uow, crypto, citizen):
    before = verifications("verified")
    user = use_cases.verify_real_name(uow, crypto, citizen.user_id, "张三", ID_NUMBER.lower())
    assert user.assurance_level == 2
    envelope = outbox(uow)[-1]
    assert envelope["type"] == "user_verified"
    payload = EVENTS["user_verified"]().load(envelope["payload"])
    assert payload["user_id"] == citizen.user_id and payload["level"] == 2
    assert verifications("verified") == before + 1
    profile = use_cases.get_profile(uow, citizen.user_id)
    assert profile.id_number_masked == "1101**********002X"


def test_the_id_number_is_stored_only_encrypted_hashed_and_masked(uow, crypto, verified):
    [row] = rows(uow, "users")
    assert ID_NUMBER not in str(row) and ID_NUMBER.lower() not in str(row)
    assert row["id_number_masked"] == "1101**********002X"
    cipher = PiiCipher(PII_KEY)
    assert row["id_number_hash"] == cipher.keyed_hash(ID_NUMBER)
    # Bound to its owner: decryptable for this user only.
    assert cipher.decrypt(row["id_number_cipher"], associated_data=row["user_id"]) == ID_NUMBER
    assert ID_NUMBER not in str(outbox(uow))


def test_bad_check_digit_is_invalid_naming_id_number(uow, crypto, citizen):
    before = verifications("invalid")
    with pytest.raises(Invalid) as excinfo:
        use_cases.verify_real_name(uow, crypto, citizen.user_id, "张三", "110105194912310021")
    assert excinfo.value.fields == {"id_number": "bad check digit"}
    assert "110105194912310021" not in str(excinfo.value)
    assert rows(uow, "users")[0]["assurance_level"] == 1
    assert verifications("invalid") == before + 1


def test_name_mismatch_is_invalid_naming_name(uow, crypto, citizen):
    with pytest.raises(Invalid) as excinfo:
        use_cases.verify_real_name(uow, crypto, citizen.user_id, "李四", ID_NUMBER)
    assert excinfo.value.fields == {"name": "does not match the registered name"}
    assert [e["type"] for e in outbox(uow)] == ["user_registered"]


def test_number_bound_to_another_user_is_a_conflict(uow, crypto, verified):
    other = use_cases.register(uow, crypto, "13900139000", PASSWORD, "张三")
    before = verifications("conflict")
    with pytest.raises(Conflict) as excinfo:
        use_cases.verify_real_name(uow, crypto, other.user_id, "张三", ID_NUMBER)
    assert ID_NUMBER not in str(excinfo.value)
    assert use_cases.get_profile(uow, other.user_id).assurance_level == 1
    assert verifications("conflict") == before + 1


def test_same_number_again_changes_nothing(uow, crypto, verified):
    events = len(outbox(uow))
    assert use_cases.verify_real_name(uow, crypto, verified.user_id, "张三", ID_NUMBER)
    assert len(outbox(uow)) == events


def test_another_number_for_a_verified_user_is_a_conflict(uow, crypto, verified):
    with pytest.raises(Conflict):
        use_cases.verify_real_name(uow, crypto, verified.user_id, "张三", OTHER_ID_NUMBER)


def test_verifying_an_unknown_user_is_not_found(uow, crypto):
    with pytest.raises(NotFound):
        use_cases.verify_real_name(uow, crypto, "nobody", "张三", ID_NUMBER)


def test_no_id_number_or_password_reaches_a_log_line(uow, crypto, caplog):
    caplog.set_level(logging.DEBUG)
    user = use_cases.register(uow, crypto, "13800138000", PASSWORD, "张三")
    use_cases.verify_real_name(uow, crypto, user.user_id, "张三", ID_NUMBER)
    with pytest.raises(Invalid):
        use_cases.verify_real_name(uow, crypto, user.user_id, "张三", "110105194912310021")
    pair = use_cases.login(uow, crypto, "13800138000", PASSWORD)
    use_cases.refresh(uow, crypto, pair.refresh_token)
    with pytest.raises(Exception):  # noqa: B017
        use_cases.refresh(uow, crypto, pair.refresh_token)
    for record in caplog.records:
        text = record.getMessage() + repr(vars(record))
        for secret in (ID_NUMBER, "110105194912310021", PASSWORD, pair.refresh_token):
            assert secret not in text


def test_profile_masks_the_phone_and_unknown_user_is_not_found(uow, crypto, citizen):
    from services.identity.contract import Profile

    profile = Profile().dump(use_cases.get_profile(uow, citizen.user_id))
    assert profile["phone"] == "138****8000"
    assert profile["id_number_masked"] is None and profile["assurance_level"] == 1
    assert profile["created_at"].endswith("Z")
    with pytest.raises(NotFound):
        use_cases.get_profile(uow, "nobody")


# --- enterprises ------------------------------------------------------------


def register_enterprise(uow, user, uscc=USCC):
    return use_cases.register_enterprise(uow, actor_of(user), "南京某某科技有限公司", uscc, "张三")


def test_level_one_may_not_register_an_enterprise(uow, crypto, citizen):
    with pytest.raises(Forbidden):
        register_enterprise(uow, citizen)
    assert rows(uow, "enterprises") == []


def test_verified_user_registers_an_enterprise(uow, crypto, verified):
    enterprise = register_enterprise(uow, verified, USCC.lower())
    assert enterprise.uscc == USCC and enterprise.owner_user_id == verified.user_id
    envelope = outbox(uow)[-1]
    assert envelope["type"] == "enterprise_registered"
    assert EVENTS["enterprise_registered"]().load(envelope["payload"]) == {
        "enterprise_id": enterprise.enterprise_id,
        "uscc": USCC,
        "owner_user_id": verified.user_id,
    }
    found = use_cases.get_enterprise(uow, USCC.lower())
    assert found.enterprise_id == enterprise.enterprise_id and found.name == enterprise.name


def test_the_database_level_counts_not_the_token(uow, crypto, verified):
    stale_actor = {**actor_of(verified), "level": 1}
    use_cases.register_enterprise(uow, stale_actor, "某公司", USCC, "张三")


def test_bad_uscc_is_invalid_naming_uscc(uow, crypto, verified):
    with pytest.raises(Invalid) as excinfo:
        register_enterprise(uow, verified, USCC[:17] + ("0" if USCC[-1] != "0" else "1"))
    assert excinfo.value.fields == {"uscc": "bad check character"}
    with pytest.raises(Invalid) as excinfo:
        use_cases.get_enterprise(uow, "nonsense")
    assert set(excinfo.value.fields) == {"uscc"}


def test_uscc_registered_twice_is_a_conflict(uow, crypto, verified):
    register_enterprise(uow, verified)
    with pytest.raises(Conflict):
        register_enterprise(uow, verified)
    assert len(rows(uow, "enterprises")) == 1


def test_unknown_enterprise_and_unknown_actor(uow, crypto):
    with pytest.raises(NotFound):
        use_cases.get_enterprise(uow, USCC)
    with pytest.raises(Forbidden):
        use_cases.register_enterprise(
            uow, {"user_id": "ghost", "kind": "citizen"}, "某公司", USCC, "张三"
        )


# --- staff and operators ----------------------------------------------------


def create_staff(uow, crypto, actor, roles=("approver",), department="js-amr"):
    return use_cases.create_staff(
        uow, crypto, actor, "13700137000", "Staff2026", "李审批", department, list(roles)
    )


def test_operator_creates_staff(uow, crypto, operator):
    user = create_staff(uow, crypto, operator, roles=["approver", "window_clerk"])
    assert user.kind == "staff" and user.roles == ["approver", "window_clerk"]
    assert user.department_code == "js-amr"
    assert outbox(uow)[-1]["payload"]["kind"] == "staff"
    pair = use_cases.login(uow, crypto, "13700137000", "Staff2026")
    from services.common.tokens import TokenVerifier

    claims = TokenVerifier(use_cases.jwks(uow, crypto)).verify(pair.access_token)
    assert claims["kind"] == "staff" and claims["dept"] == "js-amr"
    assert claims["roles"] == ["approver", "window_clerk"]


@pytest.mark.parametrize("kind", ["citizen", "staff"])
def test_only_an_operator_creates_staff(uow, crypto, citizen, kind):
    actor = {**actor_of(citizen), "kind": kind}
    with pytest.raises(Forbidden):
        create_staff(uow, crypto, actor)
    # Refused before the input is looked at.
    with pytest.raises(Forbidden):
        create_staff(uow, crypto, actor, roles=["king"])
    assert len(rows(uow, "users")) == 1


def test_staff_roles_and_department_are_checked(uow, crypto, operator):
    with pytest.raises(Invalid) as excinfo:
        create_staff(uow, crypto, operator, roles=["king"], department=" ")
    assert set(excinfo.value.fields) == {"roles", "department_code"}
    assert "king" in excinfo.value.fields["roles"]


def test_staff_phone_taken_is_a_conflict(uow, crypto, operator):
    create_staff(uow, crypto, operator)
    with pytest.raises(Conflict):
        create_staff(uow, crypto, operator)


def test_ensure_operator_is_idempotent(uow, crypto, operator):
    again = use_cases.ensure_operator(uow, crypto, "13800000000", "Different2026", "别名")
    assert again.user_id == operator["user_id"] and again.name == "平台运营"
    assert len(rows(uow, "users")) == 1 and len(outbox(uow)) == 1
    # The password was not changed by the second call.
    use_cases.login(uow, crypto, "13800000000", "Operator2026")


def test_ensure_operator_refuses_a_citizens_phone(uow, crypto, citizen):
    with pytest.raises(Conflict):
        use_cases.ensure_operator(uow, crypto, "13800138000", "Operator2026", "平台运营")
