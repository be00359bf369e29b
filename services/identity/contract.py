"""The identity service's wire contract: its RPC requests and responses, and the
payloads of the events it publishes on ``identity.events``.

The gateway's routes take their bodies and answers from here, so the HTTP API
and the RPC agree by construction (conventions: ``services.common.schemas``).
The schemas check the shape of each field; the domain checks the rules again
(password strength, ID number check digit, credit code check character) and
names the field it refuses. No message here repeats a value it refuses.
"""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.common import pii
from services.common.schemas import (
    ACTOR_KINDS,
    PATH_ID_MAX,
    ActorSchema,
    Boolean,
    FullMatch,
    Instant,
    PageQuery,
    page_of,
)
from services.identity.domain.id_numbers import mask_phone
from services.identity.domain.mandates import (
    MAX_MANDATE_DAYS,
    MAX_MANDATE_ITEMS,
    Basis,
    MandateStatus,
    PrincipalKind,
)
from services.identity.domain.model import (
    DEPARTMENT_CODE_MAX,
    ENTERPRISE_NAME_MAX,
    NAME_MAX,
    PASSWORD_MAX,
    PASSWORD_MIN,
    STAFF_ROLES,
)
from services.identity.domain.oidc import (  # noqa: F401  (ACR_VALUES: for the discovery document)
    ACR_VALUES,
    SCOPES,
)
from services.identity.domain.signing_keys import KeyStatus

PHONE = FullMatch(r"^1[0-9]{10}$", error="must be 11 digits starting with 1")
ID_NUMBER = FullMatch(
    r"^[0-9]{17}[0-9Xx]$", error="must be 18 characters: 17 digits and a digit or X"
)
USCC = FullMatch(
    r"^[0-9A-HJ-NPQRTUWXY]{18}$", error="must be 18 characters of the GB 32100 alphabet"
)


def _phone(**kwargs) -> fields.String:
    return fields.String(
        required=True, validate=PHONE, metadata={"example": "13900000001"}, **kwargs
    )


def _name(maximum: int = NAME_MAX, example: str = "张三") -> fields.String:
    return fields.String(
        required=True,
        validate=validate.Length(min=1, max=maximum),
        metadata={"example": example},
    )


def _password(minimum: int = PASSWORD_MIN) -> fields.String:
    return fields.String(
        required=True,
        validate=validate.Length(min=minimum, max=PASSWORD_MAX),
        metadata={"example": "Citizen2026", "format": "password"},
    )


# --- requests ---------------------------------------------------------------


class Register(Schema):
    """A new citizen account (and ``ensure_operator``'s operator account)."""

    phone = _phone()
    password = _password()
    name = _name()


class Credentials(Schema):
    phone = _phone()
    # Any length is worth a try: the rule applies to new passwords only.
    password = _password(minimum=1)


class Login(Credentials):
    """What the gateway sends identity: the credentials and the client's address
    (as the gateway determined it), whose failed logins are counted too."""

    client_address = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(min=1, max=64)
    )


class UnlockAccount(Schema):
    actor = fields.Nested(ActorSchema, required=True)
    user_id = fields.String(required=True, validate=validate.Length(min=1, max=64))


class LockedAccountsQuery(PageQuery):
    """A page of the accounts locked now, the soonest to end first."""


class Refresh(Schema):
    refresh_token = fields.String(required=True, validate=validate.Length(min=1, max=512))


class SessionId(Schema):
    session_id = fields.String(required=True, validate=validate.Length(min=1, max=64))


class UserIdRequest(Schema):
    user_id = fields.String(required=True, validate=validate.Length(min=1, max=64))


class RealNameBody(Schema):
    name = _name()
    id_number = fields.String(
        required=True, validate=ID_NUMBER, metadata={"example": "11010519491231002X"}
    )


class VerifyRealName(RealNameBody):
    user_id = fields.String(required=True, validate=validate.Length(min=1, max=64))


class EnterpriseBody(Schema):
    name = _name(ENTERPRISE_NAME_MAX, example="南京某某科技有限公司")
    uscc = fields.String(required=True, validate=USCC, metadata={"example": "91320102MA1XXXXX0C"})
    legal_representative = _name()


