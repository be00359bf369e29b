"""Repositories: catalog rows in, domain objects out, and back.

Each works inside the unit of work's session, so what it writes commits (or rolls
back) with the rest of the use case.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.catalog.adapters import orm
from services.catalog.domain.basic import BasicItem, LegalReference
from services.catalog.domain.fees import Fee, FeeWaiver, LicenceType
from services.catalog.domain.model import (
    PUBLISHED,
    Department,
    Item,
    Material,
    Region,
    Store,
    StoreRating,
    Window,
)
from services.catalog.domain.zones import Assessment, Zone
from services.common.db import row_by_key, update_by_key

_WINDOW_COLUMNS = (
    orm.departments.c.window_name,
    orm.departments.c.window_address,
    orm.departments.c.window_phone,
    orm.departments.c.window_postcode,
)


def _window(row) -> Window:
    return Window(
        name=row.window_name,
        address=row.window_address,
        phone=row.window_phone,
        postcode=row.window_postcode,
    )


_RATING_COLUMNS = (
    orm.stores.c.reviews,
    orm.stores.c.praise_rate,
    orm.stores.c.average_grade,
    orm.stores.c.rating_as_of,
)


def _rating(row) -> StoreRating:
    return StoreRating(row.reviews, row.praise_rate, row.average_grade)


def _rating_values(store: Store) -> dict:
    return {
        "reviews": store.rating.reviews,
        "praise_rate": store.rating.praise_rate,
        "average_grade": store.rating.average_grade,
        "rating_as_of": store.rating_as_of,
    }


def _as_utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything stored here is UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _window_values(window: Window) -> dict:
    return {
        "window_name": window.name,
        "window_address": window.address,
        "window_phone": window.phone,
        "window_postcode": window.postcode,
    }


# The statements a rating change of a store runs (``use_cases.record_store_rating``,
# once per review submitted), built once: SQLAlchemy keeps a statement's cache
# key on the statement object, so a statement used again is neither built nor
# keyed again (see ``db.row_by_key``).

_REGION_OF_DEPARTMENT = (
    sa.select(orm.regions)
    .join(orm.departments, orm.departments.c.region_code == orm.regions.c.code)
    .where(orm.departments.c.code == sa.bindparam("key"))
)


def _city_department_ratings() -> sa.Select:
    """The ratings of the stores of the departments seated in the region
    ``city`` (a bound parameter) or a region under it, at any depth (as
    ``stores.region_and_below`` finds them), in store id order. Stores without
    reviews are left out: they add nothing to an aggregate."""
    r, d, s = orm.regions, orm.departments, orm.stores
    area = sa.select(r.c.code).where(r.c.code == sa.bindparam("city")).cte("area", recursive=True)
    area = area.union(sa.select(r.c.code).where(r.c.parent_code == area.c.code))
    return (
        sa.select(s.c.reviews, s.c.praise_rate, s.c.average_grade)
        .join(d, d.c.code == s.c.department_code)
        .where(d.c.region_code.in_(sa.select(area.c.code)), s.c.reviews > 0)
        .order_by(s.c.store_id)
    )


_CITY_DEPARTMENT_RATINGS = _city_department_ratings()


def _paged(session: Session, statement, count_from, conditions: list, order_by, offset, limit):
    """The rows of ``statement`` meeting ``conditions``, ``offset`` and ``limit``
    in ``order_by`` order, and how many meet them (counted in ``count_from``)."""
    total = session.execute(
        sa.select(sa.func.count()).select_from(count_from).where(*conditions)
    ).scalar_one()
    rows = session.execute(
        statement.where(*conditions).order_by(*order_by).offset(offset).limit(limit)
    )
    return rows, total


class RegionRepository:
    def __init__(self, session: Session):
        self.session = session

    def list(self) -> list[Region]:
        rows = self.session.execute(sa.select(orm.regions).order_by(orm.regions.c.code))
        return [self._region(row) for row in rows]

    def get(self, code: str) -> Region | None:
        row = self.session.execute(sa.select(orm.regions).where(orm.regions.c.code == code)).first()
        return self._region(row) if row else None

    def of_department(self, department_code: str) -> Region | None:
        """The region the department is seated in (None: no such department)."""
        row = self.session.execute(_REGION_OF_DEPARTMENT, {"key": department_code}).first()
        return self._region(row) if row else None

    def codes(self) -> set[str]:
        return set(self.session.execute(sa.select(orm.regions.c.code)).scalars())

    def add(self, region: Region) -> None:
        self.session.execute(orm.regions.insert().values(**dataclasses.asdict(region)))

    @staticmethod
    def _region(row) -> Region:
        return Region(
            code=row.code,
            name=row.name,
            level=row.level,
            parent_code=row.parent_code,
            name_en=row.name_en,
        )


class DepartmentRepository:
    def __init__(self, session: Session):
        self.session = session

    def _select(self):
        d, s = orm.departments, orm.stores
        return (
            sa.select(
                d,
                s.c.store_id,
                s.c.name.label("store_name"),
                *_RATING_COLUMNS,
            )
            .join(s, s.c.department_code == d.c.code)
            .order_by(d.c.code)
        )

    def list(self, region: str | None = None) -> list[Department]:
        statement = self._select()
        if region is not None:
            statement = statement.where(orm.departments.c.region_code == region)
        return [self._department(row) for row in self.session.execute(statement)]

    def get(self, code: str) -> Department | None:
        row = self.session.execute(self._select().where(orm.departments.c.code == code)).first()
        return self._department(row) if row else None

    def codes(self) -> set[str]:
        return set(self.session.execute(sa.select(orm.departments.c.code)).scalars())

    def add(self, department: Department) -> None:
        """Insert the department and its flagship store."""
        self.session.execute(
            orm.departments.insert().values(
                code=department.code,
                name=department.name,
                name_en=department.name_en,
                region_code=department.region_code,
                level=department.level,
                kind=department.kind,
                uscc=department.uscc,
                **_window_values(department.window),
            )
        )
        store = department.store
        self.session.execute(
            orm.stores.insert().values(
                store_id=store.store_id,
                name=store.name,
                department_code=department.code,
                region_code=store.region_code,
                **_rating_values(store),
            )
        )

    def set_identity(self, department: Department) -> None:
        """Store the department's kind and USCC (a seed filling in what an
        older catalogue did not record)."""
        self.session.execute(
            orm.departments.update()
            .where(orm.departments.c.code == department.code)
            .values(kind=department.kind, uscc=department.uscc)
        )

    @staticmethod
    def _department(row) -> Department:
        return Department(
            code=row.code,
            name=row.name,
            name_en=row.name_en,
            region_code=row.region_code,
            level=row.level,
            kind=row.kind,
            uscc=row.uscc,
            store=Store(
                store_id=row.store_id,
                name=row.store_name,
                department_code=row.code,
                region_code=row.region_code,
                rating=_rating(row),
                rating_as_of=_as_utc(row.rating_as_of),
            ),
            window=_window(row),
        )


@dataclasses.dataclass(frozen=True)
class Listing:
    """An item as search shows it: the item, the name of its department and
    that department's USCC (the issuer of its licences)."""

    item: Item
    department_name: str
    issuer_uscc: str | None = None


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class ItemRepository:
    def __init__(self, session: Session):
        self.session = session

    def _select(self):
        i, d = orm.items, orm.departments
        return sa.select(
            i,
            d.c.name.label("department_name"),
            d.c.uscc.label("issuer_uscc"),
            *_WINDOW_COLUMNS,
        ).join(d, d.c.code == i.c.department_code)

    def get(self, item_id: str, lock: bool = False) -> Item | None:
        listing = self.get_listing(item_id, lock=lock)
        return listing.item if listing else None

    def get_listing(self, item_id: str, lock: bool = False) -> Listing | None:
        statement = self._select().where(orm.items.c.item_id == item_id)
        if lock:
            # Serialises concurrent edits of one item (a no-op on SQLite, which
            # serialises every writer anyway).
            statement = statement.with_for_update(of=orm.items)
        row = self.session.execute(statement).first()
        return self._listing(row) if row else None

    def ids_by_code(self, codes: Iterable[str] | None = None) -> dict[str, str]:
        statement = sa.select(orm.items.c.code, orm.items.c.item_id)
        if codes is not None:
            statement = statement.where(orm.items.c.code.in_(list(codes)))
        return {row.code: row.item_id for row in self.session.execute(statement)}

    def add(self, item: Item) -> None:
        self.session.execute(orm.items.insert().values(item_id=item.item_id, **self._values(item)))

    def update(self, item: Item) -> None:
        self.session.execute(
            orm.items.update()
            .where(orm.items.c.item_id == item.item_id)
            .values(**self._values(item))
        )

    def search(
        self,
        q: str | None = None,
        region: str | None = None,
        department: str | None = None,
        level: str | None = None,
        type: str | None = None,  # noqa: A002  (the query parameter's name)
        mode: str | None = None,
        serves: str | None = None,
        offset: int = 0,
        limit: int = 20,
    ) -> tuple[list[Listing], int]:
        """Published items matching every given filter, and their total.

        ``q``'s words (split on blanks) must all occur in the name, the English
        name, the code or the description, ignoring case. Order with ``q``: the
        name equal to it, starting with it, containing its words, then a match
        in the English name or code, then the description only; code within
        each; code order without ``q``. ``region`` includes its children.
        """
        i = orm.items
        conditions = [i.c.status == PUBLISHED]
        order = [i.c.code]
        if q:
            words = q.split()

            def every_word_in(column):
                return sa.and_(*(column.ilike(_like_pattern(word), escape="\\") for word in words))

            name, other = every_word_in(i.c.name), every_word_in(i.c.name_en)
            other = sa.or_(other, every_word_in(i.c.code))
            # ilike is ILIKE on PostgreSQL and lower() LIKE lower() on SQLite.
            conditions.append(sa.or_(name, other, every_word_in(i.c.description)))
            prefix = _like_pattern(q)[1:]  # "<q>%"
            relevance = sa.case(
                (sa.func.lower(i.c.name) == q.lower(), 0),
                (i.c.name.ilike(prefix, escape="\\"), 1),
                (name, 2),
                (other, 3),
                else_=4,
            )
            order = [relevance, i.c.code]
        if region:
            r, children = orm.regions, orm.regions.alias("children")
            below = sa.select(children.c.code).where(
                children.c.parent_code.in_(sa.select(r.c.code).where(r.c.parent_code == region))
            )
            nearby = sa.select(r.c.code).where(
                sa.or_(r.c.code == region, r.c.parent_code == region)
            )
            conditions.append(sa.or_(i.c.region_code.in_(nearby), i.c.region_code.in_(below)))
        if department:
            conditions.append(i.c.department_code == department)
        if level:
            conditions.append(i.c.level == level)
        if type:
            conditions.append(i.c.type == type)
        # modes and serves are JSON lists of known words; their text holds
        # '"<word>"' exactly when the list does, on SQLite and PostgreSQL alike.
        if mode:
            conditions.append(sa.cast(i.c.modes, sa.Text).like(f'%"{mode}"%'))
        if serves:
            conditions.append(sa.cast(i.c.serves, sa.Text).like(f'%"{serves}"%'))
        rows, total = _paged(self.session, self._select(), i, conditions, order, offset, limit)
        return [self._listing(row) for row in rows], total

    def published_after(self, after: str | None, limit: int) -> list[Listing]:
        """Up to ``limit`` published items with an item_id above ``after`` (from the
        first when None), in item_id order."""
        i = orm.items
        statement = self._select().where(i.c.status == PUBLISHED)
        if after is not None:
            statement = statement.where(i.c.item_id > after)
        rows = self.session.execute(statement.order_by(i.c.item_id).limit(limit))
        return [self._listing(row) for row in rows]

    def implementing_code_taken(self, implementing_code: str) -> bool:
        statement = sa.select(orm.items.c.item_id).where(
            orm.items.c.implementing_code == implementing_code
        )
        return self.session.execute(statement).first() is not None

    def derived_from(
        self, basic_code: str, after: str = "", limit: int = 500, lock: bool = False
    ) -> list[Item]:
        """Items derived from a basic item, in item id order after ``after``, at
        most ``limit`` of them (a batch)."""
        i = orm.items
        statement = (
            self._select()
            .where(i.c.basic_code == basic_code, i.c.item_id > after)
            .order_by(i.c.item_id)
            .limit(limit)
        )
        if lock:
            statement = statement.with_for_update(of=orm.items)
        return [self._listing(row).item for row in self.session.execute(statement)]

    def published(self) -> list[Item]:
        rows = self.session.execute(
            self._select().where(orm.items.c.status == PUBLISHED).order_by(orm.items.c.code)
        )
        return [self._listing(row).item for row in rows]

    @staticmethod
    def _values(item: Item) -> dict:
        return {
            "code": item.code,
            "name": item.name,
            "name_en": item.name_en,
            "department_code": item.department_code,
            "region_code": item.region_code,
            "level": item.level,
            "status": item.status,
            "modes": list(item.modes),
            "promised_days": item.promised_days,
            "statutory_days": item.statutory_days,
            "description": item.description,
            "conditions": list(item.conditions),
            "materials": [dataclasses.asdict(material) for material in item.materials],
            "fees": [fee.to_dict() for fee in item.fees],
            "fee_waiver": item.fee_waiver.to_dict() if item.fee_waiver else None,
            "licence_type": item.licence_type.to_dict() if item.licence_type else None,
            "transferred_from": item.transferred_from,
            "legal_basis": [reference.to_dict() for reference in item.legal_basis],
            "joint_departments": list(item.joint_departments),
            "handled_by": item.handled_by,
            "store_id": item.store_id,
            "basic_code": item.basic_code,
            "implementing_code": item.implementing_code,
            "type": item.type,
            "case_type": item.case_type,
            "visits": item.visits,
            "online_depth": item.online_depth,
            "limit_unit": item.limit_unit,
            "limit_note": item.limit_note,
            "process_summary": item.process_summary,
            "place": item.place,
            "hours": item.hours,
            "consultation_phone": item.consultation_phone,
            "complaint_phone": item.complaint_phone,
            "serves": list(item.serves),
            "revision": item.revision,
        }

    @staticmethod
    def _listing(row) -> Listing:
        item = Item(
            item_id=row.item_id,
            code=row.code,
            name=row.name,
            name_en=row.name_en,
            department_code=row.department_code,
            region_code=row.region_code,
            level=row.level,
            status=row.status,
            modes=list(row.modes),
            promised_days=row.promised_days,
            statutory_days=row.statutory_days,
            description=row.description,
            conditions=list(row.conditions),
            materials=[Material(**material) for material in row.materials],
            fees=[Fee(**fee) for fee in row.fees],
            fee_waiver=FeeWaiver(**row.fee_waiver) if row.fee_waiver else None,
            licence_type=LicenceType(**row.licence_type) if row.licence_type else None,
            transferred_from=row.transferred_from,
            legal_basis=_legal_basis(row.legal_basis),
            joint_departments=list(row.joint_departments),
            handled_by=row.handled_by,
            store_id=row.store_id,
            # The window is the department's, read live so a change there shows at once.
            window=_window(row),
            basic_code=row.basic_code,
            implementing_code=row.implementing_code,
            type=row.type,
            case_type=row.case_type,
            visits=row.visits,
            online_depth=row.online_depth,
            limit_unit=row.limit_unit,
            limit_note=row.limit_note,
            process_summary=row.process_summary,
            place=row.place,
            hours=row.hours,
            consultation_phone=row.consultation_phone,
            complaint_phone=row.complaint_phone,
            serves=list(row.serves),
            revision=row.revision,
            department_name=row.department_name,
        )
        return Listing(item=item, department_name=row.department_name, issuer_uscc=row.issuer_uscc)


