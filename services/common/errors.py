"""The errors every service may raise, from its domain up to the gateway.

Plain Python, so a domain model raises them without importing a framework. A
domain names its own cases as subclasses (``class PhoneTaken(Conflict)``); on the
way out of an entrypoint the kit (``services.common.entrypoints``) turns each into
the shared type it derives from, keeping its message, its ``fields`` and its
``code``. The caller gets the shared type back (nameko deserialises it), and the
gateway maps each shared type to one HTTP status in one table.

The constructor's arguments are positional and plain JSON, so that they survive
the trip across RPC.
"""


class ServiceError(Exception):
    """Base of every expected error.

    ``message`` is for people; ``fields`` names each bad field and why; ``code`` is
    the machine-readable name (the class's ``code`` unless given).
    """

    code = "error"

    def __init__(self, message: str = "", fields: dict | None = None, code: str | None = None):
        super().__init__(message, dict(fields or {}), code or type(self).code)
        self.code = code or type(self).code
        self.message = message or self.code
        self.fields = dict(fields or {})

    def __str__(self) -> str:
        if self.fields:
            detail = "; ".join(f"{k}: {v}" for k, v in sorted(self.fields.items()))
            return f"{self.message} ({detail})"
        return self.message


class Invalid(ServiceError):
    """The input is well-formed JSON but breaks a rule; ``fields`` names each field."""

    code = "invalid"

    def __init__(self, message: str = "", fields: dict | None = None, code: str | None = None):
        super().__init__(message or "invalid input", fields, code)


class NotFound(ServiceError):
    """No such thing, or the caller may not know it exists."""

    code = "not_found"


class Unauthorized(ServiceError):
    """The caller is not who it claims to be (bad credentials or token)."""

    code = "unauthorized"


class Forbidden(ServiceError):
    """The caller is known but may not do this."""

    code = "forbidden"


class Conflict(ServiceError):
    """The current state forbids the action (or the thing already exists)."""

    code = "conflict"


class Unavailable(ServiceError):
    """A dependency (database, broker, EMS) did not answer; try again later."""

    code = "unavailable"


# The types that cross the wire. Every other ServiceError is one of these with a
# more precise code.
SHARED = (Invalid, NotFound, Unauthorized, Forbidden, Conflict, Unavailable)


def shared_form(error: ServiceError) -> ServiceError:
    """``error`` as the shared type it derives from (itself when it is one)."""
    if type(error) in SHARED or type(error) is ServiceError:
        return error
    for base in type(error).__mro__:
        if base in SHARED:
            return base(error.message, error.fields, error.code)
    return ServiceError(error.message, error.fields, error.code)
