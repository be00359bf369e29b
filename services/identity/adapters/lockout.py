"""The repository of failed logins: one row per phone and per client address.

Every replica counts in the same rows, so the counts and locks hold for the
whole service. A save is conditional on the row's ``version`` (and the read
before it locks the row on PostgreSQL): of two replicas counting a failure of
the same phone at once, one saves and the other reads the row again and
counts on top of it, on PostgreSQL and on SQLite alike.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session as DbSession

from services.common.db import paged
from services.identity.adapters import orm
from services.identity.domain.lockout import FailedLogins, Scope


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


class FailedLoginRepository:
    def __init__(self, session: DbSession):
        self.session = session

    def get(self, scope: Scope, key: str, for_update: bool = False) -> FailedLogins | None:
        table = orm.login_failures
        query = sa.select(table).where(table.c.scope == scope.value, table.c.key == key)
        if for_update:
            query = query.with_for_update()
        row = self.session.execute(query).first()
        return self._counter(row) if row else None

    def add(self, counter: FailedLogins) -> bool:
        """Insert the first row of its phone or address; False when another
        transaction inserted it first (the caller reads it again)."""
        values = {"scope": counter.scope.value, "key": counter.key, **self._mutable(counter)}
        values["version"] = counter.version = 1
        dialect = self.session.get_bind().dialect.name
        if dialect == "postgresql":
            statement = postgresql.insert(orm.login_failures).on_conflict_do_nothing()
        elif dialect == "sqlite":
            statement = sqlite.insert(orm.login_failures).on_conflict_do_nothing()
        else:  # pragma: no cover  (PostgreSQL in production, SQLite in development)
            statement = orm.login_failures.insert()
        return self.session.execute(statement.values(**values)).rowcount == 1

    def save(self, counter: FailedLogins) -> bool:
        """Write the counter back unless someone saved it since it was read."""
        table = orm.login_failures
        result = self.session.execute(
            table.update()
            .where(
                table.c.scope == counter.scope.value,
                table.c.key == counter.key,
                table.c.version == counter.version,
            )
            .values(version=counter.version + 1, **self._mutable(counter))
        )
        if result.rowcount != 1:
            return False
        counter.version += 1
        return True

    def delete_idle(self, before: datetime) -> int:
        """Forget the rows nothing happened to since ``before`` (no failure
        counted, no lock in force or begun); how many."""
        table = orm.login_failures

        def idle(column):
            return sa.or_(column.is_(None), column < before)

        result = self.session.execute(
            table.delete().where(
                idle(table.c.window_started_at),
                idle(table.c.locked_until),
                idle(table.c.last_locked_at),
            )
        )
        return result.rowcount

    def locked_accounts(
        self, now: datetime, *, page: int, page_size: int
    ) -> tuple[list[tuple[str, datetime]], int]:
        """``(user_id, locked_until)`` of the accounts whose phone is locked at
        ``now``, the soonest to end first."""
        failures, users = orm.login_failures, orm.users
        condition = sa.and_(
            failures.c.scope == Scope.PHONE.value,
            failures.c.locked_until > now,
        )
        joined = failures.join(users, users.c.phone == failures.c.key)
        rows, total = paged(
            self.session,
            sa.select(users.c.user_id, failures.c.locked_until).select_from(joined),
            joined,
            condition,
            (failures.c.locked_until, users.c.user_id),
            page,
            page_size,
        )
        return [(row.user_id, _utc(row.locked_until)) for row in rows], total

    @staticmethod
    def _mutable(counter: FailedLogins) -> dict:
        return {
            "failures": counter.failures,
            "window_started_at": counter.window_started_at,
            "locked_until": counter.locked_until,
            "lock_count": counter.lock_count,
            "last_locked_at": counter.last_locked_at,
        }

    @staticmethod
    def _counter(row) -> FailedLogins:
        return FailedLogins(
            scope=Scope(row.scope),
            key=row.key,
            failures=row.failures,
            window_started_at=_utc(row.window_started_at),
            locked_until=_utc(row.locked_until),
            lock_count=row.lock_count,
            last_locked_at=_utc(row.last_locked_at),
            version=row.version,
        )
