"""Errors the courier domain raises; the service layer maps them to the shared
error types (ValidationFailed -> Invalid, NotFound -> NotFound,
InvalidTransition -> Conflict)."""


class CourierError(Exception):
    """Base of every courier domain error."""


class ValidationFailed(CourierError):
    """Input breaks a domain rule; ``fields`` maps a field path to what is wrong."""

    def __init__(self, fields: dict[str, str], message: str = "validation failed"):
        super().__init__(message)
        self.message = message
        self.fields = dict(fields)

    def __str__(self) -> str:
        details = ", ".join(f"{name}: {problem}" for name, problem in self.fields.items())
        return f"{self.message} ({details})" if details else self.message


class NotFound(CourierError):
    """No shipment with the given identifier."""


class InvalidTransition(CourierError):
    """A status update contradicts the shipment's final state."""
