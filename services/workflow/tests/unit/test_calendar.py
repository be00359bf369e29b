"""The working calendar: the 2026 schedule as shipped, counting working days,
years loaded or not."""

import json
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common.working_calendar import WorkingCalendar, year_calendar
from services.workflow.adapters.repository import (
    SHIPPED_CALENDARS,
    shipped_calendar,
    shipped_years,
)

from .conftest import calendar_2026

CAL = calendar_2026()
SHIPPED_2026 = json.loads((SHIPPED_CALENDARS / "2026.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 9, 29), True),  # ordinary Tuesday
        (date(2026, 9, 26), False),  # Saturday inside 中秋
        (date(2026, 9, 19), False),  # ordinary Saturday
        (date(2026, 9, 20), True),  # Sunday make-up for 国庆
        (date(2026, 10, 5), False),  # Monday inside 国庆
        (date(2026, 10, 10), True),  # Saturday make-up for 国庆
        (date(2026, 10, 11), False),  # ordinary Sunday
        (date(2026, 1, 1), False),  # 元旦
        (date(2026, 1, 4), True),  # Sunday make-up for 元旦
        (date(2026, 2, 14), True),  # Saturday make-up for 春节
        (date(2026, 2, 23), False),  # Monday, 正月初七
        (date(2026, 2, 28), True),  # Saturday make-up for 春节
        (date(2026, 4, 6), False),  # Monday, 清明
        (date(2026, 5, 5), False),  # Tuesday, 劳动节
        (date(2026, 5, 9), True),  # Saturday make-up for 劳动节
        (date(2026, 6, 19), False),  # Friday, 端午
        (date(2026, 9, 25), False),  # Friday, 中秋
    ],
)
def test_is_working_day_follows_the_2026_schedule(day, working):
    assert CAL.is_working_day(day) is working


def test_due_date_across_national_day_counts_the_makeup_saturday():
    # Tue 29 Sep + 5: Wed 30 Sep, (1-7 Oct off) Thu 8, Fri 9, Sat 10 (make-up), Mon 12.
    assert CAL.add_working_days(date(2026, 9, 29), 5) == date(2026, 10, 12)


def test_due_date_across_spring_festival():
    # Fri 13 Feb + 3: Sat 14 (make-up), (15-23 off) Tue 24, Wed 25.
    assert CAL.add_working_days(date(2026, 2, 13), 3) == date(2026, 2, 25)


def test_due_date_into_new_year_lands_on_the_makeup_sunday():
    assert CAL.add_working_days(date(2025, 12, 31), 1) == date(2026, 1, 4)


def test_submission_on_a_holiday_counts_from_the_next_working_day():
    assert CAL.add_working_days(date(2026, 10, 3), 1) == date(2026, 10, 8)


def test_submission_day_does_not_count():
    assert CAL.add_working_days(date(2026, 9, 29), 1) == date(2026, 9, 30)
    assert CAL.add_working_days(date(2026, 9, 29), 0) == date(2026, 9, 29)


def test_negative_days_are_refused():
    with pytest.raises(ValueError):
        CAL.add_working_days(date(2026, 9, 29), -1)


def test_working_days_between_counts_after_a_up_to_b():
    assert CAL.working_days_between(date(2026, 9, 29), date(2026, 10, 12)) == 5
    assert CAL.working_days_between(date(2026, 10, 12), date(2026, 9, 29)) == -5
    assert CAL.working_days_between(date(2026, 10, 1), date(2026, 10, 7)) == 0
    assert CAL.working_days_between(date(2026, 9, 29), date(2026, 9, 29)) == 0


def test_2026_has_248_working_days():
    assert CAL.working_days_between(date(2025, 12, 31), date(2026, 12, 31)) == 248


def test_schedule_data_is_consistent():
    closures = {closure["name"] for closure in SHIPPED_2026["holidays"]}
    assert closures == {"元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节"}
    assert {day["name"] for day in SHIPPED_2026["workdays"]} <= closures
    assert SHIPPED_2026["year"] == 2026 and "2026" in SHIPPED_2026["source"]
    assert len(CAL.holidays) == 33
    assert len(CAL.extra_workdays) == 6
    # Make-up days are always weekend days, otherwise they change nothing.
    assert all(d.weekday() >= 5 for d in CAL.extra_workdays)
    assert all(d.year == 2026 for d in CAL.holidays | CAL.extra_workdays)


