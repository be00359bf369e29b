"""OpenID Connect provider use cases: department systems sign their users in
with tongban accounts (the gateway serves the endpoints and pages).

Each takes the unit of work first; ``crypto`` gives the signing keys and
token lifetimes, ``context`` (``adapters.oidc_context.OidcContext``) the
issuer, the OIDC lifetimes and the back-channel sender. Each command is one
transaction; its events go to the outbox in it. The signing keys are read
before the transaction opens (the key ring runs its own short one).

The protocol itself is Authlib's (``adapters.oidc_server``); what it asks of
tongban is answered by :class:`_Backend` here. The OAuth answers (redirects,
token endpoint errors) are data, not errors: their shape is the protocol's.

Nothing here logs a secret, a code, a token or an ID number.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from authlib.common.urls import add_params_to_uri

from services.common import errors
from services.common.messaging.envelope import utcnow
from services.identity.adapters.backchannel import BackchannelLogoutFailed
from services.identity.adapters.oidc_server import (
    AuthorizationAnswer,
    AuthorizationRequest,
    GrantRefused,
    OidcServer,
)
from services.identity.domain.exceptions import NotPermitted, RefreshRejected
from services.identity.domain.mandates import PrincipalKind, china_today
from services.identity.domain.model import (
    Session,
    StaffRole,
    User,
    UserKind,
    hash_refresh_token,
)
from services.identity.domain.oidc import (
    OPENID,
    AuthorizationCode,
    BrowserSession,
    ClientSettings,
    CodeAlreadyUsed,
    CodeRejected,
    ConsentGrant,
    OidcClient,
    Person,
    acr_for,
    digest,
    id_token_claims,
    logout_token_claims,
    mandate_claim,
    needs_consent,
    needs_sign_in,
    scope_list,
    user_claims,
)
from services.identity.metrics import BACKCHANNEL_LOGOUTS, OIDC_TOKENS
from services.identity.service_layer import sessions

log = logging.getLogger(__name__)

CONSUMER = "identity.backchannel_logout"
LOGOUT_TOKEN_TYPE = "logout+jwt"  # noqa: S105  (a JWT type, not a secret)


# --- department systems (operators) ------------------------------------------


# What a client's answer shows (never its secret's digest).
CLIENT_FIELDS = (
    "client_id",
    "name",
    "department_code",
    "redirect_uris",
    "post_logout_redirect_uris",
    "backchannel_logout_uri",
    "jwks",
    "token_endpoint_auth_method",
    "skip_consent",
    "created_at",
    "updated_at",
)


def client_view(client: OidcClient, secret: str | None = None) -> dict[str, Any]:
    """The client as answered (``OidcClient``; with ``client_secret`` for
    ``OidcClientSecret``)."""
    return {**{name: getattr(client, name) for name in CLIENT_FIELDS}, "client_secret": secret}


def _require_operator(actor: Mapping) -> None:
    if actor.get("kind") != UserKind.OPERATOR:
        raise NotPermitted("only an operator may manage department systems")


def _is_dept_admin(actor: Mapping) -> bool:
    return actor.get("kind") == UserKind.STAFF and StaffRole.DEPT_ADMIN in (
        actor.get("roles") or ()
    )


def register_client(uow, actor: Mapping, now: datetime | None = None, **body) -> dict:
    """An operator registers a department system (``body``: the fields of
    ``contract.OidcClientBody``); emits ``oidc_client_registered``. The answer
    carries its secret, this once (none for private_key_jwt and public
    clients). Forbidden unless operator; Invalid naming each bad field."""
    _require_operator(actor)
    settings = ClientSettings.checked(**body)
    with uow:
        client, secret = OidcClient.register(settings, actor["user_id"], now=now)
        uow.oidc_clients.add(client)
        uow.collect(client)
        uow.commit()
    log.info(
        "department system registered",
        extra={"client_id": client.client_id, "registered_by": actor["user_id"]},
    )
    return client_view(client, secret)


def list_clients(
    uow, actor: Mapping, page: int = 1, page_size: int = 20, department_code: str | None = None
) -> dict:
    """A page of the registered systems: every one for an operator (of one
    department when asked), the own department's for its dept_admin."""
    if _is_dept_admin(actor):
        if department_code not in (None, actor.get("department_code")):
            raise NotPermitted("a department's administrator sees their own department's")
        department_code = actor.get("department_code")
    else:
        _require_operator(actor)
    with uow:
        found, total = uow.oidc_clients.page(department_code, page, page_size)
    items = [client_view(client) for client in found]
    return {"items": items, "page": page, "page_size": page_size, "total": total}


