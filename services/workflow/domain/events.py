"""Domain events the Application aggregate records.

Each is a frozen dataclass whose class attribute ``type`` is the event name on the
``workflow.events`` exchange; the fields are the payload its schema in
``services.workflow.contract`` (``EVENTS``) documents. Dates and instants stay
``date``/``datetime`` here; the outbox writes them as ISO 8601 strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar


@dataclass(frozen=True)
class Event:
    type: ClassVar[str] = ""


@dataclass(frozen=True)
class ApplicationSubmitted(Event):
    """A case was opened; the courier books a pickup when delivery is express."""

    type: ClassVar[str] = "application_submitted"
    application_id: str
    item_id: str
    item_name: str
    applicant_id: str
    department_code: str
    region_code: str
    store_id: str
    delivery: dict[str, Any]
    window: dict[str, Any] | None
    due_date: date
    submitted_at: datetime


@dataclass(frozen=True)
class ApplicationAccepted(Event):
    """The window took the case on (clerk, or EMS delivery of the materials); a
    supplement only returns the case to the window."""

    type: ClassVar[str] = "application_accepted"
    application_id: str
    accepted_at: datetime


@dataclass(frozen=True)
class ApplicationRejected(Event):
    """The window refused to take the case on (不予受理)."""

    type: ClassVar[str] = "application_rejected"
    application_id: str
    applicant_id: str
    comment: str


@dataclass(frozen=True)
class SupplementRequested(Event):
    """The applicant must add materials, all named at once (一次性告知):
    ``missing_materials`` and the ``comment``; the clock stops until they are
    supplied, at the latest by ``supplement_due``."""

    type: ClassVar[str] = "supplement_requested"
    application_id: str
    comment: str
    missing_materials: list[str]
    supplement_due: date


@dataclass(frozen=True)
class ProcessPublished(Event):
    """A new version of an item's process; applications from now on run it."""

    type: ClassVar[str] = "process_published"
    item_id: str
    version: int
    department_code: str


@dataclass(frozen=True)
class ApplicationSupplemented(Event):
    """The applicant supplied the missing materials; the clock runs again."""

    type: ClassVar[str] = "application_supplemented"
    application_id: str
    supplied_at: datetime
    due_date: date


@dataclass(frozen=True)
class ApplicationNotSupplemented(Event):
    """The applicant did not supply the missing materials in time; the case ended."""

    type: ClassVar[str] = "application_not_supplemented"
    application_id: str
    applicant_id: str
    supplement_due: date


@dataclass(frozen=True)
class AutoStepStarted(Event):
    """An auto step (即办) is open: the instance that owns the case decides it by
    its rules as soon as it has the facts."""

    type: ClassVar[str] = "auto_step_started"
    application_id: str
    step_id: str


@dataclass(frozen=True)
class ExtensionRequested(Event):
    """An approver asked for more working days; the department admin decides."""

    type: ClassVar[str] = "extension_requested"
    application_id: str
    extension_id: str
    department_code: str
    working_days: int
    reason: str


@dataclass(frozen=True)
class ExtensionDecided(Event):
    """The department admin decided an extension; when approved the due dates
    moved to ``due_date`` and ``legal_due_date``."""

    type: ClassVar[str] = "extension_decided"
    application_id: str
    extension_id: str
    approved: bool
    working_days: int
    due_date: date
    legal_due_date: date


@dataclass(frozen=True)
class ApplicationSuspended(Event):
    """A special procedure began; the clock stops until it ends."""

    type: ClassVar[str] = "application_suspended"
    application_id: str
    suspension_id: str
    kind: str


@dataclass(frozen=True)
class ApplicationResumed(Event):
    """A special procedure ended; the due dates moved by the working days it took."""

    type: ClassVar[str] = "application_resumed"
    application_id: str
    suspension_id: str
    working_days: int
    due_date: date


@dataclass(frozen=True)
class ApplicationApproved(Event):
    """The case's last step approved it."""

    type: ClassVar[str] = "application_approved"
    application_id: str
    applicant_id: str
    item_id: str
    delivery: dict[str, Any]
    approved_at: datetime


@dataclass(frozen=True)
class ApplicationDenied(Event):
    """A step denied the case (a department, a join that can no longer be met,
    or an instant decision's rules); ``comment`` says why. The case is closed."""

    type: ClassVar[str] = "application_denied"
    application_id: str
    applicant_id: str
    comment: str


@dataclass(frozen=True)
class LicenceIssued(Event):
    """The electronic licence exists; the courier ships the paper result when
    delivery is express."""

    type: ClassVar[str] = "licence_issued"
    licence_no: str
    application_id: str
    applicant_id: str
    item_id: str
    department_code: str
    delivery: dict[str, Any]
    window: dict[str, Any] | None


@dataclass(frozen=True)
class LicenceRevoked(Event):
    """The issuing department revoked the licence; it fails verification from now on."""

    type: ClassVar[str] = "licence_revoked"
    licence_no: str
    reason: str
    application_id: str
    department_code: str | None
    revoked_at: datetime


