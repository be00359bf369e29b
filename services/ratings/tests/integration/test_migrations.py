"""The ratings migrations on the test database (PostgreSQL where one is
reachable): the tables the code declares, exactly, and 0003 carrying a 0002
database's cases, reviews and rectifications.

The 0003 checks are the unit tests' (``tests/unit/test_migration_0003.py``),
collected here again with a legacy database of this kind.
"""

import pytest
from alembic import command

from services.common.migrations import alembic_config
from services.ratings.tests.unit.test_migration_0003 import (  # noqa: F401  (collected here too)
    migrated,
    store_legacy,
    test_cases_reviews_and_rectifications_are_kept_and_converted,
    test_downgrade_keeps_the_reviews_of_cases,
    test_later_facts_about_kept_reviews_count_once,
    test_the_indicators_count_the_kept_reviews_and_cases,
)
from services.ratings.tests.unit.test_migrations import upgrade_and_downgrade


def test_migrations_match_the_tables_and_go_down_again(database_factory):
    upgrade_and_downgrade(database_factory("ratings"))


@pytest.fixture
def legacy_url(database_factory):
    url = database_factory("ratings")
    command.upgrade(alembic_config("ratings", url), "0002")
    store_legacy(url)
    return url
