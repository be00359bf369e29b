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


@dataclass(frozen=True)
class ApplicationAccepted(Event):
    """The window took the case on (clerk, EMS delivery of the materials, or a
    supplement answering a request)."""

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
    """The applicant must add materials; ``comment`` says which."""

    type: ClassVar[str] = "supplement_requested"
    application_id: str
    comment: str


@dataclass(frozen=True)
class ApplicationApproved(Event):
    """Every reviewing department approved."""

    type: ClassVar[str] = "application_approved"
    application_id: str
    applicant_id: str
    item_id: str
    delivery: dict[str, Any]
    approved_at: datetime


@dataclass(frozen=True)
class ApplicationDenied(Event):
    """A reviewing department denied; the case is closed."""

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
