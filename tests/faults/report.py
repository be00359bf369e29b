"""The suite's table: one row per scenario, then what each one noted and what failed."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Row:
    number: int
    name: str
    requests: int = 0
    errors_during_fault: int = 0
    recover_seconds: float | None = None  # None: did not recover
    lost: int = 0
    duplicated: int = 0
    applications: int = 0
    errands_completed: int = 0
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.failures or self.recover_seconds is None)


HEADER = (
    f"{'scenario':38s} {'requests':>8s} {'errors in fault':>15s} {'recover s':>9s}"
    f" {'lost':>5s} {'dup':>5s}  result"
)


def line(row: Row) -> str:
    recovered = "never" if row.recover_seconds is None else f"{row.recover_seconds:.1f}"
    return (
        f"{str(row.number) + '. ' + row.name:38s} {row.requests:8d} {row.errors_during_fault:15d}"
        f" {recovered:>9s} {row.lost:5d} {row.duplicated:5d}  {'ok' if row.ok else 'FAIL'}"
    )


def table(rows: list[Row]) -> list[str]:
    lines = [HEADER, "-" * len(HEADER)]
    lines += [line(row) for row in rows]
    lines.append("")
    for row in rows:
        lines.append(
            f"{row.number}. {row.name}: {row.applications} applications, "
            f"{row.errands_completed} errands reviewed"
        )
        lines += [f"     {note}" for note in row.notes]
        lines += [f"   ! {failure}" for failure in row.failures]
    return lines