@dataclass(frozen=True)
class ApplicationCompleted(Event):
    """The applicant has the result; the case can now be reviewed."""

    type: ClassVar[str] = "application_completed"
    application_id: str
    applicant_id: str
    item_id: str
    item_name: str
    department_code: str
    region_code: str
    store_id: str
    completed_at: datetime


@dataclass(frozen=True)
class ApplicationEnded(Event):
    """The case ended, whatever the outcome (completed, denied, rejected,
    not_supplemented, withdrawn): what evaluation (好差评) and the published
    case figures need of it. ``handled_by`` is the department that decided it
    (a joint review's denying department, else the item's); ``on_time``
    whether it was decided (or ended, undecided) by its promised due date, a
    case whose clock stands still measured to the day it stopped;
    ``working_days`` the working days from submission to the decision, the
    days its clock stood still left out (None when nobody decided it)."""

    type: ClassVar[str] = "application_ended"
    application_id: str
    applicant_id: str
    item_id: str
    item_name: str
    department_code: str
    handled_by: str
    region_code: str
    store_id: str
    mode: str
    outcome: str
    submitted_at: datetime
    ended_at: datetime
    due_date: date
    on_time: bool
    working_days: int | None
    # The person an agent applied for (who may review it too); None otherwise.
    principal_id: str | None = None


@dataclass(frozen=True)
class ApplicationWithdrawn(Event):
    """The applicant withdrew the case."""

    type: ClassVar[str] = "application_withdrawn"
    application_id: str


@dataclass(frozen=True)
class CaseOverdue(Event):
    """The case passed its due date unfinished (recorded once per case)."""

    type: ClassVar[str] = "case_overdue"
    application_id: str
    due_date: date


@dataclass(frozen=True)
class CaseEscalated(Event):
    """Late work was escalated (督办): the task of ``department_code`` at step
    ``step_id``, due ``due_date``, went to ``level`` (its department's admin, or
    later the operator); once per task and level."""

    type: ClassVar[str] = "case_escalated"
    application_id: str
    step_id: str
    department_code: str
    level: str
    due_date: date


@dataclass(frozen=True)
class CalendarLoaded(Event):
    """An operator loaded or corrected a year of the working calendar: its
    public holidays and its make-up working days."""

    type: ClassVar[str] = "calendar_loaded"
    year: int
    holidays: list[date]
    workdays: list[date]


@dataclass(frozen=True)
class RedeliveryRequested(Event):
    """After a failed EMS shipment the applicant asked for another: the courier
    books attempt ``attempt`` in ``direction`` (materials or result), from or to
    ``address`` when given, else between the same ends as before."""

    type: ClassVar[str] = "redelivery_requested"
    application_id: str
    direction: str
    address: dict[str, Any] | None
    attempt: int


@dataclass(frozen=True)
class EvidenceStepStarted(Event):
    """An assessment or licence step opened; the instance that owns the case
    looks for the evidence (workflow consumes this itself)."""

    type: ClassVar[str] = "evidence_step_started"
    application_id: str
    step_id: str


@dataclass(frozen=True)
class PaymentStepStarted(Event):
    """The payment step opened; the instance that owns the case checks the fee
    waiver and creates the order (workflow consumes this itself)."""

    type: ClassVar[str] = "payment_step_started"
    application_id: str
    step_id: str


@dataclass(frozen=True)
class PaymentSettlementDue(Event):
    """The case's order is to be cancelled or its payment refunded at the
    platform (workflow consumes this itself; the payment sweep repeats it)."""

    type: ClassVar[str] = "payment_settlement_due"
    application_id: str
    action: str  # cancel | refund


@dataclass(frozen=True)
class PaymentRequested(Event):
    """An order for the case's fees exists; the applicant pays at the cashier."""

    type: ClassVar[str] = "payment_requested"
    application_id: str
    order_id: str
    amount_fen: int


@dataclass(frozen=True)
class PaymentReceived(Event):
    """The platform reported the order paid."""

    type: ClassVar[str] = "payment_received"
    application_id: str
    order_id: str
    amount_fen: int


@dataclass(frozen=True)
class PaymentRefunded(Event):
    """The payment of a case that ended without approval was refunded."""

    type: ClassVar[str] = "payment_refunded"
    application_id: str
    order_id: str
    amount_fen: int


@dataclass(frozen=True)
class PiiAccessed(Event):
    """A full ID number was read by someone other than its owner: who
    (``accessor_id``, ``accessor_kind``), whose (``subject_id``,
    ``subject_kind``: the person a case's agent applied for by number is
    ``application_principal`` with the application id), why (``purpose``),
    when, and which service read it. identity keeps the trail."""

    type: ClassVar[str] = "pii_accessed"
    accessor_id: str
    accessor_kind: str
    subject_id: str
    subject_kind: str
    purpose: str
    service: str
    at: datetime
