"""The shipped working-calendar schedules every service that counts working
days reads (workflow's time limits, ratings' rectification deadlines); the
calendar's own arithmetic is tested with workflow's (test_calendar.py)."""

import json
import shutil
from datetime import date

from services.common.working_calendar import (
    SHIPPED_CALENDARS,
    WorkingCalendar,
    shipped_schedule,
    shipped_years,
    year_calendar,
)


def test_the_schedules_ship_beside_the_calendar():
    assert SHIPPED_CALENDARS.name == "calendars"
    assert SHIPPED_CALENDARS.parent.name == "common"
    assert 2026 in shipped_years()


def test_a_shipped_schedule_opens_every_closure_day_by_day():
    shipped = shipped_schedule(2026)
    source = json.loads((SHIPPED_CALENDARS / "2026.json").read_text(encoding="utf-8"))

    assert shipped["year"] == 2026
    assert shipped["source"] == source["source"]
    assert shipped["holidays"][:3] == [date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3)]
    # 国庆节 1-7 October, its weekend days included.
    assert {date(2026, 10, day) for day in range(1, 8)} <= set(shipped["holidays"])
    assert shipped["holidays"] == sorted(set(shipped["holidays"]))
    assert shipped["workdays"] == [
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    ]


def test_a_shipped_schedule_makes_a_calendar_of_its_year():
    shipped = shipped_schedule(2026)

    calendar = year_calendar(2026, shipped["holidays"], shipped["workdays"])

    assert isinstance(calendar, WorkingCalendar)
    assert calendar.years == frozenset({2026})
    assert not calendar.is_working_day(date(2026, 10, 1))
    assert calendar.is_working_day(date(2026, 10, 10))  # a make-up Saturday


def test_a_year_not_shipped_has_no_schedule():
    assert shipped_schedule(1999) is None


def test_the_schedules_may_be_read_from_another_directory(tmp_path):
    shutil.copy(SHIPPED_CALENDARS / "2026.json", tmp_path / "2031.json")
    (tmp_path / "notes.json").write_text("{}", encoding="utf-8")

    assert shipped_years(tmp_path) == [2031]
    assert shipped_schedule(2026, tmp_path) is None
    assert shipped_schedule(2031, tmp_path)["year"] == 2031
