"""Repositories of the OpenID provider: clients, browser sessions, consents,
authorization codes and the client assertions seen."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DbSession

from services.common.db import paged, stored_instant
from services.identity.adapters import orm
from services.identity.domain.oidc import (
    AuthorizationCode,
    BrowserSession,
    ConsentGrant,
    OidcClient,
)


def _one(session: DbSession, query, for_update: bool):
    if for_update:
        query = query.with_for_update()
    return session.execute(query).first()


class OidcClientRepository:
    def __init__(self, session: DbSession):
        self.session = session

    def get(self, client_id: str, for_update: bool = False) -> OidcClient | None:
        """The client, deleted ones too (the caller decides what they may do)."""
        table = orm.oidc_clients
        row = _one(self.session, sa.select(table).where(table.c.client_id == client_id), for_update)
        return _client(row) if row is not None else None

    def get_many(self, client_ids: list[str]) -> list[OidcClient]:
        table = orm.oidc_clients
        rows = self.session.execute(sa.select(table).where(table.c.client_id.in_(client_ids)))
        return [_client(row) for row in rows]

    def page(
        self, department_code: str | None, page: int, page_size: int
    ) -> tuple[list[OidcClient], int]:
        """The clients not deleted (of one department when given), oldest first."""
        table = orm.oidc_clients
        condition = table.c.deleted_at.is_(None)
        if department_code is not None:
            condition = sa.and_(condition, table.c.department_code == department_code)
        rows, total = paged(
            self.session,
            sa.select(table),
            table,
            condition,
            (table.c.created_at, table.c.client_id),
            page,
            page_size,
        )
        return [_client(row) for row in rows], total

    def add(self, client: OidcClient) -> None:
        """Insert; IntegrityError when the id is taken."""
        self.session.execute(
            orm.oidc_clients.insert().values(
                client_id=client.client_id, created_at=client.created_at, **_client_values(client)
            )
        )

    def save(self, client: OidcClient) -> None:
        table = orm.oidc_clients
        self.session.execute(
            table.update()
            .where(table.c.client_id == client.client_id)
            .values(**_client_values(client))
        )


def _client_values(client: OidcClient) -> dict:
    return {
        "name": client.name,
        "department_code": client.department_code,
        "redirect_uris": list(client.redirect_uris),
        "post_logout_redirect_uris": list(client.post_logout_redirect_uris),
        "backchannel_logout_uri": client.backchannel_logout_uri,
        "jwks": client.jwks,
        "public": client.public,
        "skip_consent": client.skip_consent,
        "secret_hash": client.secret_hash,
        "updated_at": client.updated_at,
        "deleted_at": client.deleted_at,
    }


def _client(row) -> OidcClient:
    return OidcClient(
        client_id=row.client_id,
        name=row.name,
        department_code=row.department_code,
        redirect_uris=list(row.redirect_uris or []),
        post_logout_redirect_uris=list(row.post_logout_redirect_uris or []),
        backchannel_logout_uri=row.backchannel_logout_uri,
        jwks=row.jwks,
        public=bool(row.public),
        skip_consent=bool(row.skip_consent),
        secret_hash=row.secret_hash,
        created_at=stored_instant(row.created_at),
        updated_at=stored_instant(row.updated_at),
        deleted_at=stored_instant(row.deleted_at),
    )


class BrowserSessionRepository:
    def __init__(self, session: DbSession):
        self.session = session

    def get(self, browser_session_id: str, for_update: bool = False) -> BrowserSession | None:
        table = orm.browser_sessions
        row = _one(
            self.session,
            sa.select(table).where(table.c.browser_session_id == browser_session_id),
            for_update,
        )
        return _browser_session(row) if row is not None else None

    def by_secret_hash(self, secret_hash: str, for_update: bool = False) -> BrowserSession | None:
        table = orm.browser_sessions
        row = _one(
            self.session, sa.select(table).where(table.c.secret_hash == secret_hash), for_update
        )
        return _browser_session(row) if row is not None else None

    def add(self, browser_session: BrowserSession) -> None:
        self.session.execute(
            orm.browser_sessions.insert().values(
                browser_session_id=browser_session.browser_session_id,
                user_id=browser_session.user_id,
                secret_hash=browser_session.secret_hash,
                auth_time=browser_session.auth_time,
                amr=list(browser_session.amr),
                expires_at=browser_session.expires_at,
                ended_at=browser_session.ended_at,
                ended_reason=browser_session.ended_reason,
            )
        )

    def save(self, browser_session: BrowserSession) -> bool:
        """Record its end; False when it had ended already (another request
        ended it first), so that only one of them announces it."""
        table = orm.browser_sessions
        result = self.session.execute(
            table.update()
            .where(
                table.c.browser_session_id == browser_session.browser_session_id,
                table.c.ended_at.is_(None),
            )
            .values(ended_at=browser_session.ended_at, ended_reason=browser_session.ended_reason)
        )
        return result.rowcount == 1


def _browser_session(row) -> BrowserSession:
    return BrowserSession(
        browser_session_id=row.browser_session_id,
        user_id=row.user_id,
        secret_hash=row.secret_hash,
        auth_time=stored_instant(row.auth_time),
        amr=list(row.amr or []),
        expires_at=stored_instant(row.expires_at),
        ended_at=stored_instant(row.ended_at),
        ended_reason=row.ended_reason,
    )


class ConsentRepository:
    def __init__(self, session: DbSession):
        self.session = session

    def get(self, user_id: str, client_id: str, for_update: bool = False) -> ConsentGrant | None:
        table = orm.oidc_consents
        row = _one(
            self.session,
            sa.select(table).where(table.c.user_id == user_id, table.c.client_id == client_id),
            for_update,
        )
        if row is None:
            return None
        return ConsentGrant(
            user_id=row.user_id,
            client_id=row.client_id,
            scopes=list(row.scopes or []),
            granted_at=stored_instant(row.granted_at),
        )

    def put(self, grant: ConsentGrant, is_new: bool) -> None:
        table = orm.oidc_consents
        values = {"scopes": list(grant.scopes), "granted_at": grant.granted_at}
        if is_new:
            self.session.execute(
                table.insert().values(user_id=grant.user_id, client_id=grant.client_id, **values)
            )
        else:
            self.session.execute(
                table.update()
                .where(table.c.user_id == grant.user_id, table.c.client_id == grant.client_id)
                .values(**values)
            )


class AuthorizationCodeRepository:
    def __init__(self, session: DbSession):
        self.session = session

    def get(self, code_hash: str, for_update: bool = False) -> AuthorizationCode | None:
        """The code by digest; ``for_update`` locks it so two exchanges take turns."""
        table = orm.oidc_authorization_codes
        row = _one(self.session, sa.select(table).where(table.c.code_hash == code_hash), for_update)
        if row is None:
            return None
        return AuthorizationCode(
            code_hash=row.code_hash,
            client_id=row.client_id,
            user_id=row.user_id,
            browser_session_id=row.browser_session_id,
            redirect_uri=row.redirect_uri,
            scope=row.scope,
            nonce=row.nonce,
            code_challenge=row.code_challenge,
            code_challenge_method=row.code_challenge_method,
            auth_time=stored_instant(row.auth_time),
            acr=row.acr,
            expires_at=stored_instant(row.expires_at),
            used_at=stored_instant(row.used_at),
            session_id=row.session_id,
        )

    def add(self, code: AuthorizationCode) -> None:
        self.session.execute(
            orm.oidc_authorization_codes.insert().values(
                code_hash=code.code_hash,
                client_id=code.client_id,
                user_id=code.user_id,
                browser_session_id=code.browser_session_id,
                redirect_uri=code.redirect_uri,
                scope=code.scope,
                nonce=code.nonce,
                code_challenge=code.code_challenge,
                code_challenge_method=code.code_challenge_method,
                auth_time=code.auth_time,
                acr=code.acr,
                expires_at=code.expires_at,
                used_at=code.used_at,
                session_id=code.session_id,
            )
        )

    def mark_used(self, code: AuthorizationCode) -> bool:
        """Record the exchange; False when another exchange won (conditional,
        so even without a row lock only one succeeds)."""
        table = orm.oidc_authorization_codes
        result = self.session.execute(
            table.update()
            .where(table.c.code_hash == code.code_hash, table.c.used_at.is_(None))
            .values(used_at=code.used_at, session_id=code.session_id)
        )
        return result.rowcount == 1

    def nonce_seen(self, client_id: str, nonce: str) -> bool:
        table = orm.oidc_authorization_codes
        found = self.session.execute(
            sa.select(table.c.code_hash)
            .where(table.c.client_id == client_id, table.c.nonce == nonce)
            .limit(1)
        ).first()
        return found is not None

    def clients_of_browser_session(self, browser_session_id: str) -> list[str]:
        """The clients that got a code in the browser session."""
        table = orm.oidc_authorization_codes
        rows = self.session.execute(
            sa.select(table.c.client_id)
            .where(table.c.browser_session_id == browser_session_id)
            .distinct()
            .order_by(table.c.client_id)
        )
        return [row.client_id for row in rows]


class ClientAssertionRepository:
    def __init__(self, session: DbSession):
        self.session = session

    def remember(self, client_id: str, jti: str, expires_at: datetime) -> bool:
        """Record the assertion id; False when it was seen already (a replay).

        Inserted in a savepoint, so a concurrent twin's insert failing on the
        primary key leaves the rest of the transaction usable.
        """
        table = orm.oidc_client_assertions
        seen = self.session.execute(
            sa.select(table.c.jti).where(table.c.client_id == client_id, table.c.jti == jti)
        ).first()
        if seen is not None:
            return False
        try:
            with self.session.begin_nested():
                self.session.execute(
                    table.insert().values(client_id=client_id, jti=jti, expires_at=expires_at)
                )
        except IntegrityError:
            return False
        return True

    def forget_expired(self, now: datetime) -> int:
        table = orm.oidc_client_assertions
        return self.session.execute(table.delete().where(table.c.expires_at < now)).rowcount
