"""Alembic environment of the courier database."""

from services.common.alembic_env import run_migrations
from services.courier.adapters.orm import metadata

run_migrations(metadata)
