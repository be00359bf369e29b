"""What the approval engine's end-to-end tests share: people (citizens with a
verified real name, staff made by the operator), the demo items by code, cases
and worklists through the gateway, and working days counted on the calendar
the cluster's workflow instances hold.

Every helper works through the gateway's HTTP API, as a portal or a
department's client would.
"""

from __future__ import annotations

import random
import time
from datetime import date, datetime, timedelta, timezone

import requests

from services.identity.domain.id_numbers import id_number_check_char
from tests.e2e.test_journey import OPERATOR, Client, new_phone

PASSWORD = "Secret2026"
ONE_DAY = timedelta(days=1)
CHINA = timezone(timedelta(hours=8))
_issued_id_numbers: set[str] = set()


# ------------------------------------------------------------------- people


def _auth(client: Client, path: str, body: dict) -> requests.Response:
    """An auth route, waiting out the gateway's rate limit (429) if a test
    signs many people in at once."""
    for _ in range(20):
        response = client.post(path, json=body)
        if response.status_code != 429:
            return response
        time.sleep(float(response.headers.get("Retry-After", "1")))
    raise AssertionError(f"{path} stayed rate limited")


def signed_in(base_url: str, phone: str, password: str) -> Client:
    client = Client(base_url)
    response = _auth(client, "/api/v1/auth/login", {"phone": phone, "password": password})
    assert response.status_code == 200, response.text
    client.token = response.json()["access_token"]
    return client


def operator(base_url: str) -> Client:
    return signed_in(base_url, OPERATOR["phone"], OPERATOR["password"])


def staff(operator_client: Client, department: str, *roles: str, name: str = "工作人员") -> Client:
    """A new staff member of ``department`` with ``roles``, signed in."""
    phone = new_phone()
    response = operator_client.post(
        "/api/v1/admin/staff",
        json={
            "phone": phone,
            "password": PASSWORD,
            "name": name,
            "department_code": department,
            "roles": list(roles),
        },
    )
    assert response.status_code == 201, response.text
    return signed_in(operator_client.base_url, phone, PASSWORD)


def id_number(region: str = "320102", born: date | None = None) -> str:
    """A valid resident ID number of a household in ``region``, born on ``born``
    (a random day from 1960 to 1999 when None), never issued before in this run."""
    while True:
        birthday = born or date(1960, 1, 1) + timedelta(days=random.randrange(40 * 365))
        serial = f"{random.randrange(1000):03d}"
        first17 = f"{region}{birthday:%Y%m%d}{serial}"
        number = first17 + id_number_check_char(first17)
        if number not in _issued_id_numbers:
            _issued_id_numbers.add(number)
            return number


def citizen(
    base_url: str,
    name: str,
    *,
    region: str = "320102",
    born: date | None = None,
    fresh_token: bool = False,
) -> tuple[Client, str]:
    """A new citizen, signed in and real-name verified (level 2) with a fresh
    ID number of a household in ``region``; the client and the number.

    The token is the one signed in with before the verification (level 1 in
    its claims) unless ``fresh_token``: then the citizen signs in again, and
    what reads the level from the token (a review's real name) sees 2."""
    client = Client(base_url)
    phone = new_phone()
    response = _auth(
        client, "/api/v1/auth/register", {"phone": phone, "password": PASSWORD, "name": name}
    )
    assert response.status_code == 201, response.text
    client = signed_in(base_url, phone, PASSWORD)
    number = id_number(region, born)
    response = client.post("/api/v1/me/real-name", json={"name": name, "id_number": number})
    assert response.status_code == 200, response.text
    if fresh_token:
        client = signed_in(base_url, phone, PASSWORD)
    return client, number


# -------------------------------------------------------------------- items

_guides: dict[tuple[str, str], dict] = {}


def item(client: Client, code: str) -> dict:
    """The guide of the demo item with catalogue code ``code``."""
    key = (client.base_url, code)
    if key not in _guides:
        response = client.get("/api/v1/items", params={"q": code, "page_size": 100})
        assert response.status_code == 200, response.text
        found = [summary for summary in response.json()["items"] if summary["code"] == code]
        assert found, f"the demo catalogue has no item {code}"
        guide = client.get(f"/api/v1/items/{found[0]['item_id']}")
        assert guide.status_code == 200, guide.text
        _guides[key] = guide.json()
    return _guides[key]


# -------------------------------------------------------------------- cases


def apply_for_person(principal: Client, agent: Client, code: str) -> str:
    """``principal`` mandates ``agent`` for 30 days; the agent applies online
    for them for the item ``code``; the new application's id."""
    principal_id = principal.get("/api/v1/me").json()["user_id"]
    agent_id = agent.get("/api/v1/me").json()["user_id"]
    response = principal.post(
        "/api/v1/me/mandates",
        json={
            "agent_user_id": agent_id,
            "expires_on": (date.today() + timedelta(days=30)).isoformat(),
        },
    )
    assert response.status_code == 201, response.text
    guide = item(agent, code)
    response = agent.post(
        "/api/v1/applications",
        json={
            "item_id": guide["item_id"],
            "on_behalf_of": {"kind": "person", "user_id": principal_id},
            "materials": [{"name": material["name"]} for material in guide["materials"]],
            "delivery": {"mode": "online"},
        },
    )
    assert response.status_code == 201, response.text
    return response.json()["application_id"]