def get_client(uow, actor: Mapping, client_id: str) -> dict:
    """The system, for an operator or its department's dept_admin; NotFound
    for another department's (its existence is not theirs to know)."""
    if not _is_dept_admin(actor):
        _require_operator(actor)
    with uow:
        client = _active_client(uow, client_id)
    if _is_dept_admin(actor) and client.department_code != actor.get("department_code"):
        raise errors.NotFound("department system not found")
    return client_view(client)


def update_client(uow, actor: Mapping, client_id: str, now: datetime | None = None, **body) -> dict:
    """An operator changes a registration (``body`` as for ``register_client``);
    emits ``oidc_client_updated``. A client that newly authenticates with a
    secret gets one from ``rotate_client_secret``. Forbidden, NotFound, Invalid."""
    _require_operator(actor)
    settings = ClientSettings.checked(**body)
    with uow:
        client = _active_client(uow, client_id, for_update=True)
        client.update(settings, actor["user_id"], now=now)
        uow.oidc_clients.save(client)
        uow.collect(client)
        uow.commit()
    return client_view(client)


def delete_client(uow, crypto, actor: Mapping, client_id: str, now: datetime | None = None):
    """An operator deletes a system (soft): it signs nobody in and its tokens
    are refused; its sessions are revoked (``session_revoked`` each); emits
    ``oidc_client_deleted``. Forbidden, NotFound."""
    _require_operator(actor)
    now = now or utcnow()
    with uow:
        client = _active_client(uow, client_id, for_update=True)
        client.delete(actor["user_id"], now=now)
        uow.oidc_clients.save(client)
        for session in uow.sessions.active_of_client(client_id, for_update=True):
            sessions.revoke(uow, crypto, session, "client deleted", now)
        uow.collect(client)
        uow.commit()
    log.info(
        "department system deleted",
        extra={"client_id": client_id, "deleted_by": actor["user_id"]},
    )


def rotate_client_secret(uow, actor: Mapping, client_id: str, now: datetime | None = None) -> dict:
    """A new secret for the system (answered once); the old stops working.
    Forbidden, NotFound, Conflict for a client that has no secret."""
    _require_operator(actor)
    with uow:
        client = _active_client(uow, client_id, for_update=True)
        secret = client.rotate_secret(now=now)
        uow.oidc_clients.save(client)
        uow.commit()
    log.info(
        "department system secret rotated",
        extra={"client_id": client_id, "rotated_by": actor["user_id"]},
    )
    return client_view(client, secret)


def _active_client(uow, client_id: str, for_update: bool = False) -> OidcClient:
    client = uow.oidc_clients.get(client_id, for_update=for_update)
    if client is None or client.is_deleted:
        raise errors.NotFound("department system not found")
    return client


# --- signing in ---------------------------------------------------------------


def sign_in(
    uow, crypto, context, phone: str, password: str, client_address=None, now=None
) -> dict[str, Any]:
    """Sign a browser in with a password: a browser session whose secret is
    the ``tongban_sso`` cookie's value. The same checks, lockout and
    Unauthorized as ``login`` (``sessions.check_password``)."""
    now = now or utcnow()
    checked = sessions.check_password(uow, crypto, phone, password, client_address, now)
    settings = context.settings
    with uow:
        checked.succeeded(uow)
        browser_session, secret = BrowserSession.start(
            checked.user.user_id, settings.browser_session_ttl, now=now
        )
        uow.browser_sessions.add(browser_session)
        uow.commit()
    return {
        "browser_session": secret,
        "expires_in": int(settings.browser_session_ttl.total_seconds()),
        "user_id": checked.user.user_id,
    }


def _browser_session(uow, secret: str | None, now: datetime) -> BrowserSession | None:
    """The cookie's browser session while it lasts, else None."""
    if not secret:
        return None
    found = uow.browser_sessions.by_secret_hash(digest(secret))
    return found if found is not None and found.is_active(now) else None


# --- the authorization endpoint ----------------------------------------------


AUTHORIZE_FIELDS = ("location", "error", "error_description", "client", "scopes", "user_name")
END_SESSION_FIELDS = ("location", "error", "error_description", "client")


def _outcome(kind: str, fields=AUTHORIZE_FIELDS, **values) -> dict[str, Any]:
    """An outcome answer: ``kind``, the values given, every other field null."""
    return {"outcome": kind, **dict.fromkeys(fields), **values}


