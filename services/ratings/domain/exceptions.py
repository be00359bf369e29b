"""Errors the ratings domain raises.

Each is one of the shared error types (``services.common.errors``, plain Python)
with a more precise name: the entrypoint sends it to the caller as that type,
keeping its message, its ``fields`` and its ``code``.
"""

from services.common.errors import Conflict, Forbidden, Invalid, NotFound


class ValidationFailed(Invalid):
    """Input breaks a rule; ``fields`` maps every bad field to what is wrong with it."""

    def __init__(self, fields: dict[str, str], message: str = "validation failed"):
        super().__init__(message, fields)


class NotPermitted(Forbidden):
    """The actor may not do this (not the applicant, not staff of the department)."""


class CaseNotCompleted(Conflict):
    """Ratings has not heard that the case was completed, so it cannot be reviewed."""

    def __init__(self) -> None:
        super().__init__("the case is not completed yet")


class AlreadyReviewed(Conflict):
    """The case has a review already; a case is reviewed once."""

    code = "already_reviewed"

    def __init__(self, message: str = "the case has already been reviewed") -> None:
        super().__init__(message)


class InvalidTransition(Conflict):
    """The entity's status does not allow the step (e.g. resolving a resolved
    rectification)."""

    code = "invalid_transition"


class UnknownRectification(NotFound):
    def __init__(self) -> None:
        super().__init__("no such rectification", {"rectification_id": "not found"})