class RegisterEnterprise(EnterpriseBody):
    actor = fields.Nested(ActorSchema, required=True)


class UsccRequest(Schema):
    uscc = fields.String(required=True, validate=validate.Length(min=1, max=32))


class StaffBody(Register):
    department_code = fields.String(
        required=True,
        validate=validate.Length(min=1, max=DEPARTMENT_CODE_MAX),
        metadata={"example": "js-amr"},
    )
    roles = fields.List(
        fields.String(validate=validate.OneOf(sorted(STAFF_ROLES))),
        required=True,
        validate=validate.Length(min=1),
    )


class CreateStaff(StaffBody):
    actor = fields.Nested(ActorSchema, required=True)


_ID = validate.Length(min=1, max=64)
PRINCIPAL_KINDS = tuple(kind.value for kind in PrincipalKind)


class MemberBody(Schema):
    """The account the owner adds as a member (a real-name verified citizen)."""

    user_id = fields.String(required=True, validate=_ID)


class AddMember(MemberBody):
    actor = fields.Nested(ActorSchema, required=True)
    uscc = fields.String(required=True, validate=validate.Length(min=1, max=32))


class RemoveMember(Schema):
    actor = fields.Nested(ActorSchema, required=True)
    uscc = fields.String(required=True, validate=validate.Length(min=1, max=32))
    user_id = fields.String(required=True, validate=_ID)


class MembersQuery(PageQuery):
    """A page of the enterprise's members, first added first."""


class ListMembers(MembersQuery):
    actor = fields.Nested(ActorSchema, required=True)
    uscc = fields.String(required=True, validate=validate.Length(min=1, max=32))


class MandateBody(Schema):
    """A mandate to an agent: a staff member with the role agent or a real-name
    verified citizen; for the items listed (item ids as the catalogue gives
    them, not looked up), or every item when none are; through ``expires_on``
    (a Jiangsu day after today, at most a year ahead)."""

    agent_user_id = fields.String(required=True, validate=_ID)
    item_ids = fields.List(
        fields.String(validate=validate.Length(min=1, max=64)),
        allow_none=True,
        load_default=None,
        validate=validate.Length(max=MAX_MANDATE_ITEMS),
        metadata={"description": "null or empty: every item"},
    )
    expires_on = fields.Date(
        required=True,
        metadata={
            "description": f"the last day in force; after today, at most {MAX_MANDATE_DAYS}"
            " days ahead"
        },
    )


class GrantEnterpriseMandate(MandateBody):
    actor = fields.Nested(ActorSchema, required=True)
    uscc = fields.String(required=True, validate=validate.Length(min=1, max=32))


class GrantPersonalMandate(MandateBody):
    actor = fields.Nested(ActorSchema, required=True)


class EnterpriseMandatesQuery(PageQuery):
    """A page of the enterprise's mandates, newest first."""


class ListEnterpriseMandates(EnterpriseMandatesQuery):
    actor = fields.Nested(ActorSchema, required=True)
    uscc = fields.String(required=True, validate=validate.Length(min=1, max=32))


class MyMandatesQuery(PageQuery):
    """``role`` principal (default): the mandates I granted; agent: those
    granted to me, so I see whom I may act for."""

    role = fields.String(load_default="principal", validate=validate.OneOf(("principal", "agent")))


class ListMyMandates(MyMandatesQuery):
    actor = fields.Nested(ActorSchema, required=True)


class RevokeEnterpriseMandate(Schema):
    actor = fields.Nested(ActorSchema, required=True)
    uscc = fields.String(required=True, validate=validate.Length(min=1, max=32))
    mandate_id = fields.String(required=True, validate=_ID)


class RevokeMyMandate(Schema):
    actor = fields.Nested(ActorSchema, required=True)
    mandate_id = fields.String(required=True, validate=_ID)


class PrincipalRef(Schema):
    """Whom an account acts for: an enterprise ``{kind, uscc}`` or a person
    ``{kind, user_id}``."""

    kind = fields.String(required=True, validate=validate.OneOf(PRINCIPAL_KINDS))
    uscc = fields.String(validate=USCC)
    user_id = fields.String(validate=_ID)

    @validates_schema
    def _fields_of_the_kind(self, data, **kwargs):
        kind = data.get("kind")
        if kind == PrincipalKind.ENTERPRISE and not data.get("uscc"):
            raise ValidationError("is required for an enterprise", "uscc")
        if kind == PrincipalKind.PERSON and not data.get("user_id"):
            raise ValidationError("is required for a person", "user_id")


