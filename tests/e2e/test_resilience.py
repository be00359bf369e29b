"""The cluster under trouble: a service that does not answer, a forged webhook."""

import json
import signal
import time

import pytest
import requests

pytestmark = pytest.mark.e2e


def process_of(cluster, name):
    return next(p for p in cluster.processes if p.name == name)


def test_a_service_that_does_not_answer_gives_a_quick_json_504(cluster):
    ratings = process_of(cluster, "ratings")
    ratings.popen.send_signal(signal.SIGSTOP)  # alive, holding its queue, answering nothing
    try:
        started = time.monotonic()
        response = requests.get(f"{cluster.gateway_url}/api/v1/stats/ratings", timeout=30)
        waited = time.monotonic() - started
    finally:
        ratings.popen.send_signal(signal.SIGCONT)
    assert response.status_code == 504
    assert response.json()["error"]["code"] == "timeout"
    assert waited < 10  # the deadline is 5 s here; nothing hangs
    # Once it answers again, so does the route.
    deadline = time.monotonic() + 30
    while (
        requests.get(f"{cluster.gateway_url}/api/v1/stats/ratings", timeout=30).status_code != 200
    ):
        assert time.monotonic() < deadline
        time.sleep(0.5)


def test_a_webhook_with_a_bad_signature_is_refused(cluster):
    body = json.dumps(
        {
            "tracking_no": "EA123456785CN",
            "status": "delivered",
            "occurred_at": "2026-11-25T08:00:00Z",
            "location": "南京",
            "description": "forged",
            "reference": "x",
        }
    ).encode()
    response = requests.post(
        f"{cluster.gateway_url}/api/v1/webhooks/ems",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-EMS-Timestamp": str(int(time.time())),
            "X-EMS-Signature": "0" * 64,
        },
        timeout=10,
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"]
