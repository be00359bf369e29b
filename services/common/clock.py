"""The time a service acts at.

Plain Python. :func:`now` is the current UTC instant, unless this process was
given an offset file (``CLOCK_OFFSET_FILE``, read by the runner): then it is the
current instant moved by the number of days the file holds (a decimal, possibly
negative; a missing or empty file is no offset). Time limits, warnings and
escalations are then drilled, or tested end to end, days ahead without waiting
for them. Production leaves the setting empty, and the clock is the system's.

The file is read at most once a second, so moving the clock takes effect within
a second in every process that shares it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

_READ_EVERY_SECONDS = 1.0

_offset_file: Path | None = None
_offset = timedelta(0)
_read_at = float("-inf")


def configure(offset_file: str | Path | None) -> None:
    """Take the offset from ``offset_file`` (None or empty: no offset)."""
    global _offset_file, _offset, _read_at
    _offset_file = Path(offset_file) if offset_file else None
    _offset = timedelta(0)
    _read_at = float("-inf")


def offset() -> timedelta:
    """How far this process's clock is moved."""
    global _offset, _read_at
    if _offset_file is None:
        return timedelta(0)
    moment = time.monotonic()
    if moment - _read_at >= _READ_EVERY_SECONDS:
        _read_at = moment
        try:
            text = _offset_file.read_text(encoding="utf-8").strip()
            _offset = timedelta(days=float(text)) if text else timedelta(0)
        except (OSError, ValueError):
            _offset = timedelta(0)
    return _offset


def now() -> datetime:
    """The current UTC instant, moved by the configured offset."""
    return datetime.now(UTC) + offset()
