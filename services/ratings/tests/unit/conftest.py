from datetime import UTC, datetime

import pytest

from services.common.testing import citizen, envelope, operator, staff
from services.ratings.domain.model import ReviewableCase

APPLICANT = citizen("u-applicant")
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


@pytest.fixture
def case():
    return ReviewableCase.from_application_ended(ended_payload())


# --- service layer ----------------------------------------------------------

DEPARTMENT = "320100-MSA"
CLERK = staff("u-clerk", DEPARTMENT, "window_clerk", name="王窗口")
OPERATOR = operator("u-operator", name="运维")


@pytest.fixture
def uow(uow_factory):
    from services.ratings.service_layer.unit_of_work import RatingsUnitOfWork

    return uow_factory(RatingsUnitOfWork, source="ratings")


# --- evaluation: ended cases, window visits -----------------------------------


def ended_payload(**overrides):
    """workflow's ``application_ended`` payload, as workflow sends it."""
    payload = {
        "application_id": "app-1",
        "applicant_id": "u-applicant",
        "principal_id": None,
        "item_id": "item-1",
        "item_name": "Food business licence",
        "department_code": DEPARTMENT,
        "handled_by": DEPARTMENT,
        "region_code": "320102",
        "store_id": "store-1",
        "mode": "online",
        "outcome": "completed",
        "submitted_at": "2026-11-20T01:00:00Z",
        "ended_at": "2026-11-24T09:30:00Z",
        "due_date": "2026-11-27",
        "on_time": True,
        "working_days": 3,
    }
    payload.update(overrides)
    return payload


def ended_envelope(**overrides):
    return envelope("workflow", "application_ended", ended_payload(**overrides))


def catalog_item(**overrides):
    """catalog's ``get_item`` answer, as much of it as a visit reads."""
    item = {
        "item_id": "item-1",
        "code": "320100-MSA-001",
        "name": "Food business licence",
        "department_code": DEPARTMENT,
        "region_code": "320102",
        "status": "published",
        "store_id": "store-1",
        "handled_by": "workflow",
    }
    item.update(overrides)
    return item
