"""Workflow use cases: one function per command or query.

Each command is one transaction: load the Application (locked), call one domain
method, save it and write the events it recorded to the outbox, commit. Domain
exceptions are the shared error types (``domain.exceptions``). Lists answer
``{"items": [...]}``, pages with ``page``, ``page_size`` and ``total`` as well.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from services.common import clock, errors, instances, rules
from services.common.working_calendar import WorkingCalendar
from services.workflow.domain import exceptions as domain
from services.workflow.domain.events import CalendarLoaded, ProcessPublished
from services.workflow.domain.model import (
    DEPT_ADMIN,
    Application,
    ItemSnapshot,
    LicenceNumbers,
    State,
    china_today,
    local_date,
    past_due,
)
from services.workflow.domain.process import ProcessDefinition, default_definition
from services.workflow.domain.progress import (
    ESCALATE_TO_OPERATOR_DAYS,
    YELLOW_DAYS,
    Clock,
    EscalationLevel,
    escalation_levels,
    signal_of,
)
from services.workflow.service_layer import licences, principals
from services.workflow.service_layer.metrics import count_committed
from services.workflow.service_layer.unit_of_work import WorkflowUnitOfWork
from services.workflow.service_layer.views import CaseView, WorkItem

log = logging.getLogger(__name__)

SHARED_INSTANCE = instances.SHARED_WORKFLOW
PUBLISHED = "published"
OVERDUE_BATCH = 200
SIGNALS = ("green", "yellow", "red")


def _commit(uow: WorkflowUnitOfWork) -> list[dict]:
    envelopes = uow.commit()
    count_committed(envelopes)
    return envelopes


def _calendar(uow: WorkflowUnitOfWork) -> WorkingCalendar:
    """Every year's schedule, stored or shipped with the code."""
    return uow.calendar.load()


def _licence_numbers(uow: WorkflowUnitOfWork, application_id: str) -> LicenceNumbers:
    """Licence numbers and signatures for this transaction (random serials, the
    instance's key: ``service_layer.licences``); the issuer's USCC in the
    number names the instance that checks them, whatever the case's id."""
    return licences.licence_numbers(uow)


def _visible(
    uow: WorkflowUnitOfWork, actor: Mapping, application_id: str, *, for_update: bool = False
) -> Application:
    application = uow.applications.get(application_id, for_update=for_update)
    # A case the actor may not see is reported as missing, not as forbidden, so
    # its existence does not leak.
    if application is None or not application.visible_to(actor):
        raise domain.NotFound(f"application {application_id} not found")
    return application


def _id_prefix_of(identifier: str) -> str:
    """``"js-ga."`` of ``"js-ga.3f2a..."``; ``""`` for the shared instance's ids."""
    return instances.id_prefix(instances.workflow_instance_of(identifier))


# --------------------------------------------------------------------- commands