def _answered(answer: AuthorizationAnswer) -> dict[str, Any]:
    if answer.location is not None:
        return _outcome("redirect", location=answer.location)
    return _outcome("error", error=answer.error, error_description=answer.error_description)


def authorize(uow, crypto, context, query: Mapping[str, str], browser_session=None, now=None):
    """The authorization endpoint (code flow, PKCE S256): a code for the
    client, or what the browser must do first (``AuthorizeOutcome``).

    An unknown or deleted client, or a redirect URI not registered exactly,
    is an ``error`` for the user, never a redirect. Other bad requests go
    back to the client. No valid browser session, ``prompt=login`` or
    ``max_age`` elapsed: ``sign_in`` (``login_required`` for prompt=none);
    a scope not consented yet, or ``prompt=consent``: ``consent``
    (``consent_required`` for prompt=none). Else a code (single use,
    OIDC_CODE_SECONDS) in the redirect, with state and iss.
    """
    now = now or utcnow()
    with uow:
        flow = _Flow(uow, crypto, context, query, browser_session, now)
        answer = flow.check()
        if answer is not None:
            return answer
        if flow.needs_consent():
            return flow.ask_consent()
        answer = flow.issue_code()
        uow.commit()
    return answer


def consent(
    uow, crypto, context, query: Mapping[str, str], browser_session=None, allow=False, now=None
):
    """The user's answer on the consent page: the request is checked again
    as ``authorize`` does (a bad one gives the same outcomes); ``allow``
    records the scopes (added to what the user allowed the client before)
    and issues the code; a refusal redirects with ``access_denied``."""
    now = now or utcnow()
    with uow:
        flow = _Flow(uow, crypto, context, query, browser_session, now)
        answer = flow.check()
        if answer is not None:
            return answer
        if not allow:
            return _answered(flow.refuse("access_denied"))
        flow.record_consent()
        answer = flow.issue_code()
        uow.commit()
    return answer


class _Flow:
    """One authorization request (authorize or consent), in one transaction."""

    def __init__(self, uow, crypto, context, query, secret, now: datetime):
        self.uow = uow
        self.query = dict(query)
        self.now = now
        self.backend = _Backend(uow, crypto, context.settings, now)
        self.server = OidcServer(self.backend, context.settings.issuer, clock=now.timestamp)
        self.browser_session = _browser_session(uow, secret, now)
        self.request: AuthorizationRequest | None = None

    def check(self) -> dict | None:
        """None when the request may go on (to consent or a code); else the outcome."""
        answer = self.server.check_authorization(self.query, self.browser_session)
        if answer.request is None:
            return _answered(answer)
        self.request = request = answer.request
        if needs_sign_in(self.browser_session, self.now, request.prompt, request.max_age):
            if "none" in request.prompt:
                return _answered(self.refuse("login_required"))
            return _outcome("sign_in", client=request.client.summary())
        return None

    def needs_consent(self) -> bool:
        request = self.request
        grant = self.uow.consents.get(self.browser_session.user_id, request.client.client_id)
        return needs_consent(request.client, grant, request.scopes, request.prompt)

    def ask_consent(self) -> dict:
        request = self.request
        if "none" in request.prompt:
            return _answered(self.refuse("consent_required"))
        user = self.uow.users.get(self.browser_session.user_id)
        return _outcome(
            "consent",
            client=request.client.summary(),
            scopes=request.scopes,
            user_name=user.name if user is not None else None,
        )

    def record_consent(self) -> None:
        request = self.request
        user_id = self.browser_session.user_id
        grant = self.uow.consents.get(user_id, request.client.client_id, for_update=True)
        is_new = grant is None
        if is_new:
            grant = ConsentGrant(user_id, request.client.client_id, [], self.now)
        grant.add(request.scopes, now=self.now)
        self.uow.consents.put(grant, is_new=is_new)

    def issue_code(self) -> dict:
        return _answered(self.server.issue_code(self.query, self.browser_session))

    def refuse(self, error: str) -> AuthorizationAnswer:
        return self.server.refuse(self.query, self.request.redirect_uri, error)


# --- the token endpoint -------------------------------------------------------


