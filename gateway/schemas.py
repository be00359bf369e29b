"""The wire format the gateway owns itself: errors, empty bodies, the webhook's
acknowledgement, the health answers, and what browsers and department systems
send the OpenID Connect provider's endpoints (OAuth 2.0 fixes those).

Every other request and answer is the owning service's contract
(``services/<name>/contract.py``): the routes name those schemas directly.
"""

from marshmallow import EXCLUDE, Schema, fields, validate

from services.common.schemas import FullMatch


class ErrorDetail(Schema):
    code = fields.String(required=True, metadata={"example": "invalid"})
    message = fields.String(required=True, metadata={"example": "invalid input"})
    field_reasons = fields.Dict(
        data_key="fields",
        required=True,
        keys=fields.String(),
        values=fields.String(),
        metadata={
            "description": "reason per bad field (dotted path for nested fields)",
            "example": {"delivery.address.postcode": "must be 6 digits"},
        },
    )


class Error(Schema):
    """Every 4xx and 5xx answer."""

    error = fields.Nested(ErrorDetail, required=True)


class Empty(Schema):
    """No body (or ``{}``)."""


class Status(Schema):
    status = fields.String(required=True, validate=validate.Equal("ok"))


class Health(Schema):
    status = fields.String(required=True, validate=validate.Equal("ok"))
    service = fields.String(required=True, metadata={"example": "gateway"})


class Readiness(Schema):
    status = fields.String(required=True, validate=validate.OneOf(("ready", "not ready")))
    checks = fields.Dict(
        required=True,
        keys=fields.String(),
        values=fields.String(),
        metadata={"example": {"jwks": "ok", "broker": "ok"}},
    )


# --- OpenID Connect: what browsers and department systems send the provider --
#
# The authorization and end-session requests are read as OAuth 2.0 says: an
# unknown parameter is ignored (EXCLUDE), and identity judges every value; the
# gateway only bounds their length. The pages' forms carry the double-submit
# value ``csrf`` (``gateway.forms``) and the authorization request to go on
# with (``continue``).

AUTHORIZE_PATH = "/oidc/authorize"
# A relative URL of the authorization endpoint, printable ASCII without a
# fragment or backslash: nothing a browser could take for another site.
CONTINUE = FullMatch(
    r"^/oidc/authorize(?:\?[!-\"$-\[\]-~]*)?$",
    error="must be a relative URL of the authorization endpoint",
)
# The limits keep a request line within the web server's 8 KiB, percent-encoding
# and all: a longer one is a 414 before any route sees it.
CONTINUE_MAX = 2048
TEXT_MAX = 256
URI_MAX = 512
JWT_MAX = 4096
# Form values (a body, not a URL): identity takes up to 2048 characters each.
FORM_VALUE_MAX = 2048
JWT = FullMatch(r"^[A-Za-z0-9_.-]*$", error="must be a compact JWT")


def _oauth_text(maximum: int = TEXT_MAX, **metadata) -> fields.String:
    return fields.String(validate=validate.Length(max=maximum), metadata=metadata)


def _jwt(maximum: int = JWT_MAX, **metadata) -> fields.String:
    return fields.String(validate=[validate.Length(max=maximum), JWT], metadata=metadata)


def _continue() -> fields.String:
    # ``continue`` is a Python keyword: the attribute is ``continue_``.
    return fields.String(
        required=True,
        data_key="continue",
        validate=[validate.Length(min=1, max=CONTINUE_MAX), CONTINUE],
        metadata={
            "description": "the authorization request to go on with",
            "example": "/oidc/authorize?client_id=gjj-suzhou&response_type=code",
        },
    )


def _csrf() -> fields.String:
    return fields.String(
        required=True,
        validate=validate.Length(equal=43),
        metadata={"description": "the value of the tongban_csrf cookie"},
    )


class AuthorizeQuery(Schema):
    """An authorization request (OpenID Connect Core 3.1.2.1)."""

    class Meta:
        unknown = EXCLUDE

    client_id = _oauth_text(example="gjj-suzhou")
    redirect_uri = _oauth_text(URI_MAX, example="http://127.0.0.1:8600/callback")
    response_type = _oauth_text(example="code")
    scope = _oauth_text(example="openid profile phone")
    state = _oauth_text(URI_MAX)
    nonce = _oauth_text()
    code_challenge = _oauth_text(description="BASE64URL(SHA256(code_verifier))")
    code_challenge_method = _oauth_text(example="S256")
    prompt = _oauth_text(description="none, login or consent")
    max_age = _oauth_text(description="seconds since the last sign-in that are still fine")
    ui_locales = _oauth_text(example="zh-CN")
    response_mode = _oauth_text(example="query")
    request = _jwt(1024, description="not supported")
    request_uri = _oauth_text(URI_MAX, description="not supported")


class ContinueQuery(Schema):
    """The sign-in and consent pages: the authorization request they serve."""

    continue_ = _continue()


class SignInForm(Schema):
    class Meta:
        unknown = EXCLUDE

    csrf = _csrf()
    continue_ = _continue()
    phone = fields.String(
        required=True,
        validate=validate.Length(max=20),
        metadata={"example": "13900000001", "description": "the account's mobile number"},
    )
    password = fields.String(
        required=True, validate=validate.Length(max=128), metadata={"format": "password"}
    )


class ConsentForm(Schema):
    class Meta:
        unknown = EXCLUDE

    csrf = _csrf()
    continue_ = _continue()
    decision = fields.String(required=True, validate=validate.OneOf(("allow", "deny")))


class EndSessionQuery(Schema):
    """An RP-initiated logout request (OpenID Connect RP-Initiated Logout 1.0)."""

    class Meta:
        unknown = EXCLUDE

    id_token_hint = _jwt()
    client_id = _oauth_text(example="gjj-suzhou")
    post_logout_redirect_uri = _oauth_text(URI_MAX, example="http://127.0.0.1:8600/")
    state = _oauth_text(URI_MAX)
    logout_hint = _oauth_text()
    ui_locales = _oauth_text(example="zh-CN")


class LogoutForm(EndSessionQuery):
    """An end-session request posted, or the logout page's confirmation: the
    request's values and ``csrf`` (checked by the route, which tells the two apart)."""

    csrf = fields.String(
        validate=validate.Length(max=128),
        metadata={"description": "the value of the tongban_csrf cookie (the logout page)"},
    )


class TokenForm(Schema):
    """A token request (RFC 6749 4.1.3 and 6; RFC 7636; RFC 7523 client
    assertions). Every value goes to identity as sent."""

    class Meta:
        unknown = EXCLUDE

    grant_type = fields.String(
        required=True,
        validate=validate.Length(min=1, max=64),
        metadata={"enum": ["authorization_code", "refresh_token"]},
    )
    code = _oauth_text(FORM_VALUE_MAX)
    redirect_uri = _oauth_text(FORM_VALUE_MAX)
    code_verifier = _oauth_text(FORM_VALUE_MAX, description="43 to 128 characters (RFC 7636)")
    refresh_token = _oauth_text(FORM_VALUE_MAX)
    scope = _oauth_text(FORM_VALUE_MAX)
    client_id = _oauth_text(FORM_VALUE_MAX, description="public clients, and private_key_jwt")
    client_assertion_type = _oauth_text(
        FORM_VALUE_MAX, example="urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    )
    client_assertion = _oauth_text(FORM_VALUE_MAX)
