"""The domain's events: one frozen class per event type of the contract."""

import ast
import dataclasses
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from services.common.messaging.envelope import envelope_for
from services.common.schemas import load
from services.workflow import contract
from services.workflow.domain import events

DOMAIN = Path(events.__file__).parent

EVENT_CLASSES = [
    cls
    for cls in vars(events).values()
    if isinstance(cls, type) and issubclass(cls, events.Event) and cls is not events.Event
]


def test_every_contract_event_has_a_class():
    assert {cls.type for cls in EVENT_CLASSES} == {
        "application_submitted",
        "application_accepted",
        "application_rejected",
        "supplement_requested",
        "application_supplemented",
        "application_not_supplemented",
        "auto_step_started",
        "extension_requested",
        "extension_decided",
        "application_suspended",
        "application_resumed",
        "application_approved",
        "application_denied",
        "application_completed",
        "application_ended",
        "application_withdrawn",
        "licence_issued",
        "licence_revoked",
        "case_overdue",
        "case_escalated",
        "process_published",
        "calendar_loaded",
        "redelivery_requested",
        "evidence_step_started",
        "payment_step_started",
        "payment_settlement_due",
        "payment_requested",
        "payment_received",
        "payment_refunded",
        "pii_accessed",
    }
    assert {cls.type for cls in EVENT_CLASSES} == set(contract.EVENTS)


@pytest.mark.parametrize("cls", EVENT_CLASSES, ids=lambda cls: cls.type)
def test_each_event_has_the_fields_its_contract_schema_names(cls):
    assert {f.name for f in dataclasses.fields(cls)} == set(contract.EVENTS[cls.type]().fields)


@pytest.mark.parametrize("cls", EVENT_CLASSES, ids=lambda cls: cls.type)
def test_events_are_frozen_and_type_is_not_a_field(cls):
    assert dataclasses.is_dataclass(cls)
    assert cls.__dataclass_params__.frozen
    assert "type" not in {f.name for f in dataclasses.fields(cls)}
    assert cls.__doc__


ENDED = events.ApplicationEnded(
    application_id="a1",
    applicant_id="u-applicant",
    item_id="item-1",
    item_name="食品经营许可",
    department_code="ks-xzsp",
    handled_by="320102-XF",
    region_code="320102",
    store_id="store-1",
    mode="express",
    outcome="denied",
    submitted_at=datetime(2026, 9, 29, 2, 0, tzinfo=UTC),
    ended_at=datetime(2026, 10, 8, 2, 0, tzinfo=UTC),
    due_date=date(2026, 10, 12),
    on_time=True,
    working_days=2,
)


@pytest.mark.parametrize(
    "event",
    [
        ENDED,
        dataclasses.replace(ENDED, outcome="withdrawn", on_time=False, working_days=None),
        events.CalendarLoaded(
            year=2027, holidays=[date(2027, 1, 1), date(2027, 2, 6)], workdays=[date(2027, 1, 31)]
        ),
    ],
    ids=["application_ended", "application_ended undecided", "calendar_loaded"],
)
def test_the_contract_loads_what_the_domain_records(event):
    payload = envelope_for("workflow", event)["payload"]
    loaded = load(contract.EVENTS[event.type], payload)
    assert loaded == {f.name: getattr(event, f.name) for f in dataclasses.fields(event)}


def test_an_application_submitted_sent_before_submitted_at_still_loads():
    sent = {
        "application_id": "a1",
        "item_id": "item-1",
        "item_name": "食品经营许可",
        "applicant_id": "u-applicant",
        "department_code": "ks-xzsp",
        "region_code": "320102",
        "store_id": "store-1",
        "delivery": {"mode": "online", "address": None},
        "window": None,
        "due_date": "2026-10-12",
    }
    assert "submitted_at" not in load(contract.ApplicationSubmitted, sent)
    now = load(contract.ApplicationSubmitted, {**sent, "submitted_at": "2026-09-29T02:00:00Z"})
    assert now["submitted_at"] == datetime(2026, 9, 29, 2, 0, tzinfo=UTC)


def test_an_event_cannot_be_changed():
    event = events.ApplicationWithdrawn(application_id="a1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.application_id = "a2"


@pytest.mark.parametrize("path", sorted(DOMAIN.glob("*.py")), ids=lambda p: p.name)
def test_domain_imports_no_framework(path):
    banned = {"nameko", "marshmallow", "sqlalchemy", "werkzeug", "eventlet", "kombu"}
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            imported.add(node.module.split(".")[0])
    assert not imported & banned
