"""The OAuth 2.0 / OpenID Connect protocol, spoken by Authlib's server classes.

Authlib parses and checks the messages (client authentication with a secret,
private_key_jwt or none; PKCE; the code and refresh grants; redirect URI
matching; prompt and nonce); what it needs to know or store is asked of an
:class:`OidcBackend` (the service layer's, over the unit of work). The
answers come back as plain data: a token endpoint answer ``{status, body,
headers}``, or an authorization outcome.

The request URI Authlib sees is the issuer's endpoint URL: its transport
check then passes for https issuers and for http on 127.0.0.1 / localhost
(development) and refuses any other http issuer.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749 import (
    AccessDeniedError,
    AuthorizationServer,
    ClientMixin,
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
    OAuth2Request,
)
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant, RefreshTokenGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import OpenIDCode, OpenIDToken
from authlib.oidc.core.errors import ConsentRequiredError, LoginRequiredError
from authlib.oidc.core.util import create_half_hash
from joserfc import jwt as jose_jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from services.common.tokens import ALGORITHM
from services.identity.domain.oidc import (
    CLIENT_ASSERTION_MAX_SECONDS,
    OPENID,
    SCOPES,
    AuthMethod,
    AuthorizationCode,
    OidcClient,
    scope_list,
)

AUTHORIZE_PATH = "/oidc/authorize"
TOKEN_PATH = "/oidc/token"  # noqa: S105  (a path, not a secret)
CLIENT_ASSERTION_ALGORITHMS = ("RS256", "ES256", "PS256")
S256 = "S256"
AUTH_METHODS = [AuthMethod.SECRET_BASIC, AuthMethod.PRIVATE_KEY_JWT, AuthMethod.NONE]
GRANT_TYPES = ("authorization_code", "refresh_token")
REFUSALS = {
    "access_denied": AccessDeniedError,
    "login_required": LoginRequiredError,
    "consent_required": ConsentRequiredError,
}
# The token endpoint answers are never cached (RFC 6749 §5.1).
NO_STORE = {"Content-Type": "application/json", "Cache-Control": "no-store", "Pragma": "no-cache"}


class GrantRefused(Exception):
    """The backend refuses a code or refresh token (answered ``invalid_grant``);
    the message is for the client developer, in ASCII."""


class OidcBackend(Protocol):
    """What the protocol asks of tongban, inside the caller's transaction."""

    def client(self, client_id: str) -> OidcClient | None:
        """The client, unless unknown or deleted."""

    def remember_assertion(self, client_id: str, jti: str, expires_at: datetime) -> bool:
        """Record a client assertion's id; False when seen before."""

    def nonce_seen(self, client_id: str, nonce: str) -> bool: ...

    def save_code(self, code: str, request: AuthorizationRequest, signed_in: Any) -> None:
        """Store the code issued to the request for the signed-in browser."""

    def code_for(self, code: str, client: OidcClient) -> AuthorizationCode | None:
        """The unused, unexpired code issued to the client, else None (a code
        used before revokes the session its first exchange started)."""

    def exchange_code(self, code: AuthorizationCode, client: OidcClient) -> dict:
        """Start the client session: ``{access_token, refresh_token, expires_in}``;
        GrantRefused when another exchange won."""

    def refresh_session(self, refresh_token: str) -> Any:
        """The session the refresh token belongs to (it has ``client_id`` and
        ``scope``), else None; checked again when it rotates."""

    def refresh(self, refresh_token: str, client: OidcClient, scope: str) -> dict:
        """Rotate the client's refresh token: the tokens of ``scope``;
        GrantRefused when it is spent, expired or revoked."""

    def id_token(self, client: OidcClient, grant: Any, at_hash: str) -> str:
        """The signed ID token of the grant (a code, or a refreshed session)."""


@dataclass(frozen=True)
class AuthorizationRequest:
    """A checked authorization request."""

    client: OidcClient
    redirect_uri: str
    scope: str
    state: str | None
    nonce: str | None
    code_challenge: str
    code_challenge_method: str
    prompt: tuple[str, ...]
    max_age: int | None

    @property
    def scopes(self) -> list[str]:
        return scope_list(self.scope)


@dataclass(frozen=True)
class AuthorizationAnswer:
    """An authorization request checked: the request when it may go on, else
    where to send the error (``location``), or nothing when the client cannot
    be told (``error`` shown to the user)."""

    request: AuthorizationRequest | None = None
    location: str | None = None
    error: str | None = None
    error_description: str | None = None


