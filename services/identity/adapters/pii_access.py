"""The trail of ID numbers read (``pii_access``): rows in, domain objects out."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session as DbSession

from services.common.db import paged
from services.identity.adapters import orm
from services.identity.domain.pii_access import PiiAccess


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything stored is UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class PiiAccessRepository:
    def __init__(self, session: DbSession):
        self.session = session

    def add(self, access: PiiAccess) -> None:
        self.session.execute(orm.pii_access.insert().values(**access.to_dict()))

    def page(
        self,
        *,
        subject_id: str | None = None,
        accessor_id: str | None = None,
        page: int,
        page_size: int,
    ) -> tuple[list[PiiAccess], int]:
        """The reads of ``subject_id``'s number and/or by ``accessor_id`` (all
        when neither), newest first, and how many there are."""
        table = orm.pii_access
        condition = sa.true()
        if subject_id is not None:
            condition = sa.and_(condition, table.c.subject_id == subject_id)
        if accessor_id is not None:
            condition = sa.and_(condition, table.c.accessor_id == accessor_id)
        rows, total = paged(
            self.session,
            sa.select(table),
            table,
            condition,
            (table.c.at.desc(), table.c.access_id),
            page,
            page_size,
        )
        return [PiiAccess(**{**row, "at": _utc(row["at"])}) for row in rows.mappings()], total
