"""Masking personal identifiers for display (plain Python, usable by any domain)."""


def mask(value: str, keep_start: int = 4, keep_end: int = 4) -> str:
    """Keep the first and last characters, the rest as stars: 3201**********1234.

    A value too short to keep both ends without revealing most of it is hidden
    entirely.
    """
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    hidden = len(value) - keep_start - keep_end
    return value[:keep_start] + "*" * hidden + value[len(value) - keep_end :]


def mask_id_number(id_number: str) -> str:
    """First 4 and last 4 characters, the rest as stars: 3201**********1234."""
    return mask(id_number.strip().upper(), 4, 4)
