"""A session that identity ends is refused at once, on the real broker."""

import time
from datetime import timedelta

from gateway.tests.conftest import unique
from services.common.messaging.envelope import make_envelope, utcnow
from services.common.messaging.publisher import ConfirmingPublisher
from services.common.messaging.relay import outgoing


def publish(amqp_uri, envelope) -> list:
    publisher = ConfirmingPublisher(amqp_uri)
    try:
        return publisher.publish_batch([outgoing(envelope)])
    finally:
        publisher.close()


def session_revoked(session_id: str, user_id: str) -> dict:
    revoked_at = utcnow()
    payload = {
        "session_id": session_id,
        "user_id": user_id,
        "revoked_at": revoked_at,
        "expires_at": revoked_at + timedelta(minutes=15),
    }
    return make_envelope("identity", "session_revoked", payload)


def test_a_revoked_session_is_refused_and_others_are_not(gateway, amqp_uri):
    gateway.rpc.answers[("identity", "get_profile")] = lambda user_id: {"user_id": user_id}
    ended, other = f"s-{unique()}", f"s-{unique()}"
    token = gateway.token(sub="u-1", sid=ended)
    other_token = gateway.token(sub="u-1", sid=other)
    assert gateway.request("GET", "/api/v1/me", token=token).status_code == 200

    # Routed, so the gateway's broadcast queue is bound (none returned unrouted).
    assert publish(amqp_uri, session_revoked(ended, "u-1")) == []
    deadline = time.monotonic() + 5
    response = gateway.request("GET", "/api/v1/me", token=token)
    while response.status_code == 200 and time.monotonic() < deadline:
        time.sleep(0.05)
        response = gateway.request("GET", "/api/v1/me", token=token)

    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "unauthorized"
    assert "the session has ended" in error["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    # Refused in the gateway: identity is not asked.
    profile_calls = len(gateway.rpc.calls_to("identity", "get_profile"))
    assert gateway.request("GET", "/api/v1/me", token=token).status_code == 401
    assert len(gateway.rpc.calls_to("identity", "get_profile")) == profile_calls
    # Another session of the same user goes on working.
    assert gateway.request("GET", "/api/v1/me", token=other_token).status_code == 200
