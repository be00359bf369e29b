from datetime import UTC, datetime

import pytest

from services.ratings.domain.model import ReviewableCase

APPLICANT = {
    "user_id": "u-applicant",
    "kind": "citizen",
    "roles": [],
    "department_code": None,
}
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def completed_payload(**overrides):
    payload = {
        "application_id": "app-1",
        "applicant_id": "u-applicant",
        "item_id": "item-1",
        "item_name": "Food business licence",
        "department_code": "320100-MSA",
        "region_code": "320102",
        "store_id": "store-1",
        "completed_at": "2026-11-24T09:30:00Z",
    }
    payload.update(overrides)
    return payload


@pytest.fixture
def case():
    return ReviewableCase.from_application_completed(completed_payload())


# --- service layer ----------------------------------------------------------

DEPARTMENT = "320100-MSA"
CLERK = {
    "user_id": "u-clerk",
    "kind": "staff",
    "roles": ["window_clerk"],
    "department_code": DEPARTMENT,
    "name": "王窗口",
}
OPERATOR = {
    "user_id": "u-operator",
    "kind": "operator",
    "roles": [],
    "department_code": None,
    "name": "运维",
}


def completed_envelope(**overrides):
    from services.common.messaging.envelope import make_envelope

    return make_envelope("workflow", "application_completed", completed_payload(**overrides))


@pytest.fixture
def uow(uow_factory):
    from services.ratings.service_layer.unit_of_work import RatingsUnitOfWork

    return uow_factory(RatingsUnitOfWork, source="ratings")


def outbox_envelopes(uow):
    """Every envelope the unit of work wrote to the outbox, oldest first."""
    import sqlalchemy as sa

    outbox = uow.metadata.tables["outbox"]
    with uow:
        rows = uow.session.execute(sa.select(outbox.c.envelope).order_by(outbox.c.seq))
        return [row.envelope for row in rows]