def submit_application(
    uow: WorkflowUnitOfWork,
    item: Mapping[str, Any],
    actor: Mapping[str, Any],
    form: Any,
    materials: Any,
    delivery: Any,
    on_behalf_of: Any = None,
    *,
    instance: str = SHARED_INSTANCE,
    now: datetime | None = None,
    licences_elsewhere: licences.Elsewhere | None = None,
    idempotency_key: str | None = None,
) -> Application:
    """Open a case for ``item`` (catalog's ``get_item`` result) in ``instance``.

    Under an ``idempotency_key`` the applicant already used, nothing is opened:
    the case that key opened is answered (a client's retry, or the call
    delivered again after a broken connection).

    Conflict when the item is not published or another workflow instance handles
    it (``fields.handled_by`` names that instance). A department instance's
    application ids start with ``<code>.``. A material ``{"licence_no": ...}``
    must be a valid licence of the applicant or the party applied for (one of
    another instance is asked of it, ``licences_elsewhere``).
    """
    prefix = instances.id_prefix(instance)
    today = local_date(now) if now else china_today()
    asks_others = _asks_others(on_behalf_of, materials)
    if idempotency_key is not None and asks_others:
        # A retry is answered before identity or another instance is asked.
        opened = _opened_under(uow, actor, idempotency_key)
        if opened is not None:
            return opened

    def opening() -> tuple:
        """What the new case is opened with: the item's snapshot, the party it
        is for and its mandate, the materials with their licences checked."""
        handled_by = item.get("handled_by") or SHARED_INSTANCE
        if handled_by != instance:
            raise errors.Conflict(
                f"item {item['item_id']} is handled by {handled_by}, not by {instance}",
                {"handled_by": handled_by},
            )
        status = item.get("status", PUBLISHED)
        if status != PUBLISHED:
            raise errors.Conflict(f"item {item['item_id']} is {status}, not open for applications")
        snapshot = ItemSnapshot.from_catalog(item)
        # For someone else only as their owner, member or agent (identity says).
        principal, mandate_id = principals.authorised_principal(
            uow, actor, on_behalf_of, snapshot.item_id, today
        )
        checked = licences.licence_materials(
            uow,
            materials,
            licences.holder_ids_of(actor, principal),
            elsewhere=licences_elsewhere,
            on=local_date(now) if now is not None else None,
        )
        return snapshot, principal, mandate_id, checked

    # Asking identity or reading licences takes transactions of its own, out
    # of this one; otherwise the key is looked up in the transaction that
    # opens the case (one transaction for a submit instead of two).
    opened_with = opening() if asks_others else None
    try:
        with uow:
            if idempotency_key is not None and not asks_others:
                opened = _submitted_under(uow, actor, idempotency_key, item_id=item["item_id"])
                if opened is not None:
                    return opened
            snapshot, principal, mandate_id, checked = opened_with or opening()
            # The item's current process; a case keeps it whatever comes later.
            current = uow.processes.current(snapshot.item_id)
            version, process = current if current is not None else (0, None)
            application = Application.submit(
                item=snapshot,
                actor=actor,
                form=form,
                materials=checked,
                delivery=delivery,
                calendar=_calendar(uow),
                process=process,
                process_version=version,
                on_behalf_of=principal,
                mandate_id=mandate_id,
                now=now,
                application_id=prefix + uuid.uuid4().hex,
            )
            uow.applications.add(application, snapshot)
            if idempotency_key is not None:
                uow.applications.remember_submission(
                    actor["user_id"], idempotency_key, application.application_id
                )
            uow.collect(application)
            _commit(uow)
    except IntegrityError:
        # A twin under the same key committed first: answer its case.
        opened = _opened_under(uow, actor, idempotency_key) if idempotency_key else None
        if opened is None:
            raise
        return opened
    return application


def _asks_others(on_behalf_of: Any, materials: Any) -> bool:
    """Whether opening the case asks identity (for someone else) or reads
    licences (a material naming one), each in a transaction of its own."""
    return on_behalf_of is not None or (
        isinstance(materials, list)
        and any(
            isinstance(material, Mapping) and "licence_no" in material for material in materials
        )
    )


def _opened_under(uow: WorkflowUnitOfWork, actor: Mapping, key: str) -> Application | None:
    with uow:
        return _submitted_under(uow, actor, key)


def _submitted_under(
    uow: WorkflowUnitOfWork, actor: Mapping, key: str, item_id: str | None = None
) -> Application | None:
    """The case ``actor`` opened under ``key``, in the caller's transaction;
    given ``item_id``, with the item's current process for the case about to
    be opened (one statement on PostgreSQL: ``submission_then_current``)."""
    if item_id is None:
        application_id = uow.applications.submitted_under(actor["user_id"], key)
    else:
        application_id = uow.processes.submission_then_current(actor["user_id"], key, item_id)
    return uow.applications.get(application_id) if application_id else None