def _legal_basis(value) -> list[LegalReference]:
    return [LegalReference(entry["law"], entry.get("article", "")) for entry in value or []]


class BasicItemRepository:
    def __init__(self, session: Session):
        self.session = session

    def get(self, basic_code: str, lock: bool = False) -> BasicItem | None:
        statement = sa.select(orm.basic_items).where(orm.basic_items.c.basic_code == basic_code)
        if lock:
            statement = statement.with_for_update()
        row = self.session.execute(statement).first()
        return self._basic(row) if row else None

    def codes(self) -> set[str]:
        return set(self.session.execute(sa.select(orm.basic_items.c.basic_code)).scalars())

    def add(self, basic: BasicItem, now: datetime) -> None:
        self.session.execute(
            orm.basic_items.insert().values(
                basic_code=basic.basic_code, created_at=now, updated_at=now, **self._values(basic)
            )
        )

    def update(self, basic: BasicItem, now: datetime) -> None:
        self.session.execute(
            orm.basic_items.update()
            .where(orm.basic_items.c.basic_code == basic.basic_code)
            .values(updated_at=now, **self._values(basic))
        )

    def page(
        self,
        department: str | None = None,
        type: str | None = None,
        q: str | None = None,
        offset: int = 0,
        limit: int = 20,
    ) -> tuple[list[BasicItem], int]:
        """Basic items matching every given filter, in basic code order, and their total."""
        b = orm.basic_items
        conditions = []
        if department:
            conditions.append(b.c.department_code == department)
        if type:
            conditions.append(b.c.type == type)
        if q:
            conditions.append(b.c.name.ilike(_like_pattern(q), escape="\\"))
        rows, total = _paged(
            self.session, sa.select(b), b, conditions, (b.c.basic_code,), offset, limit
        )
        return [self._basic(row) for row in rows], total

    @staticmethod
    def _values(basic: BasicItem) -> dict:
        return {
            "name": basic.name,
            "name_en": basic.name_en,
            "type": basic.type,
            "legal_basis": [reference.to_dict() for reference in basic.legal_basis],
            "department_code": basic.department_code,
            "serves": list(basic.serves),
            "description": basic.description,
            "revision": basic.revision,
        }

    @staticmethod
    def _basic(row) -> BasicItem:
        return BasicItem(
            basic_code=row.basic_code,
            name=row.name,
            name_en=row.name_en,
            type=row.type,
            legal_basis=_legal_basis(row.legal_basis),
            department_code=row.department_code,
            serves=list(row.serves),
            description=row.description,
            revision=row.revision,
        )


