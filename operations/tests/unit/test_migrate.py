"""The deploy step checks its settings before it touches anything."""

import pytest

from operations import migrate


def test_migrate_refuses_a_bad_queue_type_before_touching_anything(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TONGBAN_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("EVENT_QUEUE_TYPE", "qorum")

    with pytest.raises(SystemExit) as stopped:
        migrate.main(["catalog"])

    assert stopped.value.code == 2
    assert "EVENT_QUEUE_TYPE must be one of classic, quorum, got 'qorum'" in (
        capsys.readouterr().err
    )
    assert list(tmp_path.iterdir()) == []
