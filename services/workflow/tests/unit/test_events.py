"""The domain's events: one frozen class per event type of the contract."""

import ast
import dataclasses
from pathlib import Path

import pytest

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
        "application_withdrawn",
        "licence_issued",
        "case_overdue",
        "case_escalated",
        "process_published",
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