class AuthorisePrincipal(Schema):
    """May ``actor_id`` act for ``principal`` on ``item_id`` on ``on`` (today in
    Jiangsu when absent)?"""

    actor_id = fields.String(required=True, validate=_ID)
    principal = fields.Nested(PrincipalRef, required=True)
    item_id = fields.String(required=True, validate=_ID)
    on = fields.Date(load_default=None, allow_none=True)


# --- responses --------------------------------------------------------------


class UserId(Schema):
    user_id = fields.String(required=True)


class TokenPair(Schema):
    access_token = fields.String(required=True)
    refresh_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(required=True, metadata={"description": "seconds"})


class AccountLock(Schema):
    """An account's lock after an operator lifted it."""

    user_id = fields.String(required=True)
    locked = fields.Boolean(required=True, metadata={"example": False})


class LockedAccount(Schema):
    user_id = fields.String(required=True)
    locked_until = Instant(required=True)


LockedAccountPage = page_of(LockedAccount)


class RotateSigningKey(Schema):
    actor = fields.Nested(ActorSchema, required=True)


class SigningKeysQuery(PageQuery):
    """A page of the signing keys, newest first."""


class ListSigningKeys(SigningKeysQuery):
    actor = fields.Nested(ActorSchema, required=True)


class RevokedSessionsQuery(PageQuery):
    """Sessions revoked at or after ``since`` (at most the access token
    lifetime and the clock leeway ago; earlier or absent: that far back)."""

    since = Instant(load_default=None, allow_none=True)


class Jwk(Schema):
    """A public RSA signing key."""

    kty = fields.String(required=True, metadata={"example": "RSA"})
    kid = fields.String(required=True)
    use = fields.String(required=True, metadata={"example": "sig"})
    alg = fields.String(required=True, metadata={"example": "RS256"})
    n = fields.String(required=True)
    e = fields.String(required=True)


class Jwks(Schema):
    keys = fields.List(fields.Nested(Jwk), required=True)


class KeyRotation(Schema):
    """The key a rotation added (or the one already pending), and the key ids
    published now."""

    kid = fields.String(required=True)
    signs_from = Instant(required=True)
    published_kids = fields.List(fields.String(), required=True)


class SigningKeyEntry(Schema):
    """A signing key's schedule (never its key material). ``retires_at``: when it
    leaves the JWKS, null until a newer key signs."""

    kid = fields.String(required=True)
    created_at = Instant(required=True)
    signs_from = Instant(required=True)
    retires_at = Instant(required=True, allow_none=True)
    status = fields.String(
        required=True, validate=validate.OneOf([status.value for status in KeyStatus])
    )


SigningKeyPage = page_of(SigningKeyEntry)


class RevokedSession(Schema):
    """A session ended while its access tokens may still be alive; none is
    valid after ``expires_at``."""

    session_id = fields.String(required=True)
    user_id = fields.String(required=True)
    revoked_at = Instant(required=True)
    expires_at = Instant(required=True)


RevokedSessionPage = page_of(RevokedSession)


class Profile(Schema):
    """A user as the user sees it: phone and ID number masked."""

    user_id = fields.String(required=True)
    phone = fields.Function(
        lambda user: mask_phone(user.phone),
        required=True,
        metadata={"type": "string", "description": "masked", "example": "139****0001"},
    )
    name = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(ACTOR_KINDS))
    assurance_level = fields.Integer(
        required=True, metadata={"description": "1 registered, 2 real-name verified"}
    )
    id_number_masked = fields.String(
        required=True, allow_none=True, metadata={"example": "3201**********1234"}
    )
    roles = fields.List(fields.String(), required=True)
    department_code = fields.String(required=True, allow_none=True)
    created_at = Instant(required=True)


