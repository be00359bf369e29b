"""tongban as an OpenID Provider: department systems (clients), signed-in
browsers, consent, authorization codes and the claims a client may see.

Plain Python, no framework imports. The protocol's message handling (request
parsing, client authentication, PKCE) is the adapter's (``adapters.oidc_server``);
what is decided here is tongban's: which URIs a department system may
register, when a browser must sign in again or be asked for consent, what a
code and a browser session are worth, and which claims each scope opens.

Secrets (client secrets, browser session cookies, codes) are random enough
that one SHA-256 is the stored form; compare digests with ``hmac.compare_digest``.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

from services.common.errors import Conflict, Invalid
from services.identity.domain.events import (
    BackchannelLogoutDue,
    Event,
    OidcClientDeleted,
    OidcClientRegistered,
    OidcClientUpdated,
)
from services.identity.domain.exceptions import ValidationFailed
from services.identity.domain.mandates import CHINA_TZ, Mandate
from services.identity.domain.model import (
    DEPARTMENT_CODE_MAX,
    ENTERPRISE_NAME_MAX,
    _RecordsEvents,
    name_problem,
    utcnow,
)

OPENID = "openid"
OFFLINE_ACCESS = "offline_access"
# The scopes a department system may ask for, and what each opens (beside sub).
SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    OPENID: ("sub",),
    "profile": ("name",),
    "phone": ("phone_number", "phone_number_verified"),
    "enterprise": ("enterprises",),
    "agent": ("mandates",),
    "staff": ("department_code", "roles"),
    OFFLINE_ACCESS: (),
}
SCOPES = tuple(SCOPE_CLAIMS)
# Authentication methods reference (RFC 8176): a password.
AMR_PASSWORD = ("pwd",)
ASSURANCE_LEVELS = (1, 2)
BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_SECONDS = 120
# A client assertion (private_key_jwt) may not live longer than this: its jti
# is remembered until it expires. An hour is what client libraries make by
# default (Authlib's PrivateKeyJWT), so a department following their
# documentation is not refused.
CLIENT_ASSERTION_MAX_SECONDS = 3600

URI_MAX = 512
URIS_MAX = 10
JWKS_KEYS_MAX = 10
CLIENT_ID_PREFIX = "c_"
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
# Members that only a private key has: a client registers public keys only.
_PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_JWK_TYPES = frozenset({"RSA", "EC"})


class AuthMethod:
    """How a client authenticates at the token endpoint."""

    SECRET_BASIC = "client_secret_basic"  # noqa: S105  (a method name, not a secret)
    PRIVATE_KEY_JWT = "private_key_jwt"
    NONE = "none"


def acr_for(level: int) -> str:
    """The ``acr`` value of an assurance level (1 registered, 2 real-name verified)."""
    return f"urn:tongban:loa:{level}"


ACR_VALUES = tuple(acr_for(level) for level in ASSURANCE_LEVELS)


def digest(secret: str) -> str:
    """SHA-256 hex of a high-entropy secret: the only form stored."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def digest_matches(stored: str | None, presented: str) -> bool:
    return stored is not None and hmac.compare_digest(stored, digest(presented))


def new_client_id() -> str:
    """An opaque client id: ``c_`` and 22 URL-safe random characters."""
    return CLIENT_ID_PREFIX + secrets.token_urlsafe(16)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def scope_list(scope: str | None) -> list[str]:
    """The scope string's values, each once, in the order given."""
    return list(dict.fromkeys((scope or "").split()))


# --- what a department system may register ----------------------------------


def uri_problem(uri: object) -> str | None:
    """Why ``uri`` may not be registered (redirect, post-logout or back-channel),
    or None: absolute, https (http for loopback hosts only), no fragment, no
    user information, no wildcard."""
    if not isinstance(uri, str) or not uri or len(uri) > URI_MAX:
        return f"must be a URL of at most {URI_MAX} characters"
    if any(ch.isspace() for ch in uri) or "*" in uri:
        return "must not contain spaces or wildcards"
    try:
        parts = urlsplit(uri)
        host = parts.hostname
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        return "must be a valid URL"
    if parts.scheme not in ("https", "http") or not host:
        return "must be an absolute http(s) URL"
    if parts.scheme == "http" and not is_loopback(host):
        return "must use https (http only for 127.0.0.1, localhost or [::1])"
    if parts.fragment or uri.endswith("#"):
        return "must not have a fragment"
    if "@" in parts.netloc:
        return "must not carry user information"
    return None


