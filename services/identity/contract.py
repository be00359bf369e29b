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
    ActorSchema,
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
}
