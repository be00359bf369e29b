"""Domain events of the catalog (exchange ``catalog.events``, routing key = ``type``).

Aggregates append these to their ``events`` list; the service layer moves them to
the outbox in the same transaction as the change.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from .fees import Fee, LicenceType
    from .model import Window


@dataclass(frozen=True)
class Event:
    type: ClassVar[str]

    def payload(self) -> dict:
        """JSON-ready body of the event (tuples become lists), with its fields'
        wire names."""
        body = _jsonable(asdict(self))
        for name, wire_name in getattr(self, "wire_names", {}).items():
            body[wire_name] = body.pop(name)
        return body


def _jsonable(value):
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    return value


@dataclass(frozen=True)
class ItemPublished(Event):
    """An item became visible to the public, or a published item's guide changed.

    Carries the item as search shows it (every field of its summary) and what
    other services need to take an application for it: where it is handled
    (``handled_by`` names the workflow instance), the window that receives
    mailed materials, the store that collects its reviews. ``revision`` grows
    with every change of the item: a consumer keeps the highest it saw.
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
    name_en: str = ""
    department_name: str = ""
    status: str = "published"
    transferred_from: str | None = None
    fees: tuple[Fee, ...] = ()
    licence_type: LicenceType | None = None
    basic_code: str | None = None
    implementing_code: str | None = None
    item_type: str | None = None
    case_type: str = "promised"
    serves: tuple[str, ...] = ()
    visits: int = 1
    online_depth: int | None = None
    description: str = ""
    legal_basis: tuple[dict, ...] = ()
    statutory_days: int = 0
    revision: int = 1

    # ``type`` names the event here; in the payload it is the item's type.
    wire_names: ClassVar[dict[str, str]] = {"item_type": "type"}


@dataclass(frozen=True)
class ItemRetired(Event):
    """An item was withdrawn from the catalogue; no new applications for it."""

    type: ClassVar[str] = "item_retired"

    item_id: str
    revision: int = 1


@dataclass(frozen=True)
class BasicItemPublished(Event):
    """A basic item was published or changed (``revision`` grows by one each
    time); every item derived from it follows its name, type and legal basis."""

    type: ClassVar[str] = "basic_item_published"

    basic_code: str
    name: str
    name_en: str
    item_type: str
    legal_basis: tuple[dict, ...]
    department_code: str
    serves: tuple[str, ...]
    description: str
    revision: int

    wire_names: ClassVar[dict[str, str]] = {"item_type": "type"}


@dataclass(frozen=True)
class StoreRatingUpdated(Event):
    """A flagship store's rating changed: ratings announced new figures
    (a review counted, or excluded by an upheld appeal)."""

    type: ClassVar[str] = "store_rating_updated"

    store_id: str
    reviews: int
    praise_rate: float | None
    average_grade: float | None
