"""Alembic environment of the ratings database."""

from services.common.alembic_env import run_migrations
from services.ratings.adapters.orm import metadata

run_migrations(metadata)
