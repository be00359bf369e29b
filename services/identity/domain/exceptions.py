"""Domain exceptions of the identity service.

The service layer maps each of these to one of the shared wire errors
(Invalid, Unauthorized, Forbidden, Conflict); the mapping is noted per class.
"""

from __future__ import annotations


class IdentityError(Exception):
    """Base class of every identity domain error."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationFailed(IdentityError):
    """Input broke one or more rules; `fields` names every bad field (-> Invalid)."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("validation failed")
        self.fields = dict(fields)

    def __str__(self) -> str:
        details = ", ".join(f"{name}: {reason}" for name, reason in self.fields.items())
        return f"validation failed ({details})"


class InvalidIdNumber(IdentityError, ValueError):
    """A resident ID number failed GB 11643-1999; `reason` is a short message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidUscc(IdentityError, ValueError):
    """A Unified Social Credit Code failed GB 32100-2015; `reason` is a short message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotPermitted(IdentityError):
    """The acting user may not do this (-> Forbidden)."""


class AlreadyExists(IdentityError):
    """Base of uniqueness conflicts (-> Conflict)."""


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
    """The user is already verified with a different ID number (-> Conflict)."""

    def __init__(self) -> None:
        super().__init__("user already verified with a different ID number")


class RefreshRejected(IdentityError):
    """A refresh token cannot be used (-> Unauthorized, one message for all causes)."""


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