def is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def jwks_problem(jwks: object) -> str | None:
    """Why ``jwks`` is not a public JWKS a client may authenticate with, or None."""
    if not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list):
        return "must be a JWKS: an object with a list of keys"
    keys = jwks["keys"]
    if not 1 <= len(keys) <= JWKS_KEYS_MAX:
        return f"must hold 1 to {JWKS_KEYS_MAX} keys"
    for key in keys:
        if not isinstance(key, Mapping) or key.get("kty") not in _JWK_TYPES:
            return "every key must be an RSA or EC public key"
        if _PRIVATE_JWK_MEMBERS & set(key):
            return "must hold public keys only"
        if key.get("use") not in (None, "sig"):
            return "keys must be for signatures"
    return None


def _uris_problem(uris: object, required: bool) -> str | None:
    if isinstance(uris, str) or not isinstance(uris, Iterable):
        return "must be a list of URLs"
    uris = list(uris)
    if required and not uris:
        return "at least one is required"
    if len(uris) > URIS_MAX:
        return f"at most {URIS_MAX}"
    for uri in uris:
        problem = uri_problem(uri)
        if problem:
            return problem
    return None


@dataclass(frozen=True)
class ClientSettings:
    """A department system's registration as an operator gives it, checked."""

    name: str
    department_code: str
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...] = ()
    backchannel_logout_uri: str | None = None
    jwks: dict | None = None
    public: bool = False
    skip_consent: bool = False

    @classmethod
    def checked(
        cls,
        name: object,
        department_code: object,
        redirect_uris: object,
        post_logout_redirect_uris: object = (),
        backchannel_logout_uri: object = None,
        jwks: object = None,
        public: bool = False,
        skip_consent: bool = False,
    ) -> ClientSettings:
        """The settings, or ValidationFailed naming every bad field."""
        problems = {
            "name": name_problem(name, ENTERPRISE_NAME_MAX),
            "department_code": _department_code_problem(department_code),
            "redirect_uris": _uris_problem(redirect_uris, required=True),
            "post_logout_redirect_uris": _uris_problem(
                post_logout_redirect_uris or (), required=False
            ),
            "backchannel_logout_uri": (
                uri_problem(backchannel_logout_uri) if backchannel_logout_uri is not None else None
            ),
            "jwks": jwks_problem(jwks) if jwks is not None else None,
        }
        if public and jwks is not None:
            problems["public"] = "a public client has no keys: leave jwks out"
        problems = {name_: reason for name_, reason in problems.items() if reason}
        if problems:
            raise ValidationFailed(problems)
        assert isinstance(name, str) and isinstance(department_code, str)
        return cls(
            name=name.strip(),
            department_code=department_code.strip(),
            redirect_uris=tuple(dict.fromkeys(redirect_uris)),  # type: ignore[arg-type]
            post_logout_redirect_uris=tuple(dict.fromkeys(post_logout_redirect_uris or ())),  # type: ignore[arg-type]
            backchannel_logout_uri=backchannel_logout_uri,  # type: ignore[arg-type]
            jwks=dict(jwks) if jwks is not None else None,  # type: ignore[call-overload]
            public=bool(public),
            skip_consent=bool(skip_consent),
        )


def _department_code_problem(code: object) -> str | None:
    if not isinstance(code, str) or not code.strip():
        return "is required"
    if len(code.strip()) > DEPARTMENT_CODE_MAX:
        return f"must be at most {DEPARTMENT_CODE_MAX} characters"
    return None


