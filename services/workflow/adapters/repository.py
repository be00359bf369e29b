"""Repositories: Application aggregates, process definitions, licences and the
working calendar.

An Application loads with ``events`` empty; the service layer collects what the
aggregate records after a command. Saving writes the row (with the case's
pinned process and its progress as JSON), its tasks as rows of ``tasks`` (what
worklists query), its escalations as rows of ``escalations`` when they changed
(what the lists of open escalations query), the timeline entries added since
loading and a newly issued licence.

Cases opened before processes were data have no stored process or progress:
they load as the item's default process, their progress rebuilt from their state
and their tasks (see :func:`_legacy_progress`).

A person an agent applied for by ID number (cases from before persons had
accounts) is stored without the plain number: the ``on_behalf_of`` JSON keeps
``id_number_cipher`` (AES-256-GCM, bound to the application id) and
``id_number_masked``. Loading a case never decrypts it: the aggregate holds the
masked number, which is all its rules, views, timeline and licence need, and a
save writes the stored cipher back. The full number is decrypted only by
:meth:`ApplicationRepository.principal_id_number`, called where it is shown or
needed (an automatic decision on it, a reviewer looking at the principal), and
the caller records that read (``pii_accessed``).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from services.common.db import DEFERRED, delete_by_key, insert_into, row_by_key, update_by_key
from services.common.masking import mask, mask_id_number
from services.common.pii import PiiCipher
from services.common.working_calendar import SHIPPED_CALENDARS, WorkingCalendar, year_calendar
from services.workflow.adapters import orm
from services.workflow.adapters.licence_keys import LicenceKeyRepository, active_keys_column
from services.workflow.adapters.payment_rows import write_payment_row
from services.workflow.domain.delivery import Shipping
from services.workflow.domain.model import (
    RUNNING_CLOCK_STATES,
    Application,
    ItemSnapshot,
    Licence,
    LicenceType,
    State,
    TimelineEntry,
    fees_of,
)
from services.workflow.domain.payment import Payment
from services.workflow.domain.process import ProcessDefinition, default_definition
from services.workflow.domain.progress import (
    OPEN_STATES,
    Clock,
    Escalation,
    EscalationLevel,
    Extension,
    StepRun,
    StepState,
    Suspension,
    Task,
)

_ID_NUMBER = re.compile(r"\d{17}[\dX]")

# on_behalf_of keys: the domain's plain number, and what is stored instead of it.
ID_NUMBER = "id_number"
ID_NUMBER_CIPHER = "id_number_cipher"
ID_NUMBER_MASKED = "id_number_masked"


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything stored is UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _instant(value: str) -> datetime:
    """An instant as PostgreSQL writes it in JSON (ISO 8601, with its offset), in UTC."""
    return datetime.fromisoformat(value).astimezone(UTC)


def _timeline_entry(entry, at: Callable[[object], datetime]) -> TimelineEntry:
    """A timeline entry from its row, or from its JSON object (``at`` reads
    the instant of either)."""
    return TimelineEntry(
        at=at(entry["at"]),
        state=entry["state"],
        action=entry["action"],
        actor_id=entry["actor_id"],
        actor_role=entry["actor_role"],
        comment=entry["comment"] or "",
        step=entry["step"],
        on_behalf_of=entry["on_behalf_of"],
    )


@dataclass(frozen=True)
class LateTask:
    """An open task past its due date, in a case whose clock runs, that has not
    reached every level of escalation yet (what the escalation sweep looks at)."""

    application_id: str
    step_id: str
    department_code: str
    due_date: date
    # The levels it already reached.
    escalated: frozenset[str]


@dataclass(frozen=True)
class OpenEscalation:
    """A row of a list of open escalations: the escalation, its case's item,
    and what its signal is measured on (the task's due date as it stands now,
    and the case's clock)."""

    application_id: str
    item_name: str
    step_id: str
    department_code: str
    level: str
    raised_at: datetime
    due_date: date
    task_due_date: date | None
    clock: Clock


class ApplicationRepository:
    """``pii`` gives the cipher for principals' ID numbers; it is called only when
    one is written or read, so a service without ``PII_KEY`` still handles the
    other cases."""

    def __init__(
        self,
        session: Session,
        pii: Callable[[], PiiCipher],
        calendar: CalendarRepository | None = None,
    ):
        self.session = session
        self._pii = pii
        # Told the calendar's stamps read with a case (PostgreSQL), if given.
        self._calendar = calendar
        # application_id -> (timeline entries stored, licence stored, escalations stored)
        self._stored: dict[str, tuple[int, bool, tuple]] = {}
        # application_id -> ``on_behalf_of`` as loaded from its row (sealed), so
        # a save writes the principal's cipher back without decrypting it.
        self._sealed: dict[str, dict | None] = {}

    # ------------------------------------------------------------------ reads

    def get(self, application_id: str, *, for_update: bool = False) -> Application | None:
        """The whole aggregate; ``for_update`` locks the row (PostgreSQL) so two
        approvers of a joint review cannot overwrite each other's decision."""
        if self.session.get_bind().dialect.name == "postgresql":
            # The row with the calendar's stamps and its timeline in one
            # statement; the timeline again, on its own, when the row was
            # locked after a change the statement's timeline missed (see
            # _case_on_postgresql).
            query = _case_on_postgresql(for_update)
            row = self.session.execute(query, {"key": application_id}).mappings().first()
            if row is None:
                return None
            if self._calendar is not None:
                self._calendar.stamps_read(_stamps_of(row))
            timelines = None
            if not for_update or row["timeline_current"]:
                entries = row["timeline"] or ()
                timelines = {application_id: [_timeline_entry(e, _instant) for e in entries]}
            application = self._load([row], with_timeline=timelines is None, timelines=timelines)[0]
        else:
            query = row_by_key(orm.applications, "application_id", for_update)
            row = self.session.execute(query, {"key": application_id}).mappings().first()
            if row is None:
                return None
            application = self._load([row], with_timeline=True)[0]
        self._stored[application_id] = (
            len(application.timeline),
            application.licence is not None,
            _escalation_rows(application),
        )
        return application

    def list_for_applicant(
        self, applicant_id: str, *, page: int, page_size: int
    ) -> tuple[list[Application], int]:
        condition = orm.applications.c.applicant_id == applicant_id
        return self._page(condition, page=page, page_size=page_size)

    def list_for_party(
        self, user_id: str, holder_ids: list[str], *, page: int, page_size: int
    ) -> tuple[list[Application], int]:
        """Cases the user applied for (themself or as an agent) and cases held
        by ``holder_ids`` (the user, the enterprises they act for)."""
        table = orm.applications
        condition = sa.or_(table.c.applicant_id == user_id, table.c.holder_id.in_(holder_ids))
        return self._page(condition, page=page, page_size=page_size)

    def list_for_department(
        self,
        department_code: str,
        *,
        state: str | None,
        page: int,
        page_size: int,
        due_between: tuple[date | None, date | None] | None = None,
        by_due: bool = False,
    ) -> tuple[list[Application], int]:
        """Cases of the department: those it owns and those in which it has a
        task (a joint review's branch, a step of its own).

        ``due_between`` keeps the cases whose department task is open and due
        in that span (either end open); ``by_due`` orders by that due date,
        soonest first, cases without an open task last.
        """
        tasks = orm.tasks
        with_task = sa.select(tasks.c.application_id).where(
            tasks.c.department_code == department_code
        )
        condition = sa.or_(
            orm.applications.c.department_code == department_code,
            orm.applications.c.application_id.in_(with_task),
        )
        if state is not None:
            condition = sa.and_(condition, orm.applications.c.state == state)
        open_due = (
            sa.select(sa.func.min(tasks.c.due_date))
            .where(
                tasks.c.application_id == orm.applications.c.application_id,
                tasks.c.department_code == department_code,
                tasks.c.state == str(StepState.ACTIVE),
            )
            .scalar_subquery()
        )
        if due_between is not None:
            first, last = due_between
            condition = sa.and_(condition, open_due.is_not(None))
            if first is not None:
                condition = sa.and_(condition, open_due >= first)
            if last is not None:
                condition = sa.and_(condition, open_due <= last)
        order = (open_due.asc().nulls_last(),) if by_due else ()
        return self._page(condition, page=page, page_size=page_size, order=order)

    def overdue_candidates(self, before: date) -> list[str]:
        """Ids of unreported cases whose clock runs and whose due date is past."""
        query = (
            sa.select(orm.applications.c.application_id)
            .where(
                orm.applications.c.state.in_([State.SUBMITTED, State.ACCEPTED]),
                orm.applications.c.overdue_reported.is_(False),
                orm.applications.c.due_date < before,
                _clock_runs(),
            )
            .order_by(orm.applications.c.due_date, orm.applications.c.application_id)
        )
        return list(self.session.execute(query).scalars())

    def late_tasks(self, today: date, operator_days: int) -> list[LateTask]:
        """Open tasks due before ``today``, in cases whose clock runs, that have
        no dept_admin escalation yet, or no operator escalation yet and are due
        more than ``operator_days`` days before ``today``: every task the
        escalation sweep may have to escalate (it counts the working days; a
        working day is never shorter than a day, so these bounds lose none),
        soonest due first, each with the levels it reached. Reads ``tasks`` by
        state and due date (``ix_tasks_state_due``), never a whole case."""
        tasks, cases, escalations = orm.tasks, orm.applications, orm.escalations
        operator_before = today - timedelta(days=operator_days)

        def reached(level: str):
            return (
                sa.select(escalations.c.escalation_id)
                .where(
                    escalations.c.application_id == tasks.c.application_id,
                    escalations.c.step_id == tasks.c.step_id,
                    escalations.c.department_code == tasks.c.department_code,
                    escalations.c.level == level,
                )
                .exists()
            )

        to_admin = reached(EscalationLevel.DEPT_ADMIN)
        to_operator = reached(EscalationLevel.OPERATOR)
        query = (
            sa.select(
                tasks.c.application_id,
                tasks.c.step_id,
                tasks.c.department_code,
                tasks.c.due_date,
                to_admin.label("to_admin"),
                to_operator.label("to_operator"),
            )
            .join(cases, cases.c.application_id == tasks.c.application_id)
            .where(
                tasks.c.state == str(StepState.ACTIVE),
                tasks.c.due_date < today,
                cases.c.state.in_(sorted(RUNNING_CLOCK_STATES)),
                _clock_runs(),
                sa.or_(~to_admin, sa.and_(tasks.c.due_date < operator_before, ~to_operator)),
            )
            .order_by(tasks.c.due_date, tasks.c.application_id, tasks.c.step_id)
        )
        return [
            LateTask(
                application_id=row.application_id,
                step_id=row.step_id,
                department_code=row.department_code,
                due_date=row.due_date,
                escalated=frozenset(
                    level
                    for level, reached_it in (
                        (EscalationLevel.DEPT_ADMIN, row.to_admin),
                        (EscalationLevel.OPERATOR, row.to_operator),
                    )
                    if reached_it
                ),
            )
            for row in self.session.execute(query)
        ]

    def open_escalations(
        self,
        *,
        department_code: str | None,
        levels: Iterable[str],
        page: int,
        page_size: int,
    ) -> tuple[list[OpenEscalation], int]:
        """A page of the open escalations at ``levels`` (of ``department_code``
        when given), newest first (an operator's before a dept_admin's raised
        at the same instant), and how many there are. Reads the
        escalations, with their case's item name and clock and their task's
        due date; never a whole case."""
        escalations, cases, tasks = orm.escalations, orm.applications, orm.tasks
        condition = sa.and_(
            escalations.c.resolved_at.is_(None),
            escalations.c.level.in_(sorted(str(level) for level in levels)),
        )
        if department_code is not None:
            condition = sa.and_(condition, escalations.c.department_code == department_code)
        total = self.session.execute(
            sa.select(sa.func.count()).select_from(escalations).where(condition)
        ).scalar_one()
        task_due = (
            sa.select(sa.func.max(tasks.c.due_date))
            .where(
                tasks.c.application_id == escalations.c.application_id,
                tasks.c.step_id == escalations.c.step_id,
                tasks.c.department_code == escalations.c.department_code,
            )
            .scalar_subquery()
        )
        rows = self.session.execute(
            sa.select(
                escalations,
                cases.c.item_name,
                cases.c.progress[("clock", "stopped_on")].as_string().label("stopped_on"),
                cases.c.progress[("clock", "stopped_for")].as_string().label("stopped_for"),
                task_due.label("task_due_date"),
            )
            .join(cases, cases.c.application_id == escalations.c.application_id)
            .where(condition)
            .order_by(
                escalations.c.raised_at.desc(),
                escalations.c.application_id,
                escalations.c.step_id,
                escalations.c.department_code,
                # Raised by one sweep at once: the operator's first.
                sa.case((escalations.c.level == str(EscalationLevel.OPERATOR), 0), else_=1),
            )
            .limit(page_size)
            .offset((page - 1) * page_size)
        ).mappings()
        return [
            OpenEscalation(
                application_id=row["application_id"],
                item_name=row["item_name"],
                step_id=row["step_id"],
                department_code=row["department_code"],
                level=row["level"],
                raised_at=_utc(row["raised_at"]),
                due_date=row["due_date"],
                task_due_date=_as_date(row["task_due_date"]),
                clock=Clock.from_dict(
                    {"stopped_on": row["stopped_on"], "stopped_for": row["stopped_for"]}
                ),
            )
            for row in rows
        ], int(total)

    def count_open_escalations(self) -> dict[str, int]:
        """Open escalations per level; levels without one are absent."""
        table = orm.escalations
        rows = self.session.execute(
            sa.select(table.c.level, sa.func.count())
            .where(table.c.resolved_at.is_(None))
            .group_by(table.c.level)
        )
        return {row[0]: int(row[1]) for row in rows}

    def waiting_for_supplement(self) -> list[str]:
        """Ids of the cases waiting for the applicant's materials."""
        query = (
            sa.select(orm.applications.c.application_id)
            .where(orm.applications.c.state == State.SUPPLEMENT_REQUESTED)
            .order_by(orm.applications.c.application_id)
        )
        return list(self.session.execute(query).scalars())

    def count_by_state(self) -> dict[str, int]:
        """How many cases are in each state; states without a case are absent."""
        state = orm.applications.c.state
        rows = self.session.execute(sa.select(state, sa.func.count()).group_by(state))
        return {row[0]: int(row[1]) for row in rows}

    def count_provisional(self) -> int:
        """Open cases with a due date counted on a calendar not loaded yet."""
        table = orm.applications
        return int(
            self.session.execute(
                sa.select(sa.func.count())
                .select_from(table)
                .where(
                    table.c.calendar_provisional.is_(True),
                    table.c.state.in_(sorted(RUNNING_CLOCK_STATES | {State.SUPPLEMENT_REQUESTED})),
                )
            ).scalar_one()
        )

    def running_due_dates(self, before: date) -> dict[date, int]:
        """Cases whose clock runs and whose due date is before ``before``,
        counted per due date (reported as overdue or not)."""
        table = orm.applications
        rows = self.session.execute(
            sa.select(table.c.due_date, sa.func.count())
            .where(
                table.c.state.in_(sorted(RUNNING_CLOCK_STATES)),
                table.c.due_date < before,
                _clock_runs(),
            )
            .group_by(table.c.due_date)
        )
        return {row[0]: int(row[1]) for row in rows}

    def _page(
        self, condition, *, page: int, page_size: int, order=()
    ) -> tuple[list[Application], int]:
        total = self.session.execute(
            sa.select(sa.func.count()).select_from(orm.applications).where(condition)
        ).scalar_one()
        rows = (
            self.session.execute(
                sa.select(orm.applications)
                .where(condition)
                .order_by(
                    *order,
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

    def _load(
        self, rows, *, with_timeline: bool, timelines: dict[str, list[TimelineEntry]] | None = None
    ) -> list[Application]:
        ids = [row["application_id"] for row in rows]
        if not ids:
            return []
        if timelines is None:
            timelines = {application_id: [] for application_id in ids}
        if with_timeline:
            query, parameters = _timelines_of(ids)
            for entry in self.session.execute(query, parameters).mappings():
                timelines[entry["application_id"]].append(_timeline_entry(entry, _utc))
        legacy = [row["application_id"] for row in rows if row["progress"] is None]
        legacy_tasks: dict[str, list] = {application_id: [] for application_id in legacy}
        if legacy:
            for task in self.session.execute(
                sa.select(orm.tasks)
                .where(orm.tasks.c.application_id.in_(legacy))
                .order_by(orm.tasks.c.application_id, orm.tasks.c.position)
            ).mappings():
                legacy_tasks[task["application_id"]].append(task)
        # A case holds its licence's number from the transaction that issued
        # it: a case without one has no licence row to read.
        licensed = [row["application_id"] for row in rows if row["licence_no"] is not None]
        licences = {}
        if licensed:
            query, parameters = _licences_of(licensed)
            licences = {
                row["application_id"]: row
                for row in self.session.execute(query, parameters).mappings()
            }
        return [
            self._to_domain(
                row,
                timelines[row["application_id"]],
                licences.get(row["application_id"]),
                legacy_tasks.get(row["application_id"]),
            )
            for row in rows
        ]

    def _to_domain(self, row, timeline, licence_row, legacy_tasks) -> Application:
        item = row["item"]
        licence = None
        if licence_row is not None:
            licence = licence_of(licence_row)
        process = _pinned_process(row, item)
        progress = row["progress"] or _legacy_progress(process, row, legacy_tasks or [])
        promised_days = int(item["promised_days"])
        statutory_days = max(int(item.get("statutory_days") or 0), promised_days)
        supplement_due = progress.get("supplement_due")
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
            promised_days=promised_days,
            statutory_days=statutory_days,
            process=process,
            process_version=int(row["process_version"] or 0),
            applicant_id=row["applicant_id"],
            on_behalf_of=self._masked_principal(row["application_id"], row["on_behalf_of"]),
            mandate_id=row["mandate_id"],
            form=dict(row["form"] or {}),
            materials=list(row["materials"] or []),
            delivery=dict(row["delivery"]),
            state=row["state"],
            due_date=row["due_date"],
            legal_due_date=row["legal_due_date"] or row["due_date"],
            submitted_at=_utc(row["submitted_at"]),
            steps=[StepRun.from_dict(step) for step in progress["steps"]],
            clock=Clock.from_dict(progress.get("clock")),
            missing_materials=list(progress.get("missing_materials") or ()),
            supplement_due=date.fromisoformat(supplement_due) if supplement_due else None,
            extensions=[Extension.from_dict(e) for e in progress.get("extensions") or ()],
            suspensions=[Suspension.from_dict(s) for s in progress.get("suspensions") or ()],
            escalations=[Escalation.from_dict(e) for e in progress.get("escalations") or ()],
            calendar_provisional=bool(row["calendar_provisional"]),
            timeline=timeline,
            licence_no=row["licence_no"],
            licence=licence,
            licence_type=LicenceType.of_item(item) if item.get("licence_type") else None,
            issuer_uscc=item.get("issuer_uscc"),
            overdue_reported=bool(row["overdue_reported"]),
            decision=_decision(progress.get("decision")),
            fees=list(fees_of(item.get("fees"))),
            fee_waiver=item.get("fee_waiver"),
            transferred_from=item.get("transferred_from"),
            payment=Payment.from_dict(progress.get("payment")),
            shipping=Shipping.from_dict(progress.get("shipping")),
        )

    # ----------------------------------------------------------------- writes

    def submitted_under(self, applicant_id: str, idempotency_key: str) -> str | None:
        """The id of the case ``applicant_id`` opened under ``idempotency_key``."""
        return self.session.execute(
            _submission_of(), {"applicant_id": applicant_id, "idempotency_key": idempotency_key}
        ).scalar_one_or_none()

    def remember_submission(
        self, applicant_id: str, idempotency_key: str, application_id: str
    ) -> None:
        """Record the key; a second case under one key fails at commit (the
        primary key), so of two racing submits one opens a case."""
        self.session.execute(
            insert_into(orm.submissions),
            {
                "applicant_id": applicant_id,
                "idempotency_key": idempotency_key,
                "application_id": application_id,
                "submitted_at": datetime.now(UTC),
            },
            execution_options=DEFERRED,
        )

    def add(self, application: Application, item: ItemSnapshot) -> None:
        now = datetime.now(UTC)
        self.session.execute(
            insert_into(orm.applications),
            {
                "application_id": application.application_id,
                "item": {
                    "item_id": item.item_id,
                    "item_name": item.item_name,
                    "department_code": item.department_code,
                    "region_code": item.region_code,
                    "store_id": item.store_id,
                    "modes": list(item.modes),
                    "promised_days": item.promised_days,
                    "statutory_days": item.statutory_days,
                    "joint_departments": list(item.joint_departments),
                    "window": dict(item.window) if item.window else None,
                    "fees": [dict(fee) for fee in item.fees],
                    "fee_waiver": dict(item.fee_waiver) if item.fee_waiver else None,
                    "transferred_from": item.transferred_from,
                    "licence_type": item.licence_type.to_dict() if item.licence_type else None,
                    "issuer_uscc": item.issuer_uscc,
                },
                "process": application.process.to_dict(),
                "process_version": application.process_version,
                "updated_at": now,
                **self._columns(application),
            },
            execution_options=DEFERRED,
        )
        self._stored[application.application_id] = (0, False, ())
        self._write_tasks(application, replace=False)
        self._write_changes(application)

    def save(self, application: Application) -> None:
        """Store a loaded aggregate after a command."""
        if application.application_id not in self._stored:
            raise LookupError(f"application {application.application_id} was not loaded")
        self.session.execute(
            update_by_key(orm.applications, "application_id"),
            {
                "where_key": application.application_id,
                "updated_at": datetime.now(UTC),
                **self._columns(application),
            },
            execution_options=DEFERRED,
        )
        self._write_tasks(application, replace=True)
        self._write_changes(application)

    def _write_tasks(self, application: Application, *, replace: bool) -> None:
        if replace:
            self.session.execute(
                delete_by_key(orm.tasks, "application_id"),
                {"key": application.application_id},
                execution_options=DEFERRED,
            )
        rows = [
            {
                "application_id": application.application_id,
                "step_id": run.id,
                "position": position,
                "department_code": task.department_code,
                "role": task.role,
                "state": str(task.state),
                "due_date": task.due_date,
            }
            for run in application.steps
            for position, task in enumerate(run.tasks)
        ]
        if rows:
            self.session.execute(insert_into(orm.tasks), rows, execution_options=DEFERRED)

    def _write_changes(self, application: Application) -> None:
        entries_stored, licence_stored, escalations_stored = self._stored[
            application.application_id
        ]
        escalations = _escalation_rows(application)
        if escalations != escalations_stored:
            # Few per case, changed rarely (raised, resolved): rewritten whole.
            self.session.execute(
                delete_by_key(orm.escalations, "application_id"),
                {"key": application.application_id},
            )
            if escalations:
                self.session.execute(
                    insert_into(orm.escalations), [dict(row) for row in escalations]
                )
        new_entries = application.timeline[entries_stored:]
        if new_entries:
            self.session.execute(
                insert_into(orm.timeline_entries),
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
                        "step": entry.step,
                        "on_behalf_of": entry.on_behalf_of,
                    }
                    for offset, entry in enumerate(new_entries)
                ],
                execution_options=DEFERRED,
            )
        write_payment_row(self.session, application)
        licence = application.licence
        if licence is not None and not licence_stored:
            self.session.execute(
                insert_into(orm.licences),
                {"applicant_id": application.applicant_id, **licence_columns(licence)},
                execution_options=DEFERRED,
            )
            licence_stored = True
        self._stored[application.application_id] = (
            len(application.timeline),
            licence_stored,
            escalations,
        )

    def principal_id_number(self, application_id: str) -> str | None:
        """The full ID number of the person the case's agent applied for by
        number (None when the principal is not known by one, or the case does
        not exist). The one read that decrypts: its caller records the access.
        A ciphertext made under another key or copied from another
        application raises PiiDecryptionError."""
        stored = self.session.execute(
            sa.select(orm.applications.c.on_behalf_of).where(
                orm.applications.c.application_id == application_id
            )
        ).scalar_one_or_none()
        return self._plain_id_number(application_id, stored)

    def _plain_id_number(self, application_id: str, stored: dict | None) -> str | None:
        if not stored:
            return None
        if ID_NUMBER_CIPHER in stored:
            return self._pii().decrypt(stored[ID_NUMBER_CIPHER], associated_data=application_id)
        return stored.get(ID_NUMBER) or None  # a row written before encryption

    def _seal_principal(self, application: Application) -> dict | None:
        """``on_behalf_of`` as stored: a person's ID number encrypted and masked.
        A principal loaded from the row holds the masked number only: its
        stored cipher is written back (a row written before encryption is
        encrypted now)."""
        principal = application.on_behalf_of
        if not principal or not principal.get(ID_NUMBER):
            return principal
        stored = {key: value for key, value in principal.items() if key != ID_NUMBER}
        id_number = principal[ID_NUMBER]
        if not _ID_NUMBER.fullmatch(id_number):
            loaded = self._sealed.get(application.application_id) or {}
            if ID_NUMBER_CIPHER in loaded:
                stored[ID_NUMBER_CIPHER] = loaded[ID_NUMBER_CIPHER]
                stored[ID_NUMBER_MASKED] = loaded.get(ID_NUMBER_MASKED) or id_number
                return stored
            id_number = self._plain_id_number(application.application_id, loaded)
            if id_number is None:
                raise LookupError(
                    f"application {application.application_id}: the principal's ID number"
                    " is masked and none is stored"
                )
        stored[ID_NUMBER_CIPHER] = self._pii().encrypt(
            id_number, associated_data=application.application_id
        )
        stored[ID_NUMBER_MASKED] = mask_id_number(id_number)
        return stored

    def _masked_principal(self, application_id: str, stored: dict | None) -> dict | None:
        """The domain's ``on_behalf_of``: a person known by ID number holds it
        masked (never decrypted here). Rows written before encryption hold the
        plain number: it is masked too, and their next save encrypts it."""
        self._sealed[application_id] = stored
        if not stored or not (ID_NUMBER_CIPHER in stored or stored.get(ID_NUMBER)):
            return stored
        principal = {
            key: value
            for key, value in stored.items()
            if key not in (ID_NUMBER, ID_NUMBER_CIPHER, ID_NUMBER_MASKED)
        }
        principal[ID_NUMBER] = stored.get(ID_NUMBER_MASKED) or mask_id_number(
            stored.get(ID_NUMBER) or ""
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
            "holder_id": application.holder_id,
            "mandate_id": application.mandate_id,
            "form": application.form,
            "materials": application.materials,
            "delivery": application.delivery,
            "window": application.window or {},
            "state": str(application.state),
            "due_date": application.due_date,
            "legal_due_date": application.legal_due_date,
            "submitted_at": application.submitted_at,
            "licence_no": application.licence_no,
            "overdue_reported": application.overdue_reported,
            "calendar_provisional": application.calendar_provisional,
            "progress": {
                "steps": [run.to_dict() for run in application.steps],
                "clock": application.clock.to_dict(),
                "missing_materials": list(application.missing_materials),
                "supplement_due": (
                    application.supplement_due.isoformat() if application.supplement_due else None
                ),
                "extensions": [extension.to_dict() for extension in application.extensions],
                "suspensions": [suspension.to_dict() for suspension in application.suspensions],
                "escalations": [escalation.to_dict() for escalation in application.escalations],
                "decision": (
                    {**application.decision, "on": application.decision["on"].isoformat()}
                    if application.decision
                    else None
                ),
                "payment": application.payment.to_dict() if application.payment else None,
                "shipping": application.shipping.to_dict(),
            },
        }


def _decision(stored: dict | None) -> dict | None:
    """The case's decision as the domain keeps it (its day a date)."""
    if not stored:
        return None
    return {**stored, "on": date.fromisoformat(stored["on"])}


class LicenceRepository:
    def __init__(self, session: Session, keys: LicenceKeyRepository | None = None):
        self.session = session
        # Told the active signing keys read with a number's check (PostgreSQL),
        # if given: an approval checks its new number, then signs.
        self._keys = keys

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
                .where(
                    sa.or_(
                        orm.licences.c.applicant_id == applicant_id,
                        orm.licences.c.holder_id == applicant_id,
                    )
                )
                .order_by(orm.licences.c.issued_at.desc(), orm.licences.c.licence_no)
            ).mappings()
        )

    def list_for_party(self, user_id: str, holder_ids: list[str]) -> list:
        """Licences of the cases the user applied for (an agent's included) and
        those held by ``holder_ids`` (the user, the enterprises they act for)."""
        table = orm.licences
        return list(
            self.session.execute(
                sa.select(table)
                .where(sa.or_(table.c.applicant_id == user_id, table.c.holder_id.in_(holder_ids)))
                .order_by(table.c.issued_at.desc(), table.c.licence_no)
            ).mappings()
        )

    def exists(self, licence_no: str) -> bool:
        if self._keys is not None and self.session.get_bind().dialect.name == "postgresql":
            row = self.session.execute(_licence_no_taken_and_keys(), {"key": licence_no}).one()
            self._keys.active_read(row.active_keys)
            return row.taken is not None
        found = self.session.execute(_licence_no_taken(), {"key": licence_no}).first()
        return found is not None

    def get_for_update(self, licence_no: str):
        """The stored licence row, locked (PostgreSQL) for a revocation."""
        table = orm.licences
        return (
            self.session.execute(
                sa.select(table).where(table.c.licence_no == licence_no).with_for_update()
            )
            .mappings()
            .first()
        )

    def revoke(self, licence_no: str, at: datetime, reason: str) -> None:
        self.session.execute(
            orm.licences.update()
            .where(orm.licences.c.licence_no == licence_no)
            .values(valid=False, revoked_at=at, revocation_reason=reason)
        )

    def store_document(self, licence_no: str, document: dict) -> None:
        """Keep the document an old licence was signed with on first read."""
        self.session.execute(
            orm.licences.update()
            .where(orm.licences.c.licence_no == licence_no)
            .values(document=document)
        )


