"""Alembic environment of the identity database."""

from services.common.alembic_env import run_migrations
from services.identity.adapters.orm import metadata

run_migrations(metadata)
