"""tongban as this department system sees it: an OpenID Connect provider found
through its discovery document, whose keys come from its JWKS, and Authlib's
requests client for the authorization code flow with PKCE (S256), state and
nonce.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from .sessions import AuthorizationRequest
from .tokens import (
    InvalidToken,
    LogoutRequest,
    has_key,
    token_header,
    verify_id_token,
    verify_logout_token,
)

DISCOVERY_PATH = "/.well-known/openid-configuration"
# The JWKS is fetched again for a key id it lacks (the provider rotated its
# keys), at most this often.
KEY_REFRESH_SECONDS = 5.0


class ProviderUnavailable(Exception):
    """tongban did not answer, or answered something unusable."""


class SignInFailed(Exception):
    """The sign-in came back refused or wrong; the message says why in a way
    fit for the person signing in (in Chinese)."""


class Provider:
    """The provider at ``issuer`` for the client ``client_id``; discovery and
    JWKS are fetched when first needed and kept."""

    def __init__(
        self,
        issuer: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        *,
        scope: str = "openid profile phone",
        timeout: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.redirect_uri = redirect_uri
        self.scope = scope
        self._client_secret = client_secret
        self._timeout = timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._metadata: dict | None = None
        self._keys: KeySet | None = None
        self._keys_fetched_at = float("-inf")

    # -- discovery and keys ----------------------------------------------------

    def _get_json(self, url: str) -> dict:
        try:
            response = requests.get(url, timeout=self._timeout)
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError) as error:
            raise ProviderUnavailable(f"{url}: {error}") from error
        if not isinstance(document, dict):
            raise ProviderUnavailable(f"{url}: not a JSON object")
        return document

    def metadata(self) -> dict:
        """The discovery document; its issuer must be the configured one
        (Discovery 1.0 §4.3)."""
        with self._lock:
            if self._metadata is None:
                document = self._get_json(self.issuer + DISCOVERY_PATH)
                if document.get("issuer") != self.issuer:
                    raise ProviderUnavailable("the discovery document names another issuer")
                self._metadata = document
            return self._metadata

    def keys_for(self, token: str) -> KeySet:
        """The provider's public keys, fetched again when ``token`` names a
        key id they lack."""
        kid = token_header(token).get("kid")
        jwks_uri = self.metadata()["jwks_uri"]
        with self._lock:
            stale = self._keys is None or not has_key(self._keys, kid)
            if stale and self._clock() - self._keys_fetched_at >= KEY_REFRESH_SECONDS:
                self._keys_fetched_at = self._clock()
                try:
                    self._keys = KeySet.import_key_set(self._get_json(jwks_uri))
                except (JoseError, ValueError, TypeError) as error:
                    raise ProviderUnavailable("the JWKS does not read") from error
            return self._keys or KeySet([])

    # -- signing in ------------------------------------------------------------

    def _client(self) -> OAuth2Session:
        return OAuth2Session(
            self.client_id,
            self._client_secret,
            token_endpoint_auth_method="client_secret_basic",  # noqa: S106  (a method's name)
            scope=self.scope,
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            default_timeout=self._timeout,
        )

    def start_sign_in(self) -> tuple[str, AuthorizationRequest]:
        """The authorization URL to send the browser to, and what its answer
        must match."""
        request = AuthorizationRequest(
            state=secrets.token_urlsafe(24),
            nonce=secrets.token_urlsafe(24),
            code_verifier=secrets.token_urlsafe(48),
            started_at=self._clock(),
        )
        with self._client() as client:
            url, _ = client.create_authorization_url(
                self.metadata()["authorization_endpoint"],
                state=request.state,
                nonce=request.nonce,
                code_verifier=request.code_verifier,
            )
        return url, request

    def finish_sign_in(self, request: AuthorizationRequest, callback_url: str) -> tuple[dict, dict]:
        """Exchange the code of ``callback_url`` (the full URL tongban sent the
        browser back to) and verify the ID token: ``(token answer, ID token
        claims)``. SignInFailed when the answer is refused or does not
        check out."""
        metadata = self.metadata()
        query = dict(parse_qsl(urlsplit(callback_url).query))
        # RFC 9207: the answer names who sent it, so a mix-up is seen.
        if metadata.get("authorization_response_iss_parameter_supported") and (
            query.get("iss") != self.issuer
        ):
            raise SignInFailed("登录结果不是来自政务服务网")
        if "error" in query:
            raise SignInFailed(_refusal_in_words(query["error"]))
        try:
            with self._client() as client:
                token = client.fetch_token(
                    metadata["token_endpoint"],
                    authorization_response=callback_url,
                    state=request.state,
                    code_verifier=request.code_verifier,
                )
        except (AuthlibBaseError, requests.RequestException, ValueError) as error:
            raise SignInFailed("政务服务网没有确认本次登录") from error
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise SignInFailed("政务服务网的答复缺少身份令牌")
        try:
            claims = verify_id_token(
                id_token,
                self.keys_for(id_token),
                issuer=self.issuer,
                client_id=self.client_id,
                nonce=request.nonce,
                access_token=token.get("access_token"),
                now=self._clock,
            )
        except InvalidToken as error:
            raise SignInFailed("身份令牌校验未通过") from error
        return dict(token), claims

    # -- signing out -----------------------------------------------------------

    def end_session_url(self, id_token: str, post_logout_redirect_uri: str, state: str) -> str:
        """Where to send the browser to sign out of tongban too (RP-Initiated
        Logout 1.0)."""
        query = urlencode(
            {
                "id_token_hint": id_token,
                "client_id": self.client_id,
                "post_logout_redirect_uri": post_logout_redirect_uri,
                "state": state,
            }
        )
        return f"{self.metadata()['end_session_endpoint']}?{query}"

    def read_logout_token(self, token: str) -> LogoutRequest:
        """What a back-channel logout token asks for; InvalidToken when it
        must be refused."""
        return verify_logout_token(
            token,
            self.keys_for(token),
            issuer=self.issuer,
            client_id=self.client_id,
            now=self._clock,
        )


REFUSALS = {
    "access_denied": "您没有同意授权，未登录。",
    "login_required": "您尚未在政务服务网登录。",
    "consent_required": "需要您在政务服务网同意授权。",
    "interaction_required": "需要您在政务服务网确认。",
}


def _refusal_in_words(error: str) -> str:
    return REFUSALS.get(error, "政务服务网拒绝了本次登录请求。")
