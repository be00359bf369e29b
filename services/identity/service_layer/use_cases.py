"""Identity use cases: one function per command or query.

Each takes the unit of work first and, when it needs secrets, the
:class:`~services.identity.adapters.crypto_context.CryptoContext`. Slow
password hashing happens outside any transaction, so a database connection is
never held while argon2 runs.

Nothing here logs or returns a password or an ID number.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from services.common import errors
from services.common.messaging.envelope import utcnow
from services.common.pii import PiiDecryptionError
from services.identity.domain.exceptions import (
    AlreadyExists,
    IdNumberAlreadyBound,
    InvalidUscc,
    NotPermitted,
    PhoneTaken,
    RefreshRejected,
    RefreshTokenReused,
    UsccTaken,
    ValidationFailed,
)
from services.identity.domain.model import (
    Enterprise,
    PersonFacts,
    Session,
    User,
    UserKind,
    validate_registration,
    validate_staff_registration,
)
from services.identity.domain.uscc import validate_uscc
from services.identity.metrics import REAL_NAME_VERIFICATIONS, REFRESHES, REGISTRATIONS
from services.identity.service_layer import pii_access, sessions

log = logging.getLogger(__name__)

# One message for every refresh rejection (and, from sessions, one for an
# unknown phone and a wrong password).
BAD_CREDENTIALS = sessions.BAD_CREDENTIALS
REFRESH_REJECTED = "refresh token is invalid, expired or revoked"


@dataclass(frozen=True)
class TokenPair:
    """What login and refresh return: a signed access token and a refresh token."""

    access_token: str
    refresh_token: str
    expires_in: int
    session_id: str
    token_type: str = "Bearer"  # noqa: S105  (a scheme, not a secret)

    def __repr__(self) -> str:
        return f"TokenPair(session_id={self.session_id!r}, expires_in={self.expires_in!r})"


# --- accounts ---------------------------------------------------------------


def register(uow, crypto, phone, password, name, now: datetime | None = None) -> User:
    """A citizen signs up (assurance level 1); emits ``user_registered``.

    Raises Invalid naming each bad field, Conflict when the phone is taken.
    """
    registration = validate_registration(phone, password, name)
    with uow:
        if uow.users.by_phone(registration.phone) is not None:
            raise PhoneTaken()
    password_hash = crypto.hash_password(registration.password)
    with uow:
        user = User.register_citizen(registration, password_hash, now=now)
        _add_user(uow, user)
    return user


def create_staff(
    uow, crypto, actor: dict, phone, password, name, department_code, roles, now=None
) -> User:
    """An operator creates a department staff account; emits ``user_registered``.

    Raises Forbidden unless the actor is an operator (before the domain's rules;
    the shapes of the fields are public in the contract and checked on entry),
    Invalid naming each bad field (roles from window_clerk, approver, dept_admin;
    department_code required), Conflict when the phone is taken.
    """
    if actor.get("kind") != UserKind.OPERATOR:
        raise NotPermitted("only an operator may create staff accounts")
    registration = validate_staff_registration(phone, password, name, department_code, roles)
    with uow:
        if uow.users.by_phone(registration.phone) is not None:
            raise PhoneTaken()
    password_hash = crypto.hash_password(registration.password)
    with uow:
        user = User.create_staff(registration, password_hash, actor_kind=actor["kind"], now=now)
        _add_user(uow, user)
    log.info(
        "staff account created",
        extra={"user_id": user.user_id, "created_by": actor.get("user_id")},
    )
    return user


def ensure_operator(uow, crypto, phone, password, name, now=None) -> User:
    """The operator account with this phone, created if missing (bootstrap).

    Idempotent: an existing operator is returned unchanged (its password too).
    Raises Conflict when the phone belongs to a citizen or staff member.
    """
    registration = validate_registration(phone, password, name)
    with uow:
        existing = uow.users.by_phone(registration.phone)
    if existing is None:
        password_hash = crypto.hash_password(registration.password)
        try:
            with uow:
                user = User.create_operator(registration, password_hash, now=now)
                _add_user(uow, user)
            return user
        except PhoneTaken:  # another process bootstrapped it in the meantime
            with uow:
                existing = uow.users.by_phone(registration.phone)
    if existing.kind != UserKind.OPERATOR:
        raise errors.Conflict("phone number belongs to an account that is not an operator")
    return existing


def _add_user(uow, user: User) -> None:
    """Insert a new user with its events and commit; PhoneTaken if the phone is
    taken, even by a registration racing this one."""
    try:
        if uow.users.by_phone(user.phone) is not None:
            raise PhoneTaken()
        uow.users.add(user)
        uow.collect(user)
        uow.commit()
    except IntegrityError:
        raise PhoneTaken() from None
    REGISTRATIONS.labels(user.kind.value).inc()


def get_profile(uow, user_id: str) -> User:
    """The user (the schema masks phone and ID number); NotFound."""
    with uow:
        user = uow.users.get(user_id)
    if user is None:
        raise errors.NotFound("user not found")
    return user


def person_facts(
    uow,
    crypto,
    user_id: str,
    purpose: str | None = None,
    accessor_id: str | None = None,
    accessor_kind: str | None = None,
    now: datetime | None = None,
) -> PersonFacts:
    """What another service's automatic decision may know of the user: level,
    name and, at level 2, the ID number, birth date and household region.

    Internal use only: for other services' decisions (workflow's rules) and
    a reviewer looking at a case's principal, never for the gateway. The ID
    number is decrypted only to answer and is neither logged nor kept; the
    read is recorded in the same transaction (``pii_access``: ``accessor_id``
    and ``accessor_kind`` as the caller names them, ``purpose``, default
    automatic_decision), unless the accessor is the user themself. Raises
    NotFound, and Unavailable (code ``pii_unreadable``) when the stored number
    cannot be decrypted (a wrong or rotated PII key).
    """
    with uow:
        user = uow.users.get(user_id)
        if user is None:
            raise errors.NotFound("user not found")
        id_number = None
        if user.is_verified and user.id_number_cipher:
            try:
                id_number = crypto.pii_for(user.user_id).decrypt(user.id_number_cipher)
            except PiiDecryptionError:
                log.error("a stored ID number cannot be decrypted", extra={"user_id": user.user_id})
                raise errors.Unavailable(
                    "the ID number on record cannot be read", code="pii_unreadable"
                ) from None
            access = pii_access.read_of_user(
                user.user_id,
                now or utcnow(),
                purpose=purpose,
                accessor_id=accessor_id,
                accessor_kind=accessor_kind,
            )
            if access is not None:
                uow.pii_access.add(access)
                uow.commit()
    return PersonFacts.of(user, id_number)


def verify_real_name(uow, crypto, user_id: str, name, id_number, now=None) -> User:
    """Bind a resident ID number to the user and raise them to level 2.

    Emits ``user_verified`` the first time; the same number again changes
    nothing. Raises Invalid naming ``id_number`` (format, birth date, check
    digit) and/or ``name`` (not the registered name), Conflict when the number
    is bound to another user or the user to another number, NotFound.
    """
    outcome = "error"
    try:
        with uow:
            user = uow.users.get(user_id, for_update=True)
            if user is None:
                outcome = "not_found"
                raise errors.NotFound("user not found")
            changed = user.verify_real_name(name, id_number, crypto.pii_for(user.user_id), now=now)
            if changed:
                holder = uow.users.by_id_number_hash(user.id_number_hash)
                if holder is not None and holder.user_id != user.user_id:
                    raise IdNumberAlreadyBound()
                try:
                    uow.users.save(user)
                    uow.collect(user)
                    uow.commit()
                except IntegrityError:  # another user bound it a moment ago
                    raise IdNumberAlreadyBound() from None
        outcome = "verified" if changed else "unchanged"
        return user
    except ValidationFailed:
        outcome = "invalid"
        raise
    except AlreadyExists:
        outcome = "conflict"
        raise
    finally:
        REAL_NAME_VERIFICATIONS.labels(outcome).inc()


# --- sessions ---------------------------------------------------------------


def login(uow, crypto, phone: str, password: str, client_address=None, now=None) -> TokenPair:
    """Check the password and open a session: an access token and a refresh token.

    Raises Unauthorized with one message whether the phone is unknown or the
    password wrong, with ``retry_after`` while the phone or the address is
    locked (``sessions.check_password``).
    """
    now = now or utcnow()
    checked = sessions.check_password(uow, crypto, phone, password, client_address, now)
    with uow:
        checked.succeeded(uow)
        session, issued = Session.start(checked.user.user_id, now=now, ttl=crypto.refresh_token_ttl)
        uow.sessions.add(session)
        uow.refresh_tokens.add(issued.record)
        uow.commit()
    return _token_pair(uow, crypto, checked.user, session, issued.secret, now)


def refresh(uow, crypto, refresh_token: str, now=None) -> TokenPair:
    """Spend a refresh token of tongban's own login for a new pair (rotation).

    A token that was already spent means it leaked: the whole session is
    revoked (``sessions.rotate``). Unknown, expired and revoked tokens, and a
    department system's (it refreshes at the token endpoint), get the same
    Unauthorized.
    """
    now = now or utcnow()
    with uow:
        try:
            session, issued = sessions.rotate(uow, crypto, refresh_token, now)
        except RefreshTokenReused:
            raise errors.Unauthorized(REFRESH_REJECTED) from None
        except RefreshRejected as exc:
            REFRESHES.labels("rejected").inc()
            log.info("refresh rejected", extra={"reason": exc.message})
            raise errors.Unauthorized(REFRESH_REJECTED) from None
        user = uow.users.get(session.user_id)
        uow.commit()
    REFRESHES.labels("success").inc()
    return _token_pair(uow, crypto, user, session, issued.secret, now)


def _token_pair(uow, crypto, user: User, session: Session, secret: str, now) -> TokenPair:
    issuer = crypto.token_issuer(uow)
    access_token = sessions.access_token(issuer, user, session, now)
    return TokenPair(
        access_token=access_token,
        refresh_token=secret,
        expires_in=issuer.access_ttl,
        session_id=session.session_id,
    )


def logout(uow, crypto, session_id: str, now=None) -> None:
    """Revoke the session and so every refresh token in it; emits ``session_revoked``
    (the gateway then refuses the session's access tokens). A session a
    department system started from a signed-in browser signs that browser
    out everywhere (``sessions.end_browser_session``: every client session
    revoked, every client told). Unknown ids and sessions already ended are
    ignored."""
    now = now or utcnow()
    with uow:
        session = uow.sessions.get(session_id, for_update=True)
        if session is None or session.is_revoked:
            return
        browser_session = (
            uow.browser_sessions.get(session.browser_session_id, for_update=True)
            if session.browser_session_id
            else None
        )
        if browser_session is None or not sessions.end_browser_session(
            uow, crypto, browser_session, "logout", now
        ):
            sessions.revoke(uow, crypto, session, "logout", now)
        uow.commit()


def jwks(uow, crypto) -> dict:
    """The public signing keys as a JWKS document (a key is made on first need)."""
    return crypto.token_issuer(uow).jwks()


# --- enterprises ------------------------------------------------------------


def register_enterprise(uow, actor: dict, name, uscc, legal_representative, now=None) -> Enterprise:
    """A real-name verified user registers an enterprise; emits ``enterprise_registered``.

    The level is read from the database, not the token, so a user verified
    since the token was issued may go ahead. Raises Forbidden below level 2,
    Invalid naming each bad field (uscc: GB 32100 check character), Conflict
    when the code is registered already.
    """
    with uow:
        owner = uow.users.get(actor["user_id"])
        if owner is None:
            raise NotPermitted("the acting user is unknown")
        enterprise = Enterprise.register(
            owner, name=name, uscc=uscc, legal_representative=legal_representative, now=now
        )
        try:
            if uow.enterprises.by_uscc(enterprise.uscc) is not None:
                raise UsccTaken()
            uow.enterprises.add(enterprise)
            uow.collect(enterprise)
            uow.commit()
        except IntegrityError:
            raise UsccTaken() from None
    return enterprise


def get_enterprise(uow, uscc) -> Enterprise:
    """The enterprise with this credit code; Invalid for a malformed code, NotFound."""
    try:
        code = validate_uscc(uscc)
    except InvalidUscc as exc:
        raise ValidationFailed({"uscc": exc.reason}) from None
    with uow:
        enterprise = uow.enterprises.by_uscc(code)
    if enterprise is None:
        raise errors.NotFound("enterprise not found")
    return enterprise
