"""SIGTERM lets in-flight work finish, within a bounded time."""

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import requests

from services.common.config import PROJECT_ROOT


@pytest.fixture
def start_slow_service(amqp_uri, free_port):
    started = []

    def start(grace_seconds: float):
        port = free_port()
        env = dict(
            os.environ,
            AMQP_URI=amqp_uri,
            WEB_SERVER_ADDRESS=f"127.0.0.1:{port}",
            SHUTDOWN_GRACE_SECONDS=str(grace_seconds),
            PYTHONPATH=str(PROJECT_ROOT),
        )
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "operations.runner",
                "operations.tests.integration.slow_service:SlowService",
            ],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(process)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{url}/healthz", timeout=1)
                return process, url
            except requests.RequestException:
                assert time.monotonic() < deadline, "the service did not start"
                time.sleep(0.2)

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def in_background(url):
    outcome = {}

    def call():
        try:
            response = requests.get(url, timeout=30)
            outcome["status"], outcome["text"] = response.status_code, response.text
        except requests.RequestException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=call)
    thread.start()
    return thread, outcome


def test_sigterm_lets_in_flight_requests_finish(start_slow_service):
    process, url = start_slow_service(grace_seconds=10)
    thread, outcome = in_background(f"{url}/slow/1.5")
    time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    thread.join(10)
    assert outcome.get("status") == 200 and outcome.get("text") == "finished"
    assert process.wait(timeout=10) == 0


def test_sigterm_gives_up_on_work_that_outlasts_the_grace_period(start_slow_service):
    process, url = start_slow_service(grace_seconds=1)
    thread, _ = in_background(f"{url}/slow/60.0")
    time.sleep(0.5)
    signalled = time.monotonic()
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=15)
    assert time.monotonic() - signalled < 10
    thread.join(5)