def licence_columns(licence: Licence) -> dict:
    """A new licence as a row of ``licences`` (less its applicant)."""
    licence_type = licence.licence_type
    return {
        "licence_no": licence.licence_no,
        "application_id": licence.application_id,
        "holder_masked": mask(licence.holder_id),
        # An ID number is never kept in the clear: a principal known only by
        # one holds the licence masked.
        "holder_id": mask_id_number(licence.holder_id)
        if _ID_NUMBER.fullmatch(licence.holder_id or "")
        else licence.holder_id,
        "item_id": licence.item_id,
        "item_name": licence.item_name,
        "issued_at": licence.issued_at,
        "valid": licence.valid,
        "department_code": licence.department_code,
        "licence_type_code": licence_type.code if licence_type else None,
        "licence_type_name": licence_type.name if licence_type else None,
        "issuer_uscc": licence.issuer_uscc,
        "valid_from": licence.valid_from,
        "valid_to": licence.valid_to,
        "document": licence.document,
    }


def licence_of(row) -> Licence:
    """The domain's licence of a ``licences`` row."""
    code = row["licence_type_code"]
    return Licence(
        licence_no=row["licence_no"],
        application_id=row["application_id"],
        holder_id=row["holder_id"] or row["holder_masked"],
        item_id=row["item_id"],
        item_name=row["item_name"],
        issued_at=_utc(row["issued_at"]),
        valid=row["valid"],
        licence_type=LicenceType(code, row["licence_type_name"] or "") if code else None,
        issuer_uscc=row["issuer_uscc"],
        department_code=row["department_code"],
        valid_from=row["valid_from"],
        valid_to=row["valid_to"],
        document=row["document"],
    )


