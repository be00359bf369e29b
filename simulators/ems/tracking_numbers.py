"""UPU S10 tracking numbers, as EMS issues them: a two-letter service indicator
("E" plus a letter), an eight-digit serial, a check digit and "CN":
``EA123456785CN``.

EMS's own numbering, kept apart from courier's reader of these numbers
(``services.courier.domain.tracking_numbers``): courier's tests check that it
accepts every number this simulator issues.
"""

from __future__ import annotations

import re

COUNTRY = "CN"
SERIALS = 10**8
_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
_PREFIX = re.compile(r"[A-Z]{2}")


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
    if not 0 <= serial < SERIALS:
        raise ValueError(f"serial must have at most 8 digits, got {serial}")
    if not _PREFIX.fullmatch(prefix):
        raise ValueError(f"prefix must be two capital letters, got {prefix!r}")
    digits = f"{serial:08d}"
    return f"{prefix}{digits}{check_digit(digits)}{COUNTRY}"
