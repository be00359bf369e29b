"""The gateway's side of the OpenID Connect provider: discovery, the
authorization, token, userinfo and end-session endpoints, the sign-in and
consent pages, and the registered department systems (operators).

identity decides everything (its ``oidc_*`` RPCs); these routes carry the
browser's cookie and forms to it, and its outcomes back as redirects and pages
(``gateway.oidc_pages``). An authorization request travels from page to page as
``continue``, a relative URL of /oidc/authorize, and is judged again by identity
at each step, so nothing the browser brings back is taken on trust.

:class:`OidcRoutes` is mixed into ``GatewayService``: its routes use the
service's ``_call``, ``_cached`` and ``config``.
"""

import re
from functools import partial
from urllib.parse import parse_qsl, urlencode, urlsplit

from werkzeug.wrappers import Response

from gateway import oidc_pages as pages
from gateway import schemas as s
from gateway.auth import OPERATOR, SIGNED_IN, staff_with
from gateway.errors import ErrorAnswer, InsufficientScope, json_response
from gateway.forms import CSRF_FIELD, check_double_submit, csrf_value_of, new_csrf_value
from gateway.http import Answer, Call, ErrorStyle, load, refuse_nul_characters, route
from services.common.errors import Invalid, ServiceError, Unauthorized
from services.common.read_cache import cache_key
from services.identity import contract as identity

TAGS = ("oidc",)
CLIENT_READERS = staff_with("dept_admin", operator=True)
DEFAULT_ISSUER = "http://127.0.0.1:8000"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
PHONE = re.compile(r"1[0-9]{10}")

REDIRECT = Answer("Redirect", content_type=None, headers={"Location": "where to go next"})
SEE_OTHER = Answer(
    "See other: the next step (after sign-in, with the tongban_sso cookie set)",
    content_type=None,
    headers={"Location": "where to go next", "Set-Cookie": "tongban_sso, after a sign-in"},
)
ERROR_PAGE = pages.html_answer("A page naming what is wrong with the request")
LOGOUT_PAGE = pages.html_answer("Signed out, or the question whether to sign out (a form)")


# -- discovery -----------------------------------------------------------------


def issuer_of(config) -> str:
    return str(config.get("OIDC_ISSUER") or DEFAULT_ISSUER).rstrip("/")


def discovery_document(issuer: str) -> dict:
    """OpenID Connect Discovery 1.0: where the endpoints are and what they do."""
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/oidc/authorize",
        "token_endpoint": f"{issuer}/oidc/token",
        "userinfo_endpoint": f"{issuer}/oidc/userinfo",
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "end_session_endpoint": f"{issuer}/oidc/logout",
        "scopes_supported": list(identity.OIDC_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": list(identity.TOKEN_ENDPOINT_AUTH_METHODS),
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256", "PS256"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": list(CLAIMS_SUPPORTED),
        "acr_values_supported": list(identity.ACR_VALUES),
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "frontchannel_logout_supported": False,
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "authorization_response_iss_parameter_supported": True,
        "ui_locales_supported": list(pages.LOCALES),
        "prompt_values_supported": ["none", "login", "consent"],
    }


CLAIMS_SUPPORTED = (
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "sid",
    "name",
    "phone_number",
    "phone_number_verified",
    "enterprises",
    "mandates",
    "department_code",
    "roles",
)


# -- the authorization request as ``continue`` ----------------------------------


def authorize_url(query: dict[str, str]) -> str:
    """The relative URL of the authorization request ``query``."""
    return f"{s.AUTHORIZE_PATH}?{urlencode(query)}"


def authorize_query_of(continue_url: str) -> dict[str, str]:
    """The authorization request a ``continue`` URL (already checked by its
    schema: /oidc/authorize and nothing else) carries, loaded as the endpoint
    loads it."""
    if urlsplit(continue_url).path != s.AUTHORIZE_PATH:
        raise Invalid("invalid continue", {"continue": "must name the authorization endpoint"})
    pairs = parse_qsl(urlsplit(continue_url).query, keep_blank_values=True)
    if len({name for name, _ in pairs}) != len(pairs):
        raise Invalid("invalid continue", {"continue": "names a parameter twice"})
    query = dict(pairs)
    refuse_nul_characters(query)
    return load(s.AuthorizeQuery(), query)