class PersonFactsRequest(UserIdRequest):
    """Who reads the person's facts and why: a read of the ID number is
    recorded (``list_pii_access``); a caller naming nobody is recorded as an
    unnamed service's automatic decision."""

    purpose = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(pii.PURPOSES)
    )
    accessor_id = fields.String(load_default=None, allow_none=True, validate=_ID)
    accessor_kind = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(pii.ACCESSOR_KINDS)
    )


class PiiAccessQuery(PageQuery):
    """A page of the reads of ID numbers, newest first: of one subject's
    number (a user id, or an application id for the person its agent applied
    for by number), by one accessor, or both."""

    subject_id = fields.String(load_default=None, validate=_ID)
    accessor_id = fields.String(load_default=None, validate=_ID)


class ListPiiAccess(PiiAccessQuery):
    actor = fields.Nested(ActorSchema, required=True)


class PiiAccessEntry(Schema):
    """A read of a full ID number by someone other than its owner."""

    access_id = fields.String(required=True)
    accessor_id = fields.String(
        required=True, metadata={"description": "a user id, or a service's name"}
    )
    accessor_kind = fields.String(required=True, validate=validate.OneOf(pii.ACCESSOR_KINDS))
    subject_id = fields.String(
        required=True,
        metadata={"description": "a user id; an application id for an application_principal"},
    )
    subject_kind = fields.String(required=True, validate=validate.OneOf(pii.SUBJECT_KINDS))
    purpose = fields.String(required=True, validate=validate.OneOf(pii.PURPOSES))
    service = fields.String(required=True, metadata={"description": "the service that read it"})
    at = Instant(required=True)


PiiAccessPage = page_of(PiiAccessEntry)


class PersonFacts(Schema):
    """A person's facts for another service's automatic decision (internal: the
    gateway does not expose them). ``id_number``, ``birth_date`` and
    ``household_region`` are null below level 2."""

    user_id = fields.String(required=True)
    level = fields.Integer(
        required=True,
        validate=validate.OneOf([1, 2]),
        metadata={"description": "1 registered, 2 real-name verified"},
    )
    name = fields.String(required=True)
    id_number = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "the verified ID number, in full; null below level 2"},
    )
    birth_date = fields.Date(
        required=True, allow_none=True, metadata={"description": "from the ID number"}
    )
    household_region = fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "first six digits of the ID number (division code)",
            "example": "320102",
        },
    )


class Level(Schema):
    level = fields.Integer(required=True, attribute="assurance_level")


class Enterprise(Schema):
    enterprise_id = fields.String(required=True)
    uscc = fields.String(required=True)
    name = fields.String(required=True)
    legal_representative = fields.String(required=True)
    owner_user_id = fields.String(required=True)
    created_at = Instant(required=True)


class Member(Schema):
    """An account that acts for the enterprise beside its owner."""

    uscc = fields.String(required=True)
    user_id = fields.String(required=True)
    name = fields.String(required=True)
    added_by = fields.String(required=True)
    added_at = Instant(required=True)


MemberPage = page_of(Member)


class MandateId(Schema):
    mandate_id = fields.String(required=True)


class Principal(Schema):
    """An enterprise ``{kind, uscc, name}`` or a person ``{kind, user_id, name}``."""

    kind = fields.String(required=True, validate=validate.OneOf(PRINCIPAL_KINDS))
    uscc = fields.String(metadata={"description": "enterprise only"})
    user_id = fields.String(metadata={"description": "person only"})
    name = fields.String(required=True)


class Mandate(Schema):
    """A mandate and its state on today's Jiangsu day."""

    mandate_id = fields.String(required=True)
    principal = fields.Nested(Principal, required=True)
    agent_user_id = fields.String(required=True)
    agent_name = fields.String(required=True)
    item_ids = fields.List(
        fields.String(), required=True, metadata={"description": "empty: every item"}
    )
    expires_on = fields.Date(required=True)
    granted_at = Instant(required=True)
    revoked_at = Instant(required=True, allow_none=True)
    status = fields.String(
        required=True, validate=validate.OneOf([status.value for status in MandateStatus])
    )


MandatePage = page_of(Mandate)


class Authorisation(Schema):
    """Why the account may act for the principal: ``owner`` (the enterprise's
    owner, or the person themself), ``member`` or ``mandate`` (``mandate_id``)."""

    basis = fields.String(required=True, validate=validate.OneOf([b.value for b in Basis]))
    mandate_id = fields.String(required=True, allow_none=True)
    principal = fields.Nested(Principal, required=True)


