"""Errors the ratings domain raises.

Plain Python on purpose: the domain may not import nameko, so it cannot raise
``services.common.errors`` directly. The service layer translates each of these to
the shared type of the same meaning (``ValidationFailed`` -> ``Invalid``,
``InvalidTransition`` -> ``Conflict``, the rest by name). The constructor mirrors the
shared errors (``message``, ``fields``) so the translation is one line.
"""


class RatingsError(Exception):
    """Base of every expected ratings error. ``code`` is the machine-readable name."""

    code = "error"

    def __init__(self, message: str = "", fields: dict[str, str] | None = None):
        super().__init__(message, dict(fields or {}))
        self.message = message or self.code
        self.fields = dict(fields or {})

    def __str__(self) -> str:
        if self.fields:
            detail = "; ".join(f"{k}: {v}" for k, v in sorted(self.fields.items()))
            return f"{self.message} ({detail})"
        return self.message


class ValidationFailed(RatingsError):
    """Input breaks a rule; ``fields`` maps every bad field to what is wrong with it."""

    code = "invalid"

    def __init__(self, fields: dict[str, str], message: str = "validation failed"):
        super().__init__(message, fields)


class Forbidden(RatingsError):
    """The actor may not do this (not the applicant, not staff of the department)."""

    code = "forbidden"


class NotFound(RatingsError):
    code = "not_found"


class Conflict(RatingsError):
    """The current state forbids the action."""

    code = "conflict"


class AlreadyReviewed(Conflict):
    """The case has a review already; a case is reviewed once."""

    code = "already_reviewed"


class InvalidTransition(Conflict):
    """The entity's status does not allow the step (e.g. resolving a resolved
    rectification). A kind of Conflict, so it maps to 409 without a table entry."""

    code = "invalid_transition"
