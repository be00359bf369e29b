"""schemathesis against the whole cluster: every operation of /openapi.json, as
anonymous, as a citizen, as a department's staff member and as the operator.

Four checks: no 5xx (not_a_server_error), every answer exactly as documented
(response_schema_conformance), every request the document forbids refused
(negative_data_rejection), and no secured route answering without a token
(ignored_auth). The seed and the number of examples are fixed, so a run is
repeatable and bounded. The counts are printed (``pytest -s``).

This module runs after the other end-to-end tests (it edits and retires demo
items as the operator may), and afterwards no process has logged an error or a
traceback: every refusal was an answer.
"""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.e2e.test_journey import OPERATOR, Client, new_phone

pytestmark = pytest.mark.e2e

CHECKS = "not_a_server_error,response_schema_conformance,negative_data_rejection,ignored_auth"
SEED = 2026
MAX_EXAMPLES = 10
PHASES = "examples,coverage,fuzzing"
SCHEMATHESIS = Path(sys.executable).with_name("st")


def sign_in(base: str, phone: str, password: str) -> str:
    """An access token; waits out the rate limit the fuzzing may have left."""
    for _ in range(20):
        response = requests.post(
            f"{base}/api/v1/auth/login", json={"phone": phone, "password": password}, timeout=10
        )
        if response.status_code != 429:
            assert response.status_code == 200, response.text
            return response.json()["access_token"]
        time.sleep(float(response.headers.get("Retry-After", "1")))
    raise AssertionError("still rate limited after 20 tries")


@pytest.fixture(scope="module")
def watch(log_watch):
    return log_watch()


@pytest.fixture(scope="module")
def credentials(cluster):
    """phone and password of each actor; the staff member works every role of
    js-amr (江苏省市场监督管理局)."""
    operator = Client(cluster.gateway_url)
    operator.login(**OPERATOR)
    phone = new_phone()
    response = operator.post(
        "/api/v1/admin/staff",
        json={
            "phone": phone,
            "password": "Fuzz2026staff",
            "name": "模糊测试",
            "department_code": "js-amr",
            "roles": ["window_clerk", "approver", "dept_admin"],
        },
    )
    assert response.status_code == 201, response.text
    # A citizen of its own: the fuzzer signs in with the contract's example
    # phone and wrong passwords, which locks that phone for a while.
    citizen_phone = new_phone()
    response = requests.post(
        f"{cluster.gateway_url}/api/v1/auth/register",
        json={"phone": citizen_phone, "password": "Fuzz2026citizen", "name": "模糊市民"},
        timeout=15,
    )
    assert response.status_code == 201, response.text
    return {
        "anonymous": None,
        "citizen": (citizen_phone, "Fuzz2026citizen"),
        "staff": (phone, "Fuzz2026staff"),
        "operator": (OPERATOR["phone"], OPERATOR["password"]),
    }


ACTORS = ("anonymous", "citizen", "staff", "operator")


def command_for(base: str, token: str | None, report: Path) -> list[str]:
    command = [
        str(SCHEMATHESIS),
        "run",
        f"{base}/openapi.json",
        "--checks",
        CHECKS,
        "--seed",
        str(SEED),
        "--max-examples",
        str(MAX_EXAMPLES),
        "--phases",
        PHASES,
        "--request-timeout",
        "20",
        "--report",
        "json",
        "--report-json-path",
        str(report),
        # The live feed is a text/event-stream that never ends: a request and
        # response tool waits out its request timeout on every case, then
        # checks each event against the schema of the whole body (a string)
        # and fails. test_live_data.py reads it as a client does.
        "--exclude-name",
        "GET /api/v1/stats/live",
    ]
    if token is not None:
        command += ["-H", f"Authorization: Bearer {token}"]
        # Logging out would end the session the rest of the run signs with.
        command += ["--exclude-path", "/api/v1/auth/logout"]
    return command


@pytest.fixture(scope="module")
def runs(cluster, credentials, watch, tmp_path_factory):
    """One schemathesis run per actor, two at once (each waits on the
    cluster's answers much of the time): actor -> (return code, output, report)."""
    base = cluster.gateway_url
    tokens = {
        actor: None if credentials[actor] is None else sign_in(base, *credentials[actor])
        for actor in ACTORS
    }
    finished = {}
    # Two at a time: the cluster shares two cores with the rest of the suite.
    for wave in (ACTORS[:2], ACTORS[2:]):
        started = {}
        for actor in wave:
            # In its own directory: schemathesis keeps a cache in the working directory.
            directory = tmp_path_factory.mktemp(f"schemathesis-{actor}")
            report = directory / "report.json"
            process = subprocess.Popen(
                command_for(base, tokens[actor], report),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                cwd=directory,
            )
            started[actor] = (process, report)
        for actor, (process, report) in started.items():
            output, _ = process.communicate(timeout=900)
            finished[actor] = (process.returncode, output, json.loads(report.read_text()))
    return finished


@pytest.mark.parametrize("actor", ACTORS)
def test_schemathesis_finds_no_failure(runs, actor):
    returncode, output, report = runs[actor]
    cases, operations = report["test_cases"], report["operations"]
    print(
        f"\nschemathesis as {actor}: {operations['tested']} operations, "
        f"{cases['generated']} test cases, {cases['with_failures']} with failures "
        f"(seed {SEED}, {MAX_EXAMPLES} examples per operation; command: st run ... {CHECKS})"
    )
    assert returncode == 0 and cases["with_failures"] == 0, output[-6000:]
    assert operations["tested"] >= 40 and operations["errored"] == 0
    assert cases["generated"] > 1000


def test_nothing_was_logged_as_an_error(watch):
    """After thousands of bad and odd requests: no error line, no traceback."""
    assert watch.problems() == []
