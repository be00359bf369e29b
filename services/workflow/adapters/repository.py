"""Repositories: Application aggregates, licences and the working calendar.

An Application loads with ``events`` empty; the service layer collects what the
aggregate records after a command. Saving writes only what changed: the row, the
review decisions, the timeline entries added since loading and a newly issued
licence.

A person an agent applies for is stored without the plain ID number: the
``on_behalf_of`` JSON keeps ``id_number_cipher`` (AES-256-GCM, bound to the
application id) and ``id_number_masked``; loading decrypts it, so the aggregate
holds the number in memory only (it names the licence holder).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from services.common.masking import mask, mask_id_number
from services.common.pii import PiiCipher
from services.workflow.adapters import orm
from services.workflow.domain.calendar import WorkingCalendar
from services.workflow.domain.model import (
    RUNNING_CLOCK_STATES,
    Application,
    ItemSnapshot,
    Licence,
    State,
    TimelineEntry,
)

HOLIDAY = "holiday"
WORKDAY = "workday"
CALENDAR_KINDS = (HOLIDAY, WORKDAY)

# on_behalf_of keys: the domain's plain number, and what is stored instead of it.
ID_NUMBER = "id_number"
ID_NUMBER_CIPHER = "id_number_cipher"
ID_NUMBER_MASKED = "id_number_masked"


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything stored is UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class ApplicationRepository:
    """``pii`` gives the cipher for principals' ID numbers; it is called only when
    one is written or read, so a service without ``PII_KEY`` still handles the
    other cases."""

    def __init__(self, session: Session, pii: Callable[[], PiiCipher]):
        self.session = session
        self._pii = pii
        # application_id -> (timeline entries stored, licence stored)
        self._stored: dict[str, tuple[int, bool]] = {}

    # ------------------------------------------------------------------ reads

    def get(self, application_id: str, *, for_update: bool = False) -> Application | None:
        """The whole aggregate; ``for_update`` locks the row (PostgreSQL) so two
        approvers of a joint review cannot overwrite each other's decision."""
        query = sa.select(orm.applications).where(
            orm.applications.c.application_id == application_id
        )
        if for_update:
            query = query.with_for_update()
        row = self.session.execute(query).mappings().first()
        if row is None:
            return None
        application = self._load([row], with_timeline=True)[0]
        self._stored[application_id] = (len(application.timeline), application.licence is not None)
        return application

    def list_for_applicant(
        self, applicant_id: str, *, page: int, page_size: int
    ) -> tuple[list[Application], int]:
        condition = orm.applications.c.applicant_id == applicant_id
        return self._page(condition, page=page, page_size=page_size)

    def list_for_department(
        self, department_code: str, *, state: str | None, page: int, page_size: int
    ) -> tuple[list[Application], int]:
        """Cases the department owns or reviews jointly (every reviewing
        department, the owner included, has a review row)."""
        reviewed = sa.select(orm.department_reviews.c.application_id).where(
            orm.department_reviews.c.department_code == department_code
        )
        condition = orm.applications.c.application_id.in_(reviewed)
        if state is not None:
            condition = sa.and_(condition, orm.applications.c.state == state)
        return self._page(condition, page=page, page_size=page_size)

    def overdue_candidates(self, before: date) -> list[str]:
        """Ids of unreported cases whose clock runs and whose due date is past."""
        query = (
            sa.select(orm.applications.c.application_id)
            .where(
                orm.applications.c.state.in_([State.SUBMITTED, State.ACCEPTED]),
                orm.applications.c.overdue_reported.is_(False),
                orm.applications.c.due_date < before,
            )
            .order_by(orm.applications.c.due_date, orm.applications.c.application_id)
        )
        return list(self.session.execute(query).scalars())

    def count_by_state(self) -> dict[str, int]:
        """How many cases are in each state; states without a case are absent."""
        state = orm.applications.c.state
        rows = self.session.execute(sa.select(state, sa.func.count()).group_by(state))
        return {row[0]: int(row[1]) for row in rows}

    def running_due_dates(self, before: date) -> dict[date, int]:
        """Cases whose clock runs and whose due date is before ``before``,
        counted per due date (reported as overdue or not)."""
        table = orm.applications
        rows = self.session.execute(
            sa.select(table.c.due_date, sa.func.count())
            .where(
                table.c.state.in_(sorted(RUNNING_CLOCK_STATES)),
                table.c.due_date < before,
            )
            .group_by(table.c.due_date)
        )
        return {row[0]: int(row[1]) for row in rows}

    def _page(self, condition, *, page: int, page_size: int) -> tuple[list[Application], int]:
        total = self.session.execute(
            sa.select(sa.func.count()).select_from(orm.applications).where(condition)
        ).scalar_one()
        rows = (
            self.session.execute(
                sa.select(orm.applications)
                .where(condition)
                .order_by(
                    orm.applications.c.submitted_at.desc(),
                    orm.applications.c.application_id,
                )
                .offset((page - 1) * page_size)
                .limit(page_size)
            )
            .mappings()
            .all()
        )
        return self._load(rows, with_timeline=False), total

    def _load(self, rows, *, with_timeline: bool) -> list[Application]:
        ids = [row["application_id"] for row in rows]
        if not ids:
            return []
        reviews: dict[str, dict[str, str]] = {application_id: {} for application_id in ids}
        for review in self.session.execute(
            sa.select(orm.department_reviews)
            .where(orm.department_reviews.c.application_id.in_(ids))
            .order_by(orm.department_reviews.c.application_id, orm.department_reviews.c.position)
        ).mappings():
            reviews[review["application_id"]][review["department_code"]] = review["decision"]
        timelines: dict[str, list[TimelineEntry]] = {application_id: [] for application_id in ids}
        if with_timeline:
            for entry in self.session.execute(
                sa.select(orm.timeline_entries)
                .where(orm.timeline_entries.c.application_id.in_(ids))
                .order_by(orm.timeline_entries.c.application_id, orm.timeline_entries.c.position)
            ).mappings():
                timelines[entry["application_id"]].append(
                    TimelineEntry(
                        at=_utc(entry["at"]),
                        state=entry["state"],
                        action=entry["action"],
                        actor_id=entry["actor_id"],
                        actor_role=entry["actor_role"],
                        comment=entry["comment"] or "",
                    )
                )
        licences = {
            row["application_id"]: row
            for row in self.session.execute(
                sa.select(orm.licences).where(orm.licences.c.application_id.in_(ids))
            ).mappings()
        }
        return [
            self._to_domain(
                row,
                reviews[row["application_id"]],
                timelines[row["application_id"]],
                licences.get(row["application_id"]),
            )
            for row in rows
        ]

    def _to_domain(self, row, reviews, timeline, licence_row) -> Application:
        item = row["item"]
        licence = None
        if licence_row is not None:
            licence = Licence(
                licence_no=licence_row["licence_no"],
                application_id=licence_row["application_id"],
                holder_id=licence_row["holder_masked"],
                item_id=licence_row["item_id"],
                item_name=licence_row["item_name"],
                issued_at=_utc(licence_row["issued_at"]),
                valid=licence_row["valid"],
            )
        return Application(
            application_id=row["application_id"],
            item_id=row["item_id"],
            item_name=row["item_name"],
            department_code=row["department_code"],
            region_code=row["region_code"],
            store_id=row["store_id"],
            joint_departments=list(item.get("joint_departments") or ()),
            # Stored as {} when the item has no window.
            window=dict(row["window"]) if row["window"] else None,
            promised_days=int(item["promised_days"]),
            applicant_id=row["applicant_id"],
            on_behalf_of=self._open_principal(row["application_id"], row["on_behalf_of"]),
            form=dict(row["form"] or {}),
            materials=list(row["materials"] or []),
            delivery=dict(row["delivery"]),
            state=row["state"],
            due_date=row["due_date"],
            submitted_at=_utc(row["submitted_at"]),
            timeline=timeline,
            reviews=dict(reviews),
            licence_no=row["licence_no"],
            licence=licence,
            overdue_reported=bool(row["overdue_reported"]),
        )

    # ----------------------------------------------------------------- writes

    def add(self, application: Application, item: ItemSnapshot) -> None:
        now = datetime.now(UTC)
        self.session.execute(
            orm.applications.insert().values(
                application_id=application.application_id,
                item={
                    "item_id": item.item_id,
                    "item_name": item.item_name,
                    "department_code": item.department_code,
                    "region_code": item.region_code,
                    "store_id": item.store_id,
                    "modes": list(item.modes),
                    "promised_days": item.promised_days,
                    "joint_departments": list(item.joint_departments),
                    "window": dict(item.window) if item.window else None,
                },
                updated_at=now,
                **self._columns(application),
            )
        )
        self.session.execute(
            orm.department_reviews.insert(),
            [
                {
                    "application_id": application.application_id,
                    "department_code": code,
                    "position": position,
                    "decision": str(decision),
                }
                for position, (code, decision) in enumerate(application.reviews.items())
            ],
        )
        self._stored[application.application_id] = (0, False)
        self._write_changes(application)

    def save(self, application: Application) -> None:
        """Store a loaded aggregate after a command."""
        if application.application_id not in self._stored:
            raise LookupError(f"application {application.application_id} was not loaded")
        self.session.execute(
            orm.applications.update()
            .where(orm.applications.c.application_id == application.application_id)
            .values(updated_at=datetime.now(UTC), **self._columns(application))
        )
        for code, decision in application.reviews.items():
            self.session.execute(
                orm.department_reviews.update()
                .where(
                    orm.department_reviews.c.application_id == application.application_id,
                    orm.department_reviews.c.department_code == code,
                )
                .values(decision=str(decision))
            )
        self._write_changes(application)

    def _write_changes(self, application: Application) -> None:
        entries_stored, licence_stored = self._stored[application.application_id]
        new_entries = application.timeline[entries_stored:]
        if new_entries:
            self.session.execute(
                orm.timeline_entries.insert(),
                [
                    {
                        "application_id": application.application_id,
                        "position": entries_stored + offset,
                        "at": entry.at,
                        "state": entry.state,
                        "action": entry.action,
                        "actor_id": entry.actor_id,
                        "actor_role": entry.actor_role,
                        "comment": entry.comment or "",
                    }
                    for offset, entry in enumerate(new_entries)
                ],
            )
        licence = application.licence
        if licence is not None and not licence_stored:
            self.session.execute(
                orm.licences.insert().values(
                    licence_no=licence.licence_no,
                    application_id=licence.application_id,
                    applicant_id=application.applicant_id,
                    holder_masked=mask(licence.holder_id),
                    item_id=licence.item_id,
                    item_name=licence.item_name,
                    issued_at=licence.issued_at,
                    valid=licence.valid,
                )
            )
            licence_stored = True
        self._stored[application.application_id] = (len(application.timeline), licence_stored)

    def _seal_principal(self, application: Application) -> dict | None:
        """``on_behalf_of`` as stored: a person's ID number encrypted and masked."""
        principal = application.on_behalf_of
        if not principal or not principal.get(ID_NUMBER):
            return principal
        id_number = principal[ID_NUMBER]
        stored = {key: value for key, value in principal.items() if key != ID_NUMBER}
        stored[ID_NUMBER_CIPHER] = self._pii().encrypt(
            id_number, associated_data=application.application_id
        )
        stored[ID_NUMBER_MASKED] = mask_id_number(id_number)
        return stored

    def _open_principal(self, application_id: str, stored: dict | None) -> dict | None:
        """The domain's ``on_behalf_of``, with the ID number decrypted. Rows
        written before encryption hold the plain number and load as they are
        (their next save encrypts it). A ciphertext made under another key or
        copied from another application raises PiiDecryptionError."""
        if not stored or ID_NUMBER_CIPHER not in stored:
            return stored
        principal = {
            key: value
            for key, value in stored.items()
            if key not in (ID_NUMBER_CIPHER, ID_NUMBER_MASKED)
        }
        principal[ID_NUMBER] = self._pii().decrypt(
            stored[ID_NUMBER_CIPHER], associated_data=application_id
        )
        return principal

    def _columns(self, application: Application) -> dict:
        return {
            "item_id": application.item_id,
            "item_name": application.item_name,
            "department_code": application.department_code,
            "region_code": application.region_code,
            "store_id": application.store_id,
            "applicant_id": application.applicant_id,
            "on_behalf_of": self._seal_principal(application),
            "form": application.form,
            "materials": application.materials,
            "delivery": application.delivery,
            "window": application.window or {},
            "state": str(application.state),
            "due_date": application.due_date,
            "submitted_at": application.submitted_at,
            "licence_no": application.licence_no,
            "overdue_reported": application.overdue_reported,
        }