def token(uow, crypto, context, form: Mapping[str, str], authorization=None, now=None) -> dict:
    """The token endpoint (authorization_code and refresh_token grants):
    ``TokenAnswer`` ``{status, body, headers}``, the tokens or an RFC 6749
    §5.2 error. A code used twice revokes the session its first exchange
    started; a refresh token used twice revokes its session."""
    now = now or utcnow()
    issuer = crypto.token_issuer(uow)
    with uow:
        backend = _Backend(uow, crypto, context.settings, now, issuer)
        server = OidcServer(backend, context.settings.issuer, clock=now.timestamp)
        answer = server.token_answer(form, authorization)
        if answer["status"] == 200:
            uow.commit()
    grant_type = form.get("grant_type")
    OIDC_TOKENS.labels(
        grant_type if grant_type in ("authorization_code", "refresh_token") else "other",
        "issued" if answer["status"] == 200 else answer["body"].get("error", "error"),
    ).inc()
    return answer


class _Backend:
    """What the protocol asks of tongban (``adapters.oidc_server.OidcBackend``),
    inside the caller's transaction."""

    def __init__(self, uow, crypto, settings, now: datetime, issuer=None):
        self.uow = uow
        self.crypto = crypto
        self.settings = settings
        self.now = now
        self.issuer = issuer
        self.scope: str | None = None

    def client(self, client_id: str) -> OidcClient | None:
        client = self.uow.oidc_clients.get(client_id)
        return client if client is not None and not client.is_deleted else None

    def remember_assertion(self, client_id: str, jti: str, expires_at: datetime) -> bool:
        return self.uow.client_assertions.remember(client_id, jti, expires_at)

    def nonce_seen(self, client_id: str, nonce: str) -> bool:
        return self.uow.authorization_codes.nonce_seen(client_id, nonce)

    def save_code(self, code: str, request: AuthorizationRequest, signed_in: BrowserSession):
        user = self.uow.users.get(signed_in.user_id)
        self.uow.authorization_codes.add(
            AuthorizationCode.issue(
                code,
                client_id=request.client.client_id,
                browser_session=signed_in,
                redirect_uri=request.redirect_uri,
                scope=request.scope,
                nonce=request.nonce,
                code_challenge=request.code_challenge,
                code_challenge_method=request.code_challenge_method,
                acr=acr_for(user.assurance_level),
                ttl=self.settings.code_ttl,
                now=self.now,
            )
        )

    def code_for(self, code: str, client: OidcClient) -> AuthorizationCode | None:
        found = self.uow.authorization_codes.get(digest(code), for_update=True)
        if found is None or found.client_id != client.client_id:
            return None
        try:
            found.check_usable(self.now)
        except CodeAlreadyUsed:
            self._revoke_code_session(found)
            return None
        except CodeRejected:
            return None
        return found

    def _revoke_code_session(self, code: AuthorizationCode) -> None:
        """A code came back: whoever has it may not be its client, so the
        session its first exchange started ends now (committed before the
        refusal is answered)."""
        session = (
            self.uow.sessions.get(code.session_id, for_update=True) if code.session_id else None
        )
        if session is not None and sessions.revoke(
            self.uow, self.crypto, session, "authorization code reused", self.now
        ):
            self.uow.commit()
            log.warning(
                "authorization code reused; session revoked",
                extra={"session_id": session.session_id, "client_id": code.client_id},
            )

    def exchange_code(self, code: AuthorizationCode, client: OidcClient) -> dict:
        user = self.uow.users.get(code.user_id)
        if user is None:
            raise GrantRefused("The code's user is gone.")
        session, issued = Session.start(
            user.user_id,
            now=self.now,
            ttl=self.crypto.refresh_token_ttl,
            client_id=client.client_id,
            browser_session_id=code.browser_session_id,
            scope=code.scope,
        )
        code.redeem(session.session_id, self.now)
        if not self.uow.authorization_codes.mark_used(code):
            raise GrantRefused("The code was used already.")
        self.uow.sessions.add(session)
        self.uow.refresh_tokens.add(issued.record)
        return self._tokens(user, session, issued.secret, code.scope)

    def refresh_session(self, refresh_token: str) -> Session | None:
        token = self.uow.refresh_tokens.get(hash_refresh_token(refresh_token))
        return self.uow.sessions.get(token.session_id) if token is not None else None

    def refresh(self, refresh_token: str, client: OidcClient, scope: str) -> dict:
        try:
            session, issued = sessions.rotate(
                self.uow, self.crypto, refresh_token, self.now, client_id=client.client_id
            )
        except RefreshRejected:
            raise GrantRefused("The refresh token is invalid, expired or revoked.") from None
        user = self.uow.users.get(session.user_id)
        if user is None:
            raise GrantRefused("The token's user is gone.")
        return self._tokens(user, session, issued.secret, scope)

    def _tokens(self, user: User, session: Session, refresh_secret: str, scope: str) -> dict:
        self.scope = scope
        access_token = sessions.access_token(
            self.issuer,
            user,
            session,
            self.now,
            extra_claims={"client_id": session.client_id, "scope": scope},
        )
        return {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": self.issuer.access_ttl,
            "refresh_token": refresh_secret,
            "scope": scope,
        }

    def id_token(self, client: OidcClient, grant, at_hash: str) -> str:
        """The ID token of a code's exchange, or of a refresh (the browser
        session's auth_time and amr, the user's level now, no nonce)."""
        browser_session_id = grant.browser_session_id
        browser_session = (
            self.uow.browser_sessions.get(browser_session_id) if browser_session_id else None
        )
        user = self.uow.users.get(grant.user_id)
        if isinstance(grant, AuthorizationCode):
            auth_time, acr, nonce = grant.auth_time, grant.acr, grant.nonce
        else:
            auth_time = browser_session.auth_time if browser_session else grant.created_at
            acr, nonce = acr_for(user.assurance_level), None
        scopes = scope_list(self.scope)
        claims = id_token_claims(
            issuer=self.settings.issuer,
            client_id=client.client_id,
            person=person_of(self.uow, user, scopes, self.now),
            scopes=scopes,
            browser_session_id=browser_session_id,
            auth_time=auth_time,
            amr=browser_session.amr if browser_session else (),
            acr=acr,
            ttl=self.settings.id_token_ttl,
            now=self.now,
            nonce=nonce,
            at_hash=at_hash,
        )
        return self.issuer.sign(claims)