class ProcessRepository:
    """Process definitions, versioned per item: a version is never changed, a
    new one is added."""

    def __init__(self, session: Session, calendar: CalendarRepository | None = None):
        self.session = session
        # Told the calendar's stamps read with the current process (PostgreSQL), if given.
        self._calendar = calendar
        # item_id -> its current process, read with a submission's key (PostgreSQL).
        self._read: dict[str, tuple[int, ProcessDefinition] | None] = {}

    def current(self, item_id: str) -> tuple[int, ProcessDefinition] | None:
        """The item's newest version and its definition; None when it has none."""
        if item_id in self._read:
            return self._read.pop(item_id)
        if self._combined():
            row = (
                self.session.execute(_current_process_and_stamps(), {"item_id": item_id})
                .mappings()
                .one()
            )
            return self._current_of(row)
        row = self.session.execute(_current_process(), {"item_id": item_id}).first()
        if row is None:
            return None
        return row.version, _parsed(row.definition)

    def submission_then_current(
        self, applicant_id: str, idempotency_key: str, item_id: str
    ) -> str | None:
        """The id of the case ``applicant_id`` opened under ``idempotency_key``
        (``ApplicationRepository.submitted_under``). On PostgreSQL the item's
        current process and the calendar's stamps come in the same statement,
        for the ``current(item_id)`` that follows in this transaction: a
        submit's reads in one."""
        parameters = {"applicant_id": applicant_id, "idempotency_key": idempotency_key}
        if not self._combined():
            return self.session.execute(_submission_of(), parameters).scalar_one_or_none()
        row = (
            self.session.execute(
                _submission_process_and_stamps(), {**parameters, "item_id": item_id}
            )
            .mappings()
            .one()
        )
        self._read[item_id] = self._current_of(row)
        return row["submitted"]

    def _combined(self) -> bool:
        return self._calendar is not None and self.session.get_bind().dialect.name == "postgresql"

    def _current_of(self, row) -> tuple[int, ProcessDefinition] | None:
        self._calendar.stamps_read(_stamps_of(row))
        if row["version"] is None:
            return None
        return row["version"], _parsed(row["definition"])

    def get(self, item_id: str, version: int) -> ProcessDefinition | None:
        table = orm.process_definitions
        definition = self.session.execute(
            sa.select(table.c.definition).where(
                table.c.item_id == item_id, table.c.version == version
            )
        ).scalar_one_or_none()
        return None if definition is None else _parsed(definition)

    def add(self, item_id: str, definition: ProcessDefinition, created_by: str | None) -> int:
        """Store ``definition`` as the item's next version; return the version.
        Two publishers racing for one number: the second fails at commit on
        the primary key."""
        self._read.pop(item_id, None)  # what was read before is not current now
        table = orm.process_definitions
        latest = self.session.execute(
            sa.select(sa.func.max(table.c.version)).where(table.c.item_id == item_id)
        ).scalar_one_or_none()
        version = int(latest or 0) + 1
        self.session.execute(
            table.insert().values(
                item_id=item_id,
                version=version,
                definition=definition.to_dict(),
                created_by=created_by,
                created_at=datetime.now(UTC),
            )
        )
        return version


