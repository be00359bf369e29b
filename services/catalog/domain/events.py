"""Domain events of the catalog (exchange ``catalog.events``, routing key = ``type``).

Aggregates append these to their ``events`` list; the service layer moves them to
the outbox in the same transaction as the change.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from .model import Window


@dataclass(frozen=True)
class Event:
    type: ClassVar[str]

    def payload(self) -> dict:
        """JSON-ready body of the event (tuples become lists)."""
        return _jsonable(asdict(self))


def _jsonable(value):
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    return value


@dataclass(frozen=True)
class ItemPublished(Event):
    """An item became visible to the public, or a published item's guide changed.

    Carries what other services need to take an application for it: where it is
    handled (``handled_by`` names the workflow instance), the window that receives
    mailed materials, the store that collects its reviews.
    """

    type: ClassVar[str] = "item_published"

    item_id: str
    code: str
    name: str
    department_code: str
    region_code: str
    level: str
    store_id: str | None
    promised_days: int
    modes: tuple[str, ...]
    joint_departments: tuple[str, ...]
    window: Window | None
    handled_by: str


@dataclass(frozen=True)
class ItemRetired(Event):
    """An item was withdrawn from the catalogue; no new applications for it."""

    type: ClassVar[str] = "item_retired"

    item_id: str


@dataclass(frozen=True)
class StoreRatingUpdated(Event):
    """A flagship store's rating changed: ratings announced new figures
    (a review counted, or excluded by an upheld appeal)."""

    type: ClassVar[str] = "store_rating_updated"

    store_id: str
    reviews: int
    praise_rate: float | None
    average_grade: float | None