class StoreRepository:
    def __init__(self, session: Session):
        self.session = session

    def list(self) -> list[Store]:
        rows = self.session.execute(sa.select(orm.stores).order_by(orm.stores.c.store_id))
        return [self._store(row) for row in rows]

    def page(
        self,
        kind: str | None = None,
        regions: Iterable[str] | None = None,
        offset: int = 0,
        limit: int = 20,
    ) -> tuple[list[Store], int]:
        """Stores of ``kind`` sitting in one of ``regions`` (when given), in
        store id order, and their total."""
        s = orm.stores
        conditions = []
        if kind is not None:
            conditions.append(s.c.kind == kind)
        if regions is not None:
            conditions.append(s.c.region_code.in_(list(regions)))
        rows, total = _paged(
            self.session, sa.select(s), s, conditions, (s.c.store_id,), offset, limit
        )
        return [self._store(row) for row in rows], total

    def ids(self) -> set[str]:
        return set(self.session.execute(sa.select(orm.stores.c.store_id)).scalars())

    def add(self, store: Store) -> None:
        """Insert a store of no department (a city's)."""
        self.session.execute(
            orm.stores.insert().values(
                store_id=store.store_id,
                name=store.name,
                kind=store.kind,
                department_code=store.department_code,
                region_code=store.region_code,
                **_rating_values(store),
            )
        )

    def of_departments_in(self, regions: Iterable[str]) -> list[Store]:
        """The stores of the departments seated in ``regions``, in store id order."""
        s, d = orm.stores, orm.departments
        rows = self.session.execute(
            sa.select(s)
            .join(d, d.c.code == s.c.department_code)
            .where(d.c.region_code.in_(list(regions)))
            .order_by(s.c.store_id)
        )
        return [self._store(row) for row in rows]

    def department_ratings_in_city(self, city_code: str) -> list[StoreRating]:
        """The ratings of the stores of the departments seated in the city
        ``city_code`` or a region under it, in store id order, leaving out
        stores without reviews (they add nothing to the city's aggregate)."""
        rows = self.session.execute(_CITY_DEPARTMENT_RATINGS, {"city": city_code})
        return [_rating(row) for row in rows]

    def get(self, store_id: str, lock: bool = False) -> Store | None:
        # With lock, two rating changes of one store at once must not both
        # compare with the old one.
        statement = row_by_key(orm.stores, "store_id", lock)
        row = self.session.execute(statement, {"key": store_id}).first()
        return self._store(row) if row else None

    def save_rating(self, store: Store) -> None:
        """Store the store's rating and when ratings recorded it."""
        self.session.execute(
            update_by_key(orm.stores, "store_id"),
            {"where_key": store.store_id, **_rating_values(store)},
        )

    @staticmethod
    def _store(row) -> Store:
        return Store(
            store_id=row.store_id,
            name=row.name,
            department_code=row.department_code,
            region_code=row.region_code,
            rating=_rating(row),
            rating_as_of=_as_utc(row.rating_as_of),
            kind=row.kind,
        )