# CalendarRepository.load's last calendar, by the fingerprint of the stored years
# (WorkingCalendar is immutable, so workers share it).
_BUILT_CALENDARS: dict[tuple, WorkingCalendar] = {}


class CalendarRepository:
    """The working calendar, one row per year. A year not stored here is taken
    from the schedules shipped with the code (``calendars/<year>.json``); a year
    in neither is counted on weekdays and marked provisional."""

    def __init__(self, session: Session):
        self.session = session
        self._stamps: list[tuple] | None = None

    def stamps_read(self, stamps: list[tuple]) -> None:
        """The stored years' stamps as a statement of this transaction read
        them (a case's, on PostgreSQL): the next ``load`` takes them instead of
        reading them again."""
        self._stamps = stamps

    def stored(self) -> dict[int, dict]:
        table = orm.calendar_years
        return {row["year"]: dict(row) for row in self.session.execute(sa.select(table)).mappings()}

    def year(self, year: int) -> dict | None:
        """``{year, holidays, workdays, source, updated_by, updated_at}`` with
        dates as ``date``; the stored year, else the shipped one, else None."""
        table = orm.calendar_years
        row = self.session.execute(sa.select(table).where(table.c.year == year)).mappings().first()
        found = dict(row) if row is not None else shipped_calendar(year)
        if found is None:
            return None
        return {
            **found,
            "holidays": sorted(_dates(found["holidays"])),
            "workdays": sorted(_dates(found["workdays"])),
            "updated_at": _utc(found["updated_at"]) if found.get("updated_at") else None,
        }

    def load(self) -> WorkingCalendar:
        """Every year stored or shipped, as one calendar.

        Every command counts on it, and it changes a few times a year: the
        calendar built last is kept in the process and used again while the
        stored years are the same (one small read of their rows), so a command
        neither reads the shipped schedules from disk nor builds the calendar
        again. Another process (a replica) storing a year changes what is read,
        so every process sees it at its next command.
        """
        # Every write of a year (``put``) stamps it: the stamps tell whether
        # the stored years changed, without reading their dates.
        stamps, self._stamps = self._stamps, None
        if stamps is None:
            stamps = self.session.execute(_calendar_stamps()).all()
        shipped = tuple(shipped_years())
        fingerprint = (str(SHIPPED_CALENDARS), shipped, tuple(map(tuple, stamps)))
        built = _BUILT_CALENDARS.get(fingerprint)
        if built is None:
            years = {year: shipped_calendar(year) for year in shipped}
            years.update(self.stored())
            built = WorkingCalendar.combine(
                year_calendar(year, _dates(data["holidays"]), _dates(data["workdays"]))
                for year, data in years.items()
            )
            _BUILT_CALENDARS.clear()
            _BUILT_CALENDARS[fingerprint] = built
        return built

    def put(
        self,
        year: int,
        holidays: list[date],
        workdays: list[date],
        source: str,
        updated_by: str | None,
    ) -> None:
        """Store (or replace) one year."""
        self._stamps = None  # what was read before is not what is stored now
        table = orm.calendar_years
        values = {
            "holidays": sorted(day.isoformat() for day in holidays),
            "workdays": sorted(day.isoformat() for day in workdays),
            "source": source,
            "updated_by": updated_by,
            "updated_at": datetime.now(UTC),
        }
        exists = self.session.execute(
            sa.select(table.c.year).where(table.c.year == year)
        ).scalar_one_or_none()
        if exists is None:
            self.session.execute(table.insert().values(year=year, **values))
        else:
            self.session.execute(table.update().where(table.c.year == year).values(**values))

    def store_shipped(self) -> list[int]:
        """Store each year shipped with the code that is not stored yet; the
        years stored."""
        present = self.stored()
        stored = []
        for year in shipped_years():
            if year in present:
                continue
            shipped = shipped_calendar(year)
            self.put(
                year,
                sorted(_dates(shipped["holidays"])),
                sorted(_dates(shipped["workdays"])),
                shipped["source"],
                None,
            )
            stored.append(year)
        return stored


