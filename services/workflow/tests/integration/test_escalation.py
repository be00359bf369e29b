"""Escalation on the test database (PostgreSQL where one is reachable), migrated
to head: the sweep's query on ``tasks``, the locked batches, the ``escalations``
rows and the lists read from them, and the gauge's count.

The checks are the unit tests' (``tests/unit/test_escalation_sweep.py`` and
``test_gauges.py``), collected here again with a ``uow`` of this kind.
"""

import pytest
from alembic import command
from sqlalchemy.orm import sessionmaker

from services.common.db import make_engine
from services.common.migrations import alembic_config
from services.workflow.service_layer.unit_of_work import WorkflowUnitOfWork
from services.workflow.tests.unit.conftest import PII_KEY, only_2026_shipped  # noqa: F401
from services.workflow.tests.unit.test_escalation_sweep import (  # noqa: F401  (collected here too)
    test_a_dept_admin_lists_the_open_escalations_of_their_department,
    test_ended_work_resolves_its_rows,
    test_late_tasks_are_the_open_ones_past_due_not_escalated_that_far,
    test_stopped_clocks_and_ended_cases_are_left_alone,
    test_the_lists_are_paged_newest_first,
    test_the_operator_lists_the_escalations_that_reached_them,
    test_the_signal_is_the_tasks_today_on_its_due_date_as_it_stands,
    test_the_sweep_escalates_each_late_task_once_per_level,
    test_the_sweep_takes_the_operators_delay_it_is_given,
    test_the_sweep_works_in_batches_of_locked_cases,
)
from services.workflow.tests.unit.test_gauges import (  # noqa: F401
    test_open_escalations_are_counted_per_level_until_their_task_is_done,
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
