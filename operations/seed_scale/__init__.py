"""The seed's volumes, loaded into the cluster's PostgreSQL databases.

    python -m operations.seed_scale                       # what `make seed-scale` does
    python -m operations.seed_scale --only catalog,identity --scale 0.01

Catalog: 41 provincial departments and their counterparts in the 13 cities and
95 counties, 1,327 basic items, each implemented by its provincial department,
about 13,000 city items and 61,000 county items derived with 三级四同 intact,
all published with their events in the outbox. Identity: 1.09 million
citizens, 0.61 million real-named. Courier: 270,000 EMS shipments with their
tracking scans. Safe to run twice: what is in place is skipped.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.engine import make_url

from .volumes import Volumes

PARTS = ("catalog", "identity", "courier")


class NotPostgres(Exception):
    """The seed loads PostgreSQL only."""


@dataclass
class Outcome:
    part: str
    seconds: float
    added: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        """The part, its time and the rows it added, or that there was nothing to add."""
        rows = ", ".join(f"{count:,} {name}" for name, count in self.added.items() if count)
        return f"{self.part} {self.seconds:.1f} s: {rows or 'nothing to add'}"

    def line(self) -> str:
        rows = ", ".join(f"{count:,} {name}" for name, count in self.added.items())
        if not any(self.added.values()):
            rows = f"nothing to add ({rows})" if rows else "nothing to add"
        return f"{self.part:9s} {self.seconds:7.1f} s  {rows}"


def printer(stream=sys.stdout) -> Callable:
    """A report function: a line, or a transient progress line overwritten by the next."""

    def report(text: str, transient: bool = False) -> None:
        if transient and stream.isatty():
            stream.write(f"\r  {text}\033[K")
        elif not transient:
            stream.write(f"\r  {text}\033[K\n" if stream.isatty() else f"  {text}\n")
        stream.flush()

    return report


def require_postgres(service: str, url: str) -> None:
    if make_url(url).get_backend_name() != "postgresql":
        raise NotPostgres(
            f"{service}'s database is {make_url(url).render_as_string(hide_password=True)}: "
            "the seed loads PostgreSQL only. Set DATABASE_URL (for example "
            "DATABASE_URL=postgresql+psycopg2://postgres@127.0.0.1/tongban, the stem of "
            "tongban_catalog, tongban_identity, ...) as for `make run`, or "
            "<SERVICE>_DATABASE_URL."
        )


def seed(
    urls: dict[str, str],
    volumes: Volumes,
    parts=PARTS,
    report: Callable | None = None,
    config: dict | None = None,
) -> list[Outcome]:
    """Migrate the databases of ``parts``, then add
    whatever of the seed's volumes is missing; one outcome per part."""
    import sqlalchemy as sa

    from operations.local_cluster import create_database_if_missing
    from operations.roster import unit_of_work_for
    from services.common.config import load_config
    from services.common.migrations import upgrade

    from . import catalog

    report = report or printer()
    config = config if config is not None else load_config()
    for part in parts:
        require_postgres(part, urls[part])
    for part in parts:
        create_database_if_missing(urls[part])
        upgrade(part, urls[part])
    counties = catalog.counties()
    outcomes = []
    for part in parts:
        started = time.monotonic()
        report(f"{part} ...")
        if part == "catalog":
            with unit_of_work_for("catalog", urls["catalog"]) as uow:
                added = catalog.load(uow, volumes, report)
        else:
            # Raw connections in the driver's own transactions (COPY into
            # temporary tables dropped on commit): a plain engine.
            engine = sa.create_engine(urls[part])
            try:
                with blocking_copy():
                    added = _copy_part(part, engine, volumes, config, counties, report)
            finally:
                engine.dispose()
        outcome = Outcome(part, time.monotonic() - started, added)
        report(outcome.line())
        outcomes.append(outcome)
    return outcomes


def _copy_part(part, engine, volumes, config, counties, report) -> dict[str, int]:
    from . import catalog, courier, identity

    if part == "identity":
        codes = [county["code"] for county in counties]
        return {"citizens": identity.load(engine, volumes, config, codes, report)}
    regions = {r["code"]: r for r in _regions(counties)}
    pairs = courier.places(regions, counties, catalog.CITY_CONTACTS)
    return courier.load(engine, volumes, pairs, report)


@contextmanager
def blocking_copy():
    """psycopg2 refuses COPY while a wait callback is set (psycogreen's, under
    eventlet, as in the tests): lift it for the duration."""
    import psycopg2.extensions

    callback = psycopg2.extensions.get_wait_callback()
    psycopg2.extensions.set_wait_callback(None)
    try:
        yield
    finally:
        psycopg2.extensions.set_wait_callback(callback)


def _regions(counties: list[dict]) -> list[dict]:
    from services.catalog.demo import load_regions

    return [*load_regions(), *counties]
