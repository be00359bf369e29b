"""The identity tables.

An ID number is never stored in the clear: ``id_number_hash`` (a keyed HMAC,
unique, for "is this number bound already?"), ``id_number_cipher`` (AES-GCM,
bound to the user id) and ``id_number_masked`` (for display). A refresh token
is stored only as its SHA-256 digest, and a signing key's private half only
encrypted with the same PII key.
"""

import sqlalchemy as sa

from services.common.messaging.tables import add_messaging_tables

# Named constraints, so migrations can refer to them (and SQLite batch mode can
# rebuild a table without losing them).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

ID = sa.String(32)
INSTANT = sa.DateTime(timezone=True)

users = sa.Table(
    "users",
    metadata,
    sa.Column("user_id", ID, primary_key=True),
    sa.Column("phone", sa.String(11), nullable=False, unique=True),
    sa.Column("name", sa.String(50), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("created_at", INSTANT, nullable=False),
    sa.Column("assurance_level", sa.SmallInteger, nullable=False, default=1),
    sa.Column("id_number_hash", sa.String(64), nullable=True, unique=True),
    sa.Column("id_number_cipher", sa.String(255), nullable=True),
    sa.Column("id_number_masked", sa.String(18), nullable=True),
    sa.Column("roles", sa.JSON, nullable=False),
    sa.Column("department_code", sa.String(64), nullable=True),
    sa.CheckConstraint("kind IN ('citizen', 'staff', 'operator')", name="kind"),
    sa.CheckConstraint("assurance_level IN (1, 2)", name="assurance_level"),
    sa.Index("ix_users_department_code", "department_code"),
)

enterprises = sa.Table(
    "enterprises",
    metadata,
    sa.Column("enterprise_id", ID, primary_key=True),
    sa.Column("uscc", sa.String(18), nullable=False, unique=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("legal_representative", sa.String(50), nullable=False),
    sa.Column("owner_user_id", ID, sa.ForeignKey("users.user_id"), nullable=False),
    sa.Column("created_at", INSTANT, nullable=False),
    sa.Index("ix_enterprises_owner_user_id", "owner_user_id"),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("session_id", ID, primary_key=True),
    sa.Column("user_id", ID, sa.ForeignKey("users.user_id"), nullable=False),
    sa.Column("created_at", INSTANT, nullable=False),
    sa.Column("revoked_at", INSTANT, nullable=True),
    sa.Column("revoked_reason", sa.String(64), nullable=True),
    # A department system's session (from a code exchange): its client, the
    # signed-in browser it came from and the scope granted; null for /auth/login.
    sa.Column("client_id", sa.String(64), nullable=True),
    sa.Column("browser_session_id", ID, nullable=True),
    sa.Column("scope", sa.String(512), nullable=True),
    sa.Index("ix_sessions_user_id", "user_id"),
    sa.Index("ix_sessions_revoked_at", "revoked_at"),
    sa.Index("ix_sessions_browser_session_id", "browser_session_id"),
    sa.Index("ix_sessions_client_id", "client_id"),
)

refresh_tokens = sa.Table(
    "refresh_tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("session_id", ID, sa.ForeignKey("sessions.session_id"), nullable=False),
    sa.Column("issued_at", INSTANT, nullable=False),
    sa.Column("expires_at", INSTANT, nullable=False),
    sa.Column("used_at", INSTANT, nullable=True),
    sa.Index("ix_refresh_tokens_session_id", "session_id"),
)

signing_keys = sa.Table(
    "signing_keys",
    metadata,
    sa.Column("kid", sa.String(64), primary_key=True),
    # PKCS#8 PEM encrypted with the PII cipher, bound to the kid.
    sa.Column("private_key_cipher", sa.Text, nullable=False),
    sa.Column("created_at", INSTANT, nullable=False),
    # Published from created_at; signs from signs_from; out of the JWKS from
    # retires_at (set when a newer key is added), marked at retired_at.
    sa.Column("signs_from", INSTANT, nullable=False),
    sa.Column("retires_at", INSTANT, nullable=True),
    sa.Column("retired_at", INSTANT, nullable=True),
    # The signing key this one succeeds ("" for the first): unique, so two
    # replicas rotating at once add one key between them.
    sa.Column("follows", sa.String(64), nullable=True, unique=True),
)

# Accounts that act for an enterprise beside its owner.
enterprise_members = sa.Table(
    "enterprise_members",
    metadata,
    sa.Column("uscc", sa.String(18), sa.ForeignKey("enterprises.uscc"), primary_key=True),
    sa.Column("user_id", ID, sa.ForeignKey("users.user_id"), primary_key=True),
    sa.Column("added_by", ID, nullable=False),
    sa.Column("added_at", INSTANT, nullable=False),
    sa.Index("ix_enterprise_members_user_id", "user_id"),
)

# Mandates of a principal (an enterprise by uscc, a person by user id) to an agent.
mandates = sa.Table(
    "mandates",
    metadata,
    sa.Column("mandate_id", ID, primary_key=True),
    sa.Column("principal_kind", sa.String(16), nullable=False),
    sa.Column("principal_key", ID, nullable=False),
    sa.Column("principal_name", sa.String(100), nullable=False),
    sa.Column("agent_user_id", ID, sa.ForeignKey("users.user_id"), nullable=False),
    sa.Column("agent_name", sa.String(50), nullable=False),
    # Item ids; empty: every item.
    sa.Column("item_ids", sa.JSON, nullable=False),
    sa.Column("expires_on", sa.Date, nullable=False),
    sa.Column("granted_by", ID, nullable=False),
    sa.Column("granted_at", INSTANT, nullable=False),
    sa.Column("revoked_at", INSTANT, nullable=True),
    sa.Column("revoked_by", ID, nullable=True),
    sa.CheckConstraint("principal_kind IN ('enterprise', 'person')", name="principal_kind"),
    sa.Index("ix_mandates_principal", "principal_kind", "principal_key", "granted_at"),
    sa.Index("ix_mandates_agent_user_id", "agent_user_id", "granted_at"),
)

# Failed logins and the lock of one phone (as typed, registered or not) or one
# client address; ``version`` makes each save conditional (see adapters.lockout).
login_failures = sa.Table(
    "login_failures",
    metadata,
    sa.Column("scope", sa.String(8), primary_key=True),
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("window_started_at", INSTANT, nullable=True),
    sa.Column("locked_until", INSTANT, nullable=True),
    sa.Column("lock_count", sa.Integer, nullable=False),
    sa.Column("last_locked_at", INSTANT, nullable=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.CheckConstraint("scope IN ('phone', 'address')", name="scope"),
    sa.Index("ix_login_failures_locked_until", "scope", "locked_until"),
)

# Reads of a full ID number by anyone but its owner: identity's own
# (person_facts) and other services' (their ``pii_accessed`` events).
pii_access = sa.Table(
    "pii_access",
    metadata,
    sa.Column("access_id", ID, primary_key=True),
    sa.Column("accessor_id", sa.String(64), nullable=False),
    sa.Column("accessor_kind", sa.String(16), nullable=False),
    sa.Column("subject_id", sa.String(64), nullable=False),
    sa.Column("subject_kind", sa.String(32), nullable=False),
    sa.Column("purpose", sa.String(32), nullable=False),
    sa.Column("service", sa.String(64), nullable=False),
    sa.Column("at", INSTANT, nullable=False),
    sa.Index("ix_pii_access_at", "at"),
    sa.Index("ix_pii_access_subject_id", "subject_id", "at"),
    sa.Index("ix_pii_access_accessor_id", "accessor_id", "at"),
)

# --- OpenID Connect provider --------------------------------------------------

# Department systems that sign their users in with tongban accounts. The
# secret is kept as a SHA-256 digest only; deleted ones stay (soft delete).
oidc_clients = sa.Table(
    "oidc_clients",
    metadata,
    sa.Column("client_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("department_code", sa.String(64), nullable=False),
    sa.Column("redirect_uris", sa.JSON, nullable=False),
    sa.Column("post_logout_redirect_uris", sa.JSON, nullable=False),
    sa.Column("backchannel_logout_uri", sa.String(512), nullable=True),
    sa.Column("jwks", sa.JSON, nullable=True),
    sa.Column("public", sa.Boolean, nullable=False),
    sa.Column("skip_consent", sa.Boolean, nullable=False),
    sa.Column("secret_hash", sa.String(64), nullable=True),
    sa.Column("created_at", INSTANT, nullable=False),
    sa.Column("updated_at", INSTANT, nullable=False),
    sa.Column("deleted_at", INSTANT, nullable=True),
    sa.Index("ix_oidc_clients_department_code", "department_code", "created_at"),
)

# Signed-in browsers (the tongban_sso cookie holds the secret whose digest is here).
browser_sessions = sa.Table(
    "browser_sessions",
    metadata,
    sa.Column("browser_session_id", ID, primary_key=True),
    sa.Column("user_id", ID, sa.ForeignKey("users.user_id"), nullable=False),
    sa.Column("secret_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("auth_time", INSTANT, nullable=False),
    sa.Column("amr", sa.JSON, nullable=False),
    sa.Column("expires_at", INSTANT, nullable=False),
    sa.Column("ended_at", INSTANT, nullable=True),
    sa.Column("ended_reason", sa.String(64), nullable=True),
    sa.Index("ix_browser_sessions_user_id", "user_id"),
)

# The scopes a user allowed a client (the union of every consent).
oidc_consents = sa.Table(
    "oidc_consents",
    metadata,
    sa.Column("user_id", ID, sa.ForeignKey("users.user_id"), primary_key=True),
    sa.Column("client_id", sa.String(64), primary_key=True),
    sa.Column("scopes", sa.JSON, nullable=False),
    sa.Column("granted_at", INSTANT, nullable=False),
)

# Authorization codes (digests), kept after use: a code that comes back
# revokes the session it started, and the codes of a browser session name the
# clients to tell when it ends.
oidc_authorization_codes = sa.Table(
    "oidc_authorization_codes",
    metadata,
    sa.Column("code_hash", sa.String(64), primary_key=True),
    sa.Column("client_id", sa.String(64), nullable=False),
    sa.Column("user_id", ID, nullable=False),
    sa.Column("browser_session_id", ID, nullable=False),
    sa.Column("redirect_uri", sa.String(512), nullable=False),
    sa.Column("scope", sa.String(512), nullable=False),
    sa.Column("nonce", sa.String(512), nullable=True),
    sa.Column("code_challenge", sa.String(128), nullable=False),
    sa.Column("code_challenge_method", sa.String(8), nullable=False),
    sa.Column("auth_time", INSTANT, nullable=False),
    sa.Column("acr", sa.String(32), nullable=False),
    sa.Column("expires_at", INSTANT, nullable=False),
    sa.Column("used_at", INSTANT, nullable=True),
    sa.Column("session_id", ID, nullable=True),
    sa.Index("ix_oidc_authorization_codes_browser_session_id", "browser_session_id"),
)

# The ids of private_key_jwt client assertions seen, until they expire: one
# assertion authenticates one request.
oidc_client_assertions = sa.Table(
    "oidc_client_assertions",
    metadata,
    sa.Column("client_id", sa.String(64), primary_key=True),
    sa.Column("jti", sa.String(255), primary_key=True),
    sa.Column("expires_at", INSTANT, nullable=False),
    sa.Index("ix_oidc_client_assertions_expires_at", "expires_at"),
)

add_messaging_tables(metadata)
