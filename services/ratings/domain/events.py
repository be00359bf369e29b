"""Domain events of the ratings service.

Each is a frozen dataclass whose class attribute ``type`` is the event name
published on the ``ratings.events`` exchange. Instants are timezone-aware
``datetime`` values; the wire format (ISO 8601 UTC strings) is the schemas' job.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar


@dataclass(frozen=True)
class Event:
    """Base of ratings domain events."""

    type: ClassVar[str] = ""


@dataclass(frozen=True)
class ReviewSubmitted(Event):
    """An applicant reviewed a completed case; catalog folds the grade into the
    flagship store's praise rate."""

    type: ClassVar[str] = "review_submitted"

    review_id: str
    application_id: str
    store_id: str
    department_code: str
    region_code: str
    item_id: str
    grade: int
    submitted_at: datetime


@dataclass(frozen=True)
class BadReviewFlagged(Event):
    """A review of grade 1 or 2 opened a rectification the department must resolve."""

    type: ClassVar[str] = "bad_review_flagged"

    review_id: str
    rectification_id: str
    application_id: str
    department_code: str
    grade: int


@dataclass(frozen=True)
class RectificationResolved(Event):
    """A department resolved the rectification opened by a bad review."""

    type: ClassVar[str] = "rectification_resolved"

    rectification_id: str
    review_id: str
    application_id: str
    department_code: str
    resolved_by: str
    resolved_at: datetime
