"""Working-day calendar: promised handling times count working days, not days.

China moves weekend days around its public holidays (调休): some weekdays are days
off and some Saturdays or Sundays are working days. A calendar therefore needs both
sets on top of the ordinary Monday-to-Friday week.

Plain Python, shared by every service that counts working days (workflow's time
limits, ratings' rectification deadlines). The State Council's schedule of each
year ships with the code as ``calendars/<year>.json`` beside this module
(:func:`shipped_schedule` reads one); each service keeps its own copy of the
years an operator loads or corrects (workflow's ``calendar_loaded``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

_ONE_DAY = timedelta(days=1)

# The official schedules shipped with the code: calendars/<year>.json.
SHIPPED_CALENDARS = Path(__file__).resolve().parent / "calendars"


@dataclass(frozen=True)
class WorkingCalendar:
    """Weekdays are working days, except ``holidays``; ``extra_workdays`` are
    weekend days that are worked (make-up days).

    ``years`` are the years whose official schedule is loaded. A date in another
    year is counted on weekdays only, which the State Council's notice for that
    year may change: :meth:`covers` says whether a span is sure. None: every
    year counts as loaded (a calendar built by hand, in tests).
    """

    holidays: frozenset[date] = field(default_factory=frozenset)
    extra_workdays: frozenset[date] = field(default_factory=frozenset)
    years: frozenset[int] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "extra_workdays", frozenset(self.extra_workdays))
        if self.years is not None:
            object.__setattr__(self, "years", frozenset(self.years))
        both = self.holidays & self.extra_workdays
        if both:
            listed = ", ".join(d.isoformat() for d in sorted(both))
            raise ValueError(f"dates cannot be both a holiday and a workday: {listed}")

    def covers(self, start: date, end: date) -> bool:
        """Whether every year from ``start``'s to ``end``'s is loaded."""
        if self.years is None:
            return True
        first, last = sorted((start.year, end.year))
        return all(year in self.years for year in range(first, last + 1))

    def is_working_day(self, d: date) -> bool:
        if d in self.extra_workdays:
            return True
        if d in self.holidays:
            return False
        return d.weekday() < 5

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after ``start`` (``start`` itself never counts).

        This is the due date of a case submitted on ``start`` with ``n`` promised
        days; ``n == 0`` gives ``start``.
        """
        if n < 0:
            raise ValueError("n must not be negative")
        d = start
        remaining = n
        while remaining:
            d += _ONE_DAY
            if self.is_working_day(d):
                remaining -= 1
        return d

    def working_days_between(self, a: date, b: date) -> int:
        """Working days in (a, b]: after ``a`` up to and including ``b``.

        The inverse of ``add_working_days``; negative when ``b`` is before ``a``.
        """
        if b < a:
            return -self.working_days_between(b, a)
        count = 0
        d = a
        while d < b:
            d += _ONE_DAY
            if self.is_working_day(d):
                count += 1
        return count

    def declare_holiday(self, *days: date) -> WorkingCalendar:
        """A copy in which ``days`` are off (and no longer make-up workdays)."""
        return WorkingCalendar(
            self.holidays | set(days), self.extra_workdays - set(days), self.years
        )

    def declare_workday(self, *days: date) -> WorkingCalendar:
        """A copy in which ``days`` are worked (and no longer holidays)."""
        return WorkingCalendar(
            self.holidays - set(days), self.extra_workdays | set(days), self.years
        )

    @classmethod
    def combine(cls, calendars: Iterable[WorkingCalendar]) -> WorkingCalendar:
        """One calendar from several (for example one per year)."""
        holidays: set[date] = set()
        workdays: set[date] = set()
        years: set[int] | None = set()
        for calendar in calendars:
            holidays |= calendar.holidays
            workdays |= calendar.extra_workdays
            years = None if years is None or calendar.years is None else years | calendar.years
        return cls(holidays, workdays, years)


def year_calendar(year: int, holidays: Iterable[date], workdays: Iterable[date]) -> WorkingCalendar:
    """One year's official schedule: its holidays and make-up workdays, each in
    ``year``; ValueError naming a day of another year or one in both lists."""
    holidays, workdays = set(holidays), set(workdays)
    stray = sorted(day for day in holidays | workdays if day.year != year)
    if stray:
        raise ValueError(f"{stray[0].isoformat()} is not in {year}")
    return WorkingCalendar(holidays, workdays, frozenset({year}))


def shipped_years(directory: Path = SHIPPED_CALENDARS) -> list[int]:
    """The years whose schedule ships with the code (in ``directory``), in order."""
    return sorted(int(path.stem) for path in directory.glob("[0-9][0-9][0-9][0-9].json"))


def shipped_schedule(year: int, directory: Path = SHIPPED_CALENDARS) -> dict | None:
    """The schedule of ``year`` shipped with the code, as ``{year, holidays,
    workdays, source}`` (sorted lists of ``date``; each closure of the file
    opened up day by day), or None when no file ships for that year."""
    path = directory / f"{year}.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    holidays: set[date] = set()
    for closure in data["holidays"]:
        first, last = date.fromisoformat(closure["from"]), date.fromisoformat(closure["to"])
        holidays |= {
            date.fromordinal(day) for day in range(first.toordinal(), last.toordinal() + 1)
        }
    return {
        "year": year,
        "holidays": sorted(holidays),
        "workdays": sorted(date.fromisoformat(day["day"]) for day in data["workdays"]),
        "source": data.get("source", ""),
    }
