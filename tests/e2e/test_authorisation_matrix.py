"""Who may call what, for every route of the gateway and every kind of caller.

The table (``tests/e2e/authz_table.py``) says, for each route of /openapi.json,
what each caller gets: allowed, 401, 403, or 404 where the object is hidden
from them. One test per route sends its probes as every caller (denied callers
first, so an allowed caller's change cannot hide a refusal) and names each
caller whose answer differs. The table must cover /openapi.json exactly: a new
route without a row fails here, as does a row whose route is gone.
"""

import pytest
import requests

from tests.e2e.authz_table import CALLERS, OK, TABLE, World, outcome_of, route_id

pytestmark = pytest.mark.e2e

METHODS = ("get", "put", "post", "delete", "patch")


@pytest.fixture(scope="module")
def served(cluster) -> set[tuple[str, str]]:
    """(method, path template) of every route /openapi.json documents."""
    response = requests.get(cluster.gateway_url + "/openapi.json", timeout=15)
    assert response.status_code == 200, response.text
    return {
        (method.upper(), path)
        for path, operations in response.json()["paths"].items()
        for method in operations
        if method in METHODS
    }


@pytest.fixture(scope="module")
def world(cluster) -> World:
    return World(cluster)


def test_every_probe_names_the_outcome_for_every_caller():
    for route, probes in TABLE.items():
        for probe in probes:
            assert set(probe.expect) == set(CALLERS), route_id(route)


def test_every_route_of_the_api_is_in_the_table(served):
    missing = sorted(served - set(TABLE))
    assert not missing, "routes without a row in the authorisation table:\n" + "\n".join(
        map(route_id, missing)
    )


def test_every_route_of_the_table_is_served(served):
    absent = sorted(set(TABLE) - served)
    assert not absent, "rows of the authorisation table not in /openapi.json:\n" + "\n".join(
        map(route_id, absent)
    )


@pytest.mark.parametrize("route", list(TABLE), ids=route_id)
def test_route(route, served, world):
    if route not in served:
        pytest.skip("not in /openapi.json (test_every_route_of_the_table_is_served says so)")
    method = route[0]
    problems = []
    for number, probe in enumerate(TABLE[route], start=1):
        problems += [f"probe {number}: {problem}" for problem in run(world, method, probe)]
    assert not problems, f"{route_id(route)}:\n" + "\n".join(problems)


def run(world: World, method: str, probe) -> list[str]:
    request = probe.build(world)
    # Denied callers first: an allowed caller may change the object.
    order = sorted(CALLERS, key=lambda caller: probe.expect[caller] == OK)
    problems = []
    for caller in order:
        response = world[caller].send(
            method,
            request.path,
            json_body=request.json,
            params=request.params,
            headers=request.headers,
            data=request.data,
            stream=request.stream,
        )
        status = response.status_code
        text = "" if request.stream else response.text[:300]
        body = None
        if not request.stream and status == 200 and probe.finds:
            body = response.json()
        response.close()
        expected, got = probe.expect[caller], outcome_of(status)
        if got != expected:
            problems.append(f"{caller}: expected {expected}, got {status} {text}")
            continue
        for present, finders in probe.finds if body is not None else ():
            if present(world, body) != (caller in finders):
                seen = "does not find" if caller in finders else "finds"
                problems.append(f"{caller} {seen} the object in the list")
    if probe.afterwards is not None:
        problems += probe.afterwards(world)
    return problems
