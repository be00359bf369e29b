"""Where the machine's CPU went during a measured window (Linux /proc; elsewhere
nothing is reported).

On a shared, small machine the figures mean little without it: the line says
how many cores were busy in all, how many the cluster's own processes, the load
generator, RabbitMQ and PostgreSQL used (the last two serve anybody on the
machine, not only the bench), and what went to everything else.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass


def _machine() -> tuple[int, int] | None:
    """(busy, total) clock ticks of all cores since boot."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(value) for value in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])  # guest time is counted in user already
    return total - idle, total


def _process(pid: int) -> int:
    """User plus system clock ticks of one process (0 when it is gone)."""
    ticks = _ticks(pid)
    return 0 if ticks is None else ticks


def _ticks(pid: int) -> int | None:
    """User plus system clock ticks of one process; None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[11]) + int(fields[12])


def shared_services() -> dict[str, list[int]]:
    """The pids of the local RabbitMQ (beam.smp) and PostgreSQL processes."""
    found: dict[str, list[int]] = {"RabbitMQ": [], "PostgreSQL": []}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/comm") as comm:
                name = comm.read().strip()
        except OSError:
            continue
        if name.startswith("beam"):
            found["RabbitMQ"].append(int(entry))
        elif name.startswith("postgres"):
            found["PostgreSQL"].append(int(entry))
    return {group: pids for group, pids in found.items() if pids}


@dataclass
class Reading:
    at: float
    machine: tuple[int, int] | None
    groups: dict[str, int]


def _pid_ticks(groups: dict[str, list[int]]) -> dict[str, dict[int, int]]:
    found: dict[str, dict[int, int]] = {}
    for name, pids in groups.items():
        found[name] = {}
        for pid in pids:
            ticks = _ticks(pid)
            if ticks is not None:
                found[name][pid] = ticks
    return found


def window_ticks(
    first: dict[str, dict[int, int]], second: dict[str, dict[int, int]]
) -> dict[str, int]:
    """Each group's ticks between two per-process readings: the processes of
    the second, less what each had at the first (nothing, when it was not
    there yet)."""
    return {
        name: sum(ticks - first.get(name, {}).get(pid, 0) for pid, ticks in pids.items())
        for name, pids in second.items()
    }


def cores_used(first: Reading, second: Reading) -> dict[str, float] | None:
    """Cores busy between two readings: ``machine`` and one entry per group."""
    if first.machine is None or second.machine is None:
        return None
    busy = second.machine[0] - first.machine[0]
    total = second.machine[1] - first.machine[1]
    if total <= 0:
        return None
    cores = os.cpu_count() or 1
    hertz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    seconds = second.at - first.at
    used = {"machine": busy / total * cores}
    for name, ticks in second.groups.items():
        used[name] = (ticks - first.groups.get(name, ticks)) / hertz / seconds
    return used


class WindowMeter:
    """Reads the CPU counters at two instants (time.monotonic()) in a thread."""

    def __init__(self, groups: dict[str, list[int]], start: float, end: float):
        self.groups, self.start, self.end = groups, start, end
        self.readings: list[Reading] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        time.sleep(max(0.0, self.start - 1.0 - time.monotonic()))
        self.groups = {**self.groups, **shared_services()}  # the connections are open by now
        time.sleep(max(0.0, self.start - time.monotonic()))
        first_at, first_machine = time.monotonic(), _machine()
        first = _pid_ticks(self.groups)
        time.sleep(max(0.0, self.end - time.monotonic()))
        # A database or broker process started in the window (a new
        # connection's backend) counts from zero; one gone by its end counts
        # nothing (its last ticks are unknown), rather than minus its total.
        second = _pid_ticks({**self.groups, **shared_services()})
        self.readings = [
            Reading(first_at, first_machine, {name: 0 for name in second}),
            Reading(time.monotonic(), _machine(), window_ticks(first, second)),
        ]

    def result(self) -> dict[str, float] | None:
        self.thread.join(timeout=5)
        if len(self.readings) != 2:
            return None
        return cores_used(*self.readings)


def describe(used: dict[str, float] | None) -> str:
    if not used:
        return "CPU use not measured (no /proc)"
    parts = [
        f"{name} {value:.2f}"
        for name, value in used.items()
        if name != "machine" and value >= 0.005
    ]
    rest = used["machine"] - sum(value for name, value in used.items() if name != "machine")
    return (
        f"cores busy {used['machine']:.2f} of {os.cpu_count()}: {', '.join(parts)},"
        f" everything else {max(0.0, rest):.2f}"
    )


def per_errand(used: dict[str, float] | None, seconds: float, errands: int) -> str:
    """Each group's CPU per errand, in milliseconds (CPU seconds in the window
    over the errands finished in it)."""
    if not used or not errands:
        return "CPU per errand not measured"
    parts = [
        f"{name} {value * seconds * 1000 / errands:.1f}"
        for name, value in used.items()
        if name != "machine" and value * seconds * 1000 / errands >= 0.05
    ]
    whole = used["machine"] * seconds * 1000 / errands
    return f"ms of CPU per errand: {', '.join(parts)}; machine {whole:.1f}"


def wait_quiet(pids: list[int], busy_below: float = 0.05, longest: float = 60.0) -> float:
    """Wait (at most ``longest`` seconds) until the processes together use less
    than ``busy_below`` of a core over a second: a cluster just started still
    loads its read models and takes in the demo data's events, which would
    count against the first figures. The seconds waited."""
    started = time.monotonic()
    hertz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    before = sum(_process(pid) for pid in pids)
    while time.monotonic() - started < longest:
        time.sleep(1.0)
        now = sum(_process(pid) for pid in pids)
        if (now - before) / hertz < busy_below:
            break
        before = now
    return time.monotonic() - started
