"""Live case data end to end: the counts of /api/v1/stats/cases for one item,
and the Server-Sent Events of /api/v1/stats/live as a wall dashboard reads
them, while a case is submitted, accepted and completed through the gateway.

The item is one no other end-to-end test applies for, so its counts are
exactly this module's.
"""

import json
import queue
import socket
import threading
import time
from datetime import datetime, timedelta

import pytest
import requests

from tests.e2e.approvals import CHINA, act, citizen, iso, item, operator, staff, submit
from tests.e2e.test_journey import eventually

pytestmark = pytest.mark.e2e

ITEM = "320582-ZJGXZSPJ-002"  # zjg-xzsp: accept 1, file 3, online (no other test applies)
LIVE_MEASURES = (
    "submitted",
    "accepted",
    "completed",
    "completed_on_time",
    "overdue",
    "denied",
    "rejected",
    "ems",
)


@pytest.fixture(scope="module", autouse=True)
def watch(log_watch):
    return log_watch()


@pytest.fixture(scope="module")
def worker(cluster):
    return staff(operator(cluster.gateway_url), "zjg-xzsp", "window_clerk", "approver")


@pytest.fixture(scope="module")
def applicant(cluster):
    client, _ = citizen(cluster.gateway_url, "李华")
    return client


def test_case_data_counts_a_case_submitted_accepted_and_completed_on_time(
    cluster, worker, applicant
):
    guide = item(applicant, ITEM)
    anyone = requests.Session()

    def figures(**params) -> dict:
        response = anyone.get(
            cluster.gateway_url + "/api/v1/stats/cases",
            params={"item": guide["item_id"], **params},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return response.json()

    none = {
        "region": None,
        "department": None,
        "item": guide["item_id"],
        "from": None,
        "to": None,
        "submitted": 0,
        "accepted": 0,
        "completed": 0,
        "completed_on_time": 0,
        "on_time_rate": None,
        "denied": 0,
        "rejected": 0,
        "not_supplemented": 0,
        "withdrawn": 0,
        "overdue": 0,
        "ems": 0,
        "by_mode": {"online": 0, "express": 0, "window": 0},
        "ems_share": None,
        "average_working_days": None,
    }
    assert figures() == none

    def reach(expected: dict) -> dict:
        return eventually(
            lambda: figures() == expected, timeout=20, what=f"the case data to count {expected}"
        )

    application_id = submit(applicant, guide)
    submitted = {
        **none,
        "submitted": 1,
        "by_mode": {"online": 1, "express": 0, "window": 0},
        "ems_share": 0.0,
    }
    reach(submitted)
    assert act(worker, application_id, "accept")["state"] == "accepted"
    accepted = {**submitted, "accepted": 1}
    reach(accepted)
    assert act(worker, application_id, "approve")["state"] == "completed"
    # Decided the day it was submitted: on time, in 0 working days.
    completed = {
        **accepted,
        "completed": 1,
        "completed_on_time": 1,
        "on_time_rate": 1.0,
        "average_working_days": 0.0,
    }
    reach(completed)

    # Today's, counted by China day; none the day before.
    today = datetime.now(CHINA).date()
    assert figures(**{"from": iso(today), "to": iso(today)}) == {
        **completed,
        "from": iso(today),
        "to": iso(today),
    }
    yesterday = iso(today - timedelta(days=1))
    assert figures(to=yesterday) == {**none, "to": yesterday}
    assert figures(department="zjg-xzsp", region="320582") == {
        **completed,
        "department": "zjg-xzsp",
        "region": "320582",
    }


class LiveFeed:
    """A client of GET /api/v1/stats/live, reading it in a thread as a wall
    dashboard would: each Server-Sent Event parsed into ``events`` as
    ``{"event", "id", "data"}`` (data decoded from JSON); comments
    (``: keepalive``) skipped."""

    def __init__(self, url: str):
        self.response = requests.get(
            url, stream=True, headers={"Accept": "text/event-stream"}, timeout=(5, 60)
        )
        self.events: queue.Queue = queue.Queue()
        self.stopped = False
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        event: dict = {}
        data: list[str] = []
        try:
            for raw in self.response.iter_lines():
                line = raw.decode("utf-8")
                if not line:  # a blank line ends an event
                    if data:
                        self.events.put({**event, "data": json.loads("\n".join(data))})
                    event, data = {}, []
                elif line.startswith(":"):
                    continue
                else:
                    name, _, value = line.partition(":")
                    value = value[1:] if value.startswith(" ") else value
                    if name == "data":
                        data.append(value)
                    else:
                        event[name] = value
        except Exception:  # noqa: BLE001  (closed by the test, or the stream broke)
            if not self.stopped:
                raise

    def next(self, timeout: float = 20.0) -> dict:
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no event on the live feed in {timeout} s") from None

    def close(self) -> None:
        """Hang up. The socket is shut down, not closed, under the reading
        thread: its read then ends, and the response is closed after it."""
        self.stopped = True
        connection = getattr(self.response.raw, "_connection", None)
        if connection is not None and connection.sock is not None:
            connection.sock.shutdown(socket.SHUT_RDWR)
        self.thread.join(timeout=5)
        assert not self.thread.is_alive()
        self.response.close()


def test_the_live_feed_sends_the_snapshot_then_each_change(cluster, worker, applicant):
    guide = item(applicant, ITEM)
    feed = LiveFeed(cluster.gateway_url + "/api/v1/stats/live")
    try:
        assert feed.response.status_code == 200
        assert feed.response.headers["Content-Type"].startswith("text/event-stream")

        # The snapshot first, before anything happens.
        started = time.monotonic()
        first = feed.next(timeout=10)
        assert time.monotonic() - started < 5
        assert first["event"] == "case_stats" and first["id"]
        snapshot = first["data"]
        assert set(snapshot) == {"day", "today", "all_time"}
        assert set(snapshot["today"]) == set(snapshot["all_time"]) == set(LIVE_MEASURES)
        before = snapshot["all_time"]
        seen = [snapshot]

        def until(measure: str) -> dict:
            """The events up to the one counting one more ``measure`` than
            the snapshot; each at least as far as the one before."""
            while True:
                data = feed.next()["data"]
                for name in LIVE_MEASURES:
                    assert data["all_time"][name] >= seen[-1]["all_time"][name], (name, data)
                seen.append(data)
                if data["all_time"][measure] > before[measure]:
                    return data

        application_id = submit(applicant, guide)
        data = until("submitted")
        assert data["all_time"]["submitted"] == before["submitted"] + 1
        today = iso(datetime.now(CHINA).date())
        assert data["day"] == today and data["today"]["submitted"] >= 1

        act(worker, application_id, "accept")
        data = until("accepted")
        assert data["all_time"]["accepted"] == before["accepted"] + 1
        assert data["day"] == today and data["today"]["accepted"] >= 1

        act(worker, application_id, "approve")
        data = until("completed")
        assert data["all_time"]["completed"] == before["completed"] + 1
        assert data["all_time"]["completed_on_time"] == before["completed_on_time"] + 1
        assert data["day"] == today and data["today"]["completed"] >= 1
    finally:
        feed.close()


def test_nothing_was_logged_as_an_error(watch):
    assert watch.problems() == []
