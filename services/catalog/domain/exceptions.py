"""Domain exceptions of the catalog.

Each is one of the shared error types (``services.common.errors``) with a more
precise name: the entrypoint sends it to the caller as that type.
"""

from __future__ import annotations

from services.common.errors import Conflict, Invalid


class ValidationFailed(Invalid):
    """Input breaks a rule; ``fields`` names every bad field and why."""

    def __init__(self, fields: dict[str, str], message: str = "invalid input"):
        super().__init__(message, fields)


class InvalidTransition(Conflict):
    """The item's current status forbids the requested change."""

    def __init__(self, message: str):
        super().__init__(message)