# --- OpenID Connect ---------------------------------------------------------
# The gateway's OIDC routes and the admin routes of department systems (OIDC
# clients) take their bodies and answers from here. The OAuth answers of the
# authorization, token and end-session endpoints travel as data (outcomes),
# not errors: their shape is the protocol's, not tongban's error body.

# The scopes the discovery document lists (and ACR_VALUES, its acr values).
OIDC_SCOPES = SCOPES
OIDC_URI_MAX = 512
OIDC_URIS_MAX = 10
_QUERY = fields.Dict(
    keys=fields.String(validate=validate.Length(min=1, max=64)),
    # An id_token_hint with enterprise and mandate claims runs long.
    values=fields.String(validate=validate.Length(max=8192)),
    required=True,
    validate=validate.Length(max=40),
    metadata={"description": "the request's parameters, one value each"},
)
_BROWSER_SESSION = fields.String(
    load_default=None,
    allow_none=True,
    validate=validate.Length(min=1, max=128),
    metadata={"description": "the tongban_sso cookie's value, when the browser sent one"},
)
TOKEN_ENDPOINT_AUTH_METHODS = ("client_secret_basic", "private_key_jwt", "none")


def _uris(**kwargs) -> fields.List:
    return fields.List(
        fields.String(validate=validate.Length(min=1, max=OIDC_URI_MAX)),
        validate=validate.Length(max=OIDC_URIS_MAX),
        **kwargs,
    )


class OidcClientBody(Schema):
    """A department system that signs its users in with tongban accounts.

    URIs are absolute, https (http only for 127.0.0.1, localhost and [::1]),
    without fragment, wildcard or user information; a redirect URI must then
    match exactly. ``jwks``: the client's public keys, which make it
    authenticate with private_key_jwt; ``public``: a browser application with
    no secret (PKCE its only proof); ``skip_consent``: a first-party system
    whose users are not asked.
    """

    name = _name(ENTERPRISE_NAME_MAX, example="苏州市住房公积金管理中心")
    department_code = fields.String(
        required=True,
        validate=validate.Length(min=1, max=DEPARTMENT_CODE_MAX),
        metadata={"example": "sz-gjj"},
    )
    redirect_uris = fields.List(
        fields.String(validate=validate.Length(min=1, max=OIDC_URI_MAX)),
        required=True,
        validate=validate.Length(min=1, max=OIDC_URIS_MAX),
        metadata={"example": ["https://gjj.suzhou.gov.cn/callback"]},
    )
    post_logout_redirect_uris = _uris(load_default=list)
    backchannel_logout_uri = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(min=1, max=OIDC_URI_MAX)
    )
    jwks = fields.Dict(
        load_default=None,
        allow_none=True,
        metadata={"description": "a public JWKS {keys: [...]}: the client uses private_key_jwt"},
    )
    public = Boolean(load_default=False)
    skip_consent = Boolean(load_default=False)


class RegisterOidcClient(OidcClientBody):
    actor = fields.Nested(ActorSchema, required=True)


class UpdateOidcClient(OidcClientBody):
    actor = fields.Nested(ActorSchema, required=True)
    client_id = fields.String(required=True, validate=validate.Length(min=1, max=PATH_ID_MAX))


class OidcClientRequest(Schema):
    """One client, by id (get, delete, secret rotation)."""

    actor = fields.Nested(ActorSchema, required=True)
    client_id = fields.String(required=True, validate=validate.Length(min=1, max=PATH_ID_MAX))


class OidcClientsQuery(PageQuery):
    """A page of the registered clients, oldest first; of one department when
    ``department_code`` is given (a dept_admin sees their own department's only)."""

    department_code = fields.String(
        load_default=None, validate=validate.Length(min=1, max=DEPARTMENT_CODE_MAX)
    )


class ListOidcClients(OidcClientsQuery):
    actor = fields.Nested(ActorSchema, required=True)


class OidcAuthorize(Schema):
    """An authorization request as the browser sent it."""

    query = _QUERY
    browser_session = _BROWSER_SESSION


