"""The fault suite's quick set (scenarios 2, 4, 6, 8) as a test.

It runs ``python -m tests.faults --quick`` as a process of its own (the suite
drives real threads and its own cluster; this interpreter has eventlet's
patches), on its own databases (tongban_faults_*) and its own virtual host
(tongban-faults): it never stops the broker or PostgreSQL that the other tests
share. The suite exits 1 when an application was lost or an effect done twice,
or an invariant failed; its table is in the failure's message.
"""

import os
import subprocess
import sys

import pytest

from services.common.config import PROJECT_ROOT

pytestmark = pytest.mark.e2e

TIMEOUT_SECONDS = 900


def test_quick_faults_lose_and_repeat_nothing(tmp_path):
    database = "sqlite" if os.environ.get("TEST_DATABASE", "").lower() == "sqlite" else "postgresql"
    command = [
        sys.executable,
        "-m",
        "tests.faults",
        "--quick",
        "--database",
        database,
        "--data-dir",
        str(tmp_path / "faults"),
    ]
    env = {k: v for k, v in os.environ.items() if not k.endswith("DATABASE_URL")}
    try:
        finished = subprocess.run(  # noqa: S603  (our own interpreter and module)
            command,
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the quick fault suite took over {TIMEOUT_SECONDS} s\n{exc.stdout or ''}")
    table = finished.stdout[finished.stdout.find("scenario ") :] or finished.stdout[-4000:]
    assert finished.returncode == 0, f"{table}\n{finished.stderr[-3000:]}"
    assert "FAIL" not in table, table
