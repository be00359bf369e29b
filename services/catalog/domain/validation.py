"""Validators shared by the catalog's aggregates.

Each takes the field name and the raw value and returns the value in its
domain form, or raises ValidationFailed keyed by the field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from .exceptions import ValidationFailed


def fail(name: str, reason: str) -> NoReturn:
    raise ValidationFailed({name: reason})


def fields(
    values: Mapping[str, Any],
    allowed: frozenset[str],
    validators: Mapping[str, Callable[[str, Any], Any]],
    rejected: str,
) -> dict[str, Any]:
    """Each value through its validator; one ValidationFailed naming every bad
    field, a field not ``allowed`` with ``rejected``."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for name, value in values.items():
        if name not in allowed:
            errors[name] = rejected
            continue
        try:
            clean[name] = validators[name](name, value)
        except ValidationFailed as failure:
            errors.update(failure.fields)
    if errors:
        raise ValidationFailed(errors)
    return clean


def text(required: bool, max_length: int) -> Callable[[str, Any], str]:
    """A string, stripped; non-blank when ``required``; at most ``max_length``."""

    def validate(name: str, value: Any) -> str:
        if not isinstance(value, str):
            fail(name, "must be a string")
        value = value.strip()
        if required and not value:
            fail(name, "is required")
        if len(value) > max_length:
            fail(name, f"must be at most {max_length} characters")
        return value

    return validate
