"""The Alembic migrations build exactly the tables the code declares."""

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from services.common.migrations import alembic_config
from services.courier import bootstrap
from services.courier.adapters.orm import metadata


def test_upgrade_matches_the_metadata_and_downgrade_removes_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'courier.db'}"
    config = alembic_config("courier", url)

    command.upgrade(config, "head")
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), metadata) == []

    command.downgrade(config, "base")
    assert set(sa.inspect(engine).get_table_names()) == {"alembic_version"}
    engine.dispose()


def test_there_is_no_demo_data():
    assert bootstrap.load_demo(None) == {}
