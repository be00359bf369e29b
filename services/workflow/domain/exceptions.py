"""Errors the workflow domain raises.

They are plain Python so the domain stays free of nameko; the service layer turns
each into the shared error type of the same meaning (``InvalidTransition`` becomes
``Conflict``, ``ValidationFailed`` becomes ``Invalid``).
"""


class WorkflowError(Exception):
    """Base of every expected workflow error."""

    def __init__(self, message: str = ""):
        super().__init__(message)
        self.message = message


class NotFound(WorkflowError):
    """The application (or licence) does not exist, or the caller may not see it."""


class Forbidden(WorkflowError):
    """The actor's kind, role or department does not allow the action."""


class InvalidTransition(WorkflowError):
    """The application's current state does not allow the action."""


class ValidationFailed(WorkflowError):
    """Input breaks a rule; ``fields`` maps each dotted field name to what is wrong."""

    def __init__(self, fields: dict[str, str], message: str = "validation failed"):
        super().__init__(message)
        self.fields = dict(fields)

    def __str__(self) -> str:
        detail = "; ".join(f"{name}: {problem}" for name, problem in sorted(self.fields.items()))
        return f"{self.message} ({detail})"
