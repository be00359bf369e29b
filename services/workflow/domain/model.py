"""The Application aggregate: one citizen's or enterprise's case for one item.

Plain Python; the service layer loads an Application from its repository, calls one
command method, saves it and writes ``application.events`` to the outbox in the
same transaction.

An actor is the gateway's view of the caller:
``{"user_id", "kind": citizen|staff|operator, "roles": [...], "department_code"}``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

from services.common import clock
from services.common.values import copy_json
from services.common.working_calendar import WorkingCalendar

from . import delivery as failed_shipments
from .delivery import Shipping
from .events import (
    ApplicationAccepted,
    ApplicationApproved,
    ApplicationCompleted,
    ApplicationDenied,
    ApplicationEnded,
    ApplicationNotSupplemented,
    ApplicationRejected,
    ApplicationResumed,
    ApplicationSubmitted,
    ApplicationSupplemented,
    ApplicationSuspended,
    ApplicationWithdrawn,
    AutoStepStarted,
    CaseEscalated,
    CaseOverdue,
    Event,
    EvidenceStepStarted,
    ExtensionDecided,
    ExtensionRequested,
    LicenceIssued,
    SupplementRequested,
)
from .evidence import EvidenceSteps
from .exceptions import Forbidden, InvalidTransition, NotFound, ValidationFailed
from .licences import Licence, LicenceNumbers, LicenceType, issuer_uscc_of
from .payment import Payment, Payments, total_fen
from .principals import (
    AGENT_ROLE,
    MANDATE_LAPSED,
    check_principal,
    check_submitter,
    holder_of,
    principal_user_id,
    speaks_for,
)
from .process import (
    ACTIONS,
    EVIDENCE_KINDS,
    STEP_ACTIONS,
    Assignment,
    ProcessDefinition,
    StepDefinition,
    default_definition,
)
from .progress import (
    ESCALATE_TO_OPERATOR_DAYS,
    SUSPENSION_KINDS,
    Clock,
    Escalation,
    Extension,
    ExtensionState,
    StepRun,
    StepState,
    Suspension,
    Task,
    escalation_levels,
    signal_of,
)

# Due dates and licence dates are Jiangsu calendar days, whatever the server's zone.
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


class State(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    SUPPLEMENT_REQUESTED = "supplement_requested"
    APPROVED = "approved"
    DENIED = "denied"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"
    REJECTED = "rejected"
    # The applicant did not supply the missing materials in time.
    NOT_SUPPLEMENTED = "not_supplemented"


class DeliveryMode(StrEnum):
    ONLINE = "online"
    EXPRESS = "express"
    WINDOW = "window"


class Decision(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"


class Role(StrEnum):
    WINDOW_CLERK = "window_clerk"
    APPROVER = "approver"
    APPLICANT = "applicant"
    # EMS notices, the overdue sweep and the licence issue have no human actor.
    SYSTEM = "system"


DEPT_ADMIN = "dept_admin"
# Cases not decided or ended yet.
OPEN_CASE_STATES = frozenset({State.SUBMITTED, State.ACCEPTED, State.SUPPLEMENT_REQUESTED})
WITHDRAWABLE_STATES = OPEN_CASE_STATES
# States in which the department owes the applicant an answer; while a supplement
# is requested the clock is stopped, since the case waits on the applicant.
RUNNING_CLOCK_STATES = frozenset({State.SUBMITTED, State.ACCEPTED})
ADDRESS_FIELDS = ("name", "phone", "province", "city", "district", "street")

_PHONE = re.compile(r"\d{11}")
_POSTCODE = re.compile(r"\d{6}")


def china_today() -> date:
    """Today in Jiangsu, whatever the server's zone: time limits count its days."""
    return clock.now().astimezone(CHINA_TZ).date()


def past_due(due_date: date, today: date, calendar: WorkingCalendar) -> bool:
    """A working day after the due date has begun (a case due on Friday is late
    on Monday, not on the weekend nobody works)."""
    return calendar.working_days_between(due_date, today) >= 1


@dataclass(frozen=True)
class ItemSnapshot:
    """What the case keeps of the catalog item at submission time; later catalog
    edits do not change an open case."""

    item_id: str
    item_name: str
    department_code: str
    region_code: str
    store_id: str
    modes: tuple[str, ...]
    promised_days: int
    joint_departments: tuple[str, ...] = ()
    # The catalogue window (name, address, phone, postcode); None when it has none.
    window: Mapping[str, Any] | None = None
    # The legal limit (法定时限); 0 when the catalogue gives none.
    statutory_days: int = 0
    # Fees ({name, amount_fen, standard, legal_basis, waivable}; [] free), the
    # fee waiver ({description, rule}) and the department the item was taken
    # over from (集中批); see domain.payment.
    fees: tuple[Mapping[str, Any], ...] = ()
    fee_waiver: Mapping[str, Any] | None = None
    transferred_from: str | None = None
    # The licence the item issues and the USCC of its issuing body (defaults
    # from the item's code and department when the catalogue gives none).
    licence_type: LicenceType | None = None
    issuer_uscc: str | None = None

    @property
    def legal_days(self) -> int:
        """Working days of the legal limit: never shorter than the promise."""
        return max(self.statutory_days, self.promised_days)

    @classmethod
    def from_catalog(cls, item: Mapping[str, Any]) -> ItemSnapshot:
        """From catalog's ``get_item`` result."""
        return cls(
            item_id=item["item_id"],
            item_name=item["name"],
            department_code=item["department_code"],
            region_code=item["region_code"],
            store_id=item["store_id"],
            modes=tuple(item["modes"]),
            promised_days=int(item["promised_days"]),
            joint_departments=tuple(item.get("joint_departments") or ()),
            window=dict(item["window"]) if item.get("window") else None,
            statutory_days=int(item.get("statutory_days") or 0),
            fees=fees_of(item.get("fees")),
            fee_waiver=_fee_waiver_of(item.get("fee_waiver")),
            transferred_from=item.get("transferred_from") or None,
            licence_type=LicenceType.of_item(item),
            issuer_uscc=issuer_uscc_of(item),
        )


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    state: str
    action: str
    actor_id: str | None
    actor_role: str
    comment: str = ""
    # The process step the entry is about, when it is about one.
    step: str | None = None
    # Whom the actor acted for (the case's principal, {kind, uscc|user_id,
    # name}) on the applicant's side of a case applied for someone.
    on_behalf_of: dict[str, Any] | None = None


