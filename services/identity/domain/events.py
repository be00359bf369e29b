"""Domain events of the identity service, published on `identity.events`.

Each event's `type` is its routing key; the fields are its payload (instants are
aware UTC datetimes here and ISO 8601 strings on the wire, see schemas.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar


@dataclass(frozen=True)
class Event:
    """Base of the identity events."""

    type: ClassVar[str]


@dataclass(frozen=True)
class UserRegistered(Event):
    """A citizen, staff member or operator account was created."""

    type: ClassVar[str] = "user_registered"
    user_id: str
    kind: str
    registered_at: datetime


@dataclass(frozen=True)
class UserVerified(Event):
    """A user passed real-name verification and now has assurance `level`."""

    type: ClassVar[str] = "user_verified"
    user_id: str
    level: int
    verified_at: datetime


@dataclass(frozen=True)
class EnterpriseRegistered(Event):
    """A level-2 user registered an enterprise under its credit code."""

    type: ClassVar[str] = "enterprise_registered"
    enterprise_id: str
    uscc: str
    owner_user_id: str


@dataclass(frozen=True)
class SessionRevoked(Event):
    """A session ended (logout, or a refresh token reused): its access tokens are
    void at once, and none of them is valid after `expires_at` anyway."""

    type: ClassVar[str] = "session_revoked"
    session_id: str
    user_id: str
    revoked_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class EnterpriseMemberAdded(Event):
    """The enterprise's owner added an account that acts for the enterprise."""

    type: ClassVar[str] = "enterprise_member_added"
    uscc: str
    user_id: str


@dataclass(frozen=True)
class EnterpriseMemberRemoved(Event):
    """The enterprise's owner removed a member: it acts for the enterprise no more."""

    type: ClassVar[str] = "enterprise_member_removed"
    uscc: str
    user_id: str


@dataclass(frozen=True)
class MandateGranted(Event):
    """A principal (``{kind, uscc|user_id, name}``) mandated an agent for the
    items listed (every item when empty) through ``expires_on``."""

    type: ClassVar[str] = "mandate_granted"
    mandate_id: str
    principal: dict
    agent_user_id: str
    item_ids: list
    expires_on: date


@dataclass(frozen=True)
class MandateRevoked(Event):
    """The principal revoked a mandate: the agent acts for it no more."""

    type: ClassVar[str] = "mandate_revoked"
    mandate_id: str
    principal: dict
    agent_user_id: str


@dataclass(frozen=True)
class AccountLocked(Event):
    """Too many failed logins locked the account's phone until ``locked_until``
    (the ``lock_count``-th lock in a row); its access tokens are refused until then."""

    type: ClassVar[str] = "account_locked"
    user_id: str
    locked_until: datetime
    failures: int
    lock_count: int


@dataclass(frozen=True)
class AccountUnlocked(Event):
    """An operator lifted the account's lock (a lock that runs out is not announced)."""

    type: ClassVar[str] = "account_unlocked"
    user_id: str
    unlocked_by: str


@dataclass(frozen=True)
class SigningKeyAdded(Event):
    """A signing key was added to the JWKS; it signs access tokens from
    ``signs_from`` on (verifiers fetch it before then)."""

    type: ClassVar[str] = "signing_key_added"
    kid: str
    signs_from: datetime


@dataclass(frozen=True)
class SigningKeyRetired(Event):
    """A signing key left the JWKS: no token it signed is valid any more."""

    type: ClassVar[str] = "signing_key_retired"
    kid: str


@dataclass(frozen=True)
class OidcClientRegistered(Event):
    """An operator registered a department system as an OpenID Connect client."""

    type: ClassVar[str] = "oidc_client_registered"
    client_id: str
    department_code: str
    actor_id: str
    occurred_at: datetime


@dataclass(frozen=True)
class OidcClientUpdated(Event):
    """An operator changed a client's registration."""

    type: ClassVar[str] = "oidc_client_updated"
    client_id: str
    department_code: str
    actor_id: str
    occurred_at: datetime


@dataclass(frozen=True)
class OidcClientDeleted(Event):
    """An operator deleted a client: it signs nobody in, its sessions were revoked."""

    type: ClassVar[str] = "oidc_client_deleted"
    client_id: str
    department_code: str
    actor_id: str
    occurred_at: datetime


@dataclass(frozen=True)
class BackchannelLogoutDue(Event):
    """A browser session ended: the client that signed its user in is to get a
    logout token with this ``jti`` (identity handles this event itself)."""

    type: ClassVar[str] = "backchannel_logout_due"
    client_id: str
    backchannel_logout_uri: str
    user_id: str
    sid: str
    jti: str
