import pytest

from services.courier.domain.tracking_numbers import (
    is_valid_tracking_number,
    make_tracking_number,
)


def test_makes_the_documented_example():
    assert make_tracking_number(12345678) == "EA123456785CN"
    assert is_valid_tracking_number("EA123456785CN")


@pytest.mark.parametrize(
    "serial, expected",
    [
        (15, "EE000000155CN"),  # weighted sum 44: 11 - 0 = 11 -> 5
        (8, "EE000000080CN"),  # weighted sum 56: 11 - 1 = 10 -> 0
        (47312482, "EE473124829CN"),
    ],
)
def test_check_digit(serial, expected):
    assert make_tracking_number(serial, prefix="EE") == expected
    assert is_valid_tracking_number(expected)


@pytest.mark.parametrize(
    "value",
    [
        "EA123456775CN",  # a changed digit
        "EA123456784CN",  # wrong check digit
        "EA123456785US",  # not China Post
        "ea123456785cn",
        "E1123456785CN",
        "EA12345678CN",
        "EA１２３４５６７８５CN",  # full-width digits: int() takes them, EMS does not
        " EA123456785CN",
        "",
        None,
        123456785,
    ],
)
def test_rejects_malformed_numbers(value):
    assert not is_valid_tracking_number(value)


@pytest.mark.parametrize("serial", [-1, 10**8])
def test_serial_must_fit_in_eight_digits(serial):
    with pytest.raises(ValueError):
        make_tracking_number(serial)


def test_prefix_must_be_two_capital_letters():
    with pytest.raises(ValueError):
        make_tracking_number(1, prefix="E")