@dataclass(eq=False)
class OidcClient(_RecordsEvents):
    """A registered department system. Its secret is kept as a digest only
    (none for private_key_jwt and public clients); a deleted client signs
    nobody in and its tokens are refused."""

    client_id: str
    name: str
    department_code: str
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    backchannel_logout_uri: str | None
    jwks: dict | None
    public: bool
    skip_consent: bool
    secret_hash: str | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None
    events: list[Event] = field(default_factory=list, repr=False)

    @classmethod
    def register(
        cls,
        settings: ClientSettings,
        actor_id: str,
        *,
        client_id: str | None = None,
        secret: str | None = None,
        now: datetime | None = None,
    ) -> tuple[OidcClient, str | None]:
        """A new client and its secret (None when it authenticates otherwise);
        records OidcClientRegistered. ``client_id``/``secret``: given ones (the
        demo bootstrap), else new random ones."""
        now = now or utcnow()
        client = cls(
            client_id=client_id or new_client_id(),
            name="",
            department_code="",
            redirect_uris=[],
            post_logout_redirect_uris=[],
            backchannel_logout_uri=None,
            jwks=None,
            public=False,
            skip_consent=False,
            secret_hash=None,
            created_at=now,
            updated_at=now,
        )
        client._apply(settings)
        secret = client._new_secret(secret)
        client._record(
            OidcClientRegistered(client.client_id, client.department_code, actor_id, now)
        )
        return client, secret

    def update(self, settings: ClientSettings, actor_id: str, now: datetime | None = None) -> None:
        """Change the registration; records OidcClientUpdated. A client that no
        longer authenticates with a secret loses it; one that newly does gets
        its first from ``rotate_secret``."""
        self._require_active()
        now = now or utcnow()
        self._apply(settings)
        if self.token_endpoint_auth_method != AuthMethod.SECRET_BASIC:
            self.secret_hash = None
        self.updated_at = now
        self._record(OidcClientUpdated(self.client_id, self.department_code, actor_id, now))

    def rotate_secret(self, now: datetime | None = None) -> str:
        """A new secret; the old one stops working. Conflict for a client that
        authenticates without one."""
        self._require_active()
        if self.token_endpoint_auth_method != AuthMethod.SECRET_BASIC:
            raise Conflict("this client authenticates without a secret", code="no_secret")
        self.updated_at = now or utcnow()
        secret = self._new_secret(None)
        assert secret is not None
        return secret

    def delete(self, actor_id: str, now: datetime | None = None) -> bool:
        """Soft delete; records OidcClientDeleted. False when already deleted."""
        if self.is_deleted:
            return False
        now = now or utcnow()
        self.deleted_at = self.updated_at = now
        self._record(OidcClientDeleted(self.client_id, self.department_code, actor_id, now))
        return True

    def set_secret(self, secret: str, now: datetime | None = None) -> None:
        """Take a given secret (a deployment's configured one) instead of a
        random one; the old stops working."""
        self._require_active()
        if self.token_endpoint_auth_method != AuthMethod.SECRET_BASIC:
            raise Conflict("this client authenticates without a secret", code="no_secret")
        self.secret_hash = digest(secret)
        self.updated_at = now or utcnow()

    def matches(self, settings: ClientSettings, secret: str | None) -> bool:
        """Whether the client is registered as ``settings`` say, with ``secret``."""
        current = ClientSettings(
            name=self.name,
            department_code=self.department_code,
            redirect_uris=tuple(self.redirect_uris),
            post_logout_redirect_uris=tuple(self.post_logout_redirect_uris),
            backchannel_logout_uri=self.backchannel_logout_uri,
            jwks=self.jwks,
            public=self.public,
            skip_consent=self.skip_consent,
        )
        same_secret = secret is None or self.secret_matches(secret)
        return not self.is_deleted and current == settings and same_secret

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def token_endpoint_auth_method(self) -> str:
        if self.jwks is not None:
            return AuthMethod.PRIVATE_KEY_JWT
        return AuthMethod.NONE if self.public else AuthMethod.SECRET_BASIC

    def secret_matches(self, presented: str) -> bool:
        return digest_matches(self.secret_hash, presented)

    def has_redirect_uri(self, uri: str | None) -> bool:
        return uri is not None and uri in self.redirect_uris

    def has_post_logout_redirect_uri(self, uri: str | None) -> bool:
        return uri is not None and uri in self.post_logout_redirect_uris

    def summary(self) -> dict[str, str]:
        return {
            "client_id": self.client_id,
            "name": self.name,
            "department_code": self.department_code,
        }

    def _apply(self, settings: ClientSettings) -> None:
        self.name = settings.name
        self.department_code = settings.department_code
        self.redirect_uris = list(settings.redirect_uris)
        self.post_logout_redirect_uris = list(settings.post_logout_redirect_uris)
        self.backchannel_logout_uri = settings.backchannel_logout_uri
        self.jwks = settings.jwks
        self.public = settings.public
        self.skip_consent = settings.skip_consent

    def _new_secret(self, given: str | None) -> str | None:
        if self.token_endpoint_auth_method != AuthMethod.SECRET_BASIC:
            self.secret_hash = None
            return None
        secret = given or new_secret()
        self.secret_hash = digest(secret)
        return secret

    def _require_active(self) -> None:
        if self.is_deleted:
            raise Conflict("the client was deleted", code="client_deleted")


# --- signed-in browsers, consent and codes -----------------------------------