@dataclass(kw_only=True, eq=False)
class Application(EvidenceSteps, Payments):
    application_id: str
    # Item snapshot.
    item_id: str
    item_name: str
    department_code: str
    region_code: str
    store_id: str
    joint_departments: list[str]
    window: dict[str, Any] | None
    promised_days: int
    statutory_days: int
    # The process the case runs, pinned when it was submitted (version 0: the
    # item had no definition of its own, see process.default_definition).
    process: ProcessDefinition
    process_version: int = 0
    # Case.
    applicant_id: str
    # The principal ({kind, uscc|user_id, name}, as identity named it) and the
    # mandate the agent applied under (None: the owner or a member applied).
    on_behalf_of: dict[str, Any] | None = None
    mandate_id: str | None = None
    form: dict[str, Any]
    materials: list[dict[str, Any]]
    delivery: dict[str, Any]
    state: str
    # Promised (承诺时限) and legal (法定时限) due dates, in working days.
    due_date: date
    legal_due_date: date
    submitted_at: datetime
    steps: list[StepRun] = field(default_factory=list)
    clock: Clock = field(default_factory=Clock)
    # While the applicant owes materials: which, and by when.
    missing_materials: list[str] = field(default_factory=list)
    supplement_due: date | None = None
    extensions: list[Extension] = field(default_factory=list)
    suspensions: list[Suspension] = field(default_factory=list)
    # Late tasks brought to their department's admin, then to the operator (督办).
    escalations: list[Escalation] = field(default_factory=list)
    # A due date fell in a year whose working calendar is not loaded: it was
    # counted on weekdays only and may move once the year is loaded.
    calendar_provisional: bool = False
    timeline: list[TimelineEntry] = field(default_factory=list)
    licence_no: str | None = None
    # The licence issued by this case, when loaded or just issued.
    licence: Licence | None = None
    # The licence the item issues and its issuer, as the item was at submission
    # (None on cases stored before: the defaults of the item then apply).
    licence_type: LicenceType | None = None
    issuer_uscc: str | None = None
    overdue_reported: bool = False
    # Who decided the case and when: {"on": date, "working_days": int,
    # "handled_by": department code}; None until a decision.
    decision: dict[str, Any] | None = None
    # The item's fees and fee waiver as submitted, and the case's payment
    # (domain.payment).
    fees: list[dict[str, Any]] = field(default_factory=list)
    fee_waiver: dict[str, Any] | None = None
    transferred_from: str | None = None
    payment: Payment | None = None
    # Failed EMS shipments and the applicant's answer (domain.delivery).
    shipping: Shipping = field(default_factory=Shipping)
    events: list[Event] = field(default_factory=list, repr=False)

    # ----------------------------------------------------------------- factory

    @classmethod
    def submit(
        cls,
        *,
        item: ItemSnapshot,
        actor: Mapping[str, Any],
        form: Any,
        materials: Any,
        delivery: Any,
        calendar: WorkingCalendar,
        process: ProcessDefinition | None = None,
        process_version: int = 0,
        on_behalf_of: Any = None,
        mandate_id: str | None = None,
        now: datetime | None = None,
        application_id: str | None = None,
    ) -> Application:
        """Open a case and start the first step of ``process`` (the item's
        default process when None). ``on_behalf_of`` is the principal as
        identity authorised it (``{kind, uscc|user_id, name}``), with the
        ``mandate_id`` it rests on. Raises Forbidden unless the actor is a
        citizen or (for someone else) an agent, and ValidationFailed naming
        every bad field ("delivery.address.phone")."""
        check_submitter(actor, on_behalf_of)
        errors: dict[str, str] = {}
        if not isinstance(form, Mapping):
            errors["form"] = "must be an object"
        clean_materials, material_errors = _check_materials(materials, required=False)
        clean_delivery, delivery_errors = _check_delivery(delivery, item.modes)
        clean_principal, principal_errors = check_principal(on_behalf_of)
        errors.update(material_errors)
        errors.update(delivery_errors)
        errors.update(principal_errors)
        if errors:
            raise ValidationFailed(errors)

        now = _aware(now)
        today = local_date(now)
        if process is None:
            process = default_definition(
                item.department_code, item.joint_departments, item.promised_days
            )
            process_version = 0
        if total_fen(item.fees) > 0:
            # The fees are paid before the licence, where the process says or last.
            process = process.with_payment()
        due_date = calendar.add_working_days(today, item.promised_days)
        legal_due_date = calendar.add_working_days(today, item.legal_days)
        application = cls(
            application_id=application_id or uuid.uuid4().hex,
            item_id=item.item_id,
            item_name=item.item_name,
            department_code=item.department_code,
            region_code=item.region_code,
            store_id=item.store_id,
            joint_departments=list(item.joint_departments),
            window=_copy_window(item.window),
            promised_days=item.promised_days,
            statutory_days=item.legal_days,
            licence_type=item.licence_type,
            issuer_uscc=item.issuer_uscc,
            process=process,
            process_version=process_version,
            applicant_id=actor["user_id"],
            on_behalf_of=clean_principal,
            mandate_id=mandate_id if clean_principal else None,
            form=copy_json(dict(form)),
            materials=clean_materials,
            delivery=clean_delivery,
            state=State.SUBMITTED,
            due_date=due_date,
            legal_due_date=legal_due_date,
            submitted_at=now,
            steps=[StepRun(id=step.id, kind=step.kind) for step in process.steps],
            fees=[dict(fee) for fee in item.fees],
            fee_waiver=dict(item.fee_waiver) if item.fee_waiver else None,
            transferred_from=item.transferred_from,
        )
        application._note_calendar(calendar, today, legal_due_date)
        application._log(now, "submit", actor["user_id"], Role.APPLICANT)
        application.events.append(
            ApplicationSubmitted(
                application_id=application.application_id,
                item_id=application.item_id,
                item_name=application.item_name,
                applicant_id=application.applicant_id,
                department_code=application.department_code,
                region_code=application.region_code,
                store_id=application.store_id,
                delivery=copy_json(application.delivery),
                window=_copy_window(application.window),
                due_date=application.due_date,
                submitted_at=now,
            )
        )
        application._start(0, today, calendar, now)
        return application

    # ------------------------------------------------------------ staff actions

    def act(
        self,
        actor: Mapping[str, Any],
        action: str,
        comment: str = "",
        *,
        step: str | None = None,
        missing_materials: Any = None,
        calendar: WorkingCalendar,
        licence_numbers: LicenceNumbers | None = None,
        now: datetime | None = None,
    ) -> None:
        """A staff action at an open step of the process: ``step`` names it when
        the actor has work in several. InvalidTransition (409) when no open step
        allows the action now; Forbidden (403) when one does but the actor's
        role or department may not take it there. ``licence_numbers`` is needed
        when the action may approve the case (it issues the licence)."""
        if action not in STEP_ACTIONS:
            raise ValidationFailed({"action": f"must be one of {', '.join(sorted(STEP_ACTIONS))}"})
        now = _aware(now)
        run, task = self._task_for(actor, action, step)
        if action == "accept":
            self._accept(run, task, now, actor["user_id"], _role_of(actor, task), comment, calendar)
        elif action == "reject":
            comment = _require_comment(comment, "a rejection must give the reason")
            task.decide(StepState.DENIED, action, actor["user_id"], comment, now)
            run.finish(StepState.DENIED, now)
            self._decided(now, calendar, task.department_code or self.department_code)
            self.events.append(
                ApplicationRejected(
                    application_id=self.application_id,
                    applicant_id=self.applicant_id,
                    comment=comment,
                )
            )
            self._end(
                State.REJECTED,
                now,
                "reject",
                actor["user_id"],
                _role_of(actor, task),
                comment,
                step=run.id,
            )
        elif action == "request_supplement":
            self._request_supplement(actor, run, task, comment, missing_materials, now)
        elif action == "approve":
            if licence_numbers is None:
                raise TypeError("approve needs licence_numbers")
            self._approve(run, task, actor, comment, calendar, licence_numbers, now)
        else:
            self._deny(run, task, actor, comment, calendar, now)
        self._settle_escalations(now)

    def available_actions(self, actor: Mapping[str, Any]) -> list[dict[str, str | None]]:
        """What ``actor`` may do now: ``[{"action", "step"}]``, the step being
        the one an action is taken at (None for actions on the whole case)."""
        found: list[dict[str, str | None]] = []
        if self.state in OPEN_CASE_STATES and self.clock.stopped_for != "suspension":
            waiting = self.state == State.SUPPLEMENT_REQUESTED
            waiting = waiting or failed_shipments.awaiting_materials_choice(self)
            for run in self.steps:
                if not run.open:
                    continue
                for task in run.tasks:
                    if task.open and self._may_do(actor, task):
                        for action in ACTIONS[run.kind]:
                            if not waiting or action == "reject":
                                found.append({"action": action, "step": run.id})
                        break
        if self._is_applicant(actor):
            if self.state in WITHDRAWABLE_STATES:
                found.append({"action": "withdraw", "step": None})
            if self.state == State.SUPPLEMENT_REQUESTED:
                found.append({"action": "supplement", "step": None})
        found.extend(self._payment_actions(actor))
        found.extend(failed_shipments.actions_for(self, actor))
        if self.state in OPEN_CASE_STATES and self._is_owner_staff(actor, Role.APPROVER):
            if not self._pending_extension() and self._extension_left() > 0:
                found.append({"action": "request_extension", "step": None})
        if self._pending_extension() and self._is_owner_staff(actor, DEPT_ADMIN):
            found.append({"action": "decide_extension", "step": None})
        if self._may_suspend(actor):
            if self.state == State.ACCEPTED and self.clock.running:
                found.append({"action": "suspend", "step": None})
            if self._open_suspension() is not None:
                found.append({"action": "end_suspension", "step": None})
        return found

    # -------------------------------------------------------- applicant actions

    def supplement(
        self,
        actor: Mapping[str, Any],
        materials: Any,
        *,
        calendar: WorkingCalendar,
        now: datetime | None = None,
    ) -> None:
        """The applicant adds the requested materials: the clock runs again and
        the due dates move by the working days it waited on the applicant
        (补正期间不计入时限); the step that asked for them is open again."""
        self._require_applicant(actor, "supplement")
        self._require_state("supplement", State.SUPPLEMENT_REQUESTED)
        clean, errors = _check_materials(materials, required=True)
        if errors:
            raise ValidationFailed(errors)
        now = _aware(now)
        self.materials.extend(clean)
        self._restart_clock(local_date(now), calendar)
        self.state = State.SUBMITTED
        self.missing_materials = []
        self.supplement_due = None
        self._log(now, "supplement", actor["user_id"], Role.APPLICANT, "")
        self.events.append(
            ApplicationSupplemented(
                application_id=self.application_id, supplied_at=now, due_date=self.due_date
            )
        )

    def withdraw(
        self,
        actor: Mapping[str, Any],
        comment: str = "",
        *,
        now: datetime | None = None,
    ) -> None:
        """The applicant withdraws a case that has not been decided."""
        self._require_applicant(actor, "withdraw")
        if self.state not in WITHDRAWABLE_STATES:
            raise InvalidTransition(f"cannot withdraw a case that is {self.state}")
        now = _aware(now)
        self.events.append(ApplicationWithdrawn(application_id=self.application_id))
        self._end(State.WITHDRAWN, now, "withdraw", actor["user_id"], Role.APPLICANT, comment)

    # ------------------------------------------------------------ the clock

    def request_extension(
        self,
        actor: Mapping[str, Any],
        working_days: int,
        reason: str,
        *,
        now: datetime | None = None,
        extension_id: str | None = None,
    ) -> Extension:
        """An approver of the item's department asks for more working days (延期);
        at most the item's limit in all (``extension_days``, else the statutory
        days). One request at a time."""
        if not self._is_owner_staff(actor, Role.APPROVER):
            raise Forbidden(f"an extension is asked for by an approver of {self.department_code}")
        if self.state not in OPEN_CASE_STATES:
            raise InvalidTransition(f"cannot extend a case that is {self.state}")
        if self._pending_extension() is not None:
            raise InvalidTransition("an extension request is waiting for its decision")
        reason = _require_text(reason, "reason", "say why the case needs more time")
        left = self._extension_left()
        if not isinstance(working_days, int) or not 1 <= working_days <= left:
            raise ValidationFailed({"working_days": f"must be 1..{left} (the item's limit left)"})
        now = _aware(now)
        extension = Extension(
            extension_id=extension_id or uuid.uuid4().hex,
            working_days=working_days,
            reason=reason,
            requested_by=actor["user_id"],
            requested_at=now,
        )
        self.extensions.append(extension)
        self._log(now, "request_extension", actor["user_id"], Role.APPROVER, reason)
        self.events.append(
            ExtensionRequested(
                application_id=self.application_id,
                extension_id=extension.extension_id,
                department_code=self.department_code,
                working_days=working_days,
                reason=reason,
            )
        )
        return extension

    def decide_extension(
        self,
        actor: Mapping[str, Any],
        approve: bool,
        comment: str = "",
        *,
        calendar: WorkingCalendar,
        now: datetime | None = None,
    ) -> Extension:
        """The department admin decides the waiting request. Approved, every
        running due date moves by its working days and the applicant sees why."""
        if not self._is_owner_staff(actor, DEPT_ADMIN):
            raise Forbidden(f"an extension is decided by a dept_admin of {self.department_code}")
        extension = self._pending_extension()
        if extension is None:
            raise InvalidTransition("no extension request is waiting for a decision")
        now = _aware(now)
        extension.decided_by = actor["user_id"]
        extension.decided_at = now
        extension.comment = (comment or "").strip()
        if approve and self.state in OPEN_CASE_STATES:
            extension.state = ExtensionState.APPROVED
            self._move_due_dates(extension.working_days, calendar)
            shown = f"延期 {extension.working_days} 个工作日: {extension.reason}"
            self._log(now, "extend", actor["user_id"], DEPT_ADMIN, shown)
        else:
            extension.state = ExtensionState.REFUSED
            self._log(now, "refuse_extension", actor["user_id"], DEPT_ADMIN, extension.comment)
        self.events.append(
            ExtensionDecided(
                application_id=self.application_id,
                extension_id=extension.extension_id,
                approved=extension.state == ExtensionState.APPROVED,
                working_days=extension.working_days,
                due_date=self.due_date,
                legal_due_date=self.legal_due_date,
            )
        )
        return extension

    def suspend(
        self,
        actor: Mapping[str, Any],
        kind: str,
        reason: str,
        *,
        now: datetime | None = None,
        suspension_id: str | None = None,
    ) -> Suspension:
        """A special procedure begins (特别程序: hearing, inspection or testing,
        expert review, tender…); the clock stops until it ends."""
        if not self._may_suspend(actor):
            raise Forbidden("a case is suspended by staff with work on it")
        if self.state != State.ACCEPTED:
            raise InvalidTransition(f"cannot suspend a case that is {self.state}")
        if not self.clock.running:
            raise InvalidTransition(f"the clock already stands still ({self.clock.stopped_for})")
        if kind not in SUSPENSION_KINDS:
            raise ValidationFailed({"kind": f"must be one of {', '.join(SUSPENSION_KINDS)}"})
        reason = _require_text(reason, "reason", "say why the procedure is needed")
        now = _aware(now)
        today = local_date(now)
        suspension = Suspension(
            suspension_id=suspension_id or uuid.uuid4().hex,
            kind=kind,
            reason=reason,
            started_by=actor["user_id"],
            started_at=now,
            started_on=today,
        )
        self.suspensions.append(suspension)
        self.clock.stop(today, "suspension")
        self._log(now, "suspend", actor["user_id"], _staff_role(actor), f"{kind}: {reason}")
        self.events.append(
            ApplicationSuspended(
                application_id=self.application_id,
                suspension_id=suspension.suspension_id,
                kind=kind,
            )
        )
        return suspension

    def end_suspension(
        self,
        actor: Mapping[str, Any],
        suspension_id: str,
        result: str,
        *,
        calendar: WorkingCalendar,
        now: datetime | None = None,
    ) -> Suspension:
        """The special procedure ended with ``result``; the clock runs again and
        the due dates move by the working days it took."""
        if not self._may_suspend(actor):
            raise Forbidden("a suspension is ended by staff with work on the case")
        suspension = next((s for s in self.suspensions if s.suspension_id == suspension_id), None)
        if suspension is None:
            raise NotFound(f"suspension {suspension_id} not found")
        if not suspension.open:
            raise InvalidTransition("the suspension has ended already")
        result = _require_text(result, "result", "say what the procedure found")
        now = _aware(now)
        suspension.working_days = self._restart_clock(local_date(now), calendar)
        suspension.ended_at = now
        suspension.ended_by = actor["user_id"]
        suspension.result = result
        self._log(now, "resume", actor["user_id"], _staff_role(actor), result)
        self.events.append(
            ApplicationResumed(
                application_id=self.application_id,
                suspension_id=suspension.suspension_id,
                working_days=suspension.working_days,
                due_date=self.due_date,
            )
        )
        return suspension

    def expire_supplement(self, today: date, *, now: datetime | None = None) -> bool:
        """End the case when the applicant did not supply the missing materials
        by ``supplement_due``; True when it did."""
        if self.state != State.SUPPLEMENT_REQUESTED or self.supplement_due is None:
            return False
        if today <= self.supplement_due:
            return False
        now = _aware(now)
        self.events.append(
            ApplicationNotSupplemented(
                application_id=self.application_id,
                applicant_id=self.applicant_id,
                supplement_due=self.supplement_due,
            )
        )
        self._end(State.NOT_SUPPLEMENTED, now, "not_supplemented", None, Role.SYSTEM, "")
        return True

    # -------------------------------------------------------- instant decisions

    def auto_step(self) -> tuple[StepRun, StepDefinition] | None:
        """The open auto step waiting for its decision, with its definition."""
        for run in self.steps:
            if run.open and run.kind == "auto" and not run.tasks:
                return run, self.process.step(run.id)
        return None

    def decide_automatically(
        self,
        failures: list,
        *,
        calendar: WorkingCalendar,
        licence_numbers: LicenceNumbers,
        now: datetime | None = None,
    ) -> None:
        """The open auto step's rules were evaluated on the facts: no failure
        approves the step (the case moves on, and is approved when it was the
        last step); failures deny the case, each named."""
        found = self.auto_step()
        if found is None:
            raise InvalidTransition("no auto step is waiting for a decision")
        run, _ = found
        now = _aware(now)
        if not failures:
            run.auto = {"outcome": "approved", "failures": []}
            self._pass(run, now)
            self._log(now, "auto_approve", None, Role.SYSTEM, step=run.id)
            self._advance(local_date(now), calendar, licence_numbers, now)
            self._settle_escalations(now)
            return
        reasons = [failure.describe() for failure in failures]
        run.auto = {"outcome": "denied", "failures": reasons}
        run.finish(StepState.DENIED, now)
        comment = "不符合条件: " + "; ".join(reasons)
        self._decided(now, calendar, self.department_code)
        self.events.append(
            ApplicationDenied(
                application_id=self.application_id,
                applicant_id=self.applicant_id,
                comment=comment,
            )
        )
        self._end(State.DENIED, now, "auto_deny", None, Role.SYSTEM, comment, step=run.id)

    def hand_to_person(
        self, source: str, reason: str, *, calendar: WorkingCalendar, now: datetime | None = None
    ) -> None:
        """A source of the open auto step's facts could not answer: a person
        decides instead (the step's fallback), never a guess."""
        found = self.auto_step()
        if found is None:
            raise InvalidTransition("no auto step is waiting for a decision")
        run, definition = found
        now = _aware(now)
        fallback = definition.fallback or Assignment(None, Role.APPROVER, 1)
        task = Task(
            department_code=fallback.department_code or self.department_code,
            role=fallback.role,
            days=fallback.days,
        )
        task.start(local_date(now), calendar)
        run.tasks.append(task)
        run.due_date = task.due_date
        run.auto = {"outcome": "unavailable", "source": source, "failures": []}
        self._log(now, "auto_unavailable", None, Role.SYSTEM, f"{source}: {reason}", step=run.id)

    # -------------------------------------------------------- courier notices

    def materials_received(self, *, calendar: WorkingCalendar, now: datetime | None = None) -> bool:
        """EMS delivered the applicant's materials to the window: the open accept
        step is done. Returns False (and changes nothing) when a clerk already
        accepted the case, it is closed, or its process has no accept step (the
        notice can arrive late)."""
        self._require_express("materials_received")
        if self.state != State.SUBMITTED:
            return False
        run = self.steps[0] if self.steps else None
        if run is None or run.kind != "accept" or not run.open or not run.tasks:
            return False
        now = _aware(now)
        self._accept(
            run, run.tasks[0], now, None, Role.SYSTEM, "", calendar, action="materials_received"
        )
        self._settle_escalations(now)
        return True

    def result_delivered(self, *, now: datetime | None = None) -> bool:
        """EMS delivered the result to the applicant: the case is complete.
        Returns False for a repeated notice on a completed case."""
        self._require_express("result_delivered")
        if self.state == State.COMPLETED:
            return False
        self._require_state("result_delivered", State.APPROVED)
        self._complete(_aware(now))
        return True

    def shipment_failed(
        self,
        failure: Mapping[str, Any],
        *,
        calendar: WorkingCalendar,
        now: datetime | None = None,
    ) -> bool:
        """EMS could not carry the materials or the result (courier's
        shipment_failed payload): the applicant chooses what next
        (``domain.delivery``). False when it no longer concerns the case."""
        self._require_express("shipment_failed")
        now = _aware(now)
        return failed_shipments.record_failure(
            self,
            direction=failure["direction"],
            reason=failure["reason"],
            tracking_no=failure.get("tracking_no"),
            description=failure.get("description") or "",
            failed_at=failure.get("failed_at") or now,
            attempt=int(failure.get("attempt") or 1),
            today=local_date(now),
            now=now,
        )

    def choose_redelivery(
        self,
        actor: Mapping[str, Any],
        choice: Any,
        address: Any = None,
        *,
        calendar: WorkingCalendar,
        now: datetime | None = None,
    ) -> None:
        """The applicant's answer to a failed shipment: reship_materials or
        bring_to_window, redeliver_result or collect_at_window (``domain.delivery``)."""
        now = _aware(now)
        failed_shipments.choose(
            self, actor, choice, address, calendar=calendar, today=local_date(now), now=now
        )

    def hand_over(
        self, actor: Mapping[str, Any], comment: str = "", *, now: datetime | None = None
    ) -> None:
        """A window clerk hands the result over at the window after its delivery
        failed; the case completes."""
        failed_shipments.hand_over(self, actor, comment, now=_aware(now))

    # ----------------------------------------------------------------- overdue

    def overdue(self, today: date, calendar: WorkingCalendar) -> bool:
        """Late: the department still owes an answer (``RUNNING_CLOCK_STATES``)
        and the case is ``past_due``."""
        return (
            self.state in RUNNING_CLOCK_STATES
            and self.clock.running
            and past_due(self.due_date, today, calendar)
        )

    def mark_overdue(
        self, today: date, calendar: WorkingCalendar, *, now: datetime | None = None
    ) -> bool:
        """Record ``case_overdue`` the first time the case is found late; True when
        it did."""
        if self.overdue_reported or not self.overdue(today, calendar):
            return False
        self.overdue_reported = True
        self._log(_aware(now), "overdue", None, Role.SYSTEM)
        self.events.append(CaseOverdue(application_id=self.application_id, due_date=self.due_date))
        return True

    def signal(self, today: date, calendar: WorkingCalendar, due: date | None = None) -> str | None:
        """green, yellow or red for an open case (or one of its due dates):
        measured against the due date as it stands, moved by the working days
        the clock has stood still so far; None once the case is closed."""
        if self.state not in OPEN_CASE_STATES:
            return None
        return str(signal_of(self.due_date if due is None else due, today, calendar, self.clock))

    # -------------------------------------------------------------- escalation

    def escalate(
        self,
        today: date,
        calendar: WorkingCalendar,
        *,
        operator_days: int = ESCALATE_TO_OPERATOR_DAYS,
        now: datetime | None = None,
    ) -> list[Escalation]:
        """Escalate late work (督办), once per task and level: an open task that
        is red today (a working day after its due date has begun) while the
        case's clock runs goes to its department's admin; one that is still red
        with its due date ``operator_days`` working days later goes to the
        operator as well. A stopped clock escalates nothing (its due dates move
        when it restarts). Records ``case_escalated`` and an ``escalate``
        timeline entry for each; answers the escalations raised."""
        if not isinstance(operator_days, int) or operator_days < 1:
            raise ValueError("operator_days must be a whole number of working days from 1")
        now = _aware(now)
        self._settle_escalations(now)
        if self.state not in RUNNING_CLOCK_STATES or not self.clock.running:
            return []
        raised = []
        for run in self.steps:
            if not run.open:
                continue
            for task in run.tasks:
                if not task.open or task.due_date is None:
                    continue
                for level in escalation_levels(
                    task.due_date, today, calendar, self.clock, operator_days
                ):
                    if self._escalation_of(run.id, task.department_code, level) is None:
                        raised.append(self._raise_escalation(run, task, level, now))
        return raised

    def _escalation_of(self, step_id: str, department_code: str, level: str) -> Escalation | None:
        return next(
            (
                escalation
                for escalation in self.escalations
                if (escalation.step_id, escalation.department_code, escalation.level)
                == (step_id, department_code, level)
            ),
            None,
        )

    def _raise_escalation(self, run: StepRun, task: Task, level: str, now: datetime) -> Escalation:
        escalation = Escalation(
            escalation_id=uuid.uuid4().hex,
            step_id=run.id,
            department_code=task.department_code,
            level=str(level),
            raised_at=now,
            due_date=task.due_date,
        )
        self.escalations.append(escalation)
        self._log(
            now,
            "escalate",
            None,
            Role.SYSTEM,
            f"督办 {level}: {task.department_code} 未在 {task.due_date.isoformat()} 前办结",
            step=run.id,
        )
        self.events.append(
            CaseEscalated(
                application_id=self.application_id,
                step_id=run.id,
                department_code=task.department_code,
                level=str(level),
                due_date=task.due_date,
            )
        )
        return escalation

    def _settle_escalations(self, now: datetime) -> None:
        """An open escalation is resolved once its task is no longer open (done,
        denied, not needed, closed) or the case ended."""
        for escalation in self.escalations:
            if escalation.open and not self._task_still_open(escalation):
                escalation.resolved_at = now

    def _task_still_open(self, escalation: Escalation) -> bool:
        if self.state not in OPEN_CASE_STATES:
            return False
        return any(
            run.open and task.open and task.department_code == escalation.department_code
            for run in self.steps
            if run.id == escalation.step_id
            for task in run.tasks
        )

    # -------------------------------------------------------------- visibility

    def visible_to(self, actor: Mapping[str, Any]) -> bool:
        """Applicants see their own cases, an agent's case also its principal
        (the person, or every owner and member of the enterprise), staff the
        cases in which their department has work (as owner, reviewer or joint
        reviewer), operators every case."""
        kind = actor.get("kind")
        if kind == "operator":
            return True
        applied = bool(actor.get("user_id")) and actor.get("user_id") == self.applicant_id
        if kind == "citizen":
            return applied or speaks_for(self.on_behalf_of, actor)
        if applied and kind == "staff" and AGENT_ROLE in _roles(actor):
            return True  # a service centre's agent follows the cases they applied for
        if kind == "staff":
            department = actor.get("department_code")
            return bool(department) and department in self.reviewing_departments
        return False

    @property
    def reviewing_departments(self) -> list[str]:
        """Every department with work in the case's process, the owner first."""
        found = self.process.departments(self.department_code)
        for run in self.steps:
            for task in run.tasks:
                if task.department_code not in found:
                    found.append(task.department_code)
        return found

    @property
    def reviews(self) -> dict[str, str]:
        """Each department's decision so far: approved or denied when its last
        decided task says so, pending otherwise (the owner's window acceptance
        is not a review)."""
        found = {code: str(Decision.PENDING) for code in self.reviewing_departments}
        for run in self.steps:
            for task in run.tasks:
                if task.decision == "approve":
                    found[task.department_code] = str(Decision.APPROVED)
                elif task.decision == "deny":
                    found[task.department_code] = str(Decision.DENIED)
        return found

    # ---------------------------------------------------------------- internals

    def _task_for(
        self, actor: Mapping[str, Any], action: str, step: str | None
    ) -> tuple[StepRun, Task]:
        if self.state not in OPEN_CASE_STATES:
            raise InvalidTransition(f"cannot {action} a case that is {self.state}")
        if self.clock.stopped_for == "suspension":
            raise InvalidTransition("the case is suspended; end the suspension first")
        open_runs = [run for run in self.steps if run.open]
        if step is not None:
            if all(run.id != step for run in self.steps):
                raise ValidationFailed({"step": f"the process has no step {step}"})
            open_runs = [run for run in open_runs if run.id == step]
            if not open_runs:
                raise InvalidTransition(f"step {step} is not open")
        allowing = [
            run
            for run in open_runs
            if action in ACTIONS[run.kind] and any(t.open for t in run.tasks)
        ]
        # While the applicant owes materials (or a choice after a failed
        # pickup) the window can only reject.
        waiting = self.state == State.SUPPLEMENT_REQUESTED
        waiting = waiting or failed_shipments.awaiting_materials_choice(self)
        if waiting and action != "reject":
            allowing = []
        if not allowing:
            now_allowed = sorted(
                {
                    a
                    for run in open_runs
                    if any(t.open for t in run.tasks)
                    for a in ACTIONS[run.kind]
                    if not waiting or a == "reject"
                }
            )
            detail = ", ".join(now_allowed) if now_allowed else "no staff action"
            raise InvalidTransition(
                f"{action} is not possible now; the case allows {detail} (state {self.state})"
            )
        for run in allowing:
            for task in run.tasks:
                if task.open and self._may_do(actor, task):
                    return run, task
        for run in allowing:
            for task in run.tasks:
                # The actor's department did its part already: its work's
                # state forbids a second decision, not the actor's rights.
                if task.decision is not None and self._may_do(actor, task):
                    raise InvalidTransition(
                        f"{task.department_code} decided step {run.id} already ({task.decision})"
                    )
        wanted = "; ".join(
            f"step {run.id}: {_with_article(task.role)} of {task.department_code}"
            for run in allowing
            for task in run.tasks
            if task.open
        )
        raise Forbidden(f"{action} needs {wanted}")

    def _may_do(self, actor: Mapping[str, Any], task: Task) -> bool:
        if actor.get("kind") != "staff" or actor.get("department_code") != task.department_code:
            return False
        roles = _roles(actor)
        if task.role == Role.WINDOW_CLERK:
            # An approver may also take a case on at the window.
            return bool(roles & {Role.WINDOW_CLERK, Role.APPROVER})
        return task.role in roles

    def _accept(
        self,
        run: StepRun,
        task: Task,
        now: datetime,
        actor_id: str | None,
        role: str,
        comment: str,
        calendar: WorkingCalendar,
        *,
        action: str = "accept",
    ) -> None:
        task.decide(StepState.DONE, "accept", actor_id, comment, now)
        run.finish(StepState.DONE, now)
        self.state = State.ACCEPTED
        self._log(now, action, actor_id, role, comment, step=run.id)
        self.events.append(ApplicationAccepted(application_id=self.application_id, accepted_at=now))
        self._advance(local_date(now), calendar, None, now)

    def _request_supplement(
        self, actor, run: StepRun, task: Task, comment, missing, now: datetime
    ) -> None:
        comment = _require_comment(comment, "say which materials are missing")
        names, problems = _material_names(missing)
        if problems:
            raise ValidationFailed(problems)
        today = local_date(now)
        self.state = State.SUPPLEMENT_REQUESTED
        self.missing_materials = names
        self.supplement_due = today + timedelta(days=self.process.supplement_days)
        self.clock.stop(today, "supplement")
        self._log(
            now,
            "request_supplement",
            actor["user_id"],
            _role_of(actor, task),
            comment,
            step=run.id,
        )
        self.events.append(
            SupplementRequested(
                application_id=self.application_id,
                comment=comment,
                missing_materials=list(names),
                supplement_due=self.supplement_due,
            )
        )

    def _approve(self, run, task, actor, comment, calendar, licence_numbers, now) -> None:
        role = _role_of(actor, task)
        task.decide(StepState.DONE, "approve", actor["user_id"], comment or "", now)
        if run.kind == "parallel":
            definition = self.process.step(run.id)
            approved = sum(1 for t in run.tasks if t.decision == "approve")
            if approved < definition.join.needed(len(run.tasks)):
                self._log(now, "approve", actor["user_id"], role, comment or "", step=run.id)
                return
            run.close_open_tasks(StepState.NOT_NEEDED)
        self._pass(run, now)
        self._log(now, "approve", actor["user_id"], role, comment or "", step=run.id)
        self._advance(local_date(now), calendar, licence_numbers, now)

    def _pass(self, run: StepRun, now: datetime) -> None:
        """``run`` is done: the case is approved when no step is left, and taken
        on (accepted) when a step passed while it was still submitted (a process
        without an accept step). Set before the step's timeline entry, which
        shows the state after it."""
        run.finish(StepState.DONE, now)
        if all(other.state != StepState.PENDING for other in self.steps):
            self.state = State.APPROVED
        elif self.state == State.SUBMITTED:
            self.state = State.ACCEPTED

    def _deny(self, run, task, actor, comment, calendar, now) -> None:
        comment = _require_comment(comment, "a denial must give the reason")
        role = _role_of(actor, task)
        task.decide(StepState.DENIED, "deny", actor["user_id"], comment, now)
        if run.kind == "parallel":
            definition = self.process.step(run.id)
            possible = sum(1 for t in run.tasks if t.decision == "approve" or t.open)
            if possible >= definition.join.needed(len(run.tasks)):
                # The join can still be met by the branches left.
                self._log(now, "deny", actor["user_id"], role, comment, step=run.id)
                return
            comment = f"{task.department_code}: {comment}"
        run.finish(StepState.DENIED, now)
        self._decided(now, calendar, task.department_code or self.department_code)
        self.events.append(
            ApplicationDenied(
                application_id=self.application_id,
                applicant_id=self.applicant_id,
                comment=comment,
            )
        )
        self._end(State.DENIED, now, "deny", actor["user_id"], role, comment, step=run.id)

    def _start(self, index: int, on: date, calendar: WorkingCalendar, now: datetime) -> None:
        """Open step ``index``: its tasks start ``on`` that day with their own due dates."""
        run = self.steps[index]
        definition = self.process.step(run.id)
        run.state = StepState.ACTIVE
        run.started_on = on
        if definition.kind == "parallel":
            run.tasks = [
                Task(
                    department_code=branch.department_code or self.department_code,
                    role=branch.role,
                    days=branch.days,
                )
                for branch in definition.branches
            ]
        elif definition.kind == "auto":
            run.tasks = []
            run.due_date = calendar.add_working_days(on, definition.days)
            self.events.append(AutoStepStarted(application_id=self.application_id, step_id=run.id))
            return
        elif definition.kind in EVIDENCE_KINDS:
            # Met at once by evidence found, else a person's task (domain.evidence).
            run.tasks = []
            run.due_date = calendar.add_working_days(on, definition.days)
            self.events.append(
                EvidenceStepStarted(application_id=self.application_id, step_id=run.id)
            )
            return
        elif definition.kind == "payment":
            self._start_payment(run, definition.days, on, now)
            return
        else:
            run.tasks = [
                Task(
                    department_code=definition.department_code or self.department_code,
                    role=definition.role,
                    days=definition.days,
                )
            ]
        for task in run.tasks:
            task.start(on, calendar)
        run.due_date = max(task.due_date for task in run.tasks)

    def _advance(
        self,
        on: date,
        calendar: WorkingCalendar,
        licence_numbers: LicenceNumbers | None,
        now: datetime,
    ) -> None:
        """Start the next pending step; approve the case when none is left."""
        for index, run in enumerate(self.steps):
            if run.state == StepState.PENDING:
                self._start(index, on, calendar, now)
                return
        if licence_numbers is None:
            raise TypeError("the last step approves the case: licence_numbers are needed")
        self._approve_case(licence_numbers, calendar, now)

    def _approve_case(
        self, licence_numbers: LicenceNumbers, calendar: WorkingCalendar, now: datetime
    ) -> None:
        self.state = State.APPROVED
        self._decided(now, calendar, self.department_code)
        self.events.append(
            ApplicationApproved(
                application_id=self.application_id,
                applicant_id=self.applicant_id,
                item_id=self.item_id,
                delivery=copy_json(self.delivery),
                approved_at=now,
            )
        )
        self._issue_licence(licence_numbers, now)
        if self.delivery["mode"] != DeliveryMode.EXPRESS:
            self._complete(now)

    def _end(
        self,
        state: State,
        now: datetime,
        action: str,
        actor_id: str | None,
        role: str,
        comment: str,
        *,
        step: str | None = None,
    ) -> None:
        """Close the case in ``state``: work left undone is closed, so is a
        special procedure still running (its clock stays where it stopped) and
        an extension request still waiting."""
        for run in self.steps:
            run.close_open_tasks()
            if run.open:
                run.finish(StepState.CLOSED, now)
            elif run.state == StepState.PENDING:
                run.state = StepState.CLOSED
        suspension = self._open_suspension()
        if suspension is not None:
            suspension.ended_at = now
            suspension.result = f"the case ended ({state})"
        extension = self._pending_extension()
        if extension is not None:
            extension.state = ExtensionState.REFUSED
            extension.decided_at = now
            extension.comment = f"the case ended ({state})"
        self.state = state
        self._settle_escalations(now)
        self._settle_payment(now)
        self._log(now, action, actor_id, role, comment, step=step)
        self.events.append(self._ended(str(state), now))

    def _decided(self, now: datetime, calendar: WorkingCalendar, handled_by: str) -> None:
        """Record the decision: its day, the department that made it, and the
        working days the case took to it, the days its clock stood still left
        out (a stop still running too: the window may reject a case while it
        waits for the applicant's materials)."""
        on = local_date(now)
        taken = calendar.working_days_between(local_date(self.submitted_at), on)
        still = self.clock.stood_still + self.clock.waited_so_far(on, calendar)
        self.decision = {
            "on": on,
            "working_days": max(taken - still, 0),
            "handled_by": handled_by,
        }

    def _ended(self, outcome: str, now: datetime) -> ApplicationEnded:
        decision = self.decision or {}
        decided_on = decision.get("on") or local_date(now)
        # The due date waits while the clock stands still (补正期间不计入时限):
        # a case decided or ended then is measured to the day its clock stopped.
        if self.clock.stopped_on is not None:
            decided_on = min(decided_on, self.clock.stopped_on)
        return ApplicationEnded(
            application_id=self.application_id,
            applicant_id=self.applicant_id,
            item_id=self.item_id,
            item_name=self.item_name,
            department_code=self.department_code,
            handled_by=decision.get("handled_by") or self.department_code,
            region_code=self.region_code,
            store_id=self.store_id,
            mode=self.delivery["mode"],
            outcome=outcome,
            submitted_at=self.submitted_at,
            ended_at=now,
            due_date=self.due_date,
            on_time=decided_on <= self.due_date,
            working_days=decision.get("working_days"),
            principal_id=principal_user_id(self.on_behalf_of),
        )

    def _restart_clock(self, on: date, calendar: WorkingCalendar) -> int:
        waited = self.clock.restart(on, calendar)
        self._move_due_dates(waited, calendar)
        return waited

    def _move_due_dates(self, working_days: int, calendar: WorkingCalendar) -> None:
        """Every running due date, the case's and its open work's, moves by
        ``working_days`` working days."""
        if working_days <= 0:
            return
        self.due_date = calendar.add_working_days(self.due_date, working_days)
        self.legal_due_date = calendar.add_working_days(self.legal_due_date, working_days)
        for run in self.steps:
            if not run.open:
                continue
            for task in run.tasks:
                if task.open and task.due_date is not None:
                    task.due_date = calendar.add_working_days(task.due_date, working_days)
            if run.due_date is not None:
                run.due_date = calendar.add_working_days(run.due_date, working_days)
        self._note_calendar(calendar, local_date(self.submitted_at), self.legal_due_date)

    def _note_calendar(self, calendar: WorkingCalendar, start: date, end: date) -> None:
        if not calendar.covers(start, end):
            self.calendar_provisional = True

    def _pending_extension(self) -> Extension | None:
        return next((e for e in self.extensions if e.state == ExtensionState.REQUESTED), None)

    def _extension_left(self) -> int:
        limit = self.process.extension_days
        if limit is None:
            limit = self.statutory_days
        used = sum(e.working_days for e in self.extensions if e.state == ExtensionState.APPROVED)
        return max(limit - used, 0)

    def _open_suspension(self) -> Suspension | None:
        return next((s for s in self.suspensions if s.open), None)

    def _is_owner_staff(self, actor: Mapping[str, Any], role: str) -> bool:
        return (
            actor.get("kind") == "staff"
            and actor.get("department_code") == self.department_code
            and role in _roles(actor)
        )

    def _may_suspend(self, actor: Mapping[str, Any]) -> bool:
        """Staff (window clerk or approver) of the item's department or of a
        department with open work on the case."""
        if actor.get("kind") != "staff" or not _roles(actor) & {Role.WINDOW_CLERK, Role.APPROVER}:
            return False
        department = actor.get("department_code")
        if department == self.department_code:
            return True
        return any(
            task.open and task.department_code == department
            for run in self.steps
            for task in run.tasks
        )

    def _is_applicant(self, actor: Mapping[str, Any]) -> bool:
        """The applicant's side: the applicant (an agent while their mandate
        holds: ``actor["mandate_lapsed"]`` says when it does not), and for a
        case applied for someone the principal (the person, the enterprise's
        owner and members)."""
        if speaks_for(self.on_behalf_of, actor):
            return True
        if not actor.get("user_id") or actor.get("user_id") != self.applicant_id:
            return False
        if actor.get("kind") == "citizen":
            return not (self.on_behalf_of and actor.get(MANDATE_LAPSED))
        # Staff apply only as agents, so only for someone else.
        return (
            actor.get("kind") == "staff"
            and bool(self.on_behalf_of)
            and not actor.get(MANDATE_LAPSED)
        )

    def _issue_licence(self, licence_numbers: LicenceNumbers, now: datetime) -> None:
        snapshot = {
            "item_id": self.item_id,
            "name": self.item_name,
            "department_code": self.department_code,
            "region_code": self.region_code,
        }
        self.licence = licence_numbers.issue(
            application_id=self.application_id,
            holder_id=self._holder_id(),
            principal=self.on_behalf_of,
            item_id=self.item_id,
            item_name=self.item_name,
            department_code=self.department_code,
            licence_type=self.licence_type or LicenceType.of_item(snapshot),
            issuer_uscc=self.issuer_uscc or issuer_uscc_of(snapshot),
            content=self.form,
            issued_at=now,
            issued_on=local_date(now),
        )
        licence_no = self.licence.licence_no
        self.licence_no = licence_no
        self._log(now, "issue_licence", None, Role.SYSTEM)
        self.events.append(
            LicenceIssued(
                licence_no=licence_no,
                application_id=self.application_id,
                applicant_id=self.applicant_id,
                item_id=self.item_id,
                department_code=self.department_code,
                delivery=copy_json(self.delivery),
                window=_copy_window(self.window),
            )
        )

    def _complete(self, now: datetime) -> None:
        self.state = State.COMPLETED
        self._log(now, "complete", None, Role.SYSTEM)
        self.events.append(
            ApplicationCompleted(
                application_id=self.application_id,
                applicant_id=self.applicant_id,
                item_id=self.item_id,
                item_name=self.item_name,
                department_code=self.department_code,
                region_code=self.region_code,
                store_id=self.store_id,
                completed_at=now,
            )
        )
        self.events.append(self._ended("completed", now))

    @property
    def holder_id(self) -> str:
        """Whose the case's licence is: the principal's credit code or user id,
        else the applicant's user id."""
        return holder_of(self.on_behalf_of, self.applicant_id)

    def _holder_id(self) -> str:
        return self.holder_id

    def _log(
        self,
        now: datetime,
        action: str,
        actor_id: str | None,
        role: str,
        comment: str = "",
        *,
        step: str | None = None,
    ) -> None:
        self.timeline.append(
            TimelineEntry(
                at=now,
                state=str(self.state),
                action=action,
                actor_id=actor_id,
                actor_role=str(role),
                comment=comment,
                step=step,
                on_behalf_of=(
                    dict(self.on_behalf_of)
                    if self.on_behalf_of and str(role) == Role.APPLICANT
                    else None
                ),
            )
        )

    def _require_state(self, action: str, *allowed: State) -> None:
        if self.state not in allowed:
            raise InvalidTransition(f"cannot {action} a case that is {self.state}")

    def _require_express(self, notice: str) -> None:
        if self.delivery["mode"] != DeliveryMode.EXPRESS:
            raise InvalidTransition(
                f"{notice} only applies to express delivery, this case is {self.delivery['mode']}"
            )

    def _require_applicant(self, actor: Mapping[str, Any], action: str) -> None:
        if not self._is_applicant(actor):
            raise Forbidden(f"only the applicant may {action}")


