"""Alembic environment of the workflow database."""

from services.common.alembic_env import run_migrations
from services.workflow.adapters.orm import metadata

run_migrations(metadata)