class _Client(ClientMixin):
    """A registered client as Authlib asks about it."""

    def __init__(self, client: OidcClient):
        self.client = client

    def get_client_id(self):
        return self.client.client_id

    def get_default_redirect_uri(self):
        # Every request names its redirect URI: none is assumed.
        return None

    def get_allowed_scope(self, scope):
        return " ".join(scope_list(scope))

    def check_redirect_uri(self, redirect_uri):
        return self.client.has_redirect_uri(redirect_uri)

    def check_client_secret(self, client_secret):
        return self.client.secret_matches(client_secret)

    def check_endpoint_auth_method(self, method, endpoint):
        return method == self.client.token_endpoint_auth_method

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type in GRANT_TYPES


class _Request(OAuth2Request):
    """An HTTP request as the gateway forwarded it: the parameters and headers."""

    def __init__(self, method: str, uri: str, parameters: Mapping[str, str], headers: dict):
        super().__init__(method, uri, headers=headers)
        self._parameters = dict(parameters)
        self.payload = BasicOAuth2Payload(self._parameters)

    @property
    def args(self):
        return self._parameters if self.method == "GET" else {}

    @property
    def form(self):
        return self._parameters if self.method == "POST" else {}


class _S256Challenge(CodeChallenge):
    """PKCE with S256 required of every client (RFC 9700 §2.1.1): plain and
    absent challenges are refused; a missing or wrong verifier is invalid_grant."""

    SUPPORTED_CODE_CHALLENGE_METHOD = [S256]
    CODE_CHALLENGE_METHODS = {S256: CodeChallenge.CODE_CHALLENGE_METHODS[S256]}

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge': PKCE with S256 is required.")
        if data.get("code_challenge_method") != S256:
            raise InvalidRequestError("'code_challenge_method' must be S256.")
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant, result):
        try:
            super().validate_code_verifier(grant, result)
        except InvalidRequestError as error:
            raise InvalidGrantError(error.description) from None


class _TongbanRules:
    """What tongban adds to the authorization request's checks: OpenID
    Connect only (scope openid), no request objects, prompt and max_age well
    formed, query response mode."""

    def __call__(self, grant):
        grant.register_hook("after_validate_authorization_request_payload", self.check)

    @staticmethod
    def check(grant, redirect_uri):
        data = grant.request.payload.data
        if data.get("request"):
            raise _RequestNotSupported()
        if data.get("request_uri"):
            raise _RequestUriNotSupported()
        if OPENID not in scope_list(grant.request.payload.scope):
            raise InvalidScopeError("The 'openid' scope is required.")
        if data.get("response_mode") not in (None, "", "query"):
            raise InvalidRequestError("Only the query response mode is supported.")
        if data.get("max_age") not in (None, "") and _max_age(data) is None:
            raise InvalidRequestError("'max_age' must be a whole number of seconds.")


class _RequestNotSupported(OAuth2Error):
    error = "request_not_supported"
    description = "Request objects are not supported."


class _RequestUriNotSupported(OAuth2Error):
    error = "request_uri_not_supported"
    description = "Request objects by reference are not supported."


class _Malformed(OAuth2Error):
    error = "invalid_request"
    description = "The request has malformed parameters."


def _quoting_safely(call):
    """``call()``; Authlib quotes some parameters (response_type, redirect_uri)
    in its error descriptions and raises ValueError when one holds characters
    RFC 6749 forbids there: such a request is malformed, and not answered to
    the redirect URI it names."""
    try:
        return call()
    except ValueError:
        raise _Malformed() from None


def _max_age(data: Mapping[str, str]) -> int | None:
    value = data.get("max_age")
    if value is None or not value.isascii() or not value.isdigit() or len(value) > 9:
        return None
    return int(value)


class _IdToken:
    """The ID token beside the tokens (code and refresh grants), made by the backend."""

    def __init__(self, server: OidcServer):
        self.server = server

    def encode_id_token(self, token, request):
        at_hash = create_half_hash(token["access_token"], ALGORITHM).decode("ascii")
        if request.authorization_code is not None:
            grant = request.authorization_code.code
        else:
            grant = request.refresh_token.session
        return self.server.backend.id_token(request.client.client, grant, at_hash)


class _CodeIdToken(_IdToken, OpenIDCode):
    def __init__(self, server: OidcServer):
        _IdToken.__init__(self, server)
        OpenIDCode.__init__(self, require_nonce=False)

    def exists_nonce(self, nonce, request):
        return self.server.backend.nonce_seen(request.payload.client_id, nonce)


class _RefreshIdToken(_IdToken, OpenIDToken):
    pass