class OidcSignIn(Login):
    """A sign-in on the OIDC sign-in page: the same checks and lockout as ``login``."""


class OidcConsent(OidcAuthorize):
    """The user's answer on the consent page to the authorization request ``query``."""

    allow = Boolean(required=True)


class OidcToken(Schema):
    """A token request: the form fields and the Authorization header (Basic)."""

    form = _QUERY
    authorization = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(min=1, max=4096)
    )


class OidcUserInfoRequest(Schema):
    """The claims of a verified access token's user for its client and scope."""

    user_id = fields.String(required=True, validate=_ID)
    scope = fields.String(required=True, validate=validate.Length(max=512))
    client_id = fields.String(required=True, validate=validate.Length(min=1, max=PATH_ID_MAX))


class OidcEndSession(OidcAuthorize):
    """An RP-initiated logout; ``confirmed``: the user pressed the button on
    the confirmation page."""

    confirmed = Boolean(load_default=False)


class OidcClientSummary(Schema):
    """Who asks, as the sign-in and consent pages name it."""

    client_id = fields.String(required=True)
    name = fields.String(required=True)
    department_code = fields.String(required=True)


class OidcClient(Schema):
    """A registered department system (never its secret)."""

    client_id = fields.String(required=True, metadata={"example": "c_3q2GkW0x9pTzq1JmYc7h5A"})
    name = fields.String(required=True)
    department_code = fields.String(required=True)
    redirect_uris = fields.List(fields.String(), required=True)
    post_logout_redirect_uris = fields.List(fields.String(), required=True)
    backchannel_logout_uri = fields.String(required=True, allow_none=True)
    jwks = fields.Dict(required=True, allow_none=True)
    token_endpoint_auth_method = fields.String(
        required=True, validate=validate.OneOf(TOKEN_ENDPOINT_AUTH_METHODS)
    )
    skip_consent = fields.Boolean(required=True)
    created_at = Instant(required=True)
    updated_at = Instant(required=True)


class OidcClientSecret(OidcClient):
    """The client and its secret, shown this once (null for private_key_jwt and
    public clients)."""

    client_secret = fields.String(required=True, allow_none=True)


OidcClientPage = page_of(OidcClient)

AUTHORIZE_OUTCOMES = ("redirect", "error", "sign_in", "consent")


class AuthorizeOutcome(Schema):
    """What the authorization endpoint does next: ``redirect`` to ``location``
    (a code, or an OAuth error for the client); ``error``: the request cannot
    be answered to the client (unknown client, unregistered redirect URI):
    show ``error``/``error_description``, never redirect; ``sign_in``: ask for
    the password; ``consent``: ask the user about ``scopes`` for ``client``."""

    outcome = fields.String(required=True, validate=validate.OneOf(AUTHORIZE_OUTCOMES))
    location = fields.String(required=True, allow_none=True)
    error = fields.String(required=True, allow_none=True)
    error_description = fields.String(required=True, allow_none=True)
    client = fields.Nested(OidcClientSummary, required=True, allow_none=True)
    scopes = fields.List(fields.String(), required=True, allow_none=True)
    user_name = fields.String(required=True, allow_none=True)


class BrowserSession(Schema):
    """A signed-in browser: ``browser_session`` is the cookie's value (a secret)."""

    browser_session = fields.String(required=True)
    expires_in = fields.Integer(required=True, metadata={"description": "seconds"})
    user_id = fields.String(required=True)


class TokenAnswer(Schema):
    """The token endpoint's HTTP answer: status, JSON body (tokens, or an RFC
    6749 §5.2 error) and extra headers (WWW-Authenticate)."""

    status = fields.Integer(required=True, metadata={"example": 200})
    body = fields.Dict(required=True)
    headers = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


class TokenSuccess(Schema):
    """A token endpoint's successful body."""

    access_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(required=True)
    refresh_token = fields.String(required=True)
    id_token = fields.String(required=True)
    scope = fields.String(required=True)


class OAuthError(Schema):
    """An OAuth 2.0 error body (RFC 6749 §5.2)."""

    error = fields.String(required=True, metadata={"example": "invalid_grant"})
    error_description = fields.String()


class EnterpriseClaim(Schema):
    uscc = fields.String(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(("owner", "member")))