class LicenceRepository:
    def __init__(self, session: Session):
        self.session = session

    def get(self, licence_no: str):
        """The stored licence row (a mapping) or None."""
        return (
            self.session.execute(
                sa.select(orm.licences).where(orm.licences.c.licence_no == licence_no)
            )
            .mappings()
            .first()
        )

    def list_for_applicant(self, applicant_id: str) -> list:
        return list(
            self.session.execute(
                sa.select(orm.licences)
                .where(orm.licences.c.applicant_id == applicant_id)
                .order_by(orm.licences.c.issued_at.desc(), orm.licences.c.licence_no)
            ).mappings()
        )

    def next_serial(self, region_code: str, issued_on: date) -> int:
        """The next serial for a region and day, counted in this transaction.

        One upsert, so two concurrent issues serialise on the counter row and
        never get the same number (licence_no is also unique).
        """
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(orm.licence_serials).values(
            region_code=region_code, issued_on=issued_on, last_serial=1
        )
        statement = statement.on_conflict_do_update(
            index_elements=[orm.licence_serials.c.region_code, orm.licence_serials.c.issued_on],
            set_={"last_serial": orm.licence_serials.c.last_serial + 1},
        ).returning(orm.licence_serials.c.last_serial)
        return int(self.session.execute(statement).scalar_one())


