"""The official 2026 PRC public holiday schedule, with its make-up workdays.

Source: 国务院办公厅关于2026年部分节假日安排的通知 (4 November 2025). This is the
national default; a department admin can edit its calendar (add a closure or a
make-up day, see ``WorkingCalendar.declare_holiday``), and persisting those edits
belongs to the adapters, not to this module.
"""

from __future__ import annotations

from datetime import date, timedelta

from .calendar import WorkingCalendar

# Each closure runs from its first to its last day inclusive, weekends included.
HOLIDAYS_2026: dict[str, tuple[date, date]] = {
    "元旦": (date(2026, 1, 1), date(2026, 1, 3)),
    "春节": (date(2026, 2, 15), date(2026, 2, 23)),
    "清明节": (date(2026, 4, 4), date(2026, 4, 6)),
    "劳动节": (date(2026, 5, 1), date(2026, 5, 5)),
    "端午节": (date(2026, 6, 19), date(2026, 6, 21)),
    "中秋节": (date(2026, 9, 25), date(2026, 9, 27)),
    "国庆节": (date(2026, 10, 1), date(2026, 10, 7)),
}

# Weekend days worked to make up for the bridged weekdays (调休上班).
MAKEUP_WORKDAYS_2026: dict[str, tuple[date, ...]] = {
    "元旦": (date(2026, 1, 4),),
    "春节": (date(2026, 2, 14), date(2026, 2, 28)),
    "劳动节": (date(2026, 5, 9),),
    "国庆节": (date(2026, 9, 20), date(2026, 10, 10)),
}


def _days(first: date, last: date) -> set[date]:
    return {first + timedelta(days=i) for i in range((last - first).days + 1)}


def holidays_2026() -> set[date]:
    days: set[date] = set()
    for first, last in HOLIDAYS_2026.values():
        days |= _days(first, last)
    return days


def makeup_workdays_2026() -> set[date]:
    return {d for days in MAKEUP_WORKDAYS_2026.values() for d in days}


def load_calendar_2026() -> WorkingCalendar:
    """The national 2026 working calendar."""
    return WorkingCalendar(holidays_2026(), makeup_workdays_2026())
