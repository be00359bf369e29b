"""Who acts for which enterprise, as workflow knows it: a read model of
identity's events (``principal_members``), and the parties of a case read
without loading it."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.workflow.adapters import orm


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@functools.cache
def _enterprises_of() -> sa.Select:
    """``SELECT`` of the credit codes of the enterprises the bound ``user_id``
    acts for, in order; built once (every citizen's command reads them)."""
    table = orm.principal_members
    return (
        sa.select(table.c.uscc)
        .where(table.c.user_id == sa.bindparam("user_id"), table.c.active.is_(True))
        .order_by(table.c.uscc)
    )


@functools.cache
def _case_parties() -> sa.Select:
    """``SELECT`` of the parties of the case whose id is the bound ``key``;
    built once."""
    table = orm.applications
    return sa.select(
        table.c.application_id, table.c.applicant_id, table.c.item_id, table.c.on_behalf_of
    ).where(table.c.application_id == sa.bindparam("key"))


@dataclass(frozen=True)
class CaseParties:
    """Who a case is by and for: enough to check an agent's mandate."""

    application_id: str
    applicant_id: str
    item_id: str
    on_behalf_of: dict[str, Any] | None


class MembershipRepository:
    def __init__(self, session: Session):
        self.session = session

    def enterprises_of(self, user_id: str) -> list[str]:
        """The credit codes of the enterprises the user owns or is a member of."""
        return list(self.session.execute(_enterprises_of(), {"user_id": user_id}).scalars())

    def apply(self, uscc: str, user_id: str, role: str, active: bool, changed_at: datetime) -> bool:
        """Record that ``user_id`` does (``active``) or no longer does act for
        ``uscc`` as of ``changed_at``; a change older than the one recorded is
        ignored. Answers whether the row changed."""
        table = orm.principal_members
        key = sa.and_(table.c.uscc == uscc, table.c.user_id == user_id)
        row = self.session.execute(sa.select(table).where(key).with_for_update()).first()
        if row is None:
            self.session.execute(
                table.insert().values(
                    uscc=uscc, user_id=user_id, role=role, active=active, changed_at=changed_at
                )
            )
            return True
        if _utc(row.changed_at) > changed_at:
            return False
        self.session.execute(
            table.update().where(key).values(role=role, active=active, changed_at=changed_at)
        )
        return True

    def case_parties(self, application_id: str) -> CaseParties | None:
        """The case's applicant, item and principal, without loading the case.
        (A principal stored with an ID number comes back sealed: such cases
        predate mandates and are not checked against one.)"""
        row = self.session.execute(_case_parties(), {"key": application_id}).first()
        if row is None:
            return None
        return CaseParties(
            application_id=row.application_id,
            applicant_id=row.applicant_id,
            item_id=row.item_id,
            on_behalf_of=dict(row.on_behalf_of) if row.on_behalf_of else None,
        )
