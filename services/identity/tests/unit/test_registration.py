import pytest

from services.identity.domain.exceptions import ValidationFailed
from services.identity.domain.model import (
    Registration,
    StaffRegistration,
    validate_registration,
    validate_staff_registration,
)


def test_valid_input_is_normalised():
    result = validate_registration(" 13800138000 ", "secret123", "  张三 ")
    assert result == Registration(phone="13800138000", password="secret123", name="张三")


def test_password_is_not_stripped():
    assert validate_registration("13800138000", " secret123 ", "张三").password == " secret123 "


def test_every_bad_field_is_named_at_once():
    with pytest.raises(ValidationFailed) as excinfo:
        validate_registration("23800138000", "short1", "")
    assert set(excinfo.value.fields) == {"phone", "password", "name"}
    assert excinfo.value.fields["phone"] == "must be 11 digits starting with 1"
    assert excinfo.value.fields["password"] == "must be 8 to 128 characters"
    assert excinfo.value.fields["name"] == "must be 1 to 50 characters"


@pytest.mark.parametrize(
    "phone", ["1380013800", "138001380001", "23800138000", "1380013800a", "", None, 13800138000]
)
def test_bad_phones(phone):
    with pytest.raises(ValidationFailed) as excinfo:
        validate_registration(phone, "secret123", "张三")
    assert set(excinfo.value.fields) == {"phone"}


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("abc1234", "must be 8 to 128 characters"),
        ("a1" * 64 + "x", "must be 8 to 128 characters"),
        ("abcdefgh", "must contain at least one letter and one digit"),
        ("12345678", "must contain at least one letter and one digit"),
        (None, "must be a string"),
    ],
)
def test_bad_passwords(password, reason):
    with pytest.raises(ValidationFailed) as excinfo:
        validate_registration("13800138000", password, "张三")
    assert excinfo.value.fields == {"password": reason}


@pytest.mark.parametrize("password", ["abcdefg1", "a1" * 64, "密码密码密码12"])
def test_good_passwords(password):
    assert validate_registration("13800138000", password, "张三").password == password


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("   ", "must be 1 to 50 characters"),
        ("张" * 51, "must be 1 to 50 characters"),
        ("张\x00三", "must not contain control characters"),
        ("张\n三", "must not contain control characters"),
        ("张\u200b三", "must not contain control characters"),  # zero-width space
        ("张\u202e三", "must not contain control characters"),  # bidi override
        (42, "must be a string"),
    ],
)
def test_bad_names(name, reason):
    with pytest.raises(ValidationFailed) as excinfo:
        validate_registration("13800138000", "secret123", name)
    assert excinfo.value.fields == {"name": reason}


@pytest.mark.parametrize("name", ["张", "张" * 50, "买买提·艾力", "Li Wei"])
def test_good_names(name):
    assert validate_registration("13800138000", "secret123", name).name == name


def test_registration_repr_hides_the_password():
    assert "secret123" not in repr(validate_registration("13800138000", "secret123", "张三"))


def test_staff_registration():
    result = validate_staff_registration(
        "13800138000", "secret123", "李四", " 320100-MZJ ", ["approver", "window_clerk", "approver"]
    )
    assert result == StaffRegistration(
        phone="13800138000",
        password="secret123",
        name="李四",
        department_code="320100-MZJ",
        roles=("approver", "window_clerk"),
    )
    assert "secret123" not in repr(result)


def test_staff_registration_names_every_bad_field():
    with pytest.raises(ValidationFailed) as excinfo:
        validate_staff_registration("1", "x", "", None, ["approver", "superuser"])
    fields = excinfo.value.fields
    assert set(fields) == {"phone", "password", "name", "department_code", "roles"}
    assert fields["department_code"] == "required for staff"
    assert fields["roles"].startswith("unknown role superuser")


@pytest.mark.parametrize(
    ("roles", "reason"),
    [
        ([], "at least one role is required"),
        ("approver", "must be a list of roles"),
        (None, "must be a list of roles"),
    ],
)
def test_staff_roles(roles, reason):
    with pytest.raises(ValidationFailed) as excinfo:
        validate_staff_registration("13800138000", "secret123", "李四", "320100", roles)
    assert excinfo.value.fields == {"roles": reason}


def test_blank_department_code_is_rejected():
    with pytest.raises(ValidationFailed) as excinfo:
        validate_staff_registration("13800138000", "secret123", "李四", "  ", ["approver"])
    assert excinfo.value.fields == {"department_code": "required for staff"}


def test_validation_failed_message_lists_fields():
    error = ValidationFailed({"phone": "bad", "name": "worse"})
    assert str(error) == "validation failed (name: worse; phone: bad)"