# ------------------------------------------------- statements built once
# SQLAlchemy keeps a statement's cache key on the statement object: a statement
# run on every command is built (and keyed) once, and run with parameters.


@functools.cache
def _case_on_postgresql(for_update: bool) -> sa.Select:
    """PostgreSQL: ``SELECT`` of the case whose id is the bound parameter
    ``key``, with its timeline in order (``timeline``, a JSON array, null when
    empty) and the calendar's stamps as ``CalendarRepository.load`` reads them
    (``calendar_stamps``): a read's statements in one. Built once.

    ``for_update`` locks the case's row alone. A statement that waited for the
    lock returns the row as the transaction it waited for left it, but reads
    every other table as it was when the statement began: its timeline misses
    the entries that transaction added. Every transaction that adds entries
    updates the row too (``ApplicationRepository.save``), so the row locked
    is then another version than the one the statement's snapshot holds:
    ``timeline_current`` says whether the two are the same version (same
    ``xmin``), and only then is the timeline read with the row the case's.
    The stamps are as fresh as a read of their own before the lock, as they
    were read before."""
    cases = orm.applications
    entries = orm.timeline_entries
    # Every column of an entry but its key, by name, as _timeline_entry reads
    # them. The names are constants of the statement's text, not parameters:
    # the server could not tell a parameter's type there, nor prepare the
    # statement (pgdialect).
    entry = sa.func.json_build_object(
        *(
            part
            for column in entries.c
            if column.name not in ("application_id", "position")
            for part in (sa.literal_column(f"'{column.name}'"), column)
        )
    )
    timeline = (
        sa.select(sa.func.json_agg(aggregate_order_by(entry, entries.c.position)))
        .where(entries.c.application_id == cases.c.application_id)
        .scalar_subquery()
        .label("timeline")
    )
    statement = sa.select(cases, timeline, _stamps_column()).where(
        cases.c.application_id == sa.bindparam("key")
    )
    if not for_update:
        return statement
    seen = cases.alias("seen")
    seen_version = (
        sa.select(sa.literal_column(f"{seen.name}.xmin"))
        .where(seen.c.application_id == sa.bindparam("key"))
        .scalar_subquery()
    )
    locked_version = sa.literal_column(f"{cases.name}.xmin")
    current = (locked_version == seen_version).label("timeline_current")
    return statement.add_columns(current).with_for_update(of=cases)