def publish_process(
    uow: WorkflowUnitOfWork,
    item: Mapping[str, Any],
    actor: Mapping,
    definition: Any,
    departments: set[str],
    *,
    instance: str = SHARED_INSTANCE,
) -> dict[str, Any]:
    """Store ``definition`` as the next version of the item's process.

    The item's dept_admin or an operator publishes; the definition is checked
    first (each problem named by its field), against the catalogue's
    ``departments`` and the item's statutory days. Cases already open keep the
    version they started on. Conflict when another instance handles the item.
    """
    _require_item_admin(actor, item)
    handled_by = item.get("handled_by") or SHARED_INSTANCE
    if handled_by != instance:
        raise errors.Conflict(
            f"item {item['item_id']} is handled by {handled_by}, not by {instance}",
            {"handled_by": handled_by},
        )
    statutory = ItemSnapshot.from_catalog(item).legal_days
    try:
        process = ProcessDefinition.parse(
            definition,
            statutory_days=statutory,
            departments=departments,
            item_department=item["department_code"],
        )
    except domain.ValidationFailed as invalid:
        raise domain.ValidationFailed(
            {f"definition.{name}": problem for name, problem in invalid.fields.items()},
            invalid.message,
        ) from None
    with uow:
        version = uow.processes.add(item["item_id"], process, actor.get("user_id"))
        uow.emit(
            ProcessPublished(
                item_id=item["item_id"], version=version, department_code=item["department_code"]
            )
        )
        _commit(uow)
    return {"item_id": item["item_id"], "version": version, "definition": process.to_dict()}


def get_process(
    uow: WorkflowUnitOfWork, item: Mapping[str, Any], version: int | None = None
) -> dict[str, Any]:
    """A version of the item's process (the current one when ``version`` is
    None); an item that never had one of its own runs its default process,
    version 0."""
    item_id = item["item_id"]
    with uow:
        if version is None:
            current = uow.processes.current(item_id)
            found = current
        elif version == 0:
            found = None
        else:
            stored = uow.processes.get(item_id, version)
            if stored is None:
                raise domain.NotFound(f"item {item_id} has no process version {version}")
            found = (version, stored)
    if found is None:
        snapshot = ItemSnapshot.from_catalog(item)
        found = (
            0,
            default_definition(
                snapshot.department_code, snapshot.joint_departments, snapshot.promised_days
            ),
        )
    return {"item_id": item_id, "version": found[0], "definition": found[1].to_dict()}


def _require_item_admin(actor: Mapping, item: Mapping[str, Any]) -> None:
    if actor.get("kind") == "operator":
        return
    if (
        actor.get("kind") == "staff"
        and actor.get("department_code") == item.get("department_code")
        and DEPT_ADMIN in (actor.get("roles") or ())
    ):
        return
    raise domain.Forbidden(
        f"the process of an item is published by a dept_admin of {item.get('department_code')}"
        " or an operator"
    )


def withdraw(
    uow: WorkflowUnitOfWork, actor: Mapping, application_id: str, *, now: datetime | None = None
) -> CaseView:
    """The applicant withdraws an undecided case."""
    return _command(uow, actor, application_id, lambda case, _: case.withdraw(actor, now=now))


def supplement(
    uow: WorkflowUnitOfWork,
    actor: Mapping,
    application_id: str,
    materials: Any,
    *,
    now: datetime | None = None,
) -> CaseView:
    """The applicant sends the requested materials; the clock runs again."""
    return _command(
        uow,
        actor,
        application_id,
        lambda case, calendar: case.supplement(actor, materials, calendar=calendar, now=now),
    )


def act(
    uow: WorkflowUnitOfWork,
    actor: Mapping,
    application_id: str,
    action: str,
    comment: str | None = None,
    step: str | None = None,
    missing_materials: list[str] | None = None,
    *,
    now: datetime | None = None,
) -> CaseView:
    """A staff action at an open step: accept, reject, request_supplement,
    approve or deny. When it approves the case's last step, the licence is
    issued (its number from this instance's serial counter)."""
    return _command(
        uow,
        actor,
        application_id,
        lambda case, calendar: case.act(
            actor,
            action,
            comment or "",
            step=step,
            missing_materials=missing_materials,
            calendar=calendar,
            licence_numbers=_licence_numbers(uow, application_id),
            now=now,
        ),
    )


def request_extension(
    uow: WorkflowUnitOfWork,
    actor: Mapping,
    application_id: str,
    working_days: int,
    reason: str,
    *,
    now: datetime | None = None,
) -> CaseView:
    """An approver asks for more working days; the department admin decides."""
    return _command(
        uow,
        actor,
        application_id,
        lambda case, _: case.request_extension(actor, working_days, reason, now=now),
    )


def decide_extension(
    uow: WorkflowUnitOfWork,
    actor: Mapping,
    application_id: str,
    approve: bool,
    comment: str | None = None,
    *,
    now: datetime | None = None,
) -> CaseView:
    """The department admin approves (the due dates move) or refuses the
    waiting extension request."""
    return _command(
        uow,
        actor,
        application_id,
        lambda case, calendar: case.decide_extension(
            actor, approve, comment or "", calendar=calendar, now=now
        ),
    )


