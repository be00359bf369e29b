"""Faults under load: nothing lost, nothing done twice, and back by itself.

    make faults           (python -m tests.faults [--scenarios 1,2,...] [--quick]
                                              [--database sqlite|postgresql])

Starts a cluster of its own (``tests.faults.cluster``: two processes of every
service, supervised, on databases tongban_faults_* and the virtual host
tongban-faults), registers a few citizens and staff, then for each scenario
runs a closed loop of errands through the gateway (``tests.faults.load``),
does the harm (``tests.faults.scenarios``), waits until every process answers
/readyz and an errand completes again, lets the clients finish their cases and
checks the invariants (``tests.faults.invariants``). Prints a table (scenario,
requests, errors during the fault, seconds to recover, lost, duplicated) and
exits 1 when anything was lost or duplicated or an invariant failed.

``--quick`` runs scenarios 2, 4, 6 and 8 with short loops; it never stops the
broker or PostgreSQL (scenarios 1 and 3), which other runs on the machine share.
The processes' logs stay in the data folder's logs/ (default var/faults).
FAULTS_DATABASE_URL puts the suite's databases on another local PostgreSQL
cluster (``postgresql+psycopg2://postgres@127.0.0.1:5433/tongban_faults``),
which scenario 3 then stops instead of the machine's main one.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from services.common.config import PROJECT_ROOT
from tests.bench.errand import SetupFailed
from tests.faults import invariants, load, report
from tests.faults.cluster import OPERATOR, FaultCluster
from tests.faults.scenarios import QUICK, SCENARIOS, Context, Fault, Scenario

RECOVERY_TIMEOUT = 300.0
EXCEPTIONS_PER_PROCESS = 3


def say(text: str) -> None:
    print(text, flush=True)


def wait_recovery(fc: FaultCluster, journal: load.Journal, since: float) -> float | None:
    """The time (time.time()) by which every process answered /readyz and an
    errand completed after ``since``; None after RECOVERY_TIMEOUT."""
    deadline = time.monotonic() + RECOVERY_TIMEOUT
    ready_at = None
    while time.monotonic() < deadline:
        if ready_at is None and not fc.not_ready():
            ready_at = time.time()
        if ready_at is not None:
            with journal.lock:
                done = [t for t in journal.completed_errands if t > since]
            if done:
                return max(ready_at, min(done))
        time.sleep(0.5)
    not_ready = fc.not_ready()
    say(f"  not recovered after {RECOVERY_TIMEOUT:.0f} s; not ready: {not_ready or 'none'}")
    return None


def run_scenario(
    fc: FaultCluster,
    clients: list[load.Client],
    scenario: Scenario,
    quick: bool,
    all_poison: set[str],
) -> report.Row:
    row = report.Row(scenario.number, scenario.name)
    calm = 4.0 if quick else 15.0
    say(f"{scenario.number}. {scenario.name}: load for {calm:g} s, then the fault")
    journal = load.Journal()
    driver = load.Load(fc.gateway_url, clients, journal)
    log_marks = fc.log_sizes()
    said_before = len(fc.supervisor_lines)
    driver.start()
    time.sleep(calm)
    try:
        fault = scenario.run(Context(fc, driver, quick, say))
    except Exception as exc:
        fault = Fault()
        fault.failures.append(f"the fault itself failed: {type(exc).__name__}: {exc}")
        fault.end()
    say(f"  harm over after {fault.ended - fault.started:.1f} s; waiting for recovery")
    recovered = wait_recovery(fc, journal, fault.ended)
    if recovered is not None:
        row.recover_seconds = max(0.0, recovered - fault.ended)
        say(f"  recovered in {row.recover_seconds:.1f} s; load for {calm:g} s more")
        time.sleep(calm)
    busy = driver.stop()
    if busy:
        row.failures.append(f"clients still at a case after the drain: {', '.join(busy)}")
    requests, cases = journal.snapshot()
    row.requests = len(requests)
    row.applications = len(cases)
    row.errands_completed = len(journal.completed_errands)
    given_up = [case.application_id for case in cases if case.given_up]
    if given_up:
        row.notes.append(f"{len(given_up)} case(s) given up by their client (e.g. {given_up[0]})")
    all_poison |= fault.poison_ids
    say("  checking the invariants")
    verdict = invariants.check(fc, cases, clients, fault.poison_ids, all_poison)
    window = (fault.started, recovered or time.time())
    row.errors_during_fault = invariants.check_http(requests, window, verdict)
    row.lost, row.duplicated = verdict.lost, verdict.duplicated
    row.notes += fault.notes + verdict.notes
    row.notes += [line for _, line in fc.supervisor_lines[said_before:]]
    row.failures += fault.failures + verdict.failures
    if not row.ok:
        row.notes += logged_exceptions(fc, log_marks)
    say(report.line(row))
    return row


def logged_exceptions(fc: FaultCluster, marks: dict[str, int]) -> list[str]:
    """A few error records of each process logged since ``marks``."""
    lines = []
    for name, offset in marks.items():
        found = fc.exceptions_since(name, offset)
        if found:
            lines.append(f"{name} logged {len(found)} error record(s), e.g.:")
            lines += [f"    {text}" for text in found[:EXCEPTIONS_PER_PROCESS]]
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scenarios",
        help="comma-separated numbers (default: all; --quick: " + ",".join(map(str, QUICK)) + ")",
    )
    parser.add_argument("--quick", action="store_true", help="short loops, scenarios 2,4,6,8")
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--data-dir", type=Path, default=PROJECT_ROOT / "var" / "faults")
    parser.add_argument("--online", type=int, help="clients applying online (default 6; quick 3)")
    parser.add_argument("--express", type=int, help="clients applying by EMS (default 3; quick 2)")
    args = parser.parse_args(argv)
    if args.scenarios:
        numbers = [int(part) for part in args.scenarios.split(",") if part.strip()]
    else:
        numbers = QUICK if args.quick else sorted(SCENARIOS)
    unknown = [n for n in numbers if n not in SCENARIOS]
    if unknown:
        parser.error(f"no scenario {unknown}; there are {sorted(SCENARIOS)}")
    shared = [n for n in numbers if SCENARIOS[n].stops_shared_infrastructure]
    if args.quick and shared:
        parser.error(f"--quick never stops the shared broker or PostgreSQL (scenarios {shared})")
    online = args.online if args.online is not None else (3 if args.quick else 6)
    express = args.express if args.express is not None else (2 if args.quick else 3)

    started = time.monotonic()
    fc = FaultCluster(args.data_dir, args.database, args.quick)
    rows: list[report.Row] = []
    try:
        fc.start(say)
        say(f"cluster started in {time.monotonic() - started:.0f} s; registering the clients")
        try:
            clients = load.prepare(fc.gateway_url, online, express, OPERATOR)
        except SetupFailed as exc:
            say(f"setup failed: {exc}")
            return 1
        modes = sorted({(c.mode, c.item["code"]) for c in clients})
        say(f"{online} online and {express} EMS clients ({modes})")
        all_poison: set[str] = set()
        for number in numbers:
            rows.append(run_scenario(fc, clients, SCENARIOS[number], args.quick, all_poison))
    finally:
        say("stopping the cluster")
        fc.stop()
    say("")
    for text in report.table(rows):
        say(text)
    elapsed = time.monotonic() - started
    say(f"\n{len(rows)} scenario(s) in {elapsed:.0f} s; logs in {fc.data_dir / 'logs'}")
    return 0 if rows and all(row.ok for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
