"""Unified Social Credit Codes (统一社会信用代码, GB 32100-2015) of enterprises,
organisations and government bodies: 18 characters of an alphabet without
I, O, Z, S and V, the last a check character over the first 17. Codes of Party
and government bodies (党政机关) start with ``11``.
"""

from __future__ import annotations

import re

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
PATTERN = re.compile(r"[0-9A-HJ-NPQRTUWXY]{18}")
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def check_char(first17: str) -> str:
    """The check character of a code's first 17 characters."""
    if len(first17) != 17 or any(ch not in _VALUE for ch in first17):
        raise ValueError("expected 17 characters of the code alphabet")
    total = sum(_VALUE[ch] * weight for ch, weight in zip(first17, _WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def problem(code: object) -> str | None:
    """Why ``code`` is not a well-formed USCC, or None when it is."""
    if not isinstance(code, str) or len(code) != 18:
        return "must be 18 characters"
    if PATTERN.fullmatch(code) is None:
        return "must use the GB 32100 alphabet (digits and capitals but I, O, Z, S, V)"
    if check_char(code[:17]) != code[17]:
        return "bad check character"
    return None


def is_uscc(value: object) -> bool:
    return problem(value) is None
