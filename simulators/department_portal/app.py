"""The department system's HTTP side: a werkzeug WSGI app over the provider
(tongban, :mod:`.provider`) and the session store (:mod:`.sessions`), and its
server (``simulators.server.BackgroundServer``).

- ``GET /`` -> 200 the home page: who is signed in (name, real-name level,
  phone) and a sign-out button, or a sign-in link
- ``GET /login`` -> 302 to tongban's authorization endpoint (code flow, PKCE
  S256, state, nonce); sets the session cookie
- ``GET /callback`` -> 303 to ``/`` signed in (a new session cookie); 400 a page
  saying why when the answer is refused, unknown, or its ID token does not
  check out; 503 when tongban cannot be reached
- ``POST /logout`` -> 303 to tongban's end-session endpoint (id_token_hint,
  post_logout_redirect_uri = ``<base URL>/``, state), or to ``/`` when nobody
  was signed in
- ``POST /backchannel-logout`` (form field ``logout_token``) -> 200 once the
  sessions it names ended; 400 ``{"error": "invalid_request",
  "error_description"}`` for a token that does not verify or was seen before
- ``GET /api/sessions`` -> 200 ``{"sessions": [{sid, sub, name, acr,
  signed_in_at}, ...]}``: who is signed in (for the tests and demos)
- ``GET /healthz`` -> 200 ``{"status": "ok"}``
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from ..server import MAX_BODY_BYTES, BackgroundServer, json_response
from . import pages
from .provider import Provider, ProviderUnavailable, SignInFailed
from .sessions import SeenTokenIds, Sessions, SignedIn
from .tokens import LEEWAY_SECONDS, InvalidToken

log = logging.getLogger(__name__)

DEFAULT_PORT = 8600
DEFAULT_CLIENT_ID = "gjj-suzhou"
# Development default only; deployments set DEPARTMENT_PORTAL_CLIENT_SECRET.
DEFAULT_CLIENT_SECRET = "dev-gjj-suzhou-client-secret"  # noqa: S105
# The name tongban shows on its sign-in and consent pages, and its department.
CLIENT_NAME = "苏州市住房公积金管理中心"
DEPARTMENT_CODE = "sz-gjj"
SCOPE = "openid profile phone"
COOKIE_NAME = "gjj_session"
STALE_SIGN_IN = "登录请求已失效或不是从本大厅发起的，请重新登录。"


def client_registration(base_url: str) -> dict:
    """How the provider must know this system when it listens at
    ``base_url``: the arguments of identity's ``ensure_oidc_client`` beside
    the client's id and secret."""
    base_url = base_url.rstrip("/")
    return {
        "name": CLIENT_NAME,
        "department_code": DEPARTMENT_CODE,
        "redirect_uris": [base_url + "/callback"],
        "post_logout_redirect_uris": [base_url + "/"],
        "backchannel_logout_uri": base_url + "/backchannel-logout",
    }


