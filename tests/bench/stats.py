"""Percentiles and measurement windows, kept apart from the load generators so
they can be tested on their own."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass


def percentile(values: Iterable[float], q: float) -> float:
    """The nearest-rank q-quantile (0 < q <= 1): the smallest value with at least
    q of all values at or below it. NaN for no values."""
    if not 0 < q <= 1:
        raise ValueError("q must be in (0, 1]")
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass(frozen=True)
class Window:
    """The measured stretch of a run, as two readings of time.monotonic()."""

    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start

    def holds(self, instant: float) -> bool:
        return self.start <= instant < self.end

    def rate(self, instants: Iterable[float]) -> float:
        """Events per second among those that happened inside the window."""
        return sum(1 for instant in instants if self.holds(instant)) / self.seconds


def p50_p99(values: list[float]) -> str:
    """ "p50 12.3 ms  p99 45.6 ms" for latencies in milliseconds."""
    return f"p50 {percentile(values, 0.5):7.1f} ms  p99 {percentile(values, 0.99):7.1f} ms"
