"""Start the whole cluster as processes for the end-to-end tests.

The cluster gets a RabbitMQ virtual host of its own (the root conftest's
``cluster_amqp_uri``: nothing the integration tests left on the run's host
reaches it),
its own PostgreSQL databases (or SQLite files when TEST_DATABASE=sqlite) and
free ports. js-ga (江苏省公安厅) runs its own workflow instance, workflow-js-ga,
as in the local cluster.

Every process reads its clock through ``services.common.clock``: the ``clock``
fixture moves it (the days written in the cluster's CLOCK_OFFSET_FILE) and puts
it back afterwards. The workflow instances sweep for late and unsupplemented
cases every second, and ratings for late rectifications, so what a moved
clock causes shows at once.
"""

import os
import time
from datetime import date, datetime, timedelta, timezone

import pytest
import requests

from operations.local_cluster import LocalCluster
from operations.roster import SERVICES


@pytest.fixture(scope="session")
def cluster(tmp_path_factory, database_factory, cluster_amqp_uri, free_port):
    data_dir = tmp_path_factory.mktemp("cluster")
    clock_offset_file = data_dir / "clock-offset-days"
    clock_offset_file.write_text("0", encoding="utf-8")
    departments = ["js-ga"]
    instances = [f"workflow-{code}" for code in departments]
    cluster = LocalCluster(
        data_dir=data_dir,
        gateway_port=free_port(),
        ems_port=free_port(),
        data_exchange_port=free_port(),
        sms_port=free_port(),
        payment_port=free_port(),
        department_portal_port=free_port(),
        service_ports={name: free_port() for name in [*SERVICES, *instances]},
        workflow_departments=departments,
        amqp_uri=cluster_amqp_uri,
        database_urls={
            name: database_factory(name.replace("-", "_")) for name in [*SERVICES, *instances]
        },
        ems_step_seconds=0.3,
        extra_env={
            "OUTBOX_POLL_SECONDS": "0.1",
            "EVENT_RETRY_DELAYS_MS": "200,1000",
            "SHUTDOWN_GRACE_SECONDS": "5",
            "CATALOG_CACHE_SECONDS": "2",
            # Generous: the cluster shares two cores with the rest of the suite.
            "RPC_TIMEOUT_SECONDS": "5",
            "LOG_LEVEL": "INFO",
            "CLOCK_OFFSET_FILE": str(clock_offset_file),
            "OVERDUE_CHECK_SECONDS": "1",
            # ratings' sweep escalating late rectifications, as workflow's above.
            "RECTIFICATION_CHECK_SECONDS": "1",
            # A text the SMS simulator could not take is tried again soon.
            "SMS_RETRY_SECONDS": "0.5",
            # courier places the EMS orders it keeps soon, and tries again soon
            # an order EMS did not answer (at once, when it does not answer).
            "EMS_ORDER_PLACE_SECONDS": "0.2",
            "EMS_ORDER_RETRY_SECONDS": "0.5",
            "EMS_ORDER_MAX_RETRY_SECONDS": "2",
            "EMS_READ_TIMEOUT_SECONDS": "1",
            # Orders, cancellations and refunds the payment platform could not
            # take are tried again soon.
            "PAYMENT_CHECK_SECONDS": "1",
            # A rotated signing key signs 6 s after it is published; the gateway
            # loads the JWKS (and the ended sessions and locks) every 2 s.
            "SIGNING_KEY_PUBLISH_SECONDS": "6",
            "JWKS_REFRESH_SECONDS": "2",
            # Every test client is 127.0.0.1: its public reads are not capped, its
            # sign-ins share no bucket of 20 (a quick run of tests that each sign
            # people in drained it; gateway/tests cover the 429), and its failed
            # sign-ins (schemathesis sends many) do not lock the address.
            # A phone still locks after 5 failures, briefly (test_lockout.py).
            "PUBLIC_RATE_PER_SECOND": "0",
            "AUTH_RATE_PER_SECOND": "1000",
            "AUTH_RATE_BURST": "1000",
            "LOGIN_ADDRESS_LOCK_FAILURES": "0",
            "LOGIN_LOCK_BASE_SECONDS": "10",
            "LOGIN_LOCK_MAX_SECONDS": "10",
            # An authorization code lives 10 s (60 deployed), so that
            # test_oidc.py sees one expire without a long wait.
            "OIDC_CODE_SECONDS": "10",
        },
    )
    cluster.clock_offset_file = clock_offset_file
    cluster.loaded = cluster.prepare()
    cluster.start(timeout=120)
    yield cluster
    cluster.stop()