def test_the_shipped_file_opens_every_closure_day_by_day():
    shipped = shipped_calendar(2026)
    assert 2026 in shipped_years()
    assert shipped["holidays"][:3] == ["2026-01-01", "2026-01-02", "2026-01-03"]
    # 国庆节 1-7 October, weekend days included.
    assert {f"2026-10-0{day}" for day in range(1, 8)} <= set(shipped["holidays"])
    assert shipped["workdays"] == [
        "2026-01-04",
        "2026-02-14",
        "2026-02-28",
        "2026-05-09",
        "2026-09-20",
        "2026-10-10",
    ]
    assert (shipped["source"], shipped["updated_by"], shipped["updated_at"]) == (
        SHIPPED_2026["source"],
        None,
        None,
    )
    assert shipped_calendar(1999) is None


def test_only_the_loaded_years_are_covered():
    assert CAL.years == frozenset({2026})
    assert CAL.covers(date(2026, 1, 1), date(2026, 12, 31))
    assert not CAL.covers(date(2026, 12, 28), date(2027, 1, 5))
    assert not CAL.covers(date(2025, 12, 31), date(2026, 1, 4))
    # A calendar built by hand counts every year as loaded.
    assert WorkingCalendar().covers(date(2026, 1, 1), date(2030, 1, 1))
    # A year not loaded counts weekdays only.
    assert CAL.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 1)


def test_a_year_calendar_holds_days_of_its_year_only():
    with pytest.raises(ValueError, match="2027-01-01 is not in 2026"):
        year_calendar(2026, {date(2027, 1, 1)}, set())
    with pytest.raises(ValueError, match="2026-10-10"):
        year_calendar(2026, {date(2026, 10, 10)}, {date(2026, 10, 10)})
    assert year_calendar(2027, [], []).years == frozenset({2027})


def test_a_day_cannot_be_both_holiday_and_workday():
    with pytest.raises(ValueError, match="2026-10-10"):
        WorkingCalendar({date(2026, 10, 10)}, {date(2026, 10, 10)})


def test_plain_calendar_is_monday_to_friday():
    plain = WorkingCalendar()
    assert plain.add_working_days(date(2026, 10, 2), 1) == date(2026, 10, 5)


def test_edits_return_edited_copies():
    closed = CAL.declare_holiday(date(2026, 9, 30))
    assert not closed.is_working_day(date(2026, 9, 30))
    assert closed.years == CAL.years
    assert CAL.is_working_day(date(2026, 9, 30))
    reopened = closed.declare_workday(date(2026, 9, 30), date(2026, 10, 5))
    assert reopened.is_working_day(date(2026, 9, 30))
    assert reopened.is_working_day(date(2026, 10, 5))
    # Declaring a make-up day a holiday removes it from the make-up days.
    assert not CAL.declare_holiday(date(2026, 10, 10)).is_working_day(date(2026, 10, 10))


def test_calendars_combine():
    extra = year_calendar(2027, {date(2027, 1, 1)}, set())
    combined = WorkingCalendar.combine([CAL, extra])
    assert not combined.is_working_day(date(2027, 1, 1))
    assert not combined.is_working_day(date(2026, 10, 1))
    assert combined.years == frozenset({2026, 2027})
    assert combined.covers(date(2026, 12, 28), date(2027, 1, 5))
    # A calendar without years (built by hand) makes the combination cover every year.
    assert WorkingCalendar.combine([CAL, WorkingCalendar()]).years is None


days_2026 = st.dates(min_value=date(2025, 12, 1), max_value=date(2027, 1, 31))


@given(start=days_2026, n=st.integers(min_value=0, max_value=60))
def test_working_days_between_inverts_add_working_days(start, n):
    due = CAL.add_working_days(start, n)
    assert CAL.working_days_between(start, due) == n
    if n:
        assert CAL.is_working_day(due)
        # No earlier day would do.
        assert CAL.working_days_between(start, due - timedelta(days=1)) == n - 1


@given(a=days_2026, b=days_2026)
def test_working_days_between_is_antisymmetric(a, b):
    assert CAL.working_days_between(a, b) == -CAL.working_days_between(b, a)
