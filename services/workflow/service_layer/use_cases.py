"""Workflow use cases: one function per command or query.

Each command is one transaction: load the Application (locked), call one domain
method, save it and write the events it recorded to the outbox, commit. Domain
exceptions are the shared error types (``domain.exceptions``). Lists answer
``{"items": [...]}``, pages with ``page``, ``page_size`` and ``total`` as well.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from services.common import errors, instances
from services.workflow.adapters.repository import CALENDAR_KINDS, HOLIDAY, WORKDAY
from services.workflow.domain import exceptions as domain
from services.workflow.domain.calendar import WorkingCalendar
from services.workflow.domain.holidays_2026 import (
    holidays_2026,
    load_calendar_2026,
    makeup_workdays_2026,
)
from services.workflow.domain.model import (
    Application,
    ItemSnapshot,
    LicenceNumbers,
    State,
    past_due,
)
from services.workflow.service_layer.metrics import count_committed
from services.workflow.service_layer.unit_of_work import WorkflowUnitOfWork

log = logging.getLogger(__name__)

SHARED_INSTANCE = instances.SHARED_WORKFLOW
PUBLISHED = "published"
CALENDAR_EDITOR_ROLE = "dept_admin"
OVERDUE_BATCH = 200


def _commit(uow: WorkflowUnitOfWork) -> list[dict]:
    envelopes = uow.commit()
    count_committed(envelopes)
    return envelopes


def _calendar(uow: WorkflowUnitOfWork) -> WorkingCalendar:
    """The stored calendar; the shipped 2026 calendar until one is stored."""
    return uow.calendar.load() or load_calendar_2026()


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
) -> Application:
    """Open a case for ``item`` (catalog's ``get_item`` result) in ``instance``.

    Conflict when the item is not published or another workflow instance handles
    it (``fields.handled_by`` names that instance). A department instance's
    application ids start with ``<code>.``.
    """
    prefix = instances.id_prefix(instance)
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
    with uow:
        application = Application.submit(
            item=snapshot,
            actor=actor,
            form=form,
            materials=materials,
            delivery=delivery,
            calendar=_calendar(uow),
            on_behalf_of=on_behalf_of,
            now=now,
            application_id=prefix + uuid.uuid4().hex,
        )
        uow.applications.add(application, snapshot)
        uow.collect(application)
        _commit(uow)
    return application


def withdraw(
    uow: WorkflowUnitOfWork, actor: Mapping, application_id: str, *, now: datetime | None = None
) -> Application:
    """The applicant withdraws an undecided case."""
    with uow:
        application = _visible(uow, actor, application_id, for_update=True)
        application.withdraw(actor, now=now)
        uow.applications.save(application)
        uow.collect(application)
        _commit(uow)
    return application


def supplement(
    uow: WorkflowUnitOfWork,
    actor: Mapping,
    application_id: str,
    materials: Any,
    *,
    now: datetime | None = None,
) -> Application:
    """The applicant sends the requested materials; the case is accepted again."""
    with uow:
        application = _visible(uow, actor, application_id, for_update=True)
        application.supplement(actor, materials, calendar=_calendar(uow), now=now)
        uow.applications.save(application)
        uow.collect(application)
        _commit(uow)
    return application


def act(
    uow: WorkflowUnitOfWork,
    actor: Mapping,
    application_id: str,
    action: str,
    comment: str | None = None,
    *,
    now: datetime | None = None,
) -> Application:
    """A staff action: accept, reject, request_supplement, approve or deny.

    The last approval issues the licence; its number comes from the serial
    counter in this same transaction (counters are per instance) and carries the
    prefix of the application id (``js-ga.`` on a department instance), so
    numbers stay unique across instances and name the instance that checks them.
    """
    with uow:
        application = _visible(uow, actor, application_id, for_update=True)
        application.act(
            actor,
            action,
            comment or "",
            licence_numbers=LicenceNumbers(
                uow.licences.next_serial, prefix=_id_prefix_of(application_id)
            ),
            now=now,
        )
        uow.applications.save(application)
        uow.collect(application)
        _commit(uow)
    return application


def set_calendar_day(
    uow: WorkflowUnitOfWork, actor: Mapping, day: date, kind: str
) -> dict[str, Any]:
    """A department admin (or an operator) declares a day a holiday or a workday.

    Due dates already set are not moved; the edit counts for cases submitted
    (or supplemented) from now on.
    """
    is_operator = actor.get("kind") == "operator"
    is_admin = actor.get("kind") == "staff" and CALENDAR_EDITOR_ROLE in (actor.get("roles") or ())
    if not (is_operator or is_admin):
        raise domain.Forbidden("only a department admin or an operator edits the calendar")
    if kind not in CALENDAR_KINDS:
        raise domain.ValidationFailed({"kind": f"must be one of {', '.join(CALENDAR_KINDS)}"})
    with uow:
        # The first edit starts from the shipped calendar, not from an empty one.
        _store_default_calendar(uow)
        uow.calendar.set(day, kind, actor.get("user_id"))
        uow.commit()
    return {"day": day, "kind": kind}


def load_default_calendar(uow: WorkflowUnitOfWork) -> int:
    """Store the shipped 2026 holidays and make-up workdays that are not stored
    yet (an admin's edit of a day wins); return how many were stored."""
    with uow:
        stored = _store_default_calendar(uow)
        uow.commit()
    return stored


def _store_default_calendar(uow: WorkflowUnitOfWork) -> int:
    known = uow.calendar.days()
    shipped = [(day, HOLIDAY) for day in holidays_2026()]
    shipped += [(day, WORKDAY) for day in makeup_workdays_2026()]
    stored = 0
    for day, kind in sorted(shipped):
        if day not in known:
            uow.calendar.set(day, kind, None)
            stored += 1
    return stored


# ---------------------------------------------------------------------- queries


def get_application(uow: WorkflowUnitOfWork, actor: Mapping, application_id: str) -> Application:
    """The case with its timeline; NotFound unless the actor may see it."""
    with uow:
        return _visible(uow, actor, application_id)


def list_applications(
    uow: WorkflowUnitOfWork, actor: Mapping, page: int = 1, page_size: int = 20
) -> dict[str, Any]:
    """A page of the actor's own cases, newest first, and how many there are."""
    user_id = actor.get("user_id")
    if not user_id:
        raise domain.Forbidden("a signed-in user is required")
    with uow:
        found = uow.applications.list_for_applicant(user_id, page=page, page_size=page_size)
    return _page(found, page, page_size)


def worklist(
    uow: WorkflowUnitOfWork,
    actor: Mapping,
    state: str | None = None,
    page: int = 1,
    page_size: int = 20,
) -> dict[str, Any]:
    """A page of the cases of the staff member's department, as owner or joint
    reviewer, newest first."""
    department = actor.get("department_code")
    if actor.get("kind") != "staff" or not department:
        raise domain.Forbidden("the worklist is for department staff")
    with uow:
        found = uow.applications.list_for_department(
            department, state=state, page=page, page_size=page_size
        )
    return _page(found, page, page_size)


def _page(found: tuple[list[Application], int], page: int, page_size: int) -> dict[str, Any]:
    items, total = found
    return {"items": items, "page": page, "page_size": page_size, "total": total}


def list_licences(uow: WorkflowUnitOfWork, actor: Mapping) -> dict[str, list[Mapping]]:
    """Licences issued on the actor's cases, newest first."""
    user_id = actor.get("user_id")
    if not user_id:
        raise domain.Forbidden("a signed-in user is required")
    with uow:
        return {"items": uow.licences.list_for_applicant(user_id)}


def verify_licence(uow: WorkflowUnitOfWork, licence_no: str) -> dict[str, Any]:
    """Public check of a licence number: is it real and valid, and whose is it
    (masked)."""
    with uow:
        licence = uow.licences.get(licence_no)
    if licence is None:
        raise domain.NotFound(f"licence {licence_no} not found")
    return {
        "licence_no": licence["licence_no"],
        "valid": licence["valid"],
        "holder_masked": licence["holder_masked"],
        "item_name": licence["item_name"],
        "issued_at": licence["issued_at"],
    }


# --------------------------------------------------------------- courier events


def on_materials_received(
    uow: WorkflowUnitOfWork, envelope: Mapping, *, now: datetime | None = None
) -> bool:
    """EMS delivered the applicant's materials to the window: accept the case.

    Once per event id; True when the case changed.
    """
    return _courier_notice(
        uow, envelope, "workflow.on_materials_received", Application.materials_received, now
    )


def on_result_delivered(
    uow: WorkflowUnitOfWork, envelope: Mapping, *, now: datetime | None = None
) -> bool:
    """EMS delivered the result to the applicant: complete the case.

    Once per event id; True when the case changed.
    """
    return _courier_notice(
        uow, envelope, "workflow.on_result_delivered", Application.result_delivered, now
    )


def _courier_notice(uow, envelope, consumer, notice, now) -> bool:
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
                changed = notice(application, now=now)
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


# ---------------------------------------------------------------------- overdue


def mark_overdue_cases(uow: WorkflowUnitOfWork, today: date, *, now: datetime | None = None) -> int:
    """Record ``case_overdue`` for each case found late today (once per case);
    return how many were recorded."""
    with uow:
        candidates = uow.applications.overdue_candidates(before=today)
    marked = 0
    for start in range(0, len(candidates), OVERDUE_BATCH):
        with uow:
            calendar = _calendar(uow)
            for application_id in candidates[start : start + OVERDUE_BATCH]:
                application = uow.applications.get(application_id, for_update=True)
                if application is not None and application.mark_overdue(today, calendar, now=now):
                    uow.applications.save(application)
                    uow.collect(application)
                    marked += 1
            _commit(uow)
    return marked


# ---------------------------------------------------------------------- figures


def count_cases_by_state(uow: WorkflowUnitOfWork) -> dict[str, int]:
    """Cases per current state, every state named (0 when it has none)."""
    with uow:
        counted = uow.applications.count_by_state()
    return {**{str(state): 0 for state in State}, **counted}


def count_overdue_open_cases(uow: WorkflowUnitOfWork, today: date) -> int:
    """How many cases are late today by the rule the overdue check applies
    (``Application.overdue``), whether or not they were reported yet."""
    with uow:
        calendar = _calendar(uow)
        due_dates = uow.applications.running_due_dates(before=today)
    return sum(count for due, count in due_dates.items() if past_due(due, today, calendar))