class LogWatch:
    """The lines the cluster's processes log from now on.

    ``problems()`` are the lines an operator's alert would fire on: a record at
    error or above, or one carrying a traceback. Answering bad input is never one.
    """

    def __init__(self, cluster):
        self.marks = {
            process.name: process.log_path.stat().st_size if process.log_path.exists() else 0
            for process in cluster.processes
        }
        self.paths = {process.name: process.log_path for process in cluster.processes}

    def lines(self) -> dict[str, list[str]]:
        found = {}
        for name, path in self.paths.items():
            with open(path, "rb") as handle:
                handle.seek(self.marks[name])
                found[name] = handle.read().decode("utf-8", "replace").splitlines()
        return found

    def problems(self) -> list[str]:
        import json

        bad = []
        for name, lines in self.lines().items():
            for line in lines:
                try:
                    record = json.loads(line)
                except ValueError:
                    if "Traceback" in line:
                        bad.append(f"{name}: {line}")
                    continue
                if not isinstance(record, dict):
                    continue
                if record.get("level") in ("error", "critical") or "exc" in record:
                    bad.append(f"{name}: {line[:500]}")
        return bad


@pytest.fixture(scope="session")
def log_watch(cluster):
    """Call it to start watching the cluster's logs."""
    return lambda: LogWatch(cluster)


class DataExchange:
    """The cluster's data exchange simulator, as workflow is configured to ask it,
    and its admin side: ``put`` gives a person (a fresh ID number) a situation,
    ``set_down`` takes a register down (see simulators/data_exchange/app.py)."""

    def __init__(self, cluster):
        workflow = next(p for p in cluster.processes if p.name == "workflow")
        self.url = workflow.env["DATA_EXCHANGE_URL"]
        self.api_key = workflow.env["DATA_EXCHANGE_API_KEY"]

    def _post(self, path: str, body: dict) -> dict:
        response = requests.post(
            self.url + path, json=body, headers={"X-Api-Key": self.api_key}, timeout=5
        )
        response.raise_for_status()
        return response.json()

    def put(self, id_number: str, civil_affairs=..., housing=...) -> dict:
        """``civil_affairs={"marital_status": "married", "spouse_id_number": ...}``,
        ``housing={"homes_owned": {"320100": 1}}``; None removes the record."""
        body = {"id_number": id_number}
        if civil_affairs is not ...:
            body["civil_affairs"] = civil_affairs
        if housing is not ...:
            body["housing"] = housing
        return self._post("/admin/records", body)

    def set_down(self, register: str, down: bool = True) -> dict:
        return self._post("/admin/outages", {"register": register, "down": down})


@pytest.fixture(scope="session")
def data_exchange(cluster):
    return DataExchange(cluster)