# --- claims -------------------------------------------------------------------


def person_of(uow, user: User, scopes, now: datetime) -> Person:
    """What the claims of ``scopes`` are made of; the enterprises and
    mandates are read only when asked for."""
    scopes = set(scopes)
    enterprises: tuple = ()
    if "enterprise" in scopes:
        enterprises = tuple(
            {"uscc": enterprise.uscc, "name": enterprise.name, "role": role}
            for enterprise, role in uow.enterprises.acting_for(user.user_id)
        )
    mandates: tuple = ()
    if "agent" in scopes:
        mandates = tuple(
            mandate_claim(mandate, _principal_ref(uow, mandate.principal))
            for mandate in uow.mandates.in_force_for_agent(user.user_id, china_today(now))
        )
    return Person(
        user_id=user.user_id,
        name=user.name,
        phone=user.phone,
        kind=user.kind.value,
        assurance_level=user.assurance_level,
        department_code=user.department_code,
        roles=tuple(user.roles),
        enterprises=enterprises,
        mandates=mandates,
    )


def _principal_ref(uow, principal) -> str | None:
    """An enterprise's credit code; a person's masked ID number (never the number)."""
    if principal.kind == PrincipalKind.ENTERPRISE:
        return principal.key
    person = uow.users.get(principal.key)
    return person.id_number_masked if person is not None else None


def userinfo(uow, user_id: str, scope: str, client_id: str, now=None) -> dict[str, Any]:
    """The userinfo endpoint: ``sub`` and the claims of the access token's
    scope. The gateway verified the token; Unauthorized when it was not
    issued for OpenID Connect, or its client was deleted since."""
    now = now or utcnow()
    scopes = scope_list(scope)
    if OPENID not in scopes:
        raise errors.Unauthorized("the access token was not issued for OpenID Connect")
    with uow:
        client = uow.oidc_clients.get(client_id)
        if client is None or client.is_deleted:
            raise errors.Unauthorized("the access token's client is not registered")
        user = uow.users.get(user_id)
        if user is None:
            raise errors.Unauthorized("the access token's user is gone")
        return user_claims(person_of(uow, user, scopes, now), scopes)


# --- signing out ----------------------------------------------------------------


def _end_session_outcome(kind: str, **values) -> dict[str, Any]:
    return _outcome(kind, END_SESSION_FIELDS, **values)


