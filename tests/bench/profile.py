"""Where each process of the cluster spends its CPU during the measured errand
window: py-spy samples every process (``--profile DIR``), writes its stacks
(``<process>.txt``, py-spy's "raw" collapsed format, which speedscope and
flamegraph.pl read) and a summary of the functions that used the most
(``<process>.top.txt``, by own samples and by samples with the function on the
stack).

py-spy reads the processes' memory from outside (ptrace), so the services run
unchanged. It stops a process for the moment of each sample: without the stop
(``--nonblocking``) it reads stacks that change under it, and a sampler caught
in a frame chain the process was rewriting spun there for good. Without py-spy
(``pip install py-spy``) or without the right to trace, nothing is profiled and
the bench says so.

Only samples taken while the process holds the GIL count (``--gil``). Without
that, a process preempted in the send that woke its peer (the broker or the
database, on the same two cores) counted as busy at that send for as long as
it waited to run again: a third of the gateway's samples were at sockets'
``send``, where ``perf`` finds a few per cent of its CPU in the kernel. An
eventlet service has one thread, so what is left is the interpreter's work.
psycopg2 keeps the GIL while it sends and reads (its wait callback is
eventlet's), so a statement's round trip still counts at ``do_execute``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

# A sample reads the whole stack of a process: at 100 a second, six samplers
# on two busy cores fall behind and the profiled run lasts longer than asked.
# BENCH_PROFILE_RATE sets another rate (finer profiles, slower runs).
SAMPLES_PER_SECOND = int(os.environ.get("BENCH_PROFILE_RATE", "25"))


@dataclass
class Recording:
    name: str
    path: Path
    popen: subprocess.Popen


def available() -> str | None:
    """py-spy of this environment (beside its python), else the one on PATH."""
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


def start(folder: Path, processes: dict[str, int], seconds: float) -> list[Recording]:
    """One py-spy per process (name -> pid), recording for ``seconds``."""
    command = available()
    if command is None:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    recordings = []
    for name, pid in processes.items():
        path = folder / f"{name}.txt"
        errors = open(folder / f"{name}.py-spy.log", "wb")  # noqa: SIM115 (closed by the child's end)
        popen = subprocess.Popen(  # noqa: S603
            [
                command,
                "record",
                "--gil",
                "--pid",
                str(pid),
                "--duration",
                str(max(1, round(seconds))),
                "--rate",
                str(SAMPLES_PER_SECOND),
                "--format",
                "raw",
                "--output",
                str(path),
            ],
            stdout=errors,
            stderr=subprocess.STDOUT,
        )
        errors.close()
        recordings.append(Recording(name, path, popen))
    return recordings


def finish(recordings: list[Recording], top: int = 15) -> list[str]:
    """Wait for the recordings, write each one's summary; lines to print."""
    lines = []
    for recording in recordings:
        try:
            recording.popen.wait(timeout=60)
        except subprocess.TimeoutExpired:
            # Behind its schedule: interrupted, it writes what it has.
            recording.popen.send_signal(signal.SIGINT)
            try:
                recording.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                recording.popen.kill()
        if not recording.path.exists():
            why = recording.path.with_suffix(".py-spy.log")
            lines.append(f"  {recording.name}: no profile (py-spy: {why})")
            continue
        summary = summarise(recording.path.read_text().splitlines(), top)
        summary_path = recording.path.with_suffix(".top.txt")
        summary_path.write_text("\n".join(summary) + "\n")
        lines.append(f"  {recording.name}: {summary_path}")
    return lines


def summarise(collapsed: list[str], top: int = 15) -> list[str]:
    """The functions with the most samples, own and inclusive, from collapsed
    stacks ("frame;frame;frame count" per line, the innermost frame last)."""
    own: Counter = Counter()
    inclusive: Counter = Counter()
    total = 0
    for line in collapsed:
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = stack.split(";")
        own[frames[-1]] += samples
        for frame in set(frames):
            inclusive[frame] += samples
    if not total:
        return ["no samples"]
    lines = [f"{total} samples ({SAMPLES_PER_SECOND} per second)", "own:"]
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    lines.append("inclusive:")
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in inclusive.most_common(top)]
    return lines
