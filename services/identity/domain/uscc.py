"""Unified Social Credit Codes of enterprises and other organisations (GB 32100-2015)."""

from __future__ import annotations

from services.common.uscc import ALPHABET as USCC_ALPHABET
from services.common.uscc import check_char as uscc_check_char
from services.identity.domain.exceptions import InvalidUscc

__all__ = ["USCC_ALPHABET", "uscc_check_char", "validate_uscc"]


def validate_uscc(value: object) -> str:
    """Return the normalised code (stripped, upper case) or raise InvalidUscc."""
    if not isinstance(value, str):
        raise InvalidUscc("must be a string")
    code = value.strip().upper()
    if len(code) != 18:
        raise InvalidUscc("must be 18 characters")
    if any(ch not in USCC_ALPHABET for ch in code):
        raise InvalidUscc("contains a character outside the code alphabet")
    if uscc_check_char(code[:17]) != code[17]:
        raise InvalidUscc("bad check character")
    return code