def _stamps_column() -> sa.Label:
    """PostgreSQL: the calendar's stamps as ``CalendarRepository.load`` reads
    them, [year, updated_at] by year, a JSON array column ``calendar_stamps``
    (null when no year is stored), to read with another statement's row."""
    years = orm.calendar_years
    return (
        sa.select(
            sa.func.json_agg(
                aggregate_order_by(
                    sa.func.json_build_array(years.c.year, years.c.updated_at), years.c.year
                )
            )
        )
        .scalar_subquery()
        .label("calendar_stamps")
    )


def _stamps_of(row) -> list[tuple[int, datetime]]:
    return [(year, _instant(at)) for year, at in row["calendar_stamps"] or ()]


@functools.cache
def _current_process_and_stamps() -> sa.Select:
    """PostgreSQL: one row of the newest version and definition of the process
    of the bound ``item_id`` (both null when it has none) and the calendar's
    stamps: a submit's two reads in one statement. Built once."""
    table = orm.process_definitions
    newest = _current_process()
    return sa.select(
        newest.with_only_columns(table.c.version).scalar_subquery().label("version"),
        newest.with_only_columns(table.c.definition).scalar_subquery().label("definition"),
        _stamps_column(),
    )


@functools.cache
def _timeline_of_one() -> sa.Select:
    """``SELECT`` of the timeline of the case whose id is the bound parameter
    ``key``, in order; built once."""
    table = orm.timeline_entries
    return (
        sa.select(table)
        .where(table.c.application_id == sa.bindparam("key"))
        .order_by(table.c.application_id, table.c.position)
    )


