"""Errors the courier domain raises.

Each is one of the shared error types (``services.common.errors``) with a more
precise name: the entrypoint sends it to the caller as that type.
"""

from __future__ import annotations

from services.common.errors import Conflict, Invalid, NotFound


class ValidationFailed(Invalid):
    """Input breaks a domain rule; ``fields`` maps a field path to what is wrong."""

    def __init__(self, fields: dict[str, str], message: str = "validation failed"):
        super().__init__(message, fields)


class ShipmentNotFound(NotFound):
    """No shipment with the given tracking number (or none the caller may see)."""

    def __init__(self, tracking_no: str):
        super().__init__(f"no shipment {tracking_no}")


class InvalidTransition(Conflict):
    """A status update contradicts the shipment's final state."""
