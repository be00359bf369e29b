"""The working calendar, end to end: the operator loads a year through the
gateway, every workflow instance counts with it, and a due date in a year
that is neither loaded nor shipped (2026 ships with the code) is counted on
weekdays and marks its case ``calendar_provisional``."""

from datetime import date

import pytest
import requests

from tests.e2e.approvals import (
    Calendar,
    case,
    citizen,
    day_of,
    iso,
    item,
    operator,
    staff,
    submit,
)

pytestmark = pytest.mark.e2e

YEAR = 2027
SCHEDULE = {
    # 元旦, and a spring festival week; a Saturday worked after it
    "holidays": [
        "2027-01-01",
        "2027-02-05",
        "2027-02-08",
        "2027-02-09",
        "2027-02-10",
        "2027-02-11",
        "2027-02-12",
    ],
    "workdays": ["2027-02-20"],
    "source": "e2e: a year's schedule as an operator loads it",
}
PATH = f"/api/v1/admin/calendar/{YEAR}"
PASSPORT_ENDORSEMENT = "320000-JSGAT-002"  # js-ga on workflow-js-ga: promised 5 days
FOREIGN_FIRM = "320000-JSSCJG-004"  # js-amr on the shared instance: promised 3 days
CHEMICALS = "320000-JSYJT-001"  # js-yj: promised 15, statutory 30 (no other test applies)


@pytest.fixture(scope="module", autouse=True)
def watch(log_watch):
    return log_watch()


def documented_success(cluster, method: str, path: str) -> int:
    """The one 2xx status the OpenAPI document gives the route."""
    document = requests.get(f"{cluster.gateway_url}/openapi.json", timeout=10).json()
    responses = document["paths"][path][method]["responses"]
    codes = [int(code) for code in responses if code.startswith("2")]
    assert len(codes) == 1, codes
    return codes[0]


def test_an_operator_loads_a_year_and_reads_it_back(cluster):
    base = cluster.gateway_url
    the_operator = operator(base)
    operator_id = the_operator.get("/api/v1/me").json()["user_id"]

    response = the_operator.request("PUT", PATH, json=SCHEDULE)
    assert response.status_code == documented_success(
        cluster, "put", "/api/v1/admin/calendar/{year}"
    ), response.text
    loaded = response.json()
    assert loaded["year"] == YEAR
    assert loaded["holidays"] == SCHEDULE["holidays"]
    assert loaded["workdays"] == SCHEDULE["workdays"]
    assert loaded["source"] == SCHEDULE["source"]
    assert loaded["updated_by"] == operator_id
    assert loaded["updated_at"]
    assert the_operator.get(PATH).json() == loaded

    # The year shipped with the code reads the same way, updated by nobody.
    shipped = the_operator.get("/api/v1/admin/calendar/2026").json()
    assert shipped["updated_by"] is None
    assert "2026-10-01" in shipped["holidays"] and "2026-10-10" in shipped["workdays"]

    # Refused, and nothing changes: a weekday as a make-up day, a day of
    # another year, a day in both lists; anyone but an operator.
    for bad, field in (
        ({**SCHEDULE, "workdays": ["2027-02-15"]}, "workdays"),
        ({**SCHEDULE, "holidays": ["2028-01-01"]}, "holidays"),
        ({**SCHEDULE, "workdays": ["2027-02-20"], "holidays": ["2027-02-20"]}, "workdays"),
    ):
        response = the_operator.request("PUT", PATH, json=bad)
        assert response.status_code == 422, response.text
        assert field in response.json()["error"]["fields"]
    admin = staff(the_operator, "js-amr", "dept_admin")
    applicant, _ = citizen(base, "日历路人")
    for who in (admin, applicant):
        assert who.request("PUT", PATH, json={**SCHEDULE, "holidays": []}).status_code == 403
        assert who.get(PATH).status_code == 403
    assert the_operator.get(PATH).json() == loaded


def test_every_instance_counts_with_the_loaded_year(cluster, clock):
    base = cluster.gateway_url
    the_operator = operator(base)
    response = the_operator.request("PUT", PATH, json=SCHEDULE)
    assert response.status_code < 300, response.text
    calendar = Calendar.of_cluster(the_operator, YEAR, YEAR)
    weekdays = Calendar(set(), set(), set())
    applicant, _ = citizen(base, "春节前申请人")

    start = date(YEAR, 2, 4)  # the Thursday before the spring festival week
    clock.move_to(start)
    for code in (PASSPORT_ENDORSEMENT, FOREIGN_FIRM):
        guide = item(applicant, code)
        view = case(applicant, submit(applicant, guide))
        promised = guide["promised_days"]
        assert view["due_date"] == iso(calendar.add(start, promised)), code
        assert view["due_date"] != iso(weekdays.add(start, promised)), code
        assert view["calendar_provisional"] is False, code


def test_a_due_date_in_a_year_not_loaded_is_provisional(cluster, clock):
    base = cluster.gateway_url
    the_operator = operator(base)
    this_year = clock.real_today().year
    year = next(
        y
        for y in range(this_year + 1, this_year + 50)
        if the_operator.get(f"/api/v1/admin/calendar/{y}").status_code == 404
    )
    applicant, _ = citizen(base, "危化品经营者")
    guide = item(applicant, CHEMICALS)

    # A case opened today is provisional exactly when its span reaches a year
    # not loaded.
    today_case = case(applicant, submit(applicant, guide))
    opened = day_of(today_case["submitted_at"])
    legal = day_of(today_case["legal_due_date"])
    calendar = Calendar.of_cluster(the_operator, opened.year, legal.year)
    reaches_unloaded = any(y not in calendar.loaded for y in range(opened.year, legal.year + 1))
    assert today_case["calendar_provisional"] is reaches_unloaded

    # Opened at the end of the year before, due in the year not loaded.
    start = date(year - 1, 12, 24)
    clock.move_to(start)
    application_id = submit(applicant, guide)
    view = case(applicant, application_id)
    calendar = Calendar.of_cluster(the_operator, year - 1, year)
    assert year not in calendar.loaded
    due = calendar.add(start, guide["promised_days"])  # weekdays only in `year`
    assert due.year == year
    assert view["due_date"] == iso(due)
    assert view["calendar_provisional"] is True
    mine = applicant.get("/api/v1/applications", params={"page_size": 100}).json()["items"]
    listed = next(entry for entry in mine if entry["application_id"] == application_id)
    assert listed["calendar_provisional"] is True

    # The shared instance's /readyz warns of it, and stays ready.
    workflow = next(p for p in cluster.processes if p.name == "workflow")
    ready = requests.get(workflow.health_url.replace("/healthz", "/readyz"), timeout=5)
    assert ready.status_code == 200
    assert "provisional" in ready.json()["warnings"]["calendar"]


def test_nothing_was_logged_as_an_error(watch):
    assert watch.problems() == []