class PortalApp:
    """The WSGI app; see the module's docstring for its pages and API."""

    url_map = Map(
        [
            Rule("/", endpoint="home", methods=["GET"]),
            Rule("/login", endpoint="login", methods=["GET"]),
            Rule("/callback", endpoint="callback", methods=["GET"]),
            Rule("/logout", endpoint="logout", methods=["POST"]),
            Rule("/backchannel-logout", endpoint="backchannel_logout", methods=["POST"]),
            Rule("/api/sessions", endpoint="list_sessions", methods=["GET"]),
            Rule("/healthz", endpoint="health", methods=["GET"]),
        ]
    )

    def __init__(
        self,
        provider: Provider,
        base_url: str,
        sessions: Sessions | None = None,
        seen_logouts: SeenTokenIds | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.provider = provider
        self._clock = clock
        self.base_url = base_url.rstrip("/")
        self.sessions = sessions if sessions is not None else Sessions()
        self.seen_logouts = seen_logouts if seen_logouts is not None else SeenTokenIds()
        self._secure_cookie = urlsplit(self.base_url).scheme == "https"
        issuer = urlsplit(provider.issuer)
        # The sign-out form posts here, and is redirected on to tongban.
        self._content_security_policy = (
            "default-src 'none'; style-src 'unsafe-inline'; "
            f"form-action 'self' {issuer.scheme}://{issuer.netloc}; "
            "frame-ancestors 'none'; base-uri 'none'"
        )

    def __call__(self, environ, start_response):
        response = self.dispatch(Request(environ))
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        # The callback's URL carries the code: never pass it on.
        response.headers["Referrer-Policy"] = "no-referrer"
        if response.mimetype == "text/html":
            response.headers["Content-Security-Policy"] = self._content_security_policy
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, arguments = adapter.match()
        except HTTPException as error:
            status = error.code or 400
            response = self._page(pages.problem(status), status)
            if status == 405:
                response.headers["Allow"] = ", ".join(error.valid_methods or ())
            return response
        return getattr(self, endpoint)(request, **arguments)

    # -- answers ---------------------------------------------------------------

    @staticmethod
    def _page(html: str, status: int = 200) -> Response:
        return Response(html, status=status, content_type="text/html; charset=utf-8")

    def _redirect(self, location: str, status: int = 303, cookie: str | None = None) -> Response:
        response = Response(status=status, headers={"Location": location})
        if cookie is not None:
            response.set_cookie(
                COOKIE_NAME,
                cookie,
                httponly=True,
                # Lax: the cookie comes along when tongban sends the browser back.
                samesite="Lax",
                secure=self._secure_cookie,
                path="/",
            )
        return response

    # -- pages -----------------------------------------------------------------

    def home(self, request: Request) -> Response:
        session = self.sessions.get(request.cookies.get(COOKIE_NAME))
        user = session.user if session else None
        notice = None
        state = request.args.get("state")
        if session and state and session.logout_state == state:
            notice = "您已退出登录。"
        return self._page(pages.home(user, notice))

    def login(self, request: Request) -> Response:
        try:
            url, authorization = self.provider.start_sign_in()
        except ProviderUnavailable as error:
            log.warning("sign-in not started: %s", error)
            return self._page(pages.unavailable(), 503)
        key = self.sessions.start_sign_in(request.cookies.get(COOKIE_NAME), authorization)
        return self._redirect(url, 302, cookie=key)

    def callback(self, request: Request) -> Response:
        key = request.cookies.get(COOKIE_NAME)
        authorization = self.sessions.take_sign_in(key, request.args.get("state", ""))
        if authorization is None:
            return self._page(pages.sign_in_failed(STALE_SIGN_IN), 400)
        callback_url = f"{self.base_url}/callback?{request.query_string.decode('latin-1')}"
        try:
            token, claims = self.provider.finish_sign_in(authorization, callback_url)
        except SignInFailed as failure:
            log.info("sign-in failed: %s (%s)", failure, failure.__cause__ or "refused")
            return self._page(pages.sign_in_failed(str(failure)), 400)
        except ProviderUnavailable as error:
            log.warning("sign-in not finished: %s", error)
            return self._page(pages.unavailable(), 503)
        user = SignedIn.from_claims(claims, token["id_token"], self._clock())
        log.info("signed in: sub %s, provider session %s", user.sub, user.sid)
        return self._redirect("/", cookie=self.sessions.sign_in(key, user))

    def logout(self, request: Request) -> Response:
        state = secrets.token_urlsafe(16)
        user = self.sessions.sign_out(request.cookies.get(COOKIE_NAME), logout_state=state)
        if user is None:
            return self._redirect("/")
        log.info("signed out: sub %s", user.sub)
        try:
            location = self.provider.end_session_url(user.id_token, self.base_url + "/", state)
        except ProviderUnavailable as error:
            log.warning("not signed out of the provider: %s", error)
            return self._redirect("/")
        return self._redirect(location)

    # -- back channel and API --------------------------------------------------

    def backchannel_logout(self, request: Request) -> Response:
        if (request.content_length or 0) > MAX_BODY_BYTES:
            return self._refuse("the body is too long")
        token = request.form.get("logout_token")
        if not token:
            return self._refuse("logout_token is missing")
        try:
            logout = self.provider.read_logout_token(token)
        except InvalidToken as error:
            return self._refuse(str(error))
        except ProviderUnavailable as error:
            log.warning("logout token not checked: %s", error)
            return json_response({"error": "temporarily_unavailable"}, 503)
        if not self.seen_logouts.first_time(logout.jti, logout.expires_at + LEEWAY_SECONDS):
            return self._refuse("this logout token was used before")
        ended = self.sessions.end(sub=logout.sub, sid=logout.sid)
        log.info("back-channel logout of sub %s, sid %s: %d ended", logout.sub, logout.sid, ended)
        return Response(status=200)

    @staticmethod
    def _refuse(reason: str) -> Response:
        log.info("logout token refused: %s", reason)
        return json_response({"error": "invalid_request", "error_description": reason}, 400)

    def list_sessions(self, request: Request) -> Response:
        return json_response({"sessions": [user.listed() for user in self.sessions.signed_in()]})

    def health(self, request: Request) -> Response:
        return json_response({"status": "ok"})


class PortalServer(BackgroundServer):
    """The department system on ``host:port`` (0 picks a free port)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        issuer: str,
        base_url: str | None = None,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
    ) -> None:
        # The callback's URL depends on the port, known only once bound: the
        # app is made, and put in place, after binding.
        super().__init__(host, port, self._not_ready, name="department-portal")
        self.base_url = (base_url or self.url).rstrip("/")
        self.provider = Provider(
            issuer, client_id, client_secret, self.base_url + "/callback", scope=SCOPE
        )
        self.app = self._server.app = PortalApp(self.provider, self.base_url)

    @staticmethod
    def _not_ready(environ, start_response):
        start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
        return [b"starting"]