class MandateClaim(Schema):
    """A mandate the user holds as agent now; ``principal_ref``: the
    enterprise's credit code, or the person's masked ID number."""

    mandate_id = fields.String(required=True)
    principal_kind = fields.String(required=True, validate=validate.OneOf(PRINCIPAL_KINDS))
    principal_name = fields.String(required=True)
    principal_ref = fields.String(required=True, allow_none=True)
    expires_at = fields.Integer(
        required=True,
        metadata={
            "description": "when the mandate ends (NumericDate: the end of its last day, UTC+8)"
        },
    )


class UserInfo(Schema):
    """The user's claims for a client: ``sub`` and what its scopes allow
    (profile: name; phone: phone_number; enterprise: enterprises; agent:
    mandates; staff: department_code, roles). Never the ID number."""

    sub = fields.String(required=True)
    name = fields.String()
    phone_number = fields.String(metadata={"example": "+8613900000001"})
    phone_number_verified = fields.Boolean()
    enterprises = fields.List(fields.Nested(EnterpriseClaim))
    mandates = fields.List(fields.Nested(MandateClaim))
    department_code = fields.String(allow_none=True)
    roles = fields.List(fields.String())


END_SESSION_OUTCOMES = ("redirect", "confirm", "signed_out", "error")


class EndSessionOutcome(Schema):
    """What the end-session endpoint does next: ``redirect`` to ``location``;
    ``confirm``: ask the user (a POST form); ``signed_out``: say so; ``error``:
    a bad request (show it, never redirect)."""

    outcome = fields.String(required=True, validate=validate.OneOf(END_SESSION_OUTCOMES))
    location = fields.String(required=True, allow_none=True)
    error = fields.String(required=True, allow_none=True)
    error_description = fields.String(required=True, allow_none=True)
    client = fields.Nested(OidcClientSummary, required=True, allow_none=True)


def _strings(**kwargs) -> fields.List:
    return fields.List(fields.String(), required=True, **kwargs)


class OpenIdConfiguration(Schema):
    """The OpenID Provider's discovery document (OpenID Connect Discovery 1.0)."""

    issuer = fields.String(required=True, metadata={"example": "https://www.jszwfw.gov.cn"})
    authorization_endpoint = fields.String(required=True)
    token_endpoint = fields.String(required=True)
    userinfo_endpoint = fields.String(required=True)
    jwks_uri = fields.String(required=True)
    end_session_endpoint = fields.String(required=True)
    scopes_supported = _strings()
    response_types_supported = _strings()
    response_modes_supported = _strings()
    grant_types_supported = _strings()
    subject_types_supported = _strings()
    id_token_signing_alg_values_supported = _strings()
    token_endpoint_auth_methods_supported = _strings()
    token_endpoint_auth_signing_alg_values_supported = _strings()
    code_challenge_methods_supported = _strings()
    claims_supported = _strings()
    acr_values_supported = _strings()
    backchannel_logout_supported = fields.Boolean(required=True)
    backchannel_logout_session_supported = fields.Boolean(required=True)
    frontchannel_logout_supported = fields.Boolean(required=True)
    claims_parameter_supported = fields.Boolean(required=True)
    request_parameter_supported = fields.Boolean(required=True)
    request_uri_parameter_supported = fields.Boolean(required=True)
    authorization_response_iss_parameter_supported = fields.Boolean(required=True)
    ui_locales_supported = _strings()
    prompt_values_supported = _strings()


# --- events -----------------------------------------------------------------


class UserRegistered(Schema):
    """``identity.user_registered``: an account was created."""

    user_id = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(ACTOR_KINDS))
    registered_at = Instant(required=True)


class UserVerified(Schema):
    """``identity.user_verified``: a user passed real-name verification."""

    user_id = fields.String(required=True)
    level = fields.Integer(required=True, strict=True, validate=validate.Range(1, 2))
    verified_at = Instant(required=True)


class EnterpriseRegistered(Schema):
    """``identity.enterprise_registered``: a verified user registered an enterprise."""

    enterprise_id = fields.String(required=True)
    uscc = fields.String(required=True, validate=validate.Length(equal=18))
    owner_user_id = fields.String(required=True)


