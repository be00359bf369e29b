"""SQLite engines: WAL, foreign keys, and the sync level SQLITE_SYNCHRONOUS sets."""

import pytest
import sqlalchemy as sa

from services.common.db import make_engine, sqlite_synchronous

# PRAGMA synchronous answers a number: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA.
LEVELS = {"OFF": 0, "NORMAL": 1, "FULL": 2, "EXTRA": 3}


def pragmas(url):
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "synchronous", "foreign_keys")
            }
    finally:
        engine.dispose()


def test_a_commit_is_synced_at_checkpoints_by_default(tmp_path, monkeypatch):
    monkeypatch.delenv("SQLITE_SYNCHRONOUS", raising=False)
    found = pragmas(f"sqlite:///{tmp_path / 'a.db'}")
    assert found == {"journal_mode": "wal", "synchronous": LEVELS["NORMAL"], "foreign_keys": 1}


@pytest.mark.parametrize("level", ["full", "FULL", " extra "])
def test_the_setting_chooses_the_level(tmp_path, monkeypatch, level):
    monkeypatch.setenv("SQLITE_SYNCHRONOUS", level)
    found = pragmas(f"sqlite:///{tmp_path / 'b.db'}")
    assert found["synchronous"] == LEVELS[level.strip().upper()]


def test_an_unknown_level_is_refused_naming_the_setting(monkeypatch):
    monkeypatch.setenv("SQLITE_SYNCHRONOUS", "sometimes")
    with pytest.raises(ValueError, match="SQLITE_SYNCHRONOUS"):
        sqlite_synchronous()


def test_a_committed_row_survives_a_new_connection(tmp_path, monkeypatch):
    monkeypatch.delenv("SQLITE_SYNCHRONOUS", raising=False)
    url = f"sqlite:///{tmp_path / 'c.db'}"
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (a INTEGER)")
        connection.exec_driver_sql("INSERT INTO t VALUES (1)")
    engine.dispose()
    again = make_engine(url)
    with again.connect() as connection:
        assert connection.execute(sa.text("SELECT a FROM t")).scalars().all() == [1]
    again.dispose()