class CalendarRepository:
    def __init__(self, session: Session):
        self.session = session

    def days(self) -> dict[date, str]:
        return {
            row.day: row.kind
            for row in self.session.execute(
                sa.select(orm.calendar_days.c.day, orm.calendar_days.c.kind)
            )
        }

    def load(self) -> WorkingCalendar | None:
        """The stored calendar, or None when nothing is stored yet."""
        days = self.days()
        if not days:
            return None
        return WorkingCalendar(
            holidays={day for day, kind in days.items() if kind == HOLIDAY},
            extra_workdays={day for day, kind in days.items() if kind == WORKDAY},
        )

    def set(self, day: date, kind: str, updated_by: str | None) -> bool:
        """Store one day; False when it was already stored as ``kind``."""
        if kind not in CALENDAR_KINDS:
            raise ValueError(f"kind must be one of {CALENDAR_KINDS}")
        current = self.session.execute(
            sa.select(orm.calendar_days.c.kind).where(orm.calendar_days.c.day == day)
        ).scalar_one_or_none()
        if current == kind:
            return False
        values = {"kind": kind, "updated_by": updated_by, "updated_at": datetime.now(UTC)}
        if current is None:
            self.session.execute(orm.calendar_days.insert().values(day=day, **values))
        else:
            self.session.execute(
                orm.calendar_days.update().where(orm.calendar_days.c.day == day).values(**values)
            )
        return True
