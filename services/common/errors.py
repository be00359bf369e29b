"""Error types shared by every service.

A service raises one of these; nameko carries it to the caller, where
``deserialize_to_instance`` turns it back into the same type, so the gateway maps
types to HTTP statuses in one table. The arguments are positional and plain JSON
so that they survive the trip.
"""

from nameko.exceptions import deserialize_to_instance


class ServiceError(Exception):
    """Base of every expected error. ``code`` is the machine-readable name."""

    code = "error"

    def __init__(self, message: str = "", fields: dict | None = None):
        super().__init__(message, fields or {})
        self.message = message or self.code
        self.fields = dict(fields or {})

    def __str__(self) -> str:
        if self.fields:
            detail = "; ".join(f"{k}: {v}" for k, v in sorted(self.fields.items()))
            return f"{self.message} ({detail})"
        return self.message


@deserialize_to_instance
class Invalid(ServiceError):
    """The input is well formed JSON but breaks a rule; ``fields`` names each field."""

    code = "invalid"


@deserialize_to_instance
class NotFound(ServiceError):
    code = "not_found"


@deserialize_to_instance
class Unauthorized(ServiceError):
    code = "unauthorized"


@deserialize_to_instance
class Forbidden(ServiceError):
    code = "forbidden"


@deserialize_to_instance
class Conflict(ServiceError):
    """The current state forbids the action (or the thing already exists)."""

    code = "conflict"


@deserialize_to_instance
class Unavailable(ServiceError):
    """A dependency (database, broker, EMS) did not answer; try again later."""

    code = "unavailable"


class translate_errors:
    """Turn a domain's exceptions into the shared error types, in one place.

    ``with translate_errors({DomainNotFound: NotFound, ...}): ...`` re-raises a
    mapped domain exception as the shared type, keeping its message and its
    ``fields`` (if it has them). Also usable as a decorator.
    """

    def __init__(self, mapping: dict[type, type]):
        self.mapping = mapping

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is None:
            return False
        for domain_type, shared_type in self.mapping.items():
            if isinstance(exc, domain_type):
                fields = getattr(exc, "fields", None) or {}
                message = getattr(exc, "message", None) or str(exc) or shared_type.code
                raise shared_type(str(message), dict(fields)) from exc
        return False

    def __call__(self, function):
        import functools

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with translate_errors(self.mapping):
                return function(*args, **kwargs)

        return wrapper