def end_session(
    uow, crypto, context, query: Mapping[str, str], browser_session=None, confirmed=False, now=None
) -> dict[str, Any]:
    """RP-initiated logout (``EndSessionOutcome``).

    ``id_token_hint`` must be ours (any published key; expired is fine) and,
    with ``client_id`` too, for that client; ``post_logout_redirect_uri``
    must be registered exactly for the client (named by either), else
    ``error``. Without a valid hint and not ``confirmed``: ``confirm`` (the
    user is asked). Else the browser session (the cookie's, or the hint's
    ``sid``) ends everywhere (``sessions.end_browser_session``), and the
    answer is ``redirect`` (to post_logout_redirect_uri, with state) or
    ``signed_out``.
    """
    now = now or utcnow()
    settings = context.settings
    # A hint that is not ours (or not readable any more) counts as none: the
    # user is asked before signing out.
    hint = None
    if query.get("id_token_hint"):
        hint = crypto.token_issuer(uow).read_own(query["id_token_hint"], settings.issuer)
    client_id = query.get("client_id")
    hinted_client = hint.get("aud") if hint else None
    if isinstance(hinted_client, list):
        hinted_client = hinted_client[0] if len(hinted_client) == 1 else None
    if client_id and hint and client_id != hinted_client:
        return _end_session_outcome(
            "error",
            error="invalid_request",
            error_description="The client_id is not the id_token_hint's audience.",
        )
    client_id = client_id or hinted_client
    redirect_uri = query.get("post_logout_redirect_uri")
    with uow:
        client = uow.oidc_clients.get(client_id) if client_id else None
        if client is not None and client.is_deleted:
            client = None
        if redirect_uri and (
            client is None or not client.has_post_logout_redirect_uri(redirect_uri)
        ):
            return _end_session_outcome(
                "error",
                error="invalid_request",
                error_description="The post_logout_redirect_uri is not registered for the client.",
            )
        summary = client.summary() if client is not None else None
        if not confirmed and hint is None:
            return _end_session_outcome("confirm", client=summary)
        signed_in = None
        if browser_session:
            signed_in = uow.browser_sessions.by_secret_hash(
                digest(browser_session), for_update=True
            )
        if signed_in is None and hint and hint.get("sid"):
            signed_in = uow.browser_sessions.get(hint["sid"], for_update=True)
        if signed_in is not None and sessions.end_browser_session(
            uow, crypto, signed_in, "end session", now
        ):
            uow.commit()
    if redirect_uri:
        state = query.get("state")
        location = add_params_to_uri(redirect_uri, [("state", state)]) if state else redirect_uri
        return _end_session_outcome("redirect", location=location, client=summary)
    return _end_session_outcome("signed_out", client=summary)


def deliver_backchannel_logout(uow, crypto, context, event: Mapping, now=None) -> None:
    """Handle ``backchannel_logout_due``: POST the logout token (``jti`` the
    event's) to the client. Delivered once: a redelivered event that was
    delivered already is skipped. A failure raises, and the consumer tries
    again later (then dead-letters); a client deleted since is skipped."""
    payload = event["payload"]
    with uow:
        # A check only (rolled back): the delivery is recorded after it
        # succeeded, so no transaction stays open during the call.
        if not uow.first_delivery(event, CONSUMER):
            return
        client = uow.oidc_clients.get(payload["client_id"])
    if client is None or client.is_deleted:
        BACKCHANNEL_LOGOUTS.labels("skipped").inc()
        _delivered(uow, event)
        return
    issuer = crypto.token_issuer(uow)
    logout_token = issuer.sign(
        logout_token_claims(
            issuer=context.settings.issuer,
            client_id=payload["client_id"],
            user_id=payload["user_id"],
            sid=payload["sid"],
            jti=payload["jti"],
            now=now or utcnow(),
        ),
        typ=LOGOUT_TOKEN_TYPE,
    )
    try:
        context.backchannel.deliver(payload["backchannel_logout_uri"], logout_token)
    except BackchannelLogoutFailed:
        BACKCHANNEL_LOGOUTS.labels("failed").inc()
        log.warning(
            "back-channel logout not delivered; will try again",
            extra={"client_id": payload["client_id"], "jti": payload["jti"]},
        )
        raise
    BACKCHANNEL_LOGOUTS.labels("delivered").inc()
    _delivered(uow, event)


def forget_expired(uow, now: datetime | None = None) -> int:
    """Delete the ids of client assertions that expired (a replay of one is
    refused for its expiry anyway); how many."""
    with uow:
        forgotten = uow.client_assertions.forget_expired(now or utcnow())
        uow.commit()
    return forgotten


def _delivered(uow, event: Mapping) -> None:
    """Record the delivery, so a redelivered event is not sent again."""
    with uow:
        if uow.first_delivery(event, CONSUMER):
            uow.commit()
