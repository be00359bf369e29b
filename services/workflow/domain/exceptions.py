"""Errors the workflow domain raises.

Each is one of the shared error types (``services.common.errors``, plain Python)
with a more precise meaning: the entrypoint sends it to the caller as that type
(``InvalidTransition`` as ``Conflict``, ``ValidationFailed`` as ``Invalid``).
"""

from services.common import errors


class NotFound(errors.NotFound):
    """The application (or licence) does not exist, or the caller may not see it."""


class Forbidden(errors.Forbidden):
    """The actor's kind, role or department does not allow the action."""


class InvalidTransition(errors.Conflict):
    """The application's current state does not allow the action."""


class ValidationFailed(errors.Invalid):
    """Input breaks a rule; ``fields`` maps each dotted field name to what is wrong."""

    def __init__(self, fields: dict[str, str], message: str = "validation failed"):
        super().__init__(message, fields)