class SessionRevoked(Schema):
    """``identity.session_revoked``: no access token of the session is valid any
    more, and none after ``expires_at`` (revoked_at + the access token lifetime)."""

    session_id = fields.String(required=True, validate=validate.Length(1, 64))
    user_id = fields.String(required=True)
    revoked_at = Instant(required=True)
    expires_at = Instant(required=True)


class EnterpriseMemberAdded(Schema):
    """``identity.enterprise_member_added``: the owner added an account acting for it."""

    uscc = fields.String(required=True, validate=validate.Length(equal=18))
    user_id = fields.String(required=True)


class EnterpriseMemberRemoved(Schema):
    """``identity.enterprise_member_removed``: the account acts for it no more."""

    uscc = fields.String(required=True, validate=validate.Length(equal=18))
    user_id = fields.String(required=True)


class MandateGranted(Schema):
    """``identity.mandate_granted``: a principal mandated an agent, for the
    items listed (every item when empty), through ``expires_on``."""

    mandate_id = fields.String(required=True)
    principal = fields.Nested(Principal, required=True)
    agent_user_id = fields.String(required=True)
    item_ids = fields.List(fields.String(), required=True)
    expires_on = fields.Date(required=True)


class MandateRevoked(Schema):
    """``identity.mandate_revoked``: the agent acts for the principal no more."""

    mandate_id = fields.String(required=True)
    principal = fields.Nested(Principal, required=True)
    agent_user_id = fields.String(required=True)


class AccountLocked(Schema):
    """``identity.account_locked``: failed logins locked the account's phone
    until ``locked_until`` (the ``lock_count``-th lock in a row)."""

    user_id = fields.String(required=True)
    locked_until = Instant(required=True)
    failures = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    lock_count = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))


class AccountUnlocked(Schema):
    """``identity.account_unlocked``: an operator (``unlocked_by``) lifted the lock."""

    user_id = fields.String(required=True)
    unlocked_by = fields.String(required=True)


class SigningKeyAdded(Schema):
    """``identity.signing_key_added``: a key joined the JWKS; it signs from
    ``signs_from`` on."""

    kid = fields.String(required=True)
    signs_from = Instant(required=True)


class SigningKeyRetired(Schema):
    """``identity.signing_key_retired``: the key left the JWKS."""

    kid = fields.String(required=True)


class OidcClientChanged(Schema):
    """``identity.oidc_client_registered`` / ``oidc_client_updated`` /
    ``oidc_client_deleted``: an operator changed a department system's
    registration."""

    client_id = fields.String(required=True)
    department_code = fields.String(required=True)
    actor_id = fields.String(required=True)
    occurred_at = Instant(required=True)


class OidcClientRegistered(OidcClientChanged):
    """``identity.oidc_client_registered``."""


class OidcClientUpdated(OidcClientChanged):
    """``identity.oidc_client_updated``."""


class OidcClientDeleted(OidcClientChanged):
    """``identity.oidc_client_deleted``: the client signs nobody in any more."""


class BackchannelLogoutDue(Schema):
    """``identity.backchannel_logout_due``: a browser session ended; the client
    is to be told with a logout token (``jti`` its id, the same on redelivery)."""

    client_id = fields.String(required=True)
    backchannel_logout_uri = fields.String(required=True)
    user_id = fields.String(required=True)
    sid = fields.String(required=True)
    jti = fields.String(required=True)


EVENTS = {
    "user_registered": UserRegistered,
    "user_verified": UserVerified,
    "enterprise_registered": EnterpriseRegistered,
    "session_revoked": SessionRevoked,
    "enterprise_member_added": EnterpriseMemberAdded,
    "enterprise_member_removed": EnterpriseMemberRemoved,
    "mandate_granted": MandateGranted,
    "mandate_revoked": MandateRevoked,
    "signing_key_added": SigningKeyAdded,
    "signing_key_retired": SigningKeyRetired,
    "account_locked": AccountLocked,
    "account_unlocked": AccountUnlocked,
    "oidc_client_registered": OidcClientRegistered,
    "oidc_client_updated": OidcClientUpdated,
    "oidc_client_deleted": OidcClientDeleted,
    "backchannel_logout_due": BackchannelLogoutDue,
}