class _PrivateKeyJwt(JWTBearerClientAssertion):
    """private_key_jwt (RFC 7523 §2.2): an assertion signed with a key of the
    client's registered JWKS, for the token endpoint (or the issuer), expiring
    within five minutes, its jti never seen before."""

    CLIENT_AUTH_METHOD = AuthMethod.PRIVATE_KEY_JWT

    def __init__(self, server: OidcServer):
        super().__init__(validate_jti=True)
        self.server = server

    def get_audiences(self):
        return [self.server.token_endpoint, self.server.issuer]

    def resolve_client_public_key(self, client):
        if client.client.jwks is None:
            # It authenticates otherwise: its assertion proves nothing.
            raise InvalidClientError(description="The client has no registered keys.")
        try:
            return KeySet.import_key_set(client.client.jwks)
        except (JoseError, ValueError, TypeError, KeyError):
            # Registered with the right shape but not a usable key.
            raise InvalidClientError(description="The client's keys cannot be read.") from None

    def process_assertion_claims(self, assertion, resolve_key):
        try:
            token = jose_jwt.decode(assertion, resolve_key, algorithms=CLIENT_ASSERTION_ALGORITHMS)
        except (JoseError, ValueError) as error:
            raise InvalidClientError(description="Invalid client assertion.") from error
        self.verify_claims(token.claims)
        return token.claims

    def verify_claims(self, claims):
        exp = claims.get("exp")
        if isinstance(exp, (int, float)) and exp > self.server.clock() + (
            CLIENT_ASSERTION_MAX_SECONDS + self.leeway
        ):
            raise InvalidClientError(description="The client assertion lives too long.")
        super().verify_claims(claims)

    def validate_jti(self, claims, jti):
        if not isinstance(jti, str) or not 1 <= len(jti) <= 255:
            return False
        expires_at = datetime.fromtimestamp(claims["exp"], UTC)
        return self.server.backend.remember_assertion(claims["sub"], jti, expires_at)


class _Code:
    """A stored code as Authlib reads it."""

    def __init__(self, code: AuthorizationCode):
        self.code = code
        self.code_challenge = code.code_challenge
        self.code_challenge_method = code.code_challenge_method

    def get_redirect_uri(self):
        return self.code.redirect_uri

    def get_scope(self):
        return self.code.scope


