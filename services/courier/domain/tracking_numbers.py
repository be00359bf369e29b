"""UPU S10 tracking numbers, the format EMS prints on every waybill.

An S10 number is a two-letter service indicator (EMS uses "E" plus a letter), an
eight-digit serial, a check digit and the ISO country code of the issuing post
("CN" for China Post EMS): ``EA123456785CN``.
"""

import re

COUNTRY = "CN"
_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
_SERIAL_LIMIT = 10**8
_PREFIX = re.compile(r"[A-Z]{2}")
# The shape of every number this module accepts (the check digit aside).
SHAPE = r"[A-Z]{2}[0-9]{9}" + COUNTRY
# ASCII digits only: int() would take any Unicode digit.
_TRACKING_NUMBER = re.compile(r"([A-Z]{2})([0-9]{8})([0-9])" + COUNTRY)


def check_digit(serial: str) -> int:
    """The S10 check digit of an eight-digit serial."""
    total = sum(int(digit) * weight for digit, weight in zip(serial, _WEIGHTS, strict=True))
    check = 11 - total % 11
    if check == 10:
        return 0
    if check == 11:
        return 5
    return check


def make_tracking_number(serial: int, prefix: str = "EA") -> str:
    """``make_tracking_number(12345678) == "EA123456785CN"``."""
    if not 0 <= serial < _SERIAL_LIMIT:
        raise ValueError(f"serial must have at most 8 digits, got {serial}")
    if not _PREFIX.fullmatch(prefix):
        raise ValueError(f"prefix must be two capital letters, got {prefix!r}")
    digits = f"{serial:08d}"
    return f"{prefix}{digits}{check_digit(digits)}{COUNTRY}"


def is_valid_tracking_number(value: object) -> bool:
    """True for a well-formed Chinese S10 number whose check digit is right."""
    if not isinstance(value, str):
        return False
    match = _TRACKING_NUMBER.fullmatch(value)
    if match is None:
        return False
    _, serial, check = match.groups()
    return check_digit(serial) == int(check)
