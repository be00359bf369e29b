import dataclasses
from datetime import UTC, date, datetime

import pytest

from services.identity.domain.events import (
    EnterpriseRegistered,
    UserRegistered,
    UserVerified,
)
from services.identity.domain.exceptions import (
    AlreadyVerified,
    NotPermitted,
    ValidationFailed,
)
from services.identity.domain.id_numbers import id_number_check_char
from services.identity.domain.model import (
    Enterprise,
    User,
    UserKind,
    validate_registration,
    validate_staff_registration,
)
from services.identity.domain.uscc import uscc_check_char
from services.identity.tests.unit.fakes import FakePii

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
TODAY = date(2026, 11, 25)
ID_NUMBER = "32010219900307123" + id_number_check_char("32010219900307123")
OTHER_ID_NUMBER = "32010219900307124" + id_number_check_char("32010219900307124")
USCC = "91320102MA1XY20K5" + uscc_check_char("91320102MA1XY20K5")


def wrong_last(code: str) -> str:
    return "0" if code[-1] != "0" else "1"


def citizen(name: str = "张三") -> User:
    registration = validate_registration("13800138000", "secret123", name)
    return User.register_citizen(registration, "argon2-hash", now=NOW)


def verified_citizen() -> User:
    user = citizen()
    user.verify_real_name("张三", ID_NUMBER, FakePii(), now=NOW, today=TODAY)
    user.pull_events()
    return user


def test_register_citizen_records_an_event():
    user = citizen()
    assert len(user.user_id) == 32 and int(user.user_id, 16) >= 0
    assert user.kind == UserKind.CITIZEN == "citizen"
    assert user.assurance_level == 1
    assert user.roles == [] and user.department_code is None
    assert user.id_number_masked is None
    assert user.pull_events() == [UserRegistered(user.user_id, "citizen", NOW)]
    assert user.pull_events() == []


def test_events_are_frozen_and_typed():
    event = UserRegistered("u1", "citizen", NOW)
    assert event.type == "user_registered"
    assert UserVerified.type == "user_verified"
    assert EnterpriseRegistered.type == "enterprise_registered"
    assert dataclasses.asdict(event) == {
        "user_id": "u1",
        "kind": "citizen",
        "registered_at": NOW,
    }
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.user_id = "u2"  # type: ignore[misc]


def test_users_are_equal_by_id():
    user = citizen()
    assert user == dataclasses.replace(user, name="other")
    assert user != citizen()
    assert len({user, user}) == 1


def test_pull_events_copes_with_instances_loaded_without_init():
    # An ORM may build instances without calling __init__.
    user = object.__new__(User)
    assert user.pull_events() == []


def test_only_an_operator_creates_staff():
    staff = validate_staff_registration(
        "13900139000", "secret123", "李四", "320100", ["window_clerk"]
    )
    with pytest.raises(NotPermitted):
        User.create_staff(staff, "hash", actor_kind="citizen", now=NOW)
    user = User.create_staff(staff, "hash", actor_kind="operator", now=NOW)
    assert user.kind == "staff"
    assert user.roles == ["window_clerk"]
    assert user.department_code == "320100"
    assert user.pull_events() == [UserRegistered(user.user_id, "staff", NOW)]


def test_create_operator():
    registration = validate_registration("13700137000", "secret123", "运维")
    user = User.create_operator(registration, "hash", now=NOW)
    assert user.kind == "operator"
    assert user.pull_events()[0].kind == "operator"


def test_real_name_verification_raises_the_level():
    user = citizen()
    user.pull_events()
    pii = FakePii()
    assert user.verify_real_name(" 张三 ", ID_NUMBER.lower(), pii, now=NOW, today=TODAY)
    assert user.assurance_level == 2 and user.is_verified
    assert user.id_number_hash == pii.keyed_hash(ID_NUMBER)
    assert user.id_number_cipher == pii.encrypt(ID_NUMBER)
    assert user.id_number_masked == ID_NUMBER[:4] + "*" * 10 + ID_NUMBER[-4:]
    assert user.pull_events() == [UserVerified(user.user_id, 2, NOW)]


def test_verification_names_both_bad_fields():
    user = citizen()
    with pytest.raises(ValidationFailed) as excinfo:
        user.verify_real_name(
            "李四", ID_NUMBER[:17] + wrong_last(ID_NUMBER), FakePii(), today=TODAY
        )
    assert excinfo.value.fields == {
        "name": "does not match the registered name",
        "id_number": "bad check digit",
    }
    assert user.assurance_level == 1


def test_verification_with_a_wrong_name_only():
    user = citizen()
    with pytest.raises(ValidationFailed) as excinfo:
        user.verify_real_name("张 三", ID_NUMBER, FakePii(), today=TODAY)
    assert excinfo.value.fields == {"name": "does not match the registered name"}
    assert user.pull_events()[-1].type == "user_registered"


def test_verification_with_a_malformed_number_only():
    user = citizen()
    with pytest.raises(ValidationFailed) as excinfo:
        user.verify_real_name("张三", "12345", FakePii(), today=TODAY)
    assert excinfo.value.fields == {"id_number": "must be 18 characters"}


def test_verifying_the_same_number_again_changes_nothing():
    user = verified_citizen()
    assert user.verify_real_name("张三", ID_NUMBER, FakePii(), today=TODAY) is False
    assert user.pull_events() == []


def test_verifying_a_different_number_is_a_conflict():
    user = verified_citizen()
    with pytest.raises(AlreadyVerified):
        user.verify_real_name("张三", OTHER_ID_NUMBER, FakePii(), today=TODAY)
    assert user.id_number_hash == FakePii().keyed_hash(ID_NUMBER)


def test_verified_user_registers_an_enterprise():
    owner = verified_citizen()
    enterprise = Enterprise.register(
        owner,
        name=" 南京某某科技有限公司 ",
        uscc=USCC.lower(),
        legal_representative="张三",
        now=NOW,
    )
    assert enterprise.uscc == USCC
    assert enterprise.name == "南京某某科技有限公司"
    assert enterprise.owner_user_id == owner.user_id
    assert enterprise.created_at == NOW
    assert enterprise.pull_events() == [
        EnterpriseRegistered(enterprise.enterprise_id, USCC, owner.user_id)
    ]


def test_unverified_user_may_not_register_an_enterprise():
    with pytest.raises(NotPermitted):
        Enterprise.register(citizen(), name="某公司", uscc=USCC, legal_representative="张三")


def test_enterprise_registration_names_every_bad_field():
    with pytest.raises(ValidationFailed) as excinfo:
        Enterprise.register(
            verified_citizen(),
            name="",
            uscc=USCC[:17] + wrong_last(USCC),
            legal_representative="\x07",
        )
    assert excinfo.value.fields == {
        "uscc": "bad check character",
        "name": "must be 1 to 100 characters",
        "legal_representative": "must not contain control characters",
    }
