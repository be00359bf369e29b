"""PRC resident ID numbers (GB 11643-1999) and masking of personal data for display."""

from __future__ import annotations

import re
from datetime import date

from services.common.masking import mask, mask_id_number  # noqa: F401  (mask_id_number re-exported)
from services.identity.domain.exceptions import InvalidIdNumber

# ISO 7064 MOD 11-2: weight of position i (0-based, left to right) is 2**(17-i) mod 11.
_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_CHECK_CHARS = "10X98765432"
_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
_EARLIEST_BIRTH = date(1900, 1, 1)


def id_number_check_char(first17: str) -> str:
    """The check character (0-9 or X) for the first 17 digits of an ID number."""
    if len(first17) != 17 or not (first17.isascii() and first17.isdigit()):
        raise ValueError("expected 17 ASCII digits")
    total = sum(int(ch) * w for ch, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def validate_id_number(value: object, *, today: date | None = None) -> str:
    """Return the normalised ID number (stripped, upper-case X) or raise InvalidIdNumber.

    Only the 18-character form is accepted; `today` bounds the birth date (defaults
    to the current date).
    """
    if not isinstance(value, str):
        raise InvalidIdNumber("must be a string")
    number = value.strip().upper()
    if len(number) != 18:
        raise InvalidIdNumber("must be 18 characters")
    if not _SHAPE.fullmatch(number):
        raise InvalidIdNumber("must be 17 digits followed by a digit or X")
    if number[:6] == "000000":
        raise InvalidIdNumber("bad region code")
    birth = _birth_date(number)
    if birth is None or birth < _EARLIEST_BIRTH or birth > (today or date.today()):
        raise InvalidIdNumber("bad birth date")
    if id_number_check_char(number[:17]) != number[17]:
        raise InvalidIdNumber("bad check digit")
    return number


def birth_date_of(id_number: str) -> date:
    """The birth date encoded in a valid ID number."""
    birth = _birth_date(validate_id_number(id_number))
    assert birth is not None  # validate_id_number rejected anything else
    return birth


def household_region_of(id_number: str) -> str:
    """The administrative division code (six digits) of the household
    registration where the number was issued: its first six digits."""
    return validate_id_number(id_number)[:6]


def _birth_date(number: str) -> date | None:
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def mask_phone(phone: str) -> str:
    """First 3 and last 4 digits, the rest as stars: 138****8000."""
    return mask(phone.strip(), 3, 4)
