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
    sa.Index("ix_sessions_user_id", "user_id"),
    sa.Index("ix_sessions_revoked_at", "revoked_at"),
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

add_messaging_tables(metadata)
