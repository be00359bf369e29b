"""The workflow migrations on the test database (PostgreSQL where one is
reachable): the tables the code declares, exactly, and 0003 carrying legacy
cases, their reviews and the calendar.

The legacy checks are the unit tests' (``tests/unit/test_migrations.py``),
collected here again with a ``migrated`` database of this kind.
"""

import pytest
from alembic import command
from sqlalchemy.orm import sessionmaker

from services.common.db import make_engine
from services.common.migrations import alembic_config
from services.workflow.service_layer.unit_of_work import WorkflowUnitOfWork
from services.workflow.tests.unit.conftest import PII_KEY
from services.workflow.tests.unit.test_migrations import (  # noqa: F401  (collected here too)
    store_legacy,
    test_a_licence_issued_before_is_carried_and_keeps_verifying,
    test_legacy_cases_load_as_the_default_process_where_they_stood,
    test_legacy_cases_run_on_to_their_end,
    test_the_old_tables_are_gone_and_the_calendar_is_kept_per_year,
    test_the_worklist_rows_are_the_tasks_the_legacy_cases_load_with,
    upgrade_and_downgrade,
)


def test_upgrade_matches_the_metadata_and_downgrade_removes_it(database_factory):
    upgrade_and_downgrade(database_factory("workflow"))


@pytest.fixture
def migrated(database_factory):
    url = database_factory("workflow")
    config = alembic_config("workflow", url)
    command.upgrade(config, "0002")
    store_legacy(url)
    command.upgrade(config, "head")
    engine = make_engine(url)
    uow = WorkflowUnitOfWork(sessionmaker(bind=engine, expire_on_commit=False), source="workflow")
    uow.config = {"PII_KEY": PII_KEY.hex()}
    yield uow
    engine.dispose()