def after_sign_in(query: dict[str, str]) -> str:
    """Where a sign-in goes on to: the same request, without the ``login`` of
    its ``prompt`` (asked again, it would ask for the password again)."""
    prompts = [value for value in query.get("prompt", "").split() if value != "login"]
    rest = {name: value for name, value in query.items() if name != "prompt"}
    if prompts:
        rest["prompt"] = " ".join(prompts)
    return authorize_url(rest)


def redirect(location: str, status: int) -> Response:
    return Response(status=status, headers={"Location": location, **pages.SECURITY_HEADERS})


def _step_url(page: str, continue_url: str) -> str:
    return f"/oidc/{page}?{urlencode({'continue': continue_url})}"


# -- the token endpoint's errors ---------------------------------------------------

# What an OAuth client reads in ``error`` for each error of the table.
_OAUTH_CODE = {
    "invalid": "invalid_request",
    "bad_form": "invalid_request",
    "payload_too_large": "invalid_request",
    "unavailable": "temporarily_unavailable",
    "timeout": "temporarily_unavailable",
    "internal": "server_error",
}


def _oauth_error(answer: ErrorAnswer, request) -> Response:
    detail = "; ".join(f"{name}: {reason}" for name, reason in sorted(answer.fields.items()))
    body = {
        "error": _OAUTH_CODE.get(answer.code, answer.code),
        "error_description": f"{answer.message} ({detail})" if detail else answer.message,
    }
    return json_response(answer.status, body, {**answer.headers, **NO_STORE})


# RFC 6749 5.2: a bad request is a 400 with an OAuth error body.
TOKEN_ERRORS = ErrorStyle("application/json", identity.OAuthError(), _oauth_error, {422: 400})


