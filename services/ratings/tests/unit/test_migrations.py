"""The Alembic migrations build exactly the tables the code declares (SQLite)."""

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from services.common.migrations import alembic_config
from services.ratings.adapters.orm import metadata


def test_migrations_match_the_tables_and_go_down_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'ratings.db'}"
    config = alembic_config("ratings", url)

    command.upgrade(config, "head")
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), metadata) == []
        command.downgrade(config, "base")
        assert sa.inspect(engine).get_table_names() == ["alembic_version"]
    finally:
        engine.dispose()
