"""The statistics read model's tables: facts of items and basic items, counters
per scope (see ``domain.stats``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.catalog.adapters import orm
from services.catalog.domain.stats import (
    ALL,
    BasicFacts,
    Counts,
    ItemFacts,
    legal_basis_key,
    legal_basis_list,
    scope_filter,
)

_COUNTERS = ("published", "online", "implemented", "deviating")


class CatalogueFactsRepository:
    def __init__(self, session: Session):
        self.session = session

    def lock(self) -> None:
        """Serialise the changes of the read model: whether a basic item is
        implemented in a scope depends on the other items' facts, so two
        changes must not both decide it from what was there before them."""
        c = orm.catalogue_counts
        statement = sa.select(c.c.scope).where(c.c.scope == ALL).with_for_update()
        if self.session.execute(statement).first() is None:
            self.session.execute(c.insert().values(scope=ALL))
            self.session.execute(statement)

    # ---------------------------------------------------------------- items

    def item(self, item_id: str) -> ItemFacts | None:
        f = orm.catalogue_item_facts
        row = self.session.execute(sa.select(f).where(f.c.item_id == item_id)).first()
        return self._item(row) if row else None

    def items_of_basic(self, basic_code: str) -> list[ItemFacts]:
        f = orm.catalogue_item_facts
        rows = self.session.execute(
            sa.select(f).where(f.c.basic_code == basic_code).order_by(f.c.item_id)
        )
        return [self._item(row) for row in rows]

    def save_item(self, facts: ItemFacts) -> None:
        f = orm.catalogue_item_facts
        values = self._item_values(facts)
        updated = self.session.execute(
            f.update().where(f.c.item_id == facts.item_id).values(**values)
        )
        if updated.rowcount == 0:
            self.session.execute(f.insert().values(item_id=facts.item_id, **values))

    def add_items(self, facts: Iterable[ItemFacts]) -> None:
        rows = [{"item_id": entry.item_id, **self._item_values(entry)} for entry in facts]
        if rows:
            self.session.execute(orm.catalogue_item_facts.insert(), rows)

    def item_ids(self) -> set[str]:
        return set(self.session.execute(sa.select(orm.catalogue_item_facts.c.item_id)).scalars())

    def implements(self, scope: str, basic_code: str) -> bool:
        """Whether a published item of ``basic_code`` counts in ``scope``."""
        f = orm.catalogue_item_facts
        conditions = [f.c.basic_code == basic_code, f.c.published.is_(True)]
        level, region = scope_filter(scope)
        if level is not None:
            conditions.append(f.c.level == level)
        if region is not None:
            conditions.append(f.c.region_code == region)
        return (
            self.session.execute(sa.select(f.c.item_id).where(*conditions).limit(1)).first()
            is not None
        )

    # ---------------------------------------------------------------- basic items

    def basic(self, basic_code: str | None) -> BasicFacts | None:
        if basic_code is None:
            return None
        b = orm.catalogue_basic_facts
        row = self.session.execute(sa.select(b).where(b.c.basic_code == basic_code)).first()
        return self._basic(row) if row else None

    def basics(self) -> dict[str, BasicFacts]:
        rows = self.session.execute(sa.select(orm.catalogue_basic_facts))
        return {row.basic_code: self._basic(row) for row in rows}

    def save_basic(self, facts: BasicFacts) -> None:
        b = orm.catalogue_basic_facts
        values = {
            "revision": facts.revision,
            "name": facts.name,
            "type": facts.type,
            "legal_basis": legal_basis_list(facts.legal_basis),
        }
        updated = self.session.execute(
            b.update().where(b.c.basic_code == facts.basic_code).values(**values)
        )
        if updated.rowcount == 0:
            self.session.execute(b.insert().values(basic_code=facts.basic_code, **values))

    def basic_items(self) -> int:
        return self.session.execute(
            sa.select(sa.func.count()).select_from(orm.catalogue_basic_facts)
        ).scalar_one()

    # ---------------------------------------------------------------- counters

    def counts(self) -> dict[str, Counts]:
        rows = self.session.execute(sa.select(orm.catalogue_counts))
        return {
            row.scope: Counts(**{name: getattr(row, name) for name in _COUNTERS}) for row in rows
        }

    def add_counts(self, changes: Mapping[str, Counts]) -> None:
        """Add each scope's change to its counters (a new scope starts at 0)."""
        c = orm.catalogue_counts
        for scope, change in sorted(changes.items()):
            if not change:
                continue
            increments = {name: getattr(c.c, name) + getattr(change, name) for name in _COUNTERS}
            updated = self.session.execute(
                c.update().where(c.c.scope == scope).values(**increments)
            )
            if updated.rowcount == 0:
                self.session.execute(c.insert().values(scope=scope, **change.__dict__))

    def replace_counts(self, counts: Mapping[str, Counts]) -> None:
        c = orm.catalogue_counts
        self.session.execute(c.delete())
        rows = [{"scope": scope, **entry.__dict__} for scope, entry in counts.items()]
        if ALL not in counts:
            rows.append({"scope": ALL, **Counts().__dict__})
        self.session.execute(c.insert(), rows)

    # ---------------------------------------------------------------- rows

    @staticmethod
    def _item_values(facts: ItemFacts) -> dict:
        return {
            "revision": facts.revision,
            "published": facts.published,
            "region_code": facts.region_code,
            "level": facts.level,
            "online": facts.online,
            "basic_code": facts.basic_code,
            "name": facts.name,
            "type": facts.type,
            "legal_basis": legal_basis_list(facts.legal_basis),
            "deviating": facts.deviating,
        }

    @staticmethod
    def _item(row) -> ItemFacts:
        return ItemFacts(
            item_id=row.item_id,
            revision=row.revision,
            published=bool(row.published),
            region_code=row.region_code,
            level=row.level,
            online=bool(row.online),
            basic_code=row.basic_code,
            name=row.name,
            type=row.type,
            legal_basis=legal_basis_key(row.legal_basis),
            deviating=bool(row.deviating),
        )

    @staticmethod
    def _basic(row) -> BasicFacts:
        return BasicFacts(
            basic_code=row.basic_code,
            revision=row.revision,
            name=row.name,
            type=row.type,
            legal_basis=legal_basis_key(row.legal_basis),
        )
