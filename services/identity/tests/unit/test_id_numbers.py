from datetime import date

import pytest

from services.identity.domain.exceptions import InvalidIdNumber
from services.identity.domain.id_numbers import (
    birth_date_of,
    id_number_check_char,
    mask_id_number,
    mask_phone,
    validate_id_number,
)

TODAY = date(2026, 11, 25)


def make_id(region: str = "320102", birth: str = "19900307", sequence: str = "123") -> str:
    first17 = region + birth + sequence
    return first17 + id_number_check_char(first17)


def test_check_char_matches_published_example():
    # The GB 11643 example number; its check character is X.
    assert id_number_check_char("11010519491231002") == "X"


@pytest.mark.parametrize(
    "number", ["11010519491231002X", make_id(), make_id("440524", "20000229", "001")]
)
def test_valid_numbers_are_accepted(number):
    assert validate_id_number(number, today=TODAY) == number


def test_normalises_lower_case_x_and_whitespace():
    assert validate_id_number("  11010519491231002x\n", today=TODAY) == "11010519491231002X"


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("110105194912310021", "bad check digit"),
        ("11010519491231002", "must be 18 characters"),
        ("110105491231002", "must be 18 characters"),  # old 15-digit form
        ("11010519491231002X1", "must be 18 characters"),
        ("1101051949123100XX", "must be 17 digits followed by a digit or X"),
        ("11010519491231002Y", "must be 17 digits followed by a digit or X"),
        ("１１010519491231002X", "must be 17 digits followed by a digit or X"),  # full-width
        (make_id(region="000000"), "bad region code"),
        (make_id(birth="19900230"), "bad birth date"),
        (make_id(birth="19901301"), "bad birth date"),
        (make_id(birth="18991231"), "bad birth date"),
        (make_id(birth="20261126"), "bad birth date"),  # tomorrow
        (make_id(birth="20010229"), "bad birth date"),  # not a leap year
        # Correct check digit, but born in 1880: before the 1900 cut-off.
        ("440524188001010014", "bad birth date"),
        ("", "must be 18 characters"),
        (None, "must be a string"),
    ],
)
def test_invalid_numbers_give_a_reason(number, reason):
    with pytest.raises(InvalidIdNumber) as excinfo:
        validate_id_number(number, today=TODAY)
    assert excinfo.value.reason == reason


def test_440524188001010014_has_a_correct_check_digit():
    assert id_number_check_char("44052418800101001") == "4"


def test_boundary_birth_dates():
    assert validate_id_number(make_id(birth="19000101"), today=TODAY)
    assert validate_id_number(make_id(birth="20261125"), today=TODAY)


def test_every_check_char_position_is_caught():
    number = make_id()
    for wrong in "0123456789X":
        if wrong != number[17]:
            with pytest.raises(InvalidIdNumber, match="bad check digit"):
                validate_id_number(number[:17] + wrong, today=TODAY)


def test_single_digit_change_is_caught():
    number = make_id()
    for position in range(14, 17):  # sequence digits leave region and date valid
        digit = str((int(number[position]) + 1) % 10)
        altered = number[:position] + digit + number[position + 1 :]
        with pytest.raises(InvalidIdNumber, match="bad check digit"):
            validate_id_number(altered, today=TODAY)


def test_birth_date_of():
    assert birth_date_of("11010519491231002X") == date(1949, 12, 31)


def test_check_char_rejects_bad_input():
    with pytest.raises(ValueError):
        id_number_check_char("1234")


def test_mask_id_number():
    assert mask_id_number("320102199003071234") == "3201**********1234"
    assert mask_id_number("11010519491231002x") == "1101**********002X"
    assert len(mask_id_number("320102199003071234")) == 18


def test_mask_phone():
    assert mask_phone("13800138000") == "138****8000"


def test_masking_never_shows_short_values():
    assert mask_phone("1234567") == "*******"
    assert mask_id_number("12345678") == "********"
