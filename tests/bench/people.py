"""Made-up but valid personal data for the bench's accounts: mobile numbers,
Chinese names and resident ID numbers (GB 11643-1999) with a correct check
character.

The check character is computed here on its own (ISO 7064 MOD 11-2), not
borrowed from identity, so the unit test that feeds these numbers to identity's
validator checks one against the other.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

# Weight of position i (0-based, left to right): 2**(17 - i) mod 11.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
# Districts of Nanjing, Suzhou and Wuxi (any six digits but 000000 pass identity).
_REGIONS = ("320102", "320104", "320105", "320106", "320111", "320505", "320506", "320214")
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国红梅"


def check_char(first17: str) -> str:
    """The GB 11643 check character (0-9 or X) of the first 17 digits."""
    if len(first17) != 17 or not (first17.isascii() and first17.isdigit()):
        raise ValueError("expected 17 ASCII digits")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def id_number(rng: random.Random, today: date | None = None) -> str:
    """A valid 18-character resident ID number of an adult born 1950..2005."""
    first_day, last_day = date(1950, 1, 1), min(date(2005, 12, 31), today or date.today())
    birth = first_day + timedelta(days=rng.randrange((last_day - first_day).days + 1))
    first17 = f"{rng.choice(_REGIONS)}{birth:%Y%m%d}{rng.randrange(1000):03d}"
    return first17 + check_char(first17)


def phone(rng: random.Random) -> str:
    """An 11-digit mainland mobile number (15x, 17x, 18x or 19x)."""
    return f"1{rng.choice('5789')}{rng.randrange(10**9):09d}"


def name(rng: random.Random) -> str:
    """A two- or three-character Chinese name."""
    given = "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2))))
    return rng.choice(_SURNAMES) + given