class Sms:
    """The cluster's SMS simulator, as ratings is configured to text through it:
    ``inbox`` reads what a phone was sent (newest first), ``wait_for`` waits for
    a text, ``set_down`` makes the gateway answer 503 (see simulators/sms/app.py)."""

    def __init__(self, cluster):
        ratings = next(p for p in cluster.processes if p.name == "ratings")
        self.url = ratings.env["SMS_URL"]
        self.api_key = ratings.env["SMS_API_KEY"]

    def inbox(self, phone: str) -> list[dict]:
        """``[{message_id, text, status, sent_at}, ...]``, newest first."""
        response = requests.get(
            self.url + "/api/messages",
            params={"phone": phone},
            headers={"X-Api-Key": self.api_key},
            timeout=5,
        )
        response.raise_for_status()
        return response.json()["messages"]

    def wait_for(self, phone: str, count: int = 1, timeout: float = 10.0) -> list[dict]:
        """The phone's inbox once it holds ``count`` texts; AssertionError after
        ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            messages = self.inbox(phone)
            if len(messages) >= count or time.monotonic() > deadline:
                assert len(messages) >= count, f"{phone} got {len(messages)} of {count} texts"
                return messages
            time.sleep(0.2)

    def set_down(self, down: bool = True) -> dict:
        response = requests.post(
            self.url + "/admin/outage",
            json={"down": down},
            headers={"X-Api-Key": self.api_key},
            timeout=5,
        )
        response.raise_for_status()
        return response.json()


@pytest.fixture(scope="session")
def sms(cluster):
    return Sms(cluster)


class Payment:
    """The cluster's payment simulator, as workflow is configured to ask it: the
    cashier a citizen pays at (``pay``), the orders of a case (``orders``) and
    the outage switch (``set_down``; see simulators/payment/app.py)."""

    def __init__(self, cluster):
        workflow = next(p for p in cluster.processes if p.name == "workflow")
        self.url = workflow.env["PAYMENT_URL"]
        self.api_key = workflow.env["PAYMENT_API_KEY"]

    def pay(self, pay_url: str) -> dict:
        """Pay at the cashier, as the citizen's browser would (no key)."""
        response = requests.post(pay_url + "/pay", timeout=5)
        response.raise_for_status()
        return response.json()

    def orders(self, application_id: str) -> list[dict]:
        response = requests.get(
            self.url + "/api/orders",
            params={"reference": application_id},
            headers={"X-Api-Key": self.api_key},
            timeout=5,
        )
        response.raise_for_status()
        return response.json()["orders"]

    def set_down(self, down: bool = True) -> dict:
        response = requests.post(
            self.url + "/admin/outage",
            json={"down": down},
            headers={"X-Api-Key": self.api_key},
            timeout=5,
        )
        response.raise_for_status()
        return response.json()


@pytest.fixture(scope="session")
def payment(cluster):
    return Payment(cluster)


class DepartmentPortal:
    """The cluster's demo department system (苏州市住房公积金管理中心 网上服务大厅,
    simulators/department_portal): who is signed in there (``signed_in``) and a
    wait for a person's sessions to end (``wait_signed_out``)."""

    def __init__(self, cluster):
        self.url = cluster.department_portal_url

    def signed_in(self, sub: str | None = None) -> list[dict]:
        """``[{sid, sub, name, acr, signed_in_at}, ...]``, of ``sub`` when given."""
        response = requests.get(self.url + "/api/sessions", timeout=5)
        response.raise_for_status()
        sessions = response.json()["sessions"]
        return [session for session in sessions if sub is None or session["sub"] == sub]

    def wait_signed_out(self, sub: str, timeout: float = 10.0) -> None:
        """Return once ``sub`` has no session there; AssertionError after
        ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while self.signed_in(sub):
            assert time.monotonic() < deadline, f"{sub} still signed in: {self.signed_in(sub)}"
            time.sleep(0.2)


@pytest.fixture(scope="session")
def department_portal(cluster):
    return DepartmentPortal(cluster)


CHINA = timezone(timedelta(hours=8))
# services.common.clock reads the offset file at most once a second.
CLOCK_READ_SECONDS = 1.0


class MovedClock:
    """The cluster's clock, moved by whole days (CLOCK_OFFSET_FILE)."""

    def __init__(self, path):
        self.path = path
        self.days = 0

    @staticmethod
    def real_today() -> date:
        """Today in Jiangsu by the system clock, as workflow counts days."""
        return datetime.now(CHINA).date()

    def today(self) -> date:
        """Today in Jiangsu as the cluster's processes see it now."""
        return self.real_today() + timedelta(days=self.days)

    def move_by(self, days: int) -> date:
        """Move the clock ``days`` further (from where it stands); the new today."""
        return self.set(self.days + days)

    def move_to(self, day: date) -> date:
        """Make ``day`` today for every process."""
        return self.set((day - self.real_today()).days)

    def set(self, days: int) -> date:
        self.days = days
        # Replaced whole, so no process ever reads a half-written file.
        written = self.path.with_suffix(".new")
        written.write_text(str(days), encoding="utf-8")
        os.replace(written, self.path)
        # Not a wait for some effect: a process reads the file again at most a
        # second after its last read, so a second on, every process has it.
        time.sleep(CLOCK_READ_SECONDS + 0.15)
        return self.today()


@pytest.fixture
def clock(cluster):
    """Moves the clock of every process; always set back to the system's after
    the test (other tests share the cluster)."""
    moved = MovedClock(cluster.clock_offset_file)
    try:
        yield moved
    finally:
        if moved.days or cluster.clock_offset_file.read_text(encoding="utf-8") != "0":
            moved.set(0)
