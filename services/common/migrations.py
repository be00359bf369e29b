"""A service's own Alembic history: its config and the upgrade to head.

Each service keeps its history in ``services/<name>/migrations``; this module
finds it by the service's name and imports no service package. The deploy step
(``python -m operations.migrate``) and the tests that need a migrated database
call it; services never migrate at start.
"""

from alembic import command
from alembic.config import Config

from services.common.config import PROJECT_ROOT, database_url


def alembic_config(service: str, url: str | None = None) -> Config:
    config = Config()
    config.set_main_option(
        "script_location", str(PROJECT_ROOT / "services" / service / "migrations")
    )
    # The option is read through configparser's interpolation, where "%" starts
    # a reference: a URL with an escaped character (a socket path as
    # ?host=%2Fvar%2Frun%2Fpostgresql, a password) has its "%" doubled.
    config.set_main_option("sqlalchemy.url", (url or database_url(service)).replace("%", "%%"))
    return config


def upgrade(service: str, url: str | None = None) -> None:
    command.upgrade(alembic_config(service, url), "head")