class _CodeGrant(AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    def save_authorization_code(self, code, request):
        self.server.backend.save_code(code, self.server.checked(request), request.user)

    def query_authorization_code(self, code, client):
        found = self.server.backend.code_for(code, client.client)
        return _Code(found) if found is not None else None

    def authenticate_user(self, authorization_code):
        return authorization_code

    def delete_authorization_code(self, authorization_code):
        """Marked used in ``exchange_code``, with the session it started."""


class _RefreshGrant(RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token):
        session = self.server.backend.refresh_session(refresh_token)
        return _PresentedRefreshToken(refresh_token, session) if session is not None else None

    def authenticate_user(self, refresh_token):
        return refresh_token

    def issue_token(self, user, refresh_token):
        # Rotation (with reuse detection) is the backend's, in one step.
        scope = self.request.payload.scope or refresh_token.get_scope()
        client = self.request.client.client
        return self.server.mint(
            lambda: self.server.backend.refresh(refresh_token.secret, client, scope)
        )

    def revoke_old_credential(self, refresh_token):
        """Spent in ``refresh`` already."""


class _PresentedRefreshToken:
    """A refresh token as presented, and its session."""

    def __init__(self, secret: str, session: Any):
        self.secret = secret
        self.session = session

    def check_client(self, client):
        return self.session.client_id == client.get_client_id()

    def get_scope(self):
        return self.session.scope


class OidcServer(AuthorizationServer):
    """One request's authorization server over ``backend``."""

    def __init__(self, backend: OidcBackend, issuer: str, clock=time.time):
        super().__init__(scopes_supported=list(SCOPES))
        self.backend = backend
        self.issuer = issuer.rstrip("/")
        self.token_endpoint = self.issuer + TOKEN_PATH
        self.clock = clock
        self.register_grant(
            _CodeGrant, [_S256Challenge(required=True), _CodeIdToken(self), _TongbanRules()]
        )
        self.register_grant(_RefreshGrant, [_RefreshIdToken(self)])
        self.register_client_auth_method(AuthMethod.PRIVATE_KEY_JWT, _PrivateKeyJwt(self))
        self.register_token_generator("default", self._generate_token)

    # --- what Authlib asks of a framework -------------------------------------

    def query_client(self, client_id):
        if not isinstance(client_id, str) or not client_id:
            return None
        client = self.backend.client(client_id)
        return _Client(client) if client is not None else None

    def save_token(self, token, request):
        """Stored by the backend as it made it."""

    def send_signal(self, name, *args, **kwargs):
        """No signals are listened to."""

    def create_oauth2_request(self, request):
        return request

    def handle_response(self, status, body, headers):
        return status, body, dict(headers)

    def _generate_token(self, grant_type, client, user=None, scope=None, **kwargs):
        # Only the code grant gets here (refresh mints in issue_token); user
        # is the code, as authenticate_user gave it.
        return self.mint(lambda: self.backend.exchange_code(user.code, client.client))

    @staticmethod
    def mint(make) -> dict:
        try:
            return make()
        except GrantRefused as refused:
            raise InvalidGrantError(str(refused)) from None

    # --- the endpoints ---------------------------------------------------------

    def check_authorization(self, query: Mapping[str, str], user: Any) -> AuthorizationAnswer:
        """Check an authorization request for ``user`` (None: nobody signed in
        validly for it). An error the client may hear of goes to its
        redirect URI; one it may not (unknown client, unregistered redirect
        URI) is for the user."""
        try:
            _, grant = self._grant(query, user)
        except OAuth2Error as error:
            return self._refused(error, query)
        return AuthorizationAnswer(request=self.checked(grant.request))

    def issue_code(self, query: Mapping[str, str], user: Any) -> AuthorizationAnswer:
        """Issue a code to the checked request (``user``: the browser session);
        the location carries it, the state and the issuer (RFC 9207)."""
        try:
            request, grant = self._grant(query, user)
            status, _, headers = self.create_authorization_response(
                request, grant_user=user, grant=grant
            )
        except OAuth2Error as error:
            return self._refused(error, query)
        if status != 302:
            return self._refused_answer(status, headers)
        return AuthorizationAnswer(location=self.with_issuer(headers["Location"]))

    def refuse(self, query: Mapping[str, str], redirect_uri: str, error: str):
        """The location that tells the client of ``error``: access_denied,
        login_required or consent_required."""
        refusal = REFUSALS[error](redirect_uri=redirect_uri, state=query.get("state"))
        return self._refused(refusal, query)

    def token_answer(self, form: Mapping[str, str], authorization: str | None) -> dict:
        """The token endpoint's answer ``{status, body, headers}``."""
        headers = {"Authorization": authorization} if authorization else {}
        try:
            request = _Request("POST", self.token_endpoint, form, headers)
            status, body, _ = _quoting_safely(lambda: self.create_token_response(request))
        except OAuth2Error as error:
            status, body, _ = self.handle_error_response(None, error)
            return _token_answer(status, dict(body), False)
        basic_tried = (authorization or "").lower().startswith("basic ")
        return _token_answer(status, dict(body), basic_tried)

    def _grant(self, query: Mapping[str, str], user: Any):
        request = _Request("GET", self.issuer + AUTHORIZE_PATH, query, {})
        return request, _quoting_safely(lambda: self.get_consent_grant(request, end_user=user))

    def checked(self, request: OAuth2Request) -> AuthorizationRequest:
        data = request.payload.data
        return AuthorizationRequest(
            client=request.client.client,
            redirect_uri=data["redirect_uri"],
            scope=" ".join(scope_list(request.scope)),
            state=data.get("state"),
            nonce=data.get("nonce") or None,
            code_challenge=data["code_challenge"],
            code_challenge_method=data["code_challenge_method"],
            prompt=tuple(scope_list(data.get("prompt"))),
            max_age=_max_age(data),
        )

    def with_issuer(self, location: str) -> str:
        return add_params_to_uri(location, [("iss", self.issuer)])

    def _refused(self, error: OAuth2Error, query: Mapping[str, str]) -> AuthorizationAnswer:
        if error.redirect_uri:
            error.state = query.get("state")
            status, _, headers = error()
            return self._refused_answer(status, dict(headers))
        return AuthorizationAnswer(
            error=error.error, error_description=error.get_error_description()
        )

    def _refused_answer(self, status: int, headers: dict) -> AuthorizationAnswer:
        location = headers.get("Location")
        if status == 302 and location:
            return AuthorizationAnswer(location=self.with_issuer(location))
        return AuthorizationAnswer(error="server_error", error_description="Unexpected answer.")


def _token_answer(status: int, body: dict, basic_tried: bool) -> dict:
    """An OAuth error is 400, or 401 with a Basic challenge for a client that
    tried Basic authentication (RFC 6749 §5.2)."""
    headers = dict(NO_STORE)
    if body.get("error") == "invalid_client":
        status = 401 if basic_tried else 400
        if basic_tried:
            headers["WWW-Authenticate"] = 'Basic realm="tongban"'
    body = {key: value for key, value in body.items() if key not in ("state", "error_uri")}
    return {"status": status, "body": body, "headers": headers}