@dataclass(eq=False)
class BrowserSession:
    """A browser signed in with a password: the single sign-on session the
    ``tongban_sso`` cookie names. Its id is the ``sid`` of ID and logout tokens;
    the cookie's value is a separate secret, stored as a digest."""

    browser_session_id: str
    user_id: str
    secret_hash: str
    auth_time: datetime
    amr: list[str]
    expires_at: datetime
    ended_at: datetime | None = None
    ended_reason: str | None = None

    @classmethod
    def start(
        cls, user_id: str, ttl: timedelta, now: datetime | None = None
    ) -> tuple[BrowserSession, str]:
        """A new browser session and its cookie value (the secret)."""
        now = now or utcnow()
        secret = new_secret()
        session = cls(
            browser_session_id=uuid.uuid4().hex,
            user_id=user_id,
            secret_hash=digest(secret),
            auth_time=now,
            amr=list(AMR_PASSWORD),
            expires_at=now + ttl,
        )
        return session, secret

    def is_active(self, now: datetime) -> bool:
        return self.ended_at is None and now < self.expires_at

    def end(self, reason: str, now: datetime | None = None) -> bool:
        """End it (sign-out everywhere); False when it had ended already."""
        if self.ended_at is not None:
            return False
        self.ended_at = now or utcnow()
        self.ended_reason = reason
        return True

    def needs_sign_in(self, now: datetime, prompt: Sequence[str], max_age: int | None) -> bool:
        """Whether the user must type the password again for this request:
        ``prompt=login``, or more than ``max_age`` seconds since they did."""
        if not self.is_active(now) or "login" in prompt:
            return True
        return max_age is not None and now - self.auth_time > timedelta(seconds=max_age)


def needs_sign_in(
    session: BrowserSession | None, now: datetime, prompt: Sequence[str], max_age: int | None
) -> bool:
    return session is None or session.needs_sign_in(now, prompt, max_age)


@dataclass(eq=False)
class ConsentGrant:
    """The scopes a user allowed a client, all requests together."""

    user_id: str
    client_id: str
    scopes: list[str]
    granted_at: datetime

    def covers(self, scopes: Iterable[str]) -> bool:
        return set(scopes) <= set(self.scopes)

    def add(self, scopes: Iterable[str], now: datetime | None = None) -> None:
        self.scopes = list(dict.fromkeys([*self.scopes, *scopes]))
        self.granted_at = now or utcnow()


def needs_consent(
    client: OidcClient, grant: ConsentGrant | None, scopes: Iterable[str], prompt: Sequence[str]
) -> bool:
    """Whether the user is to be asked: ``prompt=consent``, or a scope they have
    not allowed this client yet (never for a first-party client)."""
    if "consent" in prompt:
        return True
    if client.skip_consent:
        return False
    return grant is None or not grant.covers(scopes)


class CodeRejected(Invalid):
    """An authorization code cannot be exchanged (one answer for every cause)."""


class CodeExpired(CodeRejected):
    def __init__(self) -> None:
        super().__init__("the code expired")


class CodeAlreadyUsed(CodeRejected):
    """The code came back: whoever holds it now may be an attacker, so the
    session its first exchange started is to be revoked."""

    def __init__(self) -> None:
        super().__init__("the code was used already")


@dataclass(eq=False)
class AuthorizationCode:
    """A one-time code for the token endpoint, bound to the client, the
    redirect URI and the PKCE challenge; stored as a digest."""

    code_hash: str
    client_id: str
    user_id: str
    browser_session_id: str
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str
    code_challenge_method: str
    auth_time: datetime
    acr: str
    expires_at: datetime
    used_at: datetime | None = None
    session_id: str | None = None

    @classmethod
    def issue(
        cls,
        code: str,
        *,
        client_id: str,
        browser_session: BrowserSession,
        redirect_uri: str,
        scope: str,
        nonce: str | None,
        code_challenge: str,
        code_challenge_method: str,
        acr: str,
        ttl: timedelta,
        now: datetime | None = None,
    ) -> AuthorizationCode:
        now = now or utcnow()
        return cls(
            code_hash=digest(code),
            client_id=client_id,
            user_id=browser_session.user_id,
            browser_session_id=browser_session.browser_session_id,
            redirect_uri=redirect_uri,
            scope=scope,
            nonce=nonce or None,
            code_challenge=code_challenge,
            code_challenge_method=code_challenge_method,
            auth_time=browser_session.auth_time,
            acr=acr,
            expires_at=now + ttl,
        )

    def check_usable(self, now: datetime) -> None:
        """Raise CodeAlreadyUsed (revoke ``session_id``) or CodeExpired."""
        if self.used_at is not None:
            raise CodeAlreadyUsed()
        if now >= self.expires_at:
            raise CodeExpired()

    def redeem(self, session_id: str, now: datetime) -> None:
        """Mark it used for the session it started."""
        self.check_usable(now)
        self.used_at = now
        self.session_id = session_id


