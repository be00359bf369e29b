"""The Alembic migrations build exactly the tables the code declares (SQLite;
``tests/integration/test_migrations.py`` runs the same on PostgreSQL)."""

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from services.common.migrations import alembic_config
from services.ratings.adapters.orm import metadata


def check_constraints(inspector) -> dict[str, set[str]]:
    """The named CHECK constraints of each table (compare_metadata leaves them out)."""
    return {
        table: {check["name"] for check in inspector.get_check_constraints(table)}
        for table in metadata.tables
    }


def declared_check_constraints() -> dict[str, set[str]]:
    return {
        name: {
            constraint.name
            for constraint in table.constraints
            if isinstance(constraint, sa.CheckConstraint)
        }
        for name, table in metadata.tables.items()
    }


def upgrade_and_downgrade(url: str) -> None:
    config = alembic_config("ratings", url)
    command.upgrade(config, "head")
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), metadata) == []
            assert check_constraints(sa.inspect(connection)) == declared_check_constraints()
        command.downgrade(config, "base")
        assert sa.inspect(engine).get_table_names() == ["alembic_version"]
    finally:
        engine.dispose()


def test_migrations_match_the_tables_and_go_down_again(tmp_path):
    upgrade_and_downgrade(f"sqlite:///{tmp_path / 'ratings.db'}")
