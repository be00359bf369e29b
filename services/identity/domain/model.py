"""Users, enterprises and sign-in sessions, with the rules that govern them.

Plain Python: no framework imports. Aggregates (User, Enterprise, Session) record
domain events in `events`; the unit of work collects them with `pull_events()` and
writes them to the outbox in the same transaction.

Times are aware UTC datetimes. Every method that needs the clock takes an optional
`now` so tests and use cases can pin it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from services.identity.domain.events import (
    EnterpriseRegistered,
    Event,
    UserRegistered,
    UserVerified,
)
from services.identity.domain.events import SessionRevoked as SessionRevokedEvent
from services.identity.domain.exceptions import (
    AlreadyVerified,
    InvalidIdNumber,
    InvalidUscc,
    NotPermitted,
    RefreshTokenExpired,
    RefreshTokenReused,
    SessionRevoked,
    ValidationFailed,
)
from services.identity.domain.id_numbers import (
    birth_date_of,
    household_region_of,
    mask_id_number,
    validate_id_number,
)
from services.identity.domain.uscc import validate_uscc

REFRESH_TOKEN_TTL = timedelta(days=30)
PASSWORD_MIN, PASSWORD_MAX = 8, 128
NAME_MAX = 50
ENTERPRISE_NAME_MAX = 100
DEPARTMENT_CODE_MAX = 64

_PHONE = re.compile(r"1[0-9]{10}")
# Control, format (zero-width, bidi overrides), surrogate and line/paragraph separators.
_FORBIDDEN_IN_NAMES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


class UserKind(StrEnum):
    CITIZEN = "citizen"
    STAFF = "staff"
    OPERATOR = "operator"


class StaffRole(StrEnum):
    WINDOW_CLERK = "window_clerk"
    APPROVER = "approver"
    DEPT_ADMIN = "dept_admin"
    # A government service centre's agent (代办员): applies for others on their mandate.
    AGENT = "agent"


STAFF_ROLES = frozenset(role.value for role in StaffRole)


class PiiProtector(Protocol):
    """What the domain needs from the PII cipher (services.common.pii.PiiCipher, bound to
    the user by adapters.crypto_context.BoundPii)."""

    def encrypt(self, plaintext: str) -> str: ...

    def keyed_hash(self, value: str) -> str: ...


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    """A new entity id: uuid4 as 32 hex characters."""
    return uuid.uuid4().hex


# --- field rules ---------------------------------------------------------------
# Each returns the reason the value is bad, or None when it is fine.


def phone_problem(phone: object) -> str | None:
    if not isinstance(phone, str) or not _PHONE.fullmatch(phone.strip()):
        return "must be 11 digits starting with 1"
    return None


def password_problem(password: object) -> str | None:
    if not isinstance(password, str):
        return "must be a string"
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        return f"must be {PASSWORD_MIN} to {PASSWORD_MAX} characters"
    if not any(ch.isalpha() for ch in password) or not any(ch.isdigit() for ch in password):
        return "must contain at least one letter and one digit"
    return None


def name_problem(name: object, max_length: int = NAME_MAX) -> str | None:
    """Rule for personal and organisation names; checked after stripping."""
    if not isinstance(name, str):
        return "must be a string"
    stripped = name.strip()
    if not 1 <= len(stripped) <= max_length:
        return f"must be 1 to {max_length} characters"
    if any(unicodedata.category(ch) in _FORBIDDEN_IN_NAMES for ch in stripped):
        return "must not contain control characters"
    return None


def _department_code_problem(code: object) -> str | None:
    if not isinstance(code, str) or not code.strip():
        return "required for staff"
    if len(code.strip()) > DEPARTMENT_CODE_MAX:
        return f"must be at most {DEPARTMENT_CODE_MAX} characters"
    return None


def _roles_problem(roles: object) -> str | None:
    if isinstance(roles, str) or not isinstance(roles, Iterable):
        return "must be a list of roles"
    roles = list(roles)
    if not roles:
        return "at least one role is required"
    unknown = [str(role) for role in roles if role not in STAFF_ROLES]
    if unknown:
        allowed = ", ".join(sorted(STAFF_ROLES))
        return f"unknown role {', '.join(unknown)}; allowed: {allowed}"
    return None


@dataclass(frozen=True)
class Registration:
    """Validated, normalised sign-up input (the password is still plain text)."""

    phone: str
    password: str
    name: str

    def __repr__(self) -> str:
        return f"Registration(phone={self.phone!r}, name={self.name!r})"


@dataclass(frozen=True)
class StaffRegistration(Registration):
    """Validated input for a staff account."""

    department_code: str = ""
    roles: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return (
            f"StaffRegistration(phone={self.phone!r}, name={self.name!r}, "
            f"department_code={self.department_code!r}, roles={self.roles!r})"
        )


def _registration_problems(phone: object, password: object, name: object) -> dict[str, str]:
    checks = {
        "phone": phone_problem(phone),
        "password": password_problem(password),
        "name": name_problem(name),
    }
    return {field_name: reason for field_name, reason in checks.items() if reason}


def validate_registration(phone: object, password: object, name: object) -> Registration:
    """Check sign-up input; raise ValidationFailed naming every bad field."""
    problems = _registration_problems(phone, password, name)
    if problems:
        raise ValidationFailed(problems)
    assert isinstance(phone, str) and isinstance(password, str) and isinstance(name, str)
    return Registration(phone=phone.strip(), password=password, name=name.strip())


def validate_staff_registration(
    phone: object,
    password: object,
    name: object,
    department_code: object,
    roles: object,
) -> StaffRegistration:
    """Check input for a staff account; raise ValidationFailed naming every bad field."""
    problems = _registration_problems(phone, password, name)
    for field_name, reason in (
        ("department_code", _department_code_problem(department_code)),
        ("roles", _roles_problem(roles)),
    ):
        if reason:
            problems[field_name] = reason
    if problems:
        raise ValidationFailed(problems)
    assert isinstance(phone, str) and isinstance(password, str) and isinstance(name, str)
    assert isinstance(department_code, str) and isinstance(roles, Iterable)
    return StaffRegistration(
        phone=phone.strip(),
        password=password,
        name=name.strip(),
        department_code=department_code.strip(),
        roles=tuple(dict.fromkeys(roles)),  # drop duplicates, keep order
    )


# --- aggregates ----------------------------------------------------------------


class _RecordsEvents:
    # An ORM may load instances without calling __init__, so `events` may be missing.
    def _record(self, event: Event) -> None:
        self.__dict__.setdefault("events", []).append(event)

    def pull_events(self) -> list[Event]:
        """Return the events recorded so far and forget them."""
        events = self.__dict__.get("events") or []
        self.__dict__["events"] = []
        return list(events)


@dataclass(eq=False)
class User(_RecordsEvents):
    """An account: a citizen, a department's staff member or a platform operator.

    Build new ones with `register_citizen`, `create_staff` or `create_operator`.
    The ID number is kept three ways: a keyed hash (unique lookup), a ciphertext
    (recovery) and a masked form (display).
    """

    user_id: str
    phone: str
    name: str
    kind: UserKind
    password_hash: str
    created_at: datetime
    assurance_level: int = 1
    id_number_hash: str | None = None
    id_number_cipher: str | None = None
    id_number_masked: str | None = None
    roles: list[str] = field(default_factory=list)
    department_code: str | None = None
    events: list[Event] = field(default_factory=list, repr=False)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, User) and other.user_id == self.user_id

    def __hash__(self) -> int:
        return hash(self.user_id)

    @classmethod
    def _new(
        cls,
        registration: Registration,
        password_hash: str,
        kind: UserKind,
        now: datetime | None,
        roles: Iterable[str] = (),
        department_code: str | None = None,
    ) -> User:
        created_at = now or utcnow()
        user = cls(
            user_id=new_id(),
            phone=registration.phone,
            name=registration.name,
            kind=kind,
            password_hash=password_hash,
            created_at=created_at,
            roles=list(roles),
            department_code=department_code,
        )
        user._record(UserRegistered(user.user_id, kind.value, created_at))
        return user

    @classmethod
    def register_citizen(
        cls, registration: Registration, password_hash: str, *, now: datetime | None = None
    ) -> User:
        """A new citizen at assurance level 1; records UserRegistered."""
        return cls._new(registration, password_hash, UserKind.CITIZEN, now)

    @classmethod
    def create_staff(
        cls,
        registration: StaffRegistration,
        password_hash: str,
        *,
        actor_kind: str,
        now: datetime | None = None,
    ) -> User:
        """A staff member of a department; only an operator (`actor_kind`) may create one."""
        if actor_kind != UserKind.OPERATOR:
            raise NotPermitted("only an operator may create staff accounts")
        return cls._new(
            registration,
            password_hash,
            UserKind.STAFF,
            now,
            roles=registration.roles,
            department_code=registration.department_code,
        )

    @classmethod
    def create_operator(
        cls, registration: Registration, password_hash: str, *, now: datetime | None = None
    ) -> User:
        """A platform operator (bootstrap account)."""
        return cls._new(registration, password_hash, UserKind.OPERATOR, now)

    @property
    def is_verified(self) -> bool:
        return self.assurance_level >= 2

    def verify_real_name(
        self,
        name: object,
        id_number: object,
        pii: PiiProtector,
        *,
        now: datetime | None = None,
        today: date | None = None,
    ) -> bool:
        """Bind a resident ID number and raise the user to assurance level 2.

        Raises ValidationFailed naming `name` (does not match the registered name)
        and/or `id_number` (the GB 11643 reason); AlreadyVerified if the user is
        already bound to a different number. Returns False (and changes nothing)
        when the same number is verified again. The caller must still check that
        no other user holds `id_number_hash`.
        """
        problems: dict[str, str] = {}
        if not isinstance(name, str) or name.strip() != self.name.strip():
            problems["name"] = "does not match the registered name"
        try:
            number = validate_id_number(id_number, today=today)
        except InvalidIdNumber as exc:
            problems["id_number"] = exc.reason
        if problems:
            raise ValidationFailed(problems)

        digest = pii.keyed_hash(number)
        if self.is_verified:
            if secrets.compare_digest(digest, self.id_number_hash or ""):
                return False
            raise AlreadyVerified()
        verified_at = now or utcnow()
        self.id_number_hash = digest
        self.id_number_cipher = pii.encrypt(number)
        self.id_number_masked = mask_id_number(number)
        self.assurance_level = 2
        self._record(UserVerified(self.user_id, 2, verified_at))
        return True


@dataclass(frozen=True)
class PersonFacts:
    """What another service's automatic decision may know of a person: the
    assurance level and name, and, at level 2 only, the verified ID number with
    what it encodes (birth date, the household registration's region code).

    Internal: built to answer ``person_facts`` for other services, never for
    display. ``repr`` masks the ID number so a stray log line cannot carry it.
    """

    user_id: str
    level: int
    name: str
    id_number: str | None = None
    birth_date: date | None = None
    household_region: str | None = None

    @classmethod
    def of(cls, user: User, id_number: str | None) -> PersonFacts:
        """The facts of ``user``; ``id_number`` is the decrypted number, given
        only for a verified user (ignored below level 2)."""
        if not user.is_verified or id_number is None:
            return cls(user.user_id, user.assurance_level, user.name)
        number = validate_id_number(id_number)
        return cls(
            user_id=user.user_id,
            level=user.assurance_level,
            name=user.name,
            id_number=number,
            birth_date=birth_date_of(number),
            household_region=household_region_of(number),
        )

    def __repr__(self) -> str:
        masked = mask_id_number(self.id_number) if self.id_number else None
        return f"PersonFacts(user_id={self.user_id!r}, level={self.level!r}, id_number={masked!r})"


@dataclass(eq=False)
class Enterprise(_RecordsEvents):
    """An enterprise registered by a verified user under its credit code."""

    enterprise_id: str
    uscc: str
    name: str
    legal_representative: str
    owner_user_id: str
    created_at: datetime
    events: list[Event] = field(default_factory=list, repr=False)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Enterprise) and other.enterprise_id == self.enterprise_id

    def __hash__(self) -> int:
        return hash(self.enterprise_id)

    @classmethod
    def register(
        cls,
        owner: User,
        *,
        name: object,
        uscc: object,
        legal_representative: object,
        now: datetime | None = None,
    ) -> Enterprise:
        """Register an enterprise; records EnterpriseRegistered.

        Raises NotPermitted unless the owner is at assurance level 2, then
        ValidationFailed naming every bad field. Uniqueness of the code is the
        caller's check.
        """
        if not owner.is_verified:
            raise NotPermitted("real-name verification (level 2) is required")
        problems: dict[str, str] = {}
        code = ""
        try:
            code = validate_uscc(uscc)
        except InvalidUscc as exc:
            problems["uscc"] = exc.reason
        for field_name, reason in (
            ("name", name_problem(name, ENTERPRISE_NAME_MAX)),
            ("legal_representative", name_problem(legal_representative)),
        ):
            if reason:
                problems[field_name] = reason
        if problems:
            raise ValidationFailed(problems)
        assert isinstance(name, str) and isinstance(legal_representative, str)
        enterprise = cls(
            enterprise_id=new_id(),
            uscc=code,
            name=name.strip(),
            legal_representative=legal_representative.strip(),
            owner_user_id=owner.user_id,
            created_at=now or utcnow(),
        )
        enterprise._record(
            EnterpriseRegistered(enterprise.enterprise_id, enterprise.uscc, owner.user_id)
        )
        return enterprise


# --- sessions and refresh tokens ----------------------------------------------


def new_refresh_token_secret() -> str:
    """A new opaque refresh token (given to the client, never stored)."""
    return secrets.token_urlsafe(32)


def hash_refresh_token(secret: str) -> str:
    """SHA-256 hex digest of a refresh token: the only form that is stored."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(eq=False)
class RefreshToken:
    """A stored refresh token of a session; `used_at` is set once it is rotated."""

    token_hash: str
    session_id: str
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None = None

    def is_expired(self, now: datetime | None = None) -> bool:
        return (now or utcnow()) >= self.expires_at


@dataclass(frozen=True)
class IssuedRefreshToken:
    """A freshly issued token: `secret` goes to the client, `record` to the store."""

    secret: str = field(repr=False)
    record: RefreshToken


@dataclass(eq=False)
class Session:
    """A sign-in: the family of refresh tokens that descend from one login.

    Each refresh token may be used once. Using it marks it used and issues the
    next one; presenting a used token again means it leaked, so the whole session
    is revoked. Logout revokes the session too.

    A session a department system started with an authorization code names the
    client, the signed-in browser it came from and the scope granted; one from
    tongban's own login has none of them.
    """

    session_id: str
    user_id: str
    created_at: datetime
    revoked_at: datetime | None = None
    revoked_reason: str | None = None
    client_id: str | None = None
    browser_session_id: str | None = None
    scope: str | None = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Session) and other.session_id == self.session_id

    def __hash__(self) -> int:
        return hash(self.session_id)

    @classmethod
    def start(
        cls,
        user_id: str,
        *,
        now: datetime | None = None,
        ttl: timedelta = REFRESH_TOKEN_TTL,
        client_id: str | None = None,
        browser_session_id: str | None = None,
        scope: str | None = None,
    ) -> tuple[Session, IssuedRefreshToken]:
        """Open a session at login (or a client's code exchange) and issue its
        first refresh token."""
        now = now or utcnow()
        session = cls(
            session_id=new_id(),
            user_id=user_id,
            created_at=now,
            client_id=client_id,
            browser_session_id=browser_session_id,
            scope=scope,
        )
        return session, session._issue(now, ttl)

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def rotate(
        self,
        presented: RefreshToken,
        *,
        now: datetime | None = None,
        ttl: timedelta = REFRESH_TOKEN_TTL,
    ) -> IssuedRefreshToken:
        """Spend `presented` and issue its successor.

        Raises SessionRevoked, RefreshTokenReused (after revoking this session:
        commit before answering) or RefreshTokenExpired.
        """
        if presented.session_id != self.session_id:
            raise ValueError("refresh token belongs to another session")
        now = now or utcnow()
        if self.is_revoked:
            raise SessionRevoked()
        if presented.used_at is not None:
            self.revoke(now=now, reason="refresh token reused")
            raise RefreshTokenReused()
        if presented.is_expired(now):
            raise RefreshTokenExpired()
        presented.used_at = now
        return self._issue(now, ttl)

    def revoke(self, *, now: datetime | None = None, reason: str = "logout") -> None:
        """Revoke the session and so every refresh token in it (idempotent)."""
        if self.is_revoked:
            return
        self.revoked_at = now or utcnow()
        self.revoked_reason = reason

    def logout(self, *, now: datetime | None = None) -> None:
        self.revoke(now=now, reason="logout")

    def revoked_event(self, access_token_ttl: timedelta) -> SessionRevokedEvent:
        """``session_revoked`` for this revoked session. No access token of the
        session was issued after ``revoked_at``, so none is valid after
        ``revoked_at + access_token_ttl``: a consumer may forget it then."""
        if self.revoked_at is None:
            raise ValueError("the session is not revoked")
        return SessionRevokedEvent(
            session_id=self.session_id,
            user_id=self.user_id,
            revoked_at=self.revoked_at,
            expires_at=self.revoked_at + access_token_ttl,
        )

    def _issue(self, now: datetime, ttl: timedelta) -> IssuedRefreshToken:
        secret = new_refresh_token_secret()
        record = RefreshToken(
            token_hash=hash_refresh_token(secret),
            session_id=self.session_id,
            issued_at=now,
            expires_at=now + ttl,
        )
        return IssuedRefreshToken(secret=secret, record=record)