def submit(applicant: Client, guide: dict, mode: str | None = None) -> str:
    """Apply for the item of ``guide`` with all its materials; the case's id.
    ``mode`` defaults to online, else window (no EMS shipment to wait for)."""
    mode = mode or next(m for m in ("online", "window", "express") if m in guide["modes"])
    response = applicant.post(
        "/api/v1/applications",
        json={
            "item_id": guide["item_id"],
            "form": {"purpose": "e2e"},
            "materials": [{"name": material["name"]} for material in guide["materials"]],
            "delivery": {"mode": mode},
        },
    )
    assert response.status_code == 201, response.text
    return response.json()["application_id"]


def case(client: Client, application_id: str) -> dict:
    response = client.get(f"/api/v1/applications/{application_id}")
    assert response.status_code == 200, response.text
    return response.json()


def act(worker: Client, application_id: str, action: str, *, expect: int = 200, **body) -> dict:
    """POST .../actions; the answer's body (the case, or the error)."""
    body.setdefault("comment", f"{action}: e2e")
    response = worker.post(
        f"/api/v1/applications/{application_id}/actions", json={"action": action, **body}
    )
    assert response.status_code == expect, (action, response.status_code, response.text)
    return response.json()


ENDED = ("completed", "denied", "rejected")


def end(worker: Client, application_id: str, outcome: str) -> dict:
    """Take a case to ``outcome``: rejected at the window, or accepted and then
    approved at every step (completed) or denied at the first that decides.
    ``worker`` works every step (window_clerk and approver of the item's
    department); an online case completes with its decision. The case."""
    assert outcome in ENDED, outcome
    view = case(worker, application_id)
    while view["state"] not in ENDED:
        names = {name for name, _ in actions(view)}
        if outcome == "rejected":
            action = "reject"
        elif "accept" in names:
            action = "accept"
        else:
            action = "deny" if outcome == "denied" else "approve"
        assert action in names, (action, view["state"], names)
        view = act(worker, application_id, action)
    assert view["state"] == outcome, view["state"]
    return view


def actions(view: dict) -> set[tuple[str, str | None]]:
    """A case's ``available_actions`` as (action, step) pairs."""
    return {(entry["action"], entry["step"]) for entry in view["available_actions"]}


def step(view: dict, step_id: str) -> dict:
    return next(entry for entry in view["steps"] if entry["id"] == step_id)


def branch(step_view: dict, department: str) -> dict:
    return next(entry for entry in step_view["branches"] if entry["department_code"] == department)


def worklist(worker: Client, **params) -> list[dict]:
    """The first page (100) of the staff member's worklist."""
    response = worker.get("/api/v1/worklist", params={"page_size": 100, **params})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def on_worklist(worker: Client, application_id: str, **params) -> dict | None:
    """The case's entry on the staff member's worklist, or None."""
    entries = worklist(worker, **params)
    return next((entry for entry in entries if entry["application_id"] == application_id), None)


# ------------------------------------------------------------ working days


class Calendar:
    """Working days as the cluster counts them: weekdays, less the loaded
    years' holidays, plus their make-up working days; a year not loaded counts
    weekdays only. Built from what the operator's calendar route answers, and
    counted here on its own (not with the code under test)."""

    def __init__(self, holidays: set[date], workdays: set[date], loaded: set[int]):
        self.holidays = holidays
        self.workdays = workdays
        self.loaded = loaded

    @classmethod
    def of_cluster(cls, operator_client: Client, first: int, last: int) -> Calendar:
        holidays: set[date] = set()
        workdays: set[date] = set()
        loaded: set[int] = set()
        for year in range(first, last + 1):
            response = operator_client.get(f"/api/v1/admin/calendar/{year}")
            if response.status_code == 404:
                continue
            assert response.status_code == 200, response.text
            loaded.add(year)
            holidays |= {date.fromisoformat(day) for day in response.json()["holidays"]}
            workdays |= {date.fromisoformat(day) for day in response.json()["workdays"]}
        return cls(holidays, workdays, loaded)

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day not in self.holidays and day.weekday() < 5

    def add(self, start: date, n: int) -> date:
        """The n-th working day after ``start``."""
        day = start
        while n:
            day += ONE_DAY
            n -= self.is_working_day(day)
        return day

    def between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end``."""
        count, day = 0, start
        while day < end:
            day += ONE_DAY
            count += self.is_working_day(day)
        return count

    def before(self, due: date, n: int) -> date:
        """The last day from which ``due`` is ``n`` working days away."""
        day, count = due, 0
        while count < n:
            count += self.is_working_day(day)
            day -= ONE_DAY
        return day


def iso(day: date) -> str:
    return day.isoformat()


def day_of(text: str) -> date:
    """The day of an ISO date, or the Jiangsu day of an ISO instant."""
    if "T" in text:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(CHINA).date()
    return date.fromisoformat(text)
