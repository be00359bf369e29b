"""What tongban's own login and the OpenID provider share: the password check
with its lockout, refresh-token rotation, and ending sessions (one, or every
session of a signed-in browser).

The functions that take no ``with uow`` themselves run inside the caller's
transaction; the caller commits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.common import errors
from services.identity.domain.exceptions import RefreshTokenReused, UnknownRefreshToken
from services.identity.domain.model import IssuedRefreshToken, Session, User, hash_refresh_token
from services.identity.domain.oidc import BrowserSession, logouts_due
from services.identity.metrics import LOGINS, REFRESHES
from services.identity.service_layer import lockout

log = logging.getLogger(__name__)

# One message for an unknown phone and a wrong password, so a caller cannot
# tell which phones are registered.
BAD_CREDENTIALS = "phone number or password is incorrect"


@dataclass
class PasswordCheck:
    """A password that matched: the account, the sign-in attempt (its
    counters are cleared on success) and the upgraded hash, if any."""

    user: User
    attempt: lockout.SignInAttempt
    new_hash: str | None

    def succeeded(self, uow) -> None:
        """Inside the transaction that signs the user in: clear the phone's
        failures and store the upgraded hash."""
        lockout.succeeded(uow, self.attempt)
        if self.new_hash is not None:
            uow.users.set_password_hash(self.user.user_id, self.new_hash)
        LOGINS.labels("success").inc()


def check_password(uow, crypto, phone: str, password: str, client_address, now) -> PasswordCheck:
    """The account whose phone and password these are.

    Raises Unauthorized with one message whether the phone is unknown or the
    password wrong; an unknown phone still costs one argon2 verification.
    Failures are counted per phone and per ``client_address``: while either is
    locked (``service_layer.lockout``) the same Unauthorized carries
    ``retry_after`` (seconds) and no password is checked, not even a right one.
    """
    phone = phone.strip()
    with uow:
        user = uow.users.by_phone(phone)
        attempt = lockout.begin(uow, phone, client_address, now)
    if attempt.retry_after:
        LOGINS.labels("locked").inc()
        raise errors.Unauthorized(BAD_CREDENTIALS, {"retry_after": str(attempt.retry_after)})
    if user is None:
        crypto.verify_dummy(password)
        lockout.failed(uow, attempt)
        LOGINS.labels("unknown_phone").inc()
        raise errors.Unauthorized(BAD_CREDENTIALS)
    if not crypto.verify_password(user.password_hash, password):
        lockout.failed(uow, attempt)
        LOGINS.labels("wrong_password").inc()
        raise errors.Unauthorized(BAD_CREDENTIALS)
    # Hash parameters were raised since this password was set: upgrade it now,
    # the only moment the plain password is at hand.
    new_hash = crypto.hash_password(password) if crypto.needs_rehash(user.password_hash) else None
    return PasswordCheck(user=user, attempt=attempt, new_hash=new_hash)


def access_token(issuer, user: User, session: Session, now: datetime, extra_claims=None) -> str:
    """A signed access token of ``session`` for ``user`` (``issuer``: a
    ``TokenIssuer``); a department system's carries its ``client_id`` and
    ``scope`` in ``extra_claims``."""
    return issuer.issue(
        user_id=user.user_id,
        session_id=session.session_id,
        kind=user.kind.value,
        roles=user.roles,
        department_code=user.department_code,
        assurance_level=user.assurance_level,
        name=user.name,
        now=now,
        extra_claims=extra_claims,
    )


def access_token_ttl(crypto) -> timedelta:
    return timedelta(seconds=crypto.access_token_seconds)


def rotate(
    uow, crypto, refresh_token: str, now: datetime, client_id: str | None = None
) -> tuple[Session, IssuedRefreshToken]:
    """Spend a refresh token of a session of ``client_id`` (None: tongban's
    own login) and issue its successor, stored; the caller commits.

    A token that was already spent means it leaked: the whole session is
    revoked, with ``session_revoked``, and that is committed before
    RefreshTokenReused is raised. The token's row is locked, and marking it
    spent is conditional, so of two refreshes racing with one token only one
    wins; the other counts as a reuse. Unknown, expired and revoked tokens,
    and another client's, raise the other RefreshRejected errors.
    """
    token = uow.refresh_tokens.get(hash_refresh_token(refresh_token), for_update=True)
    session = uow.sessions.get(token.session_id, for_update=True) if token else None
    try:
        if token is None or session is None or session.client_id != client_id:
            raise UnknownRefreshToken()
        issued = session.rotate(token, now=now, ttl=crypto.refresh_token_ttl)
        if not uow.refresh_tokens.mark_used(token):
            session.revoke(now=now, reason="refresh token reused")
            raise RefreshTokenReused()
    except RefreshTokenReused:
        uow.sessions.save(session)
        uow.emit(session.revoked_event(access_token_ttl(crypto)))
        uow.commit()
        REFRESHES.labels("reused").inc()
        log.warning(
            "refresh token reused; session revoked",
            extra={"session_id": session.session_id, "user_id": session.user_id},
        )
        raise
    uow.refresh_tokens.add(issued.record)
    return session, issued


def revoke(uow, crypto, session: Session, reason: str, now: datetime) -> bool:
    """Revoke one session with ``session_revoked``; False when it was revoked already."""
    if session.is_revoked:
        return False
    session.revoke(now=now, reason=reason)
    uow.sessions.save(session)
    uow.emit(session.revoked_event(access_token_ttl(crypto)))
    return True


def end_browser_session(
    uow, crypto, browser_session: BrowserSession, reason: str, now: datetime
) -> bool:
    """Sign a browser out everywhere: the browser session ends, every client
    session started from it is revoked (``session_revoked`` each) and every
    client that got a code in it is due a back-channel logout
    (``backchannel_logout_due`` each). False, and nothing emitted, when it
    had ended already (ending twice announces once)."""
    if not browser_session.end(reason, now) or not uow.browser_sessions.save(browser_session):
        return False
    for session in uow.sessions.of_browser_session(
        browser_session.browser_session_id, for_update=True
    ):
        revoke(uow, crypto, session, reason, now)
    client_ids = uow.authorization_codes.clients_of_browser_session(
        browser_session.browser_session_id
    )
    uow.emit(*logouts_due(browser_session, uow.oidc_clients.get_many(client_ids)))
    log.info(
        "browser session ended",
        extra={
            "browser_session_id": browser_session.browser_session_id,
            "user_id": browser_session.user_id,
            "reason": reason,
            "clients": len(client_ids),
        },
    )
    return True
