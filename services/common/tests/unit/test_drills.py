"""The one-shot drill switch: only the named drill of the named service fires,
once, and nothing happens without the file."""

import pytest

from services.common import drills

DRILL = drills.RELAY_CRASH_AFTER_CONFIRM


@pytest.fixture
def exits(monkeypatch):
    codes = []

    def fake_exit(code):
        codes.append(code)

    monkeypatch.setattr(drills.os, "_exit", fake_exit)
    return codes


def test_nothing_happens_without_the_variable(monkeypatch, exits):
    monkeypatch.delenv(drills.DRILL_FILE_VARIABLE, raising=False)
    drills.crash_point(DRILL, "workflow")
    assert exits == []


def test_nothing_happens_without_the_file(monkeypatch, tmp_path, exits):
    monkeypatch.setenv(drills.DRILL_FILE_VARIABLE, str(tmp_path / "drill"))
    drills.crash_point(DRILL, "workflow")
    assert exits == []


def test_another_service_or_drill_leaves_the_file(monkeypatch, tmp_path, exits):
    switch = tmp_path / "drill"
    switch.write_text(f"{DRILL} workflow\n", encoding="utf-8")
    monkeypatch.setenv(drills.DRILL_FILE_VARIABLE, str(switch))
    drills.crash_point(DRILL, "courier")
    drills.crash_point("another-drill", "workflow")
    assert exits == []
    assert switch.exists()


def test_the_first_process_to_pass_takes_the_file_and_exits(monkeypatch, tmp_path, exits):
    switch = tmp_path / "drill"
    switch.write_text(f"{DRILL} workflow\n", encoding="utf-8")
    monkeypatch.setenv(drills.DRILL_FILE_VARIABLE, str(switch))
    drills.crash_point(DRILL, "workflow")
    assert exits == [drills.CRASH_EXIT_CODE]
    assert not switch.exists()
    drills.crash_point(DRILL, "workflow")  # one shot: the next pass goes on
    assert exits == [drills.CRASH_EXIT_CODE]
