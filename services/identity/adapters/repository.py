"""Repositories: identity rows in, domain objects out, and back.

Each works inside the unit of work's session, so what it writes commits (or
rolls back) with the rest of the use case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session as DbSession

from services.common.db import paged
from services.identity.adapters import orm
from services.identity.domain.model import Enterprise, RefreshToken, Session, User, UserKind
from services.identity.domain.signing_keys import KeySchedule


def _utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything stored here is UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


class UserRepository:
    def __init__(self, session: DbSession):
        self.session = session

    def get(self, user_id: str, for_update: bool = False) -> User | None:
        return self._one(orm.users.c.user_id == user_id, for_update)

    def by_phone(self, phone: str) -> User | None:
        return self._one(orm.users.c.phone == phone)

    def by_id_number_hash(self, id_number_hash: str) -> User | None:
        return self._one(orm.users.c.id_number_hash == id_number_hash)

    def add(self, user: User) -> None:
        self.session.execute(
            orm.users.insert().values(
                user_id=user.user_id,
                phone=user.phone,
                kind=user.kind.value if isinstance(user.kind, UserKind) else user.kind,
                created_at=user.created_at,
                **self._mutable(user),
            )
        )

    def save(self, user: User) -> None:
        self.session.execute(
            orm.users.update()
            .where(orm.users.c.user_id == user.user_id)
            .values(**self._mutable(user))
        )

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        self.session.execute(
            orm.users.update()
            .where(orm.users.c.user_id == user_id)
            .values(password_hash=password_hash)
        )

    def _one(self, condition, for_update: bool = False) -> User | None:
        query = sa.select(orm.users).where(condition)
        if for_update:
            query = query.with_for_update()
        row = self.session.execute(query).first()
        return self._user(row) if row else None

    @staticmethod
    def _mutable(user: User) -> dict:
        return {
            "name": user.name,
            "password_hash": user.password_hash,
            "assurance_level": user.assurance_level,
            "id_number_hash": user.id_number_hash,
            "id_number_cipher": user.id_number_cipher,
            "id_number_masked": user.id_number_masked,
            "roles": list(user.roles),
            "department_code": user.department_code,
        }

    @staticmethod
    def _user(row) -> User:
        return User(
            user_id=row.user_id,
            phone=row.phone,
            name=row.name,
            kind=UserKind(row.kind),
            password_hash=row.password_hash,
            created_at=_utc(row.created_at),
            assurance_level=row.assurance_level,
            id_number_hash=row.id_number_hash,
            id_number_cipher=row.id_number_cipher,
            id_number_masked=row.id_number_masked,
            roles=list(row.roles or []),
            department_code=row.department_code,
        )


class EnterpriseRepository:
    def __init__(self, session: DbSession):
        self.session = session

    def by_uscc(self, uscc: str) -> Enterprise | None:
        row = self.session.execute(
            sa.select(orm.enterprises).where(orm.enterprises.c.uscc == uscc)
        ).first()
        return self._enterprise(row) if row is not None else None

    def acting_for(self, user_id: str) -> list[tuple[Enterprise, str]]:
        """The enterprises the user owns or is a member of, with the role
        (``owner`` or ``member``), by credit code."""
        table = orm.enterprises
        members = orm.enterprise_members
        owned = sa.select(table, sa.literal("owner").label("role")).where(
            table.c.owner_user_id == user_id
        )
        membership = (
            sa.select(table, sa.literal("member").label("role"))
            .join(members, members.c.uscc == table.c.uscc)
            .where(members.c.user_id == user_id, table.c.owner_user_id != user_id)
        )
        rows = self.session.execute(sa.union_all(owned, membership).order_by("uscc"))
        return [(self._enterprise(row), row.role) for row in rows]

    @staticmethod
    def _enterprise(row) -> Enterprise:
        return Enterprise(
            enterprise_id=row.enterprise_id,
            uscc=row.uscc,
            name=row.name,
            legal_representative=row.legal_representative,
            owner_user_id=row.owner_user_id,
            created_at=_utc(row.created_at),
        )

    def add(self, enterprise: Enterprise) -> None:
        self.session.execute(
            orm.enterprises.insert().values(
                enterprise_id=enterprise.enterprise_id,
                uscc=enterprise.uscc,
                name=enterprise.name,
                legal_representative=enterprise.legal_representative,
                owner_user_id=enterprise.owner_user_id,
                created_at=enterprise.created_at,
            )
        )


class SessionRepository:
    def __init__(self, session: DbSession):
        self.session = session

    def get(self, session_id: str, for_update: bool = False) -> Session | None:
        query = sa.select(orm.sessions).where(orm.sessions.c.session_id == session_id)
        if for_update:
            query = query.with_for_update()
        row = self.session.execute(query).first()
        return _session(row) if row is not None else None

    def of_browser_session(
        self, browser_session_id: str, for_update: bool = False
    ) -> list[Session]:
        """The client sessions started from one signed-in browser."""
        table = orm.sessions
        query = sa.select(table).where(table.c.browser_session_id == browser_session_id)
        if for_update:
            query = query.with_for_update()
        return [_session(row) for row in self.session.execute(query.order_by(table.c.session_id))]

    def active_of_client(self, client_id: str, for_update: bool = False) -> list[Session]:
        """The sessions of a client not revoked yet."""
        table = orm.sessions
        query = sa.select(table).where(table.c.client_id == client_id, table.c.revoked_at.is_(None))
        if for_update:
            query = query.with_for_update()
        return [_session(row) for row in self.session.execute(query.order_by(table.c.session_id))]

    def add(self, session: Session) -> None:
        self.session.execute(
            orm.sessions.insert().values(
                session_id=session.session_id,
                user_id=session.user_id,
                created_at=session.created_at,
                revoked_at=session.revoked_at,
                revoked_reason=session.revoked_reason,
                client_id=session.client_id,
                browser_session_id=session.browser_session_id,
                scope=session.scope,
            )
        )

    def save(self, session: Session) -> None:
        self.session.execute(
            orm.sessions.update()
            .where(orm.sessions.c.session_id == session.session_id)
            .values(revoked_at=session.revoked_at, revoked_reason=session.revoked_reason)
        )

    def revoked_since(self, since: datetime, page: int, page_size: int) -> tuple[list, int]:
        """A page of the sessions revoked at or after ``since``, in revocation
        order, and how many there are."""
        table = orm.sessions
        rows, total = paged(
            self.session,
            sa.select(table),
            table,
            table.c.revoked_at >= since,
            (table.c.revoked_at, table.c.session_id),
            page,
            page_size,
        )
        return [_session(row) for row in rows], total


def _session(row) -> Session:
    return Session(
        session_id=row.session_id,
        user_id=row.user_id,
        created_at=_utc(row.created_at),
        revoked_at=_utc(row.revoked_at),
        revoked_reason=row.revoked_reason,
        client_id=row.client_id,
        browser_session_id=row.browser_session_id,
        scope=row.scope,
    )


class RefreshTokenRepository:
    def __init__(self, session: DbSession):
        self.session = session

    def get(self, token_hash: str, for_update: bool = False) -> RefreshToken | None:
        """The token by digest; ``for_update`` locks its row (PostgreSQL) so
        that two refreshes with one token take turns."""
        query = sa.select(orm.refresh_tokens).where(orm.refresh_tokens.c.token_hash == token_hash)
        if for_update:
            query = query.with_for_update()
        row = self.session.execute(query).first()
        if row is None:
            return None
        return RefreshToken(
            token_hash=row.token_hash,
            session_id=row.session_id,
            issued_at=_utc(row.issued_at),
            expires_at=_utc(row.expires_at),
            used_at=_utc(row.used_at),
        )

    def add(self, token: RefreshToken) -> None:
        self.session.execute(
            orm.refresh_tokens.insert().values(
                token_hash=token.token_hash,
                session_id=token.session_id,
                issued_at=token.issued_at,
                expires_at=token.expires_at,
                used_at=token.used_at,
            )
        )

    def mark_used(self, token: RefreshToken) -> bool:
        """Record that ``token`` was spent; False if someone spent it first.

        Conditional, so even without a row lock (SQLite) only one refresh wins.
        """
        table = orm.refresh_tokens
        result = self.session.execute(
            table.update()
            .where(table.c.token_hash == token.token_hash, table.c.used_at.is_(None))
            .values(used_at=token.used_at)
        )
        return result.rowcount == 1


@dataclass(frozen=True)
class StoredSigningKey:
    """A signing key as stored: the private key PEM encrypted with the PII cipher,
    and its schedule."""

    kid: str
    private_key_cipher: str
    schedule: KeySchedule

    def __repr__(self) -> str:
        return f"StoredSigningKey(kid={self.kid!r})"


class SigningKeyRepository:
    def __init__(self, session: DbSession):
        self.session = session

    def current(self) -> list[StoredSigningKey]:
        """The keys not marked retired, with their private halves (a few rows)."""
        table = orm.signing_keys
        rows = self.session.execute(
            sa.select(table).where(table.c.retired_at.is_(None)).order_by(table.c.kid)
        )
        return [
            StoredSigningKey(
                kid=row.kid, private_key_cipher=row.private_key_cipher, schedule=_schedule(row)
            )
            for row in rows
        ]

    def schedules(self) -> list[KeySchedule]:
        """Every key's schedule, retired ones too (no key material)."""
        table = orm.signing_keys
        columns = [c for c in table.c if c.name != "private_key_cipher"]
        return [_schedule(row) for row in self.session.execute(sa.select(*columns))]

    def add(self, key: StoredSigningKey) -> None:
        """Insert the key; IntegrityError when another key already follows the
        same one (a replica rotated first)."""
        schedule = key.schedule
        self.session.execute(
            orm.signing_keys.insert().values(
                kid=key.kid,
                private_key_cipher=key.private_key_cipher,
                created_at=schedule.created_at,
                signs_from=schedule.signs_from,
                retires_at=schedule.retires_at,
                retired_at=schedule.retired_at,
                follows=schedule.follows,
            )
        )

    def schedule_retirement(self, kid: str, retires_at: datetime) -> None:
        """Give the key its ``retires_at`` unless it has one."""
        table = orm.signing_keys
        self.session.execute(
            table.update()
            .where(table.c.kid == kid, table.c.retires_at.is_(None))
            .values(retires_at=retires_at)
        )

    def mark_retired(self, kid: str, retired_at: datetime) -> bool:
        """Mark the key retired; False when it already was (another replica did)."""
        table = orm.signing_keys
        result = self.session.execute(
            table.update()
            .where(table.c.kid == kid, table.c.retired_at.is_(None))
            .values(retired_at=retired_at)
        )
        return result.rowcount == 1


def _schedule(row) -> KeySchedule:
    return KeySchedule(
        kid=row.kid,
        created_at=_utc(row.created_at),
        signs_from=_utc(row.signs_from),
        retires_at=_utc(row.retires_at),
        retired_at=_utc(row.retired_at),
        follows=row.follows,
    )