def suspend(
    uow: WorkflowUnitOfWork,
    actor: Mapping,
    application_id: str,
    kind: str,
    reason: str,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A special procedure begins and stops the clock; answers its id."""
    found: dict[str, Any] = {}

    def begin(case: Application, _calendar: WorkingCalendar) -> None:
        found["suspension"] = case.suspend(actor, kind, reason, now=now)

    view = _command(uow, actor, application_id, begin)
    return {"suspension_id": found["suspension"].suspension_id, "application": view}


def end_suspension(
    uow: WorkflowUnitOfWork,
    actor: Mapping,
    application_id: str,
    suspension_id: str,
    result: str,
    *,
    now: datetime | None = None,
) -> CaseView:
    """The special procedure ended; the clock runs again."""
    return _command(
        uow,
        actor,
        application_id,
        lambda case, calendar: case.end_suspension(
            actor, suspension_id, result, calendar=calendar, now=now
        ),
    )


def choose_redelivery(
    uow: WorkflowUnitOfWork,
    actor: Mapping,
    application_id: str,
    choice: str,
    address: Mapping | None = None,
    *,
    now: datetime | None = None,
) -> CaseView:
    """The applicant's answer to a failed EMS shipment (``domain.delivery``):
    ship again (redelivery_requested for the courier) or come to the window."""
    return _command(
        uow,
        actor,
        application_id,
        lambda case, calendar: case.choose_redelivery(
            actor, choice, address, calendar=calendar, now=now
        ),
    )


def hand_over(
    uow: WorkflowUnitOfWork,
    actor: Mapping,
    application_id: str,
    comment: str | None = None,
    *,
    now: datetime | None = None,
) -> CaseView:
    """A window clerk hands the result over at the window after its delivery
    failed; the case completes."""
    return _command(
        uow, actor, application_id, lambda case, _: case.hand_over(actor, comment or "", now=now)
    )


def _command(uow: WorkflowUnitOfWork, actor: Mapping, application_id: str, change) -> CaseView:
    """One transaction: load the case locked, ``change(case, calendar)``, save,
    write its events to the outbox, commit; the case as ``actor`` sees it.
    An agent whose mandate no longer holds is refused first (Forbidden), and
    ``actor`` is completed with the enterprises they act for
    (``principals.acting``)."""
    actor = principals.acting(uow, actor, application_id)
    with uow:
        # The case first: on PostgreSQL the calendar's stamps come with it.
        application = _visible(uow, actor, application_id, for_update=True)
        calendar = _calendar(uow)
        change(application, calendar)
        uow.applications.save(application)
        uow.collect(application)
        _commit(uow)
    return CaseView.of(application, actor, calendar)


# --------------------------------------------------------------- the calendar


def put_calendar_year(
    uow: WorkflowUnitOfWork,
    actor: Mapping,
    year: int,
    holidays: list[date],
    workdays: list[date],
    source: str = "",
) -> dict[str, Any]:
    """An operator loads or corrects a year's schedule: its public holidays
    and its make-up working days (weekend days worked). Due dates already set
    stay; cases submitted from now on count with it."""
    if actor.get("kind") != "operator":
        raise domain.Forbidden("the working calendar is loaded by an operator")
    problems = {}
    stray = [day for day in [*holidays, *workdays] if day.year != year]
    if stray:
        problems["holidays" if stray[0] in holidays else "workdays"] = (
            f"{stray[0].isoformat()} is not in {year}"
        )
    both = sorted(set(holidays) & set(workdays))
    if both:
        problems["workdays"] = f"{both[0].isoformat()} is also a holiday"
    weekdays = [day for day in workdays if day.weekday() < 5]
    if weekdays:
        problems["workdays"] = (
            f"{weekdays[0].isoformat()} is a weekday; a make-up working day is a weekend day"
        )
    if problems:
        raise domain.ValidationFailed(problems)
    with uow:
        uow.calendar.put(year, holidays, workdays, source, actor.get("user_id"))
        uow.emit(CalendarLoaded(year=year, holidays=sorted(holidays), workdays=sorted(workdays)))
        uow.commit()
    return get_calendar_year(uow, year)


def get_calendar_year(uow: WorkflowUnitOfWork, year: int) -> dict[str, Any]:
    """A year's schedule as loaded (or as shipped); NotFound for a year that is
    neither, whose due dates count weekdays only."""
    with uow:
        found = uow.calendar.year(year)
    if found is None:
        raise domain.NotFound(
            f"no working calendar is loaded for {year}; its due dates count weekdays only"
        )
    return found


def calendar_warnings(uow: WorkflowUnitOfWork, today: date) -> dict[str, str]:
    """What /readyz reports (never as not ready): open cases whose due dates
    count on a year not loaded, and a missing calendar for this year or, from
    October, the next."""
    with uow:
        calendar = _calendar(uow)
        provisional = uow.applications.count_provisional()
    warnings = {}
    wanted = [today.year] + ([today.year + 1] if today.month >= 10 else [])
    missing = [year for year in wanted if not calendar.covers(date(year, 1, 1), date(year, 1, 1))]
    if missing or provisional:
        parts = []
        if missing:
            parts.append(f"no working calendar loaded for {', '.join(map(str, missing))}")
        if provisional:
            parts.append(f"{provisional} open cases have provisional due dates")
        warnings["calendar"] = "warning: " + "; ".join(parts)
    return warnings


def load_shipped_calendars(uow: WorkflowUnitOfWork) -> list[int]:
    """Store every year shipped with the code that is not stored yet (an
    operator's own version of a year wins); the years stored."""
    with uow:
        stored = uow.calendar.store_shipped()
        uow.commit()
    return stored


# ---------------------------------------------------------------------- queries


def get_application(
    uow: WorkflowUnitOfWork, actor: Mapping, application_id: str, *, today: date | None = None
) -> CaseView:
    """The case with its steps and timeline, as ``actor`` sees it (what they may
    do now included); NotFound unless the actor may see it."""
    actor = principals.acting(uow, actor, application_id, refuse_lapsed=False)
    with uow:
        calendar = _calendar(uow)
        application = _visible(uow, actor, application_id)
    return CaseView.of(application, actor, calendar, today=today)


def list_applications(
    uow: WorkflowUnitOfWork,
    actor: Mapping,
    page: int = 1,
    page_size: int = 20,
    *,
    today: date | None = None,
) -> dict[str, Any]:
    """A page of the actor's cases, newest first, and how many there are: those
    they applied for (as an agent too) and those of the principals they are
    (themself, the enterprises they own or are a member of)."""
    user_id = actor.get("user_id")
    if not user_id:
        raise domain.Forbidden("a signed-in user is required")
    actor = principals.acting(uow, actor, refuse_lapsed=False)
    with uow:
        calendar = _calendar(uow)
        found, total = uow.applications.list_for_party(
            user_id, principals.holder_ids(actor), page=page, page_size=page_size
        )
    items = [WorkItem.of(application, None, calendar, today=today) for application in found]
    return {"items": items, "page": page, "page_size": page_size, "total": total}


def worklist(
    uow: WorkflowUnitOfWork,
    actor: Mapping,
    state: str | None = None,
    signal: str | None = None,
    sort: str = "newest",
    page: int = 1,
    page_size: int = 20,
    *,
    today: date | None = None,
) -> dict[str, Any]:
    """A page of the cases of the staff member's department (owned, or with
    work of the department: a joint review's branch, a step of its own), each
    with the department's open task and its due date.

    ``signal`` keeps the cases whose open task is green, yellow (within
    ``YELLOW_DAYS`` working days of its due date) or red (past it); ``sort`` is
    ``newest`` (submitted, newest first) or ``due`` (the open task's due date,
    soonest first).
    """
    department = actor.get("department_code")
    if actor.get("kind") != "staff" or not department:
        raise domain.Forbidden("the worklist is for department staff")
    today = today or china_today()
    with uow:
        calendar = _calendar(uow)
        found, total = uow.applications.list_for_department(
            department,
            state=state,
            page=page,
            page_size=page_size,
            due_between=None if signal is None else _due_span(signal, today, calendar),
            by_due=sort == "due",
        )
    items = [WorkItem.of(application, department, calendar, today=today) for application in found]
    return {"items": items, "page": page, "page_size": page_size, "total": total}


def _due_span(signal: str, today: date, calendar: WorkingCalendar) -> tuple:
    """The due dates of a signal's tasks today: (first, last), either end open."""
    # Red: a working day after the due date has begun, i.e. due before the
    # latest working day up to today.
    latest = today
    while not calendar.is_working_day(latest):
        latest -= timedelta(days=1)
    # Yellow: at most YELLOW_DAYS working days to go, i.e. due before the next
    # working day after those (a due date that became a day off included).
    yellow_until = calendar.add_working_days(today, YELLOW_DAYS + 1) - timedelta(days=1)
    if signal == "red":
        return None, latest - timedelta(days=1)
    if signal == "yellow":
        return latest, yellow_until
    return yellow_until + timedelta(days=1), None


def list_escalations(
    uow: WorkflowUnitOfWork,
    actor: Mapping,
    level: str | None = None,
    page: int = 1,
    page_size: int = 20,
    *,
    today: date | None = None,
) -> dict[str, Any]:
    """A page of open escalations (督办), newest first: a dept_admin sees those
    of their department (at both levels, or at ``level``), an operator those
    at level operator (or at ``level``). Each with its case's item, the due
    date the task missed, and the task's signal today."""
    department, levels = _escalation_scope(actor, level)
    today = today or china_today()
    with uow:
        calendar = _calendar(uow)
        found, total = uow.applications.open_escalations(
            department_code=department, levels=levels, page=page, page_size=page_size
        )
    items = [
        {
            "application_id": entry.application_id,
            "item_name": entry.item_name,
            "step_id": entry.step_id,
            "department_code": entry.department_code,
            "level": entry.level,
            "raised_at": entry.raised_at,
            "due_date": entry.due_date,
            "signal": str(
                signal_of(entry.task_due_date or entry.due_date, today, calendar, entry.clock)
            ),
        }
        for entry in found
    ]
    return {"items": items, "page": page, "page_size": page_size, "total": total}


def _escalation_scope(actor: Mapping, level: str | None) -> tuple[str | None, list[str]]:
    """(department or None for all, levels) of the escalations ``actor`` lists."""
    if actor.get("kind") == "operator":
        return None, [level or EscalationLevel.OPERATOR]
    department = actor.get("department_code")
    if actor.get("kind") == "staff" and department and DEPT_ADMIN in (actor.get("roles") or ()):
        return department, [level] if level else list(EscalationLevel)
    raise domain.Forbidden("escalations are listed for a dept_admin or an operator")


def list_licences(uow: WorkflowUnitOfWork, actor: Mapping) -> dict[str, list[Mapping]]:
    """Licences of the actor's cases, newest first: those they applied for (as
    an agent too) and those they hold (themself, the enterprises they act for)."""
    user_id = actor.get("user_id")
    if not user_id:
        raise domain.Forbidden("a signed-in user is required")
    actor = principals.acting(uow, actor, refuse_lapsed=False)
    with uow:
        return {"items": uow.licences.list_for_party(user_id, principals.holder_ids(actor))}


def licences_held(
    uow: WorkflowUnitOfWork, user_id: str | None = None, id_number: str | None = None
) -> list[Mapping]:
    """The licences a person holds (their own cases' and those an agent applied
    for them), for an instant decision's facts; found by account only
    (Unavailable otherwise, and a person decides)."""
    if user_id is None:
        raise errors.Unavailable("licences are found by the holder's account only")
    with uow:
        return [
            licence
            for licence in uow.licences.list_for_party(user_id, [user_id])
            if licence["holder_id"] == user_id
        ]


def verify_licence(uow: WorkflowUnitOfWork, licence_no: str) -> dict[str, Any]:
    """Public check of a licence number (``licences.verify_licence``)."""
    return licences.verify_licence(uow, licence_no)


# --------------------------------------------------------------- courier events


def on_materials_received(
    uow: WorkflowUnitOfWork, envelope: Mapping, *, now: datetime | None = None
) -> bool:
    """EMS delivered the applicant's materials to the window: accept the case.

    Once per event id; True when the case changed.
    """
    return _courier_notice(
        uow,
        envelope,
        "workflow.on_materials_received",
        lambda case, calendar: case.materials_received(calendar=calendar, now=now),
    )


def on_result_delivered(
    uow: WorkflowUnitOfWork, envelope: Mapping, *, now: datetime | None = None
) -> bool:
    """EMS delivered the result to the applicant: complete the case.

    Once per event id; True when the case changed.
    """
    return _courier_notice(
        uow,
        envelope,
        "workflow.on_result_delivered",
        lambda case, _calendar: case.result_delivered(now=now),
    )


def on_shipment_failed(
    uow: WorkflowUnitOfWork, envelope: Mapping, *, now: datetime | None = None
) -> bool:
    """EMS could not carry the materials or the result: the applicant chooses
    what next (``domain.delivery``). Once per event id; True when the case changed."""
    return _courier_notice(
        uow,
        envelope,
        "workflow.on_shipment_failed",
        lambda case, calendar: case.shipment_failed(
            envelope["payload"], calendar=calendar, now=now
        ),
    )


def _courier_notice(uow, envelope, consumer, notice) -> bool:
    application_id = envelope["payload"]["application_id"]
    context = {"event_id": envelope["id"], "application_id": application_id}
    with uow:
        if not uow.first_delivery(envelope, consumer):
            return False
        application = uow.applications.get(application_id, for_update=True)
        changed = False
        if application is None:
            # Another instance's case, or a stray notice: retrying cannot help.
            log.warning("courier notice for an unknown application", extra=context)
        else:
            try:
                changed = notice(application, _calendar(uow))
            except domain.InvalidTransition as exc:
                log.warning(
                    "courier notice does not fit the case; ignored",
                    extra={**context, "reason": str(exc)},
                )
            if changed:
                uow.applications.save(application)
                uow.collect(application)
        _commit(uow)
    return changed


# ------------------------------------------------------------ instant decisions


def decide_auto_step(
    uow: WorkflowUnitOfWork,
    envelope: Mapping,
    gather: Callable[[set[str], Application, date], dict[str, Any]],
    *,
    now: datetime | None = None,
) -> str | None:
    """Decide the auto step ``auto_step_started`` names, once per event.

    ``gather(facts, case, today)`` fetches the facts the step's rules name
    (outside any transaction: other departments' records may take seconds) and
    raises FactsUnavailable when a source cannot answer; then the rules decide
    (the case moves on, or is denied naming each failed rule), or a person
    decides instead. Answers what happened: approved, denied, handed_over, or
    None when there was nothing to decide (a repeat, or another instance's case).
    """
    from services.workflow.service_layer.facts import FactsUnavailable

    payload = envelope["payload"]
    application_id, step_id = payload["application_id"], payload["step_id"]
    now = now or clock.now()
    today = local_date(now)
    with uow:
        application = uow.applications.get(application_id)
    waiting = application.auto_step() if application is not None else None
    if waiting is None or waiting[0].id != step_id:
        _record_delivery(uow, envelope, "workflow.on_auto_step_started")
        return None
    definition = waiting[1]
    try:
        facts = gather(rules.facts_of(definition.rules), application, today)
        failures, unavailable = rules.evaluate(definition.rules, facts), None
    except FactsUnavailable as missing:
        failures, unavailable = [], missing
    unknown = rules.undetermined(failures)
    if unknown:
        # A rule failed on a fact nobody could give a value for (an agent's
        # principal has no real-name level here, say): a person decides.
        failures, unavailable = [], FactsUnavailable("facts", f"no value for {', '.join(unknown)}")
    with uow:
        if not uow.first_delivery(envelope, "workflow.on_auto_step_started"):
            return None
        calendar = _calendar(uow)
        application = uow.applications.get(application_id, for_update=True)
        waiting = application.auto_step()
        if waiting is None or waiting[0].id != step_id:  # decided meanwhile
            _commit(uow)
            return None
        if unavailable is not None:
            application.hand_to_person(
                unavailable.source, unavailable.reason, calendar=calendar, now=now
            )
            outcome = "handed_over"
        else:
            application.decide_automatically(
                failures,
                calendar=calendar,
                licence_numbers=_licence_numbers(uow, application_id),
                now=now,
            )
            outcome = "denied" if failures else "approved"
        uow.applications.save(application)
        uow.collect(application)
        _commit(uow)
    log.info("auto step decided", extra={"application_id": application_id, "outcome": outcome})
    return outcome


def _record_delivery(uow: WorkflowUnitOfWork, envelope: Mapping, consumer: str) -> None:
    with uow:
        uow.first_delivery(envelope, consumer)
        uow.commit()


# ---------------------------------------------------------------------- sweeps


def mark_overdue_cases(uow: WorkflowUnitOfWork, today: date, *, now: datetime | None = None) -> int:
    """Record ``case_overdue`` for each case found late today (once per case);
    return how many were recorded."""
    with uow:
        candidates = uow.applications.overdue_candidates(before=today)
    return _each_locked(
        uow, candidates, lambda case, calendar: case.mark_overdue(today, calendar, now=now)
    )


def close_unsupplemented_cases(
    uow: WorkflowUnitOfWork, today: date, *, now: datetime | None = None
) -> int:
    """End each case whose applicant did not supply the missing materials by
    their deadline; return how many ended."""
    with uow:
        candidates = uow.applications.waiting_for_supplement()
    return _each_locked(uow, candidates, lambda case, _: case.expire_supplement(today, now=now))


def escalate_late_tasks(
    uow: WorkflowUnitOfWork,
    today: date,
    *,
    operator_days: int = ESCALATE_TO_OPERATOR_DAYS,
    now: datetime | None = None,
) -> int:
    """Escalate the late work of every case (督办, ``Application.escalate``):
    each open task red today with a running clock to its department's admin,
    and ``operator_days`` working days on to the operator, once per task and
    level. The tasks come from the ``tasks`` rows (open, past due, not yet
    escalated that far) and are counted on the calendar before any case is
    loaded; the cases are changed locked, in batches. Answers how many
    escalations were raised."""
    with uow:
        calendar = _calendar(uow)
        late = uow.applications.late_tasks(today, operator_days)
    running = Clock()  # the query kept the cases whose clock runs
    candidates = list(
        dict.fromkeys(
            task.application_id
            for task in late
            if set(escalation_levels(task.due_date, today, calendar, running, operator_days))
            - task.escalated
        )
    )
    return _each_locked(
        uow,
        candidates,
        lambda case, calendar: len(
            case.escalate(today, calendar, operator_days=operator_days, now=now)
        ),
    )


def _each_locked(uow: WorkflowUnitOfWork, application_ids: list[str], change) -> int:
    """``change(case, calendar)`` on each case, locked, in batches of one
    transaction each; a case it changed (``change`` answers True, or how many
    changes it made) is saved with its events. Answers how many changes were
    made."""
    changed = 0
    for start in range(0, len(application_ids), OVERDUE_BATCH):
        with uow:
            calendar = _calendar(uow)
            for application_id in application_ids[start : start + OVERDUE_BATCH]:
                application = uow.applications.get(application_id, for_update=True)
                if application is None:
                    continue
                made = change(application, calendar)
                if made:
                    uow.applications.save(application)
                    uow.collect(application)
                    changed += int(made)
            _commit(uow)
    return changed


# ---------------------------------------------------------------------- figures


def count_cases_by_state(uow: WorkflowUnitOfWork) -> dict[str, int]:
    """Cases per current state, every state named (0 when it has none)."""
    with uow:
        counted = uow.applications.count_by_state()
    return {**{str(state): 0 for state in State}, **counted}


def count_open_escalations(uow: WorkflowUnitOfWork) -> dict[str, int]:
    """Open escalations per level, every level named (0 when it has none)."""
    with uow:
        counted = uow.applications.count_open_escalations()
    return {str(level): counted.get(str(level), 0) for level in EscalationLevel}


def count_provisional_cases(uow: WorkflowUnitOfWork) -> int:
    """Open cases with a due date in a year whose calendar is not loaded."""
    with uow:
        return uow.applications.count_provisional()


def count_overdue_open_cases(uow: WorkflowUnitOfWork, today: date) -> int:
    """How many cases are late today by the rule the overdue check applies
    (``Application.overdue``), whether or not they were reported yet."""
    with uow:
        calendar = _calendar(uow)
        due_dates = uow.applications.running_due_dates(before=today)
    return sum(count for due, count in due_dates.items() if past_due(due, today, calendar))