class ZoneRepository:
    def __init__(self, session: Session):
        self.session = session

    def get(self, zone_id: str) -> Zone | None:
        row = self.session.execute(
            sa.select(orm.zones).where(orm.zones.c.zone_id == zone_id)
        ).first()
        return self._zone(row) if row else None

    def codes(self) -> set[str]:
        return set(self.session.execute(sa.select(orm.zones.c.code)).scalars())

    def add(self, zone: Zone) -> None:
        self.session.execute(orm.zones.insert().values(**dataclasses.asdict(zone)))

    def page(
        self,
        committee_department_code: str | None = None,
        region: str | None = None,
        offset: int = 0,
        limit: int = 20,
    ) -> tuple[list[Zone], int]:
        """Zones (of one committee, in one region when given) in code order, and their total."""
        z = orm.zones
        conditions = []
        if committee_department_code is not None:
            conditions.append(z.c.committee_department_code == committee_department_code)
        if region is not None:
            conditions.append(z.c.region_code == region)
        rows, total = _paged(self.session, sa.select(z), z, conditions, (z.c.code,), offset, limit)
        return [self._zone(row) for row in rows], total

    @staticmethod
    def _zone(row) -> Zone:
        return Zone(
            zone_id=row.zone_id,
            code=row.code,
            name=row.name,
            region_code=row.region_code,
            committee_department_code=row.committee_department_code,
        )


class AssessmentRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, assessment: Assessment) -> None:
        self.session.execute(orm.assessments.insert().values(**dataclasses.asdict(assessment)))

    def of_zone(self, zone_id: str, kind: str | None = None) -> list[Assessment]:
        a = orm.assessments
        statement = sa.select(a).where(a.c.zone_id == zone_id)
        if kind is not None:
            statement = statement.where(a.c.kind == kind)
        return [self._assessment(row) for row in self.session.execute(statement)]

    def page(
        self, zone_id: str, kind: str | None = None, offset: int = 0, limit: int = 20
    ) -> tuple[list[Assessment], int]:
        """A zone's reports (of one kind when given), by kind then the newest first."""
        a = orm.assessments
        conditions = [a.c.zone_id == zone_id]
        if kind is not None:
            conditions.append(a.c.kind == kind)
        order = (a.c.kind, a.c.valid_from.desc(), a.c.assessment_id)
        rows, total = _paged(self.session, sa.select(a), a, conditions, order, offset, limit)
        return [self._assessment(row) for row in rows], total

    @staticmethod
    def _assessment(row) -> Assessment:
        return Assessment(
            assessment_id=row.assessment_id,
            zone_id=row.zone_id,
            kind=row.kind,
            title=row.title,
            valid_from=row.valid_from,
            valid_to=row.valid_to,
            approved_by=row.approved_by,
        )
