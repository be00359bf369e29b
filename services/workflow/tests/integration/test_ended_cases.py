"""Ended cases on the test database (PostgreSQL where one is reachable), migrated
to head: the decision and the days the clock stood still, kept in the case's
progress, outlast the transaction that recorded them, so an express case's
``application_ended`` at the delivery counts to its approval; a loaded calendar
year is announced through the outbox.

The checks are the unit tests' (``tests/unit/test_repository.py`` and
``test_use_cases.py``), collected here again with a ``uow`` of this kind.
"""

import pytest
from alembic import command
from sqlalchemy.orm import sessionmaker

from services.common.db import make_engine
from services.common.migrations import alembic_config
from services.workflow.service_layer.unit_of_work import WorkflowUnitOfWork
from services.workflow.tests.unit.conftest import PII_KEY, only_2026_shipped  # noqa: F401
from services.workflow.tests.unit.test_repository import (  # noqa: F401  (collected here too)
    test_the_decision_and_the_days_the_clock_stood_still_outlast_the_transaction,
)
from services.workflow.tests.unit.test_use_cases import (  # noqa: F401
    test_a_loaded_year_is_announced_with_its_days_in_order,
)


@pytest.fixture
def uow(database_factory, only_2026_shipped):  # noqa: F811
    url = database_factory("workflow")
    command.upgrade(alembic_config("workflow", url), "head")
    engine = make_engine(url)
    unit = WorkflowUnitOfWork(sessionmaker(bind=engine, expire_on_commit=False), source="workflow")
    unit.config = {"PII_KEY": PII_KEY.hex()}
    yield unit
    engine.dispose()
