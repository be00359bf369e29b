"""A running gateway process loads the ended sessions and the locks before it is
ready, and again when its event consumers' broker connection comes back."""

import time
from datetime import UTC, datetime, timedelta

from nameko.messaging import QueueConsumer

from services.common.errors import Unavailable
from services.common.messaging.envelope import isoformat_utc


def wait_for(check, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def test_sessions_ended_before_the_start_are_refused(start_gateway, fake_rpc):
    expires_at = isoformat_utc(datetime.now(UTC) + timedelta(minutes=10))
    fake_rpc.answers[("identity", "revoked_sessions")] = {
        "items": [{"session_id": "s-1", "user_id": "u-1", "revoked_at": expires_at,
                   "expires_at": expires_at}],
        "page": 1, "page_size": 100, "total": 1,
    }  # fmt: skip
    fake_rpc.answers[("identity", "locked_accounts")] = {
        "items": [{"user_id": "u-locked", "locked_until": expires_at}],
        "page": 1, "page_size": 100, "total": 1,
    }  # fmt: skip
    gateway = start_gateway()
    assert gateway.request("GET", "/readyz").status_code == 200
    ended = gateway.request("GET", "/api/v1/me", token=gateway.token(sid="s-1"))
    assert ended.status_code == 401
    assert ended.json()["error"]["message"] == "the session has ended; sign in again"
    locked = gateway.request("GET", "/api/v1/me", token=gateway.token(sub="u-locked", sid="s-2"))
    assert locked.status_code == 401
    assert locked.json()["error"]["message"] == "the account is locked; try again later"


def test_not_ready_while_identity_does_not_list_the_ended_sessions(start_gateway, fake_rpc):
    fake_rpc.answers[("identity", "revoked_sessions")] = Unavailable("identity is starting")
    gateway = start_gateway()
    ready = gateway.request("GET", "/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["revoked_sessions"] == "not loaded"
    del fake_rpc.answers[("identity", "revoked_sessions")]
    # The loader backs off to 10 s between tries.
    assert wait_for(lambda: gateway.request("GET", "/readyz").status_code == 200, timeout=15)


def test_a_broker_reconnection_reloads_sessions_and_locks(gateway):
    [consumer] = [e for e in gateway.container.extensions if isinstance(e, QueueConsumer)]
    before = len(gateway.rpc.calls_to("identity", "revoked_sessions"))
    # What kombu calls once the consumers are connected again.
    consumer.on_consume_ready(None, None, [])
    assert wait_for(lambda: len(gateway.rpc.calls_to("identity", "revoked_sessions")) > before)
    assert wait_for(lambda: len(gateway.rpc.calls_to("identity", "locked_accounts")) >= 2)
