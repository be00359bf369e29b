"""The process clock: the system's, or moved by the days an offset file holds."""

from datetime import UTC, datetime, timedelta

import pytest

from services.common import clock


@pytest.fixture(autouse=True)
def reset():
    yield
    clock.configure(None)


def test_without_a_file_the_clock_is_the_systems():
    clock.configure(None)
    assert clock.offset() == timedelta(0)
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=1)


def test_the_file_moves_the_clock_and_a_change_takes_effect(tmp_path, monkeypatch):
    path = tmp_path / "offset"
    path.write_text("2.5\n")
    clock.configure(path)
    assert clock.offset() == timedelta(days=2.5)
    moved = clock.now() - datetime.now(UTC)
    assert timedelta(days=2.5) - timedelta(seconds=1) < moved < timedelta(days=2.5, seconds=1)
    path.write_text("-1")
    # Read again once a second has passed.
    ticks = iter([1000.0, 1002.0])
    monkeypatch.setattr(clock.time, "monotonic", lambda: next(ticks))
    clock.configure(path)
    assert clock.offset() == timedelta(days=-1)
    assert clock.offset() == timedelta(days=-1)


@pytest.mark.parametrize("content", ["", "soon", "  "])
def test_an_empty_or_unreadable_file_is_no_offset(tmp_path, content):
    path = tmp_path / "offset"
    path.write_text(content)
    clock.configure(path)
    assert clock.offset() == timedelta(0)
    clock.configure(tmp_path / "missing")
    assert clock.offset() == timedelta(0)
