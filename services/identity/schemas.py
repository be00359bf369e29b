"""Wire formats of the identity service: RPC arguments and results, and events.

``load(schema, **values)`` turns marshmallow's errors into ``Invalid`` naming
every bad field; an argument left out or passed as None counts as missing. The
schemas check presence and type; the domain checks the rules (phone format,
password strength, ID number check digit) and names the field it rejects.
No message here ever repeats the value it rejects.
"""

from marshmallow import Schema, fields, validate

from services.common.schemas import (
    ACTOR_KINDS,
    ActorSchema,  # noqa: F401  (used by service.py)
    Instant,
)
from services.common.schemas import load as load_arguments
from services.identity.domain.id_numbers import mask_phone


def load(schema: Schema, **values) -> dict:
    """Load RPC arguments, leaving out the ones not given (None)."""
    return load_arguments(
        schema, {key: value for key, value in values.items() if value is not None}
    )


def _text(maximum: int = 200, **kwargs):
    # Length limits here only stop absurd payloads; the domain has the real rules.
    return fields.String(required=True, validate=validate.Length(max=maximum), **kwargs)


# --- RPC arguments ----------------------------------------------------------


class CredentialsSchema(Schema):
    """register, login and ensure_operator: phone, password (and name)."""

    phone = _text(32)
    password = _text(256)


class RegisterSchema(CredentialsSchema):
    name = _text()


class RefreshSchema(Schema):
    refresh_token = _text(512)


class SessionIdSchema(Schema):
    session_id = _text(64)


class UserIdSchema(Schema):
    user_id = _text(64)


class VerifyRealNameSchema(Schema):
    user_id = _text(64)
    name = _text()
    id_number = _text(32)


class RegisterEnterpriseSchema(Schema):
    actor = fields.Nested(ActorSchema, required=True)
    name = _text()
    uscc = _text(32)
    legal_representative = _text()


class UsccSchema(Schema):
    uscc = _text(32)


class CreateStaffSchema(RegisterSchema):
    actor = fields.Nested(ActorSchema, required=True)
    department_code = _text(64)
    roles = fields.List(fields.String(validate=validate.Length(max=64)), required=True)


# --- RPC results ------------------------------------------------------------


class UserIdResultSchema(Schema):
    user_id = fields.String()


class TokenPairSchema(Schema):
    access_token = fields.String()
    refresh_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()


class JwksSchema(Schema):
    keys = fields.List(fields.Dict())


class ProfileSchema(Schema):
    """A user as the user sees it: phone and ID number masked."""

    user_id = fields.String()
    phone = fields.Function(lambda user: mask_phone(user.phone))
    name = fields.String()
    kind = fields.String()
    assurance_level = fields.Integer()
    id_number_masked = fields.String(allow_none=True)
    roles = fields.List(fields.String())
    department_code = fields.String(allow_none=True)
    created_at = Instant()


class LevelSchema(Schema):
    level = fields.Integer(attribute="assurance_level")


class EnterpriseSchema(Schema):
    enterprise_id = fields.String()
    uscc = fields.String()
    name = fields.String()
    legal_representative = fields.String()
    owner_user_id = fields.String()
    created_at = Instant()


# --- events -----------------------------------------------------------------


class UserRegisteredSchema(Schema):
    """Payload of ``identity.user_registered``."""

    user_id = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(ACTOR_KINDS))
    registered_at = Instant(required=True)


class UserVerifiedSchema(Schema):
    """Payload of ``identity.user_verified``."""

    user_id = fields.String(required=True)
    level = fields.Integer(required=True, strict=True, validate=validate.Range(1, 2))
    verified_at = Instant(required=True)


class EnterpriseRegisteredSchema(Schema):
    """Payload of ``identity.enterprise_registered``."""

    enterprise_id = fields.String(required=True)
    uscc = fields.String(required=True, validate=validate.Length(equal=18))
    owner_user_id = fields.String(required=True)


class SessionRevokedSchema(Schema):
    """Payload of ``identity.session_revoked``: no access token of the session is
    valid after ``expires_at`` (revoked_at + the access token lifetime)."""

    session_id = fields.String(required=True, validate=validate.Length(1, 64))
    user_id = fields.String(required=True)
    revoked_at = Instant(required=True)
    expires_at = Instant(required=True)


EVENT_PAYLOADS = {
    "user_registered": UserRegisteredSchema,
    "user_verified": UserVerifiedSchema,
    "enterprise_registered": EnterpriseRegisteredSchema,
    "session_revoked": SessionRevokedSchema,
}