def _timelines_of(ids: list[str]) -> tuple[sa.Select, dict | None]:
    """The statement (and its parameters) reading the timelines of the cases
    ``ids``: one case's, what every command loads, by the statement built once."""
    if len(ids) == 1:
        return _timeline_of_one(), {"key": ids[0]}
    table = orm.timeline_entries
    statement = (
        sa.select(table)
        .where(table.c.application_id.in_(ids))
        .order_by(table.c.application_id, table.c.position)
    )
    return statement, None


def _licences_of(ids: list[str]) -> tuple[sa.Select, dict | None]:
    """The statement (and its parameters) reading the licences of the cases
    ``ids``: one case's, what every command loads, by the statement built once."""
    if len(ids) == 1:
        return row_by_key(orm.licences, "application_id"), {"key": ids[0]}
    return sa.select(orm.licences).where(orm.licences.c.application_id.in_(ids)), None


@functools.cache
def _submission_process_and_stamps() -> sa.Select:
    """PostgreSQL: ``_current_process_and_stamps`` with the case opened under
    the bound ``applicant_id`` and ``idempotency_key`` (``submitted``, null
    when none). Built once."""
    submitted = _submission_of().scalar_subquery().label("submitted")
    return _current_process_and_stamps().add_columns(submitted)


@functools.cache
def _submission_of() -> sa.Select:
    """``SELECT`` of the case opened by the bound ``applicant_id`` under the
    bound ``idempotency_key``; built once."""
    table = orm.submissions
    return sa.select(table.c.application_id).where(
        table.c.applicant_id == sa.bindparam("applicant_id"),
        table.c.idempotency_key == sa.bindparam("idempotency_key"),
    )


@functools.cache
def _licence_no_taken() -> sa.Select:
    """``SELECT`` of the licence number that is the bound parameter ``key``,
    if a licence has it; built once."""
    table = orm.licences
    return sa.select(table.c.licence_no).where(table.c.licence_no == sa.bindparam("key"))


@functools.cache
def _licence_no_taken_and_keys() -> sa.Select:
    """PostgreSQL: one row of the licence number that is the bound ``key``
    (``taken``, null when no licence has it) and the active signing keys
    (``active_keys``): an approval's two reads in one statement. Built once."""
    return sa.select(_licence_no_taken().scalar_subquery().label("taken"), active_keys_column())


