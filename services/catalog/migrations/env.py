"""Alembic environment of the catalog database."""

from services.catalog.adapters.orm import metadata
from services.common.alembic_env import run_migrations

run_migrations(metadata)
