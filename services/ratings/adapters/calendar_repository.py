"""Ratings' copy of the province's working calendar (``calendar_years``).

Rectification deadlines count working days on the calendar workflow keeps: each
year an operator loads or corrects arrives as workflow's ``calendar_loaded``
and replaces the year here. A year not stored is taken from the schedules
shipped with the code (``services/common/calendars/<year>.json``); a year in
neither counts weekdays only.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.common import working_calendar
from services.common.db import stored_instant
from services.common.working_calendar import WorkingCalendar, year_calendar
from services.ratings.adapters import orm

SHIPPED = "shipped"
WORKFLOW = "workflow"

# Where the shipped schedules are read from (tests point it elsewhere).
SHIPPED_CALENDARS = working_calendar.SHIPPED_CALENDARS


def _dates(values: Iterable) -> list[date]:
    return sorted(
        {value if isinstance(value, date) else date.fromisoformat(value) for value in values}
    )


class CalendarRepository:
    """The working calendar, one row per year (``calendar_years``)."""

    table = orm.calendar_years

    def __init__(self, session: Session):
        self.session = session

    def year(self, year: int) -> dict | None:
        """``{year, holidays, workdays, source, loaded_at}`` (dates as ``date``):
        the stored year, else the shipped one (source ``shipped``), else None."""
        row = (
            self.session.execute(sa.select(self.table).where(self.table.c.year == year))
            .mappings()
            .first()
        )
        if row is not None:
            return {
                "year": row["year"],
                "holidays": _dates(row["holidays"]),
                "workdays": _dates(row["workdays"]),
                "source": row["source"],
                "loaded_at": stored_instant(row["loaded_at"]),
            }
        shipped = working_calendar.shipped_schedule(year, SHIPPED_CALENDARS)
        if shipped is None:
            return None
        return {
            "year": year,
            "holidays": shipped["holidays"],
            "workdays": shipped["workdays"],
            "source": SHIPPED,
            "loaded_at": None,
        }

    def load(self) -> WorkingCalendar:
        """Every year stored or shipped, as one calendar (a stored year wins)."""
        years: dict[int, tuple[list[date], list[date]]] = {}
        for year in working_calendar.shipped_years(SHIPPED_CALENDARS):
            shipped = working_calendar.shipped_schedule(year, SHIPPED_CALENDARS)
            years[year] = (shipped["holidays"], shipped["workdays"])
        for row in self.session.execute(
            sa.select(self.table.c.year, self.table.c.holidays, self.table.c.workdays)
        ):
            years[row.year] = (_dates(row.holidays), _dates(row.workdays))
        return WorkingCalendar.combine(
            year_calendar(year, holidays, workdays)
            for year, (holidays, workdays) in sorted(years.items())
        )

    def put(
        self,
        year: int,
        holidays: Iterable[date],
        workdays: Iterable[date],
        *,
        source: str,
        loaded_at: datetime | None,
    ) -> bool:
        """Store ``year``, replacing what is stored unless that was loaded
        later than ``loaded_at`` (an older correction arriving late). A shipped
        year (``loaded_at`` None) replaces only another shipped year. Returns
        whether it was stored. ValueError for a day of another year or one
        both a holiday and a workday (``year_calendar``'s)."""
        holidays, workdays = _dates(holidays), _dates(workdays)
        year_calendar(year, holidays, workdays)
        loaded_at = stored_instant(loaded_at)
        stored = self.session.execute(
            sa.select(self.table.c.loaded_at).where(self.table.c.year == year).with_for_update()
        ).first()
        values = {
            "holidays": [day.isoformat() for day in holidays],
            "workdays": [day.isoformat() for day in workdays],
            "source": source,
            "loaded_at": loaded_at,
        }
        if stored is None:
            self.session.execute(self.table.insert().values(year=year, **values))
            return True
        stored_at = stored_instant(stored.loaded_at)
        if stored_at is not None and (loaded_at is None or loaded_at < stored_at):
            return False
        self.session.execute(self.table.update().where(self.table.c.year == year).values(**values))
        return True

    def store_shipped(self) -> list[int]:
        """Store every shipped year not stored yet (a year workflow loaded is
        left alone); the years stored."""
        stored = set(self.session.execute(sa.select(self.table.c.year)).scalars())
        added = []
        for year in working_calendar.shipped_years(SHIPPED_CALENDARS):
            if year in stored:
                continue
            shipped = working_calendar.shipped_schedule(year, SHIPPED_CALENDARS)
            self.put(year, shipped["holidays"], shipped["workdays"], source=SHIPPED, loaded_at=None)
            added.append(year)
        return added