@functools.cache
def _current_process() -> sa.Select:
    """``SELECT`` of the newest version (and its definition) of the process of
    the item that is the bound parameter ``item_id``; built once."""
    table = orm.process_definitions
    return (
        sa.select(table.c.version, table.c.definition)
        .where(table.c.item_id == sa.bindparam("item_id"))
        .order_by(table.c.version.desc())
        .limit(1)
    )


@functools.cache
def _calendar_stamps() -> sa.Select:
    """``SELECT`` of every stored year and its stamp, by year; built once."""
    table = orm.calendar_years
    return sa.select(table.c.year, table.c.updated_at).order_by(table.c.year)


def _clock_runs():
    """The case's clock runs: its progress records no stop (a suspension stops
    it in an accepted case; a case opened before processes were data has no
    progress, and its clock runs while it is submitted or accepted)."""
    return orm.applications.c.progress[("clock", "stopped_on")].as_string().is_(None)


def _escalation_rows(application: Application) -> tuple:
    """The case's escalations as rows of ``escalations`` (to compare, then write)."""
    return tuple(
        tuple(
            {
                "escalation_id": escalation.escalation_id,
                "application_id": application.application_id,
                "step_id": escalation.step_id,
                "department_code": escalation.department_code,
                "level": str(escalation.level),
                "raised_at": escalation.raised_at,
                "due_date": escalation.due_date,
                "resolved_at": escalation.resolved_at,
            }.items()
        )
        for escalation in application.escalations
    )


def _as_date(value) -> date | None:
    # An aggregate of a DATE column comes back as text on SQLite.
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _dates(values) -> set[date]:
    return {value if isinstance(value, date) else date.fromisoformat(value) for value in values}


def shipped_years() -> list[int]:
    return list(_shipped_years_in(SHIPPED_CALENDARS))


@functools.lru_cache(maxsize=16)
def _shipped_years_in(folder) -> tuple[int, ...]:
    """The years whose schedule ships in ``folder``, listed once per folder:
    the files ship with the code (a new one comes with a new release), and
    every command asks, so the folder is not read from disk each time."""
    return tuple(sorted(int(path.stem) for path in folder.glob("[0-9][0-9][0-9][0-9].json")))


def shipped_calendar(year: int) -> dict | None:
    """A shipped schedule as ``{year, holidays, workdays, source}`` (ISO dates):
    each holiday range opened up, make-up workdays listed."""
    path = SHIPPED_CALENDARS / f"{year}.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    holidays: set[str] = set()
    for closure in data["holidays"]:
        first, last = date.fromisoformat(closure["from"]), date.fromisoformat(closure["to"])
        holidays |= {
            date.fromordinal(day).isoformat()
            for day in range(first.toordinal(), last.toordinal() + 1)
        }
    return {
        "year": year,
        "holidays": sorted(holidays),
        "workdays": sorted(day["day"] for day in data["workdays"]),
        "source": data.get("source", ""),
        "updated_by": None,
        "updated_at": None,
    }


# ------------------------------------------------------------ process helpers

# A definition is the same whatever case or version holds it: parsed once per
# process, by its JSON.
_PARSED: dict[tuple, ProcessDefinition] = {}


def _parsed(data: dict) -> ProcessDefinition:
    key = json.dumps(data, sort_keys=True)
    found = _PARSED.get(key)
    if found is None:
        if len(_PARSED) > 10_000:
            _PARSED.clear()
        found = _PARSED[key] = ProcessDefinition.parse(data)
    return found


def _pinned_process(row, item: dict) -> ProcessDefinition:
    """The definition a case runs: stored with it, or (a case opened before
    definitions were data) its item's default."""
    if row["process"] is not None:
        return _parsed(row["process"])
    return default_definition(
        row["department_code"], item.get("joint_departments") or (), int(item["promised_days"])
    )


def _legacy_progress(process: ProcessDefinition, row, tasks: list) -> dict:
    """The progress of a case opened before processes were data, from its state
    and the tasks its department reviews became: the accept step is done unless
    it is still submitted, the decision step open while it is accepted (its
    tasks pending before, closed once the case ended undecided)."""
    state = row["state"]
    accept, decide = process.steps[0], process.steps[-1]
    ended = state not in (State.SUBMITTED, State.ACCEPTED, State.SUPPLEMENT_REQUESTED)
    if state in (State.SUBMITTED, State.SUPPLEMENT_REQUESTED):
        accept_state, decide_state = StepState.ACTIVE, StepState.PENDING
    elif state == State.ACCEPTED:
        accept_state, decide_state = StepState.DONE, StepState.ACTIVE
    elif state in (State.APPROVED, State.COMPLETED):
        accept_state, decide_state = StepState.DONE, StepState.DONE
    elif state == State.DENIED:
        accept_state, decide_state = StepState.DONE, StepState.DENIED
    else:
        accept_state = StepState.CLOSED if state != State.REJECTED else StepState.DENIED
        decide_state = StepState.CLOSED
    accept_tasks = []
    if accept_state == StepState.ACTIVE:
        accept_tasks = [
            Task(
                department_code=row["department_code"],
                role=accept.role,
                days=accept.days,
                state=StepState.ACTIVE,
                due_date=row["due_date"],
            ).to_dict()
        ]

    def task_state(stored: str) -> str:
        if decide_state == StepState.PENDING:  # not reached: the window has not accepted
            return StepState.PENDING
        if ended and stored in OPEN_STATES:
            return StepState.CLOSED
        return stored

    # A review decided before the migration counts as the task's decision (the
    # join counts approvals by it, ``Application.reviews`` shows it).
    decisions = {StepState.DONE: "approve", StepState.DENIED: "deny"}
    decide_tasks = [
        Task(
            department_code=task["department_code"],
            role=task["role"],
            days=0,
            state=task_state(task["state"]),
            due_date=task["due_date"],
            decision=decisions.get(task["state"]),
        ).to_dict()
        for task in tasks
        if task["step_id"] == decide.id
    ]
    return {
        "steps": [
            StepRun(id=accept.id, kind=accept.kind, state=accept_state).to_dict()
            | {"tasks": accept_tasks},
            StepRun(
                id=decide.id, kind=decide.kind, state=decide_state, due_date=row["due_date"]
            ).to_dict()
            | {"tasks": decide_tasks},
        ],
        "clock": Clock(
            stopped_on=(row["updated_at"].date() if state == State.SUPPLEMENT_REQUESTED else None),
            stopped_for="supplement" if state == State.SUPPLEMENT_REQUESTED else None,
        ).to_dict(),
    }