class OidcRoutes:
    """The OpenID Connect provider's routes (mixed into ``GatewayService``)."""

    # ------------------------------------------------------------ discovery

    @route(
        "GET",
        "/.well-known/openid-configuration",
        response=identity.OpenIdConfiguration,
        tags=TAGS,
        summary="The OpenID Provider's discovery document",
        description="Its endpoints are OIDC_ISSUER followed by their paths.",
    )
    def openid_configuration(self, call):
        return discovery_document(issuer_of(self.config))

    # -------------------------------------------------------- authorization

    @route(
        "GET",
        "/oidc/authorize",
        query=s.AuthorizeQuery,
        status=302,
        error_style=pages.PAGE_ERRORS,
        answers={400: ERROR_PAGE},
        tags=TAGS,
        summary="Authorization endpoint (code flow, PKCE S256 required)",
        description=(
            "Redirects to the client's redirect_uri with a code (or an OAuth error, with"
            " state and iss), or to the sign-in or consent page, which come back here."
            " An unknown client or an unregistered redirect_uri is a 400 page: never a"
            " redirect. Reads the tongban_sso cookie."
        ),
    )
    def oidc_authorize(self, call):
        outcome = self._authorization_outcome(call, call.query)
        return self._next_step(outcome, authorize_url(call.query), call.query, 302)

    @route(
        "GET",
        "/oidc/sign-in",
        query=s.ContinueQuery,
        content_type=pages.HTML,
        error_style=pages.PAGE_ERRORS,
        answers={200: pages.html_answer("The sign-in form"), 302: REDIRECT, 400: ERROR_PAGE},
        tags=TAGS,
        summary="The sign-in page of an authorization request",
        description=(
            "Sets the tongban_csrf cookie its form repeats. Redirects on when the"
            " request needs no password (anymore)."
        ),
    )
    def oidc_sign_in_page(self, call):
        return self._page_of_step(
            call,
            "sign_in",
            lambda outcome, query, continue_url: self._sign_in_form(
                call, outcome["client"], query, continue_url
            ),
        )

    @route(
        "POST",
        "/oidc/sign-in",
        form=s.SignInForm,
        csrf=True,
        status=303,
        rate_limited=True,
        error_style=pages.PAGE_ERRORS,
        answers={
            303: SEE_OTHER,
            400: ERROR_PAGE,
            401: pages.html_answer(
                "The form again: a wrong phone or password, or sign-in locked for the"
                " Retry-After seconds (the page says how long)"
            ),
        },
        tags=TAGS,
        summary="Sign in on the sign-in page (phone and password)",
        description=(
            "The lockout of /api/v1/auth/login applies. Signed in, sets the tongban_sso"
            " cookie and goes on with the authorization request. A post without the"
            " tongban_csrf cookie's value in csrf is refused (400) and does nothing."
        ),
    )
    def oidc_sign_in(self, call):
        form = call.body
        continue_url = form["continue"]
        query = authorize_query_of(continue_url)
        phone = normalised_phone(form["phone"])
        locale = pages.locale_of(query.get("ui_locales"))
        text = pages.TEXT[locale]
        if not PHONE.fullmatch(phone):
            return self._sign_in_again(call, query, continue_url, form, text["bad_phone"], "phone")
        if not form["password"]:
            return self._sign_in_again(
                call, query, continue_url, form, text["no_password"], "password"
            )
        try:
            signed_in = self._call(
                call,
                "identity",
                "oidc_sign_in",
                phone=phone,
                password=form["password"],
                client_address=call.client_address,
            )
        except Unauthorized as exc:
            retry_after = exc.fields.get("retry_after")
            if retry_after is None:
                return self._sign_in_again(
                    call, query, continue_url, form, text["wrong_credentials"], status=401
                )
            wait = pages.wait_in_words(int(retry_after), locale)
            response = self._sign_in_again(
                call, query, continue_url, form, text["locked"].format(wait=wait), status=401
            )
            response.headers["Retry-After"] = str(retry_after)
            return response
        response = redirect(after_sign_in(query), 303)
        pages.set_browser_session(
            response,
            signed_in["browser_session"],
            int(signed_in["expires_in"]),
            pages.secure_cookies(self.config),
        )
        return response

    @route(
        "GET",
        "/oidc/consent",
        query=s.ContinueQuery,
        content_type=pages.HTML,
        error_style=pages.PAGE_ERRORS,
        answers={200: pages.html_answer("The consent form"), 302: REDIRECT, 400: ERROR_PAGE},
        tags=TAGS,
        summary="The consent page of an authorization request",
        description=(
            "Who asks and for what; the buttons 同意 and 拒绝. Sets the tongban_csrf cookie"
            " its form repeats. Redirects on when nothing is to be asked."
        ),
    )
    def oidc_consent_page(self, call):
        return self._page_of_step(call, "consent", partial(self._consent_form, call))

    def _consent_form(self, call, outcome: dict, query: dict, continue_url: str) -> Response:
        client = outcome["client"]
        csrf, fresh = _csrf_of(call)
        response = pages.consent_page(
            locale=pages.locale_of(query.get("ui_locales")),
            client=client,
            department=self._department_name(call, client["department_code"]),
            scopes=outcome["scopes"] or [],
            user_name=outcome["user_name"],
            continue_url=continue_url,
            csrf=csrf,
            form_targets=(query.get("redirect_uri"),),
        )
        return self._with_csrf(response, csrf, fresh)

    @route(
        "POST",
        "/oidc/consent",
        form=s.ConsentForm,
        csrf=True,
        status=303,
        error_style=pages.PAGE_ERRORS,
        answers={303: SEE_OTHER, 400: ERROR_PAGE},
        tags=TAGS,
        summary="Allow or deny on the consent page",
        description=(
            "allow: the client gets its code; deny: error=access_denied. A post without"
            " the tongban_csrf cookie's value in csrf is refused (400) and does nothing."
        ),
    )
    def oidc_consent(self, call):
        continue_url = call.body["continue"]
        query = authorize_query_of(continue_url)
        outcome = self._call(
            call,
            "identity",
            "oidc_consent",
            query=query,
            browser_session=_browser_session(call),
            allow=call.body["decision"] == "allow",
        )
        return self._next_step(outcome, continue_url, query, 303)

    def _page_of_step(self, call: Call, step: str, render) -> Response:
        """The page of ``step`` (sign_in, consent) of the request ``continue``
        names, from ``render(outcome, query, continue_url)``; or, when identity
        asks for something else now, the way there."""
        continue_url = call.query["continue_"]
        query = authorize_query_of(continue_url)
        outcome = self._authorization_outcome(call, query)
        if outcome["outcome"] != step:
            return self._next_step(outcome, continue_url, query, 302)
        return render(outcome, query, continue_url)

    def _authorization_outcome(self, call: Call, query: dict, signed_in: bool = True) -> dict:
        """identity's judgement of the authorization request ``query`` now (as
        if the browser were not signed in, unless ``signed_in``)."""
        return self._call(
            call,
            "identity",
            "oidc_authorize",
            query=query,
            browser_session=_browser_session(call) if signed_in else None,
        )

    def _next_step(self, outcome: dict, continue_url: str, query: dict, status: int):
        """The answer to identity's outcome of an authorization request."""
        kind = outcome["outcome"]
        if kind == "redirect":
            return redirect(outcome["location"], status)
        if kind in ("sign_in", "consent"):
            page = "sign-in" if kind == "sign_in" else "consent"
            return redirect(_step_url(page, continue_url), status)
        return pages.problem_page(
            400,
            pages.locale_of(query.get("ui_locales")),
            "client_error",
            outcome.get("error_description") or outcome.get("error"),
        )

    def _sign_in_form(self, call, client, query, continue_url, **shown) -> Response:
        csrf, fresh = _csrf_of(call)
        response = pages.sign_in_page(
            locale=pages.locale_of(query.get("ui_locales")),
            client=client,
            continue_url=continue_url,
            csrf=csrf,
            form_targets=(query.get("redirect_uri"),),
            **shown,
        )
        return self._with_csrf(response, csrf, fresh)

    def _sign_in_again(
        self, call, query, continue_url, form, message, field=None, status=400
    ) -> Response:
        """The form again with ``message`` (on ``field``, else on both), and the
        client's name as identity knows it now: asked as if the browser were not
        signed in, so that the question issues nothing."""
        outcome = self._authorization_outcome(call, query, signed_in=False)
        if outcome["outcome"] == "error":
            return self._next_step(outcome, continue_url, query, 303)
        return self._sign_in_form(
            call,
            outcome["client"],
            query,
            continue_url,
            phone=form["phone"],
            error=message,
            error_fields=(field,) if field else (),
            status=status,
        )

    def _with_csrf(self, response: Response, csrf: str, fresh: bool) -> Response:
        if fresh:
            pages.set_csrf_cookie(response, csrf, pages.secure_cookies(self.config))
        return response

    def _department_name(self, call: Call, code: str) -> str | None:
        """The department's name from the cached catalogue; None when the
        catalogue cannot say (a code means nothing to a citizen, and the page is
        still worth showing without it)."""
        try:
            departments = self._cached(
                call, cache_key("departments"), "catalog", "list_departments"
            )
        except ServiceError:
            return None
        return next((d["name"] for d in departments["items"] if d["code"] == code), None)

    # ---------------------------------------------------------------- token

    @route(
        "POST",
        "/oidc/token",
        form=s.TokenForm,
        response=identity.TokenSuccess,
        rate_limited=True,
        error_style=TOKEN_ERRORS,
        security=[{"clientSecretBasic": []}, {}],
        errors=(400,),
        answers={
            401: Answer(
                "invalid_client: the client did not authenticate",
                schema=identity.OAuthError,
                headers={"WWW-Authenticate": 'Basic realm="tongban", when Basic was tried'},
            )
        },
        tags=TAGS,
        summary="Token endpoint: authorization_code and refresh_token grants",
        description=(
            "Client authentication: client_secret_basic (Authorization: Basic),"
            " private_key_jwt (client_assertion) or none (public clients: PKCE only)."
            " Every error is an OAuth 2.0 error body (RFC 6749 5.2). Never cached."
        ),
    )
    def oidc_token(self, call):
        answer = self._call(
            call,
            "identity",
            "oidc_token",
            form=call.body,
            authorization=call.request.headers.get("Authorization"),
        )
        return json_response(answer["status"], answer["body"], {**answer["headers"], **NO_STORE})

    # ------------------------------------------------------------- userinfo

    @route(
        "GET",
        "/oidc/userinfo",
        response=identity.UserInfo,
        auth=SIGNED_IN,
        tags=TAGS,
        summary="UserInfo endpoint: the claims the token's scopes allow",
        description=(
            "A bearer access token from /oidc/token with the openid scope; any other"
            " token is refused (403, WWW-Authenticate error insufficient_scope)."
        ),
    )
    def oidc_userinfo(self, call):
        return self._userinfo(call)

    @route(
        "POST",
        "/oidc/userinfo",
        response=identity.UserInfo,
        auth=SIGNED_IN,
        tags=TAGS,
        summary="UserInfo endpoint (POST)",
        description="As GET /oidc/userinfo; the token in the Authorization header.",
    )
    def oidc_userinfo_post(self, call):
        return self._userinfo(call)

    def _userinfo(self, call):
        claims = call.claims
        scope = claims.get("scope")
        client_id = claims.get("client_id")
        if not isinstance(scope, str) or "openid" not in scope.split() or not client_id:
            raise InsufficientScope("the token was not granted the openid scope", scope="openid")
        claims = self._call(
            call,
            "identity",
            "oidc_userinfo",
            user_id=call.actor["user_id"],
            scope=scope,
            client_id=str(client_id),
        )
        return json_response(200, claims, NO_STORE)

    # ---------------------------------------------------------- end session

    @route(
        "GET",
        "/oidc/logout",
        query=s.EndSessionQuery,
        content_type=pages.HTML,
        error_style=pages.PAGE_ERRORS,
        answers={200: LOGOUT_PAGE, 302: REDIRECT, 400: ERROR_PAGE},
        tags=TAGS,
        summary="End-session endpoint (RP-initiated logout)",
        description=(
            "With a valid id_token_hint: signs the browser out (every department system"
            " it signed in to hears of it) and redirects to post_logout_redirect_uri, or"
            " says so; else a page asks first. Clears the tongban_sso cookie."
        ),
    )
    def oidc_logout_page(self, call):
        return self._end_session(call, call.query, confirmed=False, status=302)

    @route(
        "POST",
        "/oidc/logout",
        form=s.LogoutForm,
        content_type=pages.HTML,
        error_style=pages.PAGE_ERRORS,
        answers={200: LOGOUT_PAGE, 303: REDIRECT, 400: ERROR_PAGE},
        tags=TAGS,
        summary="End-session endpoint (POST), and the logout page's confirmation",
        description=(
            "With csrf (the logout page's form, which must carry the tongban_csrf cookie's"
            " value, else 400): the user confirmed. Without: as GET /oidc/logout."
        ),
    )
    def oidc_logout(self, call):
        confirmed = CSRF_FIELD in call.body
        if confirmed:
            check_double_submit(call.request, call.body)
        values = load(s.EndSessionQuery(), call.body)
        return self._end_session(call, values, confirmed=confirmed, status=303)

    def _end_session(self, call, values: dict, confirmed: bool, status: int) -> Response:
        outcome = self._call(
            call,
            "identity",
            "oidc_end_session",
            query=values,
            browser_session=_browser_session(call),
            confirmed=confirmed,
        )
        locale = pages.locale_of(values.get("ui_locales"))
        secure = pages.secure_cookies(self.config)
        kind = outcome["outcome"]
        if kind == "confirm":
            csrf, fresh = _csrf_of(call)
            response = pages.logout_page(
                locale=locale,
                client=outcome["client"],
                values=values,
                csrf=csrf,
                form_targets=(values.get("post_logout_redirect_uri"),),
            )
            return self._with_csrf(response, csrf, fresh)
        if kind == "error":
            return pages.problem_page(
                400,
                locale,
                "logout_error",
                outcome.get("error_description") or outcome.get("error"),
            )
        if kind == "redirect":
            response = redirect(outcome["location"], status)
        else:
            response = pages.signed_out_page(locale)
        pages.clear_browser_session(response, secure)
        return response

    # ------------------------------------------- registered department systems

    @route(
        "POST",
        "/api/v1/admin/oidc-clients",
        request=identity.OidcClientBody,
        response=identity.OidcClientSecret,
        status=201,
        auth=OPERATOR,
        tags=TAGS,
        summary="Register a department system that signs users in here (operators)",
        description="Answers its client_secret this once (none for private_key_jwt or public).",
    )
    def register_oidc_client(self, call):
        return self._call(call, "identity", "register_oidc_client", actor=call.actor, **call.body)

    @route(
        "GET",
        "/api/v1/admin/oidc-clients",
        query=identity.OidcClientsQuery,
        response=identity.OidcClientPage,
        auth=CLIENT_READERS,
        tags=TAGS,
        summary="Registered department systems (operator: all; dept_admin: their own)",
    )
    def list_oidc_clients(self, call):
        return self._call(call, "identity", "list_oidc_clients", actor=call.actor, **call.query)

    @route(
        "GET",
        "/api/v1/admin/oidc-clients/<client_id>",
        path=identity.OidcClientRequest,
        response=identity.OidcClient,
        auth=CLIENT_READERS,
        tags=TAGS,
        summary="A registered department system (operator; dept_admin of its department)",
    )
    def get_oidc_client(self, call, client_id):
        return self._call(
            call, "identity", "get_oidc_client", actor=call.actor, client_id=client_id
        )

    @route(
        "PUT",
        "/api/v1/admin/oidc-clients/<client_id>",
        path=identity.UpdateOidcClient,
        request=identity.OidcClientBody,
        response=identity.OidcClient,
        auth=OPERATOR,
        tags=TAGS,
        summary="Change a department system's registration (operators)",
    )
    def update_oidc_client(self, call, client_id):
        return self._call(
            call,
            "identity",
            "update_oidc_client",
            actor=call.actor,
            client_id=client_id,
            **call.body,
        )

    @route(
        "DELETE",
        "/api/v1/admin/oidc-clients/<client_id>",
        path=identity.OidcClientRequest,
        status=204,
        auth=OPERATOR,
        tags=TAGS,
        summary="Remove a department system (operators)",
        description="It signs nobody in from then on; its sessions and tokens end.",
    )
    def delete_oidc_client(self, call, client_id):
        self._call(call, "identity", "delete_oidc_client", actor=call.actor, client_id=client_id)

    @route(
        "POST",
        "/api/v1/admin/oidc-clients/<client_id>/secret",
        path=identity.OidcClientRequest,
        request=s.Empty,
        response=identity.OidcClientSecret,
        auth=OPERATOR,
        tags=TAGS,
        summary="Give a department system a new client secret (operators)",
        description="The old secret stops working at once.",
    )
    def rotate_oidc_client_secret(self, call, client_id):
        return self._call(
            call, "identity", "rotate_oidc_client_secret", actor=call.actor, client_id=client_id
        )


def _browser_session(call: Call) -> str | None:
    value = call.request.cookies.get(pages.SSO_COOKIE)
    # Not a value identity makes (longer, or with a NUL): no use asking.
    return value if value and len(value) <= 128 and "\x00" not in value else None


def _csrf_of(call: Call) -> tuple[str, bool]:
    """The page's double-submit value: the browser's, else a new one (True)."""
    value = csrf_value_of(call.request)
    return (value, False) if value else (new_csrf_value(), True)


def normalised_phone(text: str) -> str:
    """The 11 digits of a mobile number as people and browsers fill it in
    (spaces, dashes, a +86 prefix)."""
    digits = re.sub(r"[\s-]", "", text)
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
    return digits