# --- claims -----------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """What the claims of a user are made of (never the ID number)."""

    user_id: str
    name: str
    phone: str
    kind: str
    assurance_level: int
    department_code: str | None = None
    roles: tuple[str, ...] = ()
    enterprises: tuple[dict[str, str], ...] = ()
    mandates: tuple[dict[str, Any], ...] = ()


def mandate_claim(mandate: Mandate, principal_ref: str | None) -> dict[str, Any]:
    """A mandate as the ``mandates`` claim lists it; ``principal_ref``: the
    enterprise's credit code or the person's masked ID number. It ends when
    its last day (``expires_on``, Jiangsu time) does."""
    ends = datetime.combine(mandate.expires_on + timedelta(days=1), time(0), CHINA_TZ)
    return {
        "mandate_id": mandate.mandate_id,
        "principal_kind": str(mandate.principal.kind),
        "principal_name": mandate.principal.name,
        "principal_ref": principal_ref,
        "expires_at": _seconds(ends),
    }


def phone_e164(phone: str) -> str:
    """A mainland mobile number in E.164: ``+86`` and the 11 digits."""
    return "+86" + phone


def user_claims(person: Person, scopes: Iterable[str]) -> dict[str, Any]:
    """``sub`` and the claims ``scopes`` open. ``staff`` opens the department
    and roles of staff only; ID numbers are never among them (a mandate's
    principal_ref carries a person's masked number at most)."""
    scopes = set(scopes)
    claims: dict[str, Any] = {"sub": person.user_id}
    if "profile" in scopes:
        claims["name"] = person.name
    if "phone" in scopes:
        claims["phone_number"] = phone_e164(person.phone)
        claims["phone_number_verified"] = True
    if "enterprise" in scopes:
        claims["enterprises"] = [dict(entry) for entry in person.enterprises]
    if "agent" in scopes:
        claims["mandates"] = [dict(entry) for entry in person.mandates]
    if "staff" in scopes and person.kind == "staff":
        claims["department_code"] = person.department_code
        claims["roles"] = list(person.roles)
    return claims


def _seconds(moment: datetime) -> int:
    return int(moment.timestamp())


def id_token_claims(
    *,
    issuer: str,
    client_id: str,
    person: Person,
    scopes: Iterable[str],
    browser_session_id: str | None,
    auth_time: datetime,
    amr: Sequence[str],
    acr: str,
    ttl: timedelta,
    now: datetime,
    nonce: str | None = None,
    at_hash: str | None = None,
) -> dict[str, Any]:
    """The claims of an ID token for ``client_id`` (OpenID Connect Core §2)."""
    issued_at = _seconds(now)
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": client_id,
        "azp": client_id,
        "iat": issued_at,
        "exp": issued_at + int(ttl.total_seconds()),
        "auth_time": _seconds(auth_time),
        "acr": acr,
        "amr": list(amr),
    }
    if browser_session_id:
        claims["sid"] = browser_session_id
    if nonce:
        claims["nonce"] = nonce
    if at_hash:
        claims["at_hash"] = at_hash
    claims.update(user_claims(person, scopes))
    return claims


def logout_token_claims(
    *, issuer: str, client_id: str, user_id: str, sid: str, jti: str, now: datetime
) -> dict[str, Any]:
    """The claims of a logout token (Back-Channel Logout 1.0 §2.4): no nonce,
    the logout event, both ``sub`` and ``sid``."""
    issued_at = _seconds(now)
    return {
        "iss": issuer,
        "aud": client_id,
        "iat": issued_at,
        "exp": issued_at + LOGOUT_TOKEN_SECONDS,
        "jti": jti,
        "sub": user_id,
        "sid": sid,
        "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
    }


def logouts_due(
    session: BrowserSession, clients: Iterable[OidcClient]
) -> list[BackchannelLogoutDue]:
    """One back-channel logout for each client (with a back-channel URI) that
    got a code in the ended browser session; ``jti`` fixed now, so a
    redelivered event sends the same logout token."""
    due = []
    for client in sorted(clients, key=lambda entry: entry.client_id):
        if client.backchannel_logout_uri and not client.is_deleted:
            due.append(
                BackchannelLogoutDue(
                    client_id=client.client_id,
                    backchannel_logout_uri=client.backchannel_logout_uri,
                    user_id=session.user_id,
                    sid=session.browser_session_id,
                    jti=uuid.uuid4().hex,
                )
            )
    return due
