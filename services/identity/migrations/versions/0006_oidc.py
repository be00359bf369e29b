"""tongban as an OpenID Provider: department systems (clients), signed-in
browsers, consents, authorization codes, the client assertions seen; a
session started by a client names it, its browser session and its scope.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(32)
CLIENT_ID = sa.String(64)
INSTANT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "oidc_clients",
        sa.Column("client_id", CLIENT_ID, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("department_code", sa.String(64), nullable=False),
        sa.Column("redirect_uris", sa.JSON(), nullable=False),
        sa.Column("post_logout_redirect_uris", sa.JSON(), nullable=False),
        sa.Column("backchannel_logout_uri", sa.String(512), nullable=True),
        sa.Column("jwks", sa.JSON(), nullable=True),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("skip_consent", sa.Boolean(), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=True),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.Column("updated_at", INSTANT, nullable=False),
        sa.Column("deleted_at", INSTANT, nullable=True),
        sa.PrimaryKeyConstraint("client_id", name="pk_oidc_clients"),
    )
    op.create_index(
        "ix_oidc_clients_department_code", "oidc_clients", ["department_code", "created_at"]
    )
    op.create_table(
        "browser_sessions",
        sa.Column("browser_session_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("auth_time", INSTANT, nullable=False),
        sa.Column("amr", sa.JSON(), nullable=False),
        sa.Column("expires_at", INSTANT, nullable=False),
        sa.Column("ended_at", INSTANT, nullable=True),
        sa.Column("ended_reason", sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.user_id"], name="fk_browser_sessions_user_id_users"
        ),
        sa.PrimaryKeyConstraint("browser_session_id", name="pk_browser_sessions"),
        sa.UniqueConstraint("secret_hash", name="uq_browser_sessions_secret_hash"),
    )
    op.create_index("ix_browser_sessions_user_id", "browser_sessions", ["user_id"])
    op.create_table(
        "oidc_consents",
        sa.Column("user_id", ID, nullable=False),
        sa.Column("client_id", CLIENT_ID, nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("granted_at", INSTANT, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.user_id"], name="fk_oidc_consents_user_id_users"
        ),
        sa.PrimaryKeyConstraint("user_id", "client_id", name="pk_oidc_consents"),
    )
    op.create_table(
        "oidc_authorization_codes",
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("client_id", CLIENT_ID, nullable=False),
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
        sa.PrimaryKeyConstraint("code_hash", name="pk_oidc_authorization_codes"),
    )
    op.create_index(
        "ix_oidc_authorization_codes_browser_session_id",
        "oidc_authorization_codes",
        ["browser_session_id"],
    )
    op.create_table(
        "oidc_client_assertions",
        sa.Column("client_id", CLIENT_ID, nullable=False),
        sa.Column("jti", sa.String(255), nullable=False),
        sa.Column("expires_at", INSTANT, nullable=False),
        sa.PrimaryKeyConstraint("client_id", "jti", name="pk_oidc_client_assertions"),
    )
    op.create_index(
        "ix_oidc_client_assertions_expires_at", "oidc_client_assertions", ["expires_at"]
    )
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("client_id", CLIENT_ID, nullable=True))
        batch.add_column(sa.Column("browser_session_id", ID, nullable=True))
        batch.add_column(sa.Column("scope", sa.String(512), nullable=True))
    op.create_index("ix_sessions_browser_session_id", "sessions", ["browser_session_id"])
    op.create_index("ix_sessions_client_id", "sessions", ["client_id"])


def downgrade() -> None:
    op.drop_index("ix_sessions_client_id", table_name="sessions")
    op.drop_index("ix_sessions_browser_session_id", table_name="sessions")
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("scope")
        batch.drop_column("browser_session_id")
        batch.drop_column("client_id")
    op.drop_index("ix_oidc_client_assertions_expires_at", table_name="oidc_client_assertions")
    op.drop_table("oidc_client_assertions")
    op.drop_index(
        "ix_oidc_authorization_codes_browser_session_id", table_name="oidc_authorization_codes"
    )
    op.drop_table("oidc_authorization_codes")
    op.drop_table("oidc_consents")
    op.drop_index("ix_browser_sessions_user_id", table_name="browser_sessions")
    op.drop_table("browser_sessions")
    op.drop_index("ix_oidc_clients_department_code", table_name="oidc_clients")
    op.drop_table("oidc_clients")