# ------------------------------------------------------------------- helpers


def _copy_window(window: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return dict(window) if window else None


def _roles(actor: Mapping[str, Any]) -> set[str]:
    return set(actor.get("roles") or ())


def _with_article(word: str) -> str:
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


def _role_of(actor: Mapping[str, Any], task: Task) -> str:
    """The role in which ``actor`` does ``task``: the task's own when the actor
    has it (an approver may do a window clerk's task as approver)."""
    roles = _roles(actor)
    if task.role in roles:
        return task.role
    return _staff_role(actor)


def _staff_role(actor: Mapping[str, Any]) -> str:
    roles = _roles(actor)
    for role in (Role.APPROVER, Role.WINDOW_CLERK, DEPT_ADMIN):
        if role in roles:
            return str(role)
    return str(Role.SYSTEM)


def _require_text(value: Any, name: str, problem: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed({name: problem})
    return value.strip()


def _material_names(missing: Any) -> tuple[list[str], dict[str, str]]:
    """The names of the missing materials a supplement request lists."""
    if missing is None:
        return [], {}
    if not isinstance(missing, list):
        return [], {"missing_materials": "must be a list of material names"}
    problems = {
        f"missing_materials.{index}": "must be a material's name"
        for index, name in enumerate(missing)
        if _blank(name)
    }
    return [name.strip() for name in missing if not _blank(name)], problems


def _aware(now: datetime | None) -> datetime:
    if now is None:
        return clock.now()
    if now.tzinfo is None:
        raise ValueError("instants must be timezone-aware")
    return now


def local_date(instant: datetime) -> date:
    """The Jiangsu calendar day of an instant."""
    return instant.astimezone(CHINA_TZ).date()


def _require_comment(comment: Any, problem: str) -> str:
    if not isinstance(comment, str) or not comment.strip():
        raise ValidationFailed({"comment": problem})
    return comment.strip()


def _blank(value: Any) -> bool:
    return not isinstance(value, str) or not value.strip()


def _check_materials(materials: Any, *, required: bool) -> tuple[list[dict], dict[str, str]]:
    if not isinstance(materials, list):
        return [], {"materials": "must be a list"}
    if required and not materials:
        return [], {"materials": "at least one material is required"}
    errors: dict[str, str] = {}
    for index, material in enumerate(materials):
        if not isinstance(material, Mapping):
            errors[f"materials.{index}"] = "must be an object with a name"
        elif _blank(material.get("name")):
            errors[f"materials.{index}.name"] = "is required"
    if errors:
        return [], errors
    return [copy_json(dict(material)) for material in materials], {}


def _check_delivery(delivery: Any, modes: tuple[str, ...]) -> tuple[dict, dict[str, str]]:
    if not isinstance(delivery, Mapping):
        return {}, {"delivery": "must be an object with a mode"}
    errors: dict[str, str] = {}
    mode = delivery.get("mode")
    if not isinstance(mode, str) or mode not in tuple(DeliveryMode):
        errors["delivery.mode"] = "must be one of online, express, window"
    elif mode not in modes:
        errors["delivery.mode"] = f"this item offers {', '.join(modes) or 'no delivery'}"
    address = None
    if mode == DeliveryMode.EXPRESS:
        address, address_errors = _check_address(delivery.get("address"))
        errors.update(address_errors)
    # Other modes need no address; one sent anyway is dropped, not kept unchecked.
    return {"mode": mode, "address": address}, errors


def _check_address(address: Any) -> tuple[dict | None, dict[str, str]]:
    if not isinstance(address, Mapping):
        return None, {"delivery.address": "is required for express delivery"}
    errors = {
        f"delivery.address.{name}": "is required"
        for name in ADDRESS_FIELDS
        if _blank(address.get(name))
    }
    phone = address.get("phone")
    if "delivery.address.phone" not in errors and not _PHONE.fullmatch(phone.strip()):
        errors["delivery.address.phone"] = "must be 11 digits"
    postcode = address.get("postcode")
    if postcode not in (None, "") and not (
        isinstance(postcode, str) and _POSTCODE.fullmatch(postcode)
    ):
        errors["delivery.address.postcode"] = "must be 6 digits"
    if errors:
        return None, errors
    clean = {name: address[name].strip() for name in ADDRESS_FIELDS}
    clean["postcode"] = postcode or None
    return clean, {}


def fees_of(fees: Any) -> tuple[dict[str, Any], ...]:
    """catalog's ``fees`` as the case keeps them: each with a name, a whole
    ``amount_fen`` of at least 0 and whether a waiver covers it. Anything
    else (the free text the catalogue once had, a missing list) is no fee."""
    if not isinstance(fees, list):
        return ()
    kept = []
    for fee in fees:
        if not isinstance(fee, Mapping):
            continue
        amount = fee.get("amount_fen")
        if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
            continue
        kept.append(
            {
                "name": str(fee.get("name") or ""),
                "amount_fen": amount,
                "standard": str(fee.get("standard") or ""),
                "legal_basis": str(fee.get("legal_basis") or ""),
                "waivable": bool(fee.get("waivable")),
            }
        )
    return tuple(kept)


def _fee_waiver_of(waiver: Any) -> dict[str, Any] | None:
    if not isinstance(waiver, Mapping) or not isinstance(waiver.get("rule"), Mapping):
        return None
    return {"description": str(waiver.get("description") or ""), "rule": dict(waiver["rule"])}
