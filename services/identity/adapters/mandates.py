"""Repositories of enterprise members and mandates: rows in, domain objects out."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session as DbSession

from services.common.db import paged
from services.identity.adapters import orm
from services.identity.domain.mandates import Mandate, Membership, Party


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


class MemberRepository:
    def __init__(self, session: DbSession):
        self.session = session

    def get(self, uscc: str, user_id: str) -> Membership | None:
        row = self.session.execute(
            self._select().where(
                orm.enterprise_members.c.uscc == uscc,
                orm.enterprise_members.c.user_id == user_id,
            )
        ).first()
        return self._membership(row) if row else None

    def page(self, uscc: str, *, page: int, page_size: int) -> tuple[list[Membership], int]:
        """The enterprise's members, first added first."""
        table = orm.enterprise_members
        rows, total = paged(
            self.session,
            self._select(),
            table,
            table.c.uscc == uscc,
            (table.c.added_at, table.c.user_id),
            page,
            page_size,
        )
        return [self._membership(row) for row in rows], total

    def add(self, membership: Membership) -> None:
        self.session.execute(
            orm.enterprise_members.insert().values(
                uscc=membership.uscc,
                user_id=membership.user_id,
                added_by=membership.added_by,
                added_at=membership.added_at,
            )
        )

    def remove(self, membership: Membership) -> None:
        table = orm.enterprise_members
        self.session.execute(
            table.delete().where(
                table.c.uscc == membership.uscc, table.c.user_id == membership.user_id
            )
        )

    @staticmethod
    def _select():
        table = orm.enterprise_members
        return sa.select(table, orm.users.c.name).join(
            orm.users, orm.users.c.user_id == table.c.user_id
        )

    @staticmethod
    def _membership(row) -> Membership:
        return Membership(
            uscc=row.uscc,
            user_id=row.user_id,
            name=row.name,
            added_by=row.added_by,
            added_at=_utc(row.added_at),
        )


class MandateRepository:
    def __init__(self, session: DbSession):
        self.session = session

    def get(self, mandate_id: str, *, for_update: bool = False) -> Mandate | None:
        query = sa.select(orm.mandates).where(orm.mandates.c.mandate_id == mandate_id)
        if for_update:
            query = query.with_for_update()
        row = self.session.execute(query).first()
        return self._mandate(row) if row else None

    def of_principal_to(self, kind: str, key: str, agent_user_id: str) -> list[Mandate]:
        """Every mandate of the principal to the agent, whatever its state."""
        table = orm.mandates
        rows = self.session.execute(
            sa.select(table).where(
                table.c.principal_kind == kind,
                table.c.principal_key == key,
                table.c.agent_user_id == agent_user_id,
            )
        )
        return [self._mandate(row) for row in rows]

    def page_of_principal(
        self, kind: str, key: str, *, page: int, page_size: int
    ) -> tuple[list[Mandate], int]:
        """The principal's mandates, newest first."""
        table = orm.mandates
        return self._page(
            sa.and_(table.c.principal_kind == kind, table.c.principal_key == key),
            page=page,
            page_size=page_size,
        )

    def page_of_agent(
        self, agent_user_id: str, *, page: int, page_size: int
    ) -> tuple[list[Mandate], int]:
        """The mandates granted to the agent, newest first."""
        return self._page(
            orm.mandates.c.agent_user_id == agent_user_id, page=page, page_size=page_size
        )

    def in_force_for_agent(self, agent_user_id: str, today: date) -> list[Mandate]:
        """The mandates the agent holds on ``today`` (not revoked, not expired),
        first granted first."""
        table = orm.mandates
        rows = self.session.execute(
            sa.select(table)
            .where(
                table.c.agent_user_id == agent_user_id,
                table.c.revoked_at.is_(None),
                table.c.expires_on >= today,
            )
            .order_by(table.c.granted_at, table.c.mandate_id)
        )
        return [self._mandate(row) for row in rows]

    def add(self, mandate: Mandate) -> None:
        self.session.execute(
            orm.mandates.insert().values(
                mandate_id=mandate.mandate_id,
                principal_kind=mandate.principal.kind,
                principal_key=mandate.principal.key,
                principal_name=mandate.principal.name,
                agent_user_id=mandate.agent_user_id,
                agent_name=mandate.agent_name,
                item_ids=list(mandate.item_ids),
                expires_on=mandate.expires_on,
                granted_by=mandate.granted_by,
                granted_at=mandate.granted_at,
                revoked_at=mandate.revoked_at,
                revoked_by=mandate.revoked_by,
            )
        )

    def save(self, mandate: Mandate) -> None:
        table = orm.mandates
        self.session.execute(
            table.update()
            .where(table.c.mandate_id == mandate.mandate_id)
            .values(revoked_at=mandate.revoked_at, revoked_by=mandate.revoked_by)
        )

    def _page(self, condition, *, page: int, page_size: int) -> tuple[list[Mandate], int]:
        table = orm.mandates
        rows, total = paged(
            self.session,
            sa.select(table),
            table,
            condition,
            (table.c.granted_at.desc(), table.c.mandate_id),
            page,
            page_size,
        )
        return [self._mandate(row) for row in rows], total

    @staticmethod
    def _mandate(row) -> Mandate:
        return Mandate(
            mandate_id=row.mandate_id,
            principal=Party(row.principal_kind, row.principal_key, row.principal_name),
            agent_user_id=row.agent_user_id,
            agent_name=row.agent_name,
            item_ids=tuple(row.item_ids or ()),
            expires_on=row.expires_on,
            granted_by=row.granted_by,
            granted_at=_utc(row.granted_at),
            revoked_at=_utc(row.revoked_at),
            revoked_by=row.revoked_by,
        )
