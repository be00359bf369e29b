"""The migrations build exactly the tables the code uses, and take them down again."""

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from services.common.migrations import alembic_config, upgrade
from services.identity.adapters.orm import metadata


def test_upgrade_matches_the_metadata_and_downgrade_removes_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'identity.db'}"
    upgrade("identity", url)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), metadata) == []
        command.downgrade(alembic_config("identity", url), "base")
        assert sa.inspect(engine).get_table_names() == ["alembic_version"]
    finally:
        engine.dispose()
