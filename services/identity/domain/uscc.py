"""Unified Social Credit Codes of enterprises and other organisations (GB 32100-2015)."""

from __future__ import annotations

from services.identity.domain.exceptions import InvalidUscc

# The code alphabet leaves out I, O, Z, S and V.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {ch: i for i, ch in enumerate(USCC_ALPHABET)}
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_char(first17: str) -> str:
    """The check character for the first 17 characters of a code (upper case)."""
    if len(first17) != 17 or any(ch not in _VALUE for ch in first17):
        raise ValueError("expected 17 characters of the USCC alphabet")
    total = sum(_VALUE[ch] * w for ch, w in zip(first17, _WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def validate_uscc(value: object) -> str:
    """Return the normalised code (stripped, upper case) or raise InvalidUscc."""
    if not isinstance(value, str):
        raise InvalidUscc("must be a string")
    code = value.strip().upper()
    if len(code) != 18:
        raise InvalidUscc("must be 18 characters")
    if any(ch not in _VALUE for ch in code):
        raise InvalidUscc("contains a character outside the code alphabet")
    if uscc_check_char(code[:17]) != code[17]:
        raise InvalidUscc("bad check character")
    return code
