"""Domain exceptions of the identity service.

Each is one of the shared error types (``services.common.errors``) with a more
precise name: the entrypoint sends it to the caller as that type.
"""

from __future__ import annotations

from services.common.errors import Conflict, Forbidden, Invalid, Unauthorized


class ValidationFailed(Invalid):
    """Input broke one or more rules; ``fields`` names every bad field."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("validation failed", fields)


class InvalidIdNumber(Invalid, ValueError):
    """A resident ID number failed GB 11643-1999; ``reason`` is a short message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, {"id_number": reason})
        self.reason = reason


class InvalidUscc(Invalid, ValueError):
    """A Unified Social Credit Code failed GB 32100-2015; ``reason`` is a short message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, {"uscc": reason})
        self.reason = reason


class NotPermitted(Forbidden):
    """The acting user may not do this."""


class AlreadyExists(Conflict):
    """Base of uniqueness conflicts."""


class PhoneTaken(AlreadyExists):
    def __init__(self) -> None:
        super().__init__("phone number already registered")


class UsccTaken(AlreadyExists):
    def __init__(self) -> None:
        super().__init__("enterprise already registered")


class IdNumberAlreadyBound(AlreadyExists):
    def __init__(self) -> None:
        super().__init__("ID number already bound to another user")


class AlreadyVerified(AlreadyExists):
    """The user is already verified with a different ID number."""

    def __init__(self) -> None:
        super().__init__("user already verified with a different ID number")


class RefreshRejected(Unauthorized):
    """A refresh token cannot be used (one message for all causes on the wire)."""


class UnknownRefreshToken(RefreshRejected):
    def __init__(self) -> None:
        super().__init__("unknown refresh token")


class RefreshTokenExpired(RefreshRejected):
    def __init__(self) -> None:
        super().__init__("refresh token expired")


class SessionRevoked(RefreshRejected):
    def __init__(self) -> None:
        super().__init__("session revoked")


class RefreshTokenReused(RefreshRejected):
    """A used token came back: the session has been revoked.

    Raised after the session was changed, so the caller must commit the unit of
    work before turning this into an error response, or the revocation is lost.
    """

    def __init__(self) -> None:
        super().__init__("refresh token reused; session revoked")
