"""The gateway's key ring: what it loads before it is ready, what it loads again,
and the tokens it refuses (forged, expired, of an ended session, of a locked
account)."""

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from gateway.auth import ACCOUNT_LOCKED, SESSION_ENDED, KeyRing
from gateway.sessions import (
    LockedAccounts,
    RevokedSessions,
    apply_account_locked,
    apply_account_unlocked,
    load_locked_accounts,
    load_revoked_sessions,
)
from gateway.tests.conftest import FakeRpc, Signer
from services.common.errors import Unauthorized
from services.common.messaging.envelope import isoformat_utc, make_envelope


def iso(epoch: float) -> str:
    return isoformat_utc(datetime.fromtimestamp(epoch, UTC))


class Clock:
    def __init__(self):
        self.now = 1_800_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture(scope="module")
def signer():
    return Signer()


def keyring_with(rpc: FakeRpc) -> KeyRing:
    keys = KeyRing()
    keys._rpc = lambda: rpc
    return keys


@pytest.fixture
def keys(signer):
    keys = keyring_with(FakeRpc(signer.jwks))
    assert keys._load_all()
    return keys


# --- loading ----------------------------------------------------------------------


def test_not_ready_until_keys_sessions_and_locks_are_loaded(signer):
    rpc = FakeRpc(signer.jwks)
    rpc.answers[("identity", "revoked_sessions")] = RuntimeError("identity is starting")
    keys = keyring_with(rpc)
    assert not keys._load_all()
    assert keys.verifier is not None and not keys.ready
    assert keys.checks() == {
        "jwks": "ok",
        "revoked_sessions": "not loaded",
        "locked_accounts": "ok",
    }
    del rpc.answers[("identity", "revoked_sessions")]
    assert keys._load_all() and keys.ready


def test_a_process_started_after_a_logout_refuses_the_session(signer):
    rpc = FakeRpc(signer.jwks)
    expires = time.time() + 600
    pages = {
        1: {
            "items": [
                {"session_id": "s-1", "user_id": "u-1", "revoked_at": iso(expires - 900),
                 "expires_at": iso(expires)},
            ],
            "page": 1, "page_size": 1, "total": 2,
        },
        2: {
            "items": [
                {"session_id": "s-2", "user_id": "u-2", "revoked_at": iso(expires - 900),
                 "expires_at": iso(expires)},
            ],
            "page": 2, "page_size": 1, "total": 2,
        },
    }  # fmt: skip
    rpc.answers[("identity", "revoked_sessions")] = lambda page, **_: pages[page]
    keys = keyring_with(rpc)
    assert keys._load_all()
    assert keys.revoked_sessions.is_revoked("s-1") and keys.revoked_sessions.is_revoked("s-2")
    with pytest.raises(Unauthorized, match=SESSION_ENDED):
        keys.verify(signer.token(sid="s-2", sub="u-2"))
    # A later load asks only for what ended since (a minute's overlap).
    keys._load_all()
    since = rpc.calls_to("identity", "revoked_sessions")[-1]["since"]
    assert datetime.fromisoformat(since.replace("Z", "+00:00")).timestamp() < time.time() - 59


def test_a_process_started_during_a_lock_refuses_the_account(signer):
    rpc = FakeRpc(signer.jwks)
    rpc.answers[("identity", "locked_accounts")] = {
        "items": [{"user_id": "u-9", "locked_until": iso(time.time() + 60)}],
        "page": 1,
        "page_size": 100,
        "total": 1,
    }
    keys = keyring_with(rpc)
    assert keys._load_all()
    with pytest.raises(Unauthorized, match=ACCOUNT_LOCKED):
        keys.verify(signer.token(sub="u-9"))
    assert keys.verify(signer.token(sub="u-1"))["sub"] == "u-1"


def test_a_reconnect_reloads_sessions_and_locks(signer):
    rpc = FakeRpc(signer.jwks)
    keys = keyring_with(rpc)

    class Consumer:
        def __init__(self):
            self.ready = 0

        def on_consume_ready(self, *args, **kwargs):
            self.ready += 1

    class Container:
        def __init__(self):
            self.extensions = {Consumer()}
            self.spawned = []

        def spawn_managed_thread(self, run, identifier=None):
            self.spawned.append(identifier)
            run()

    keys.container = container = Container()
    keys._watch_reconnects()
    [consumer] = container.extensions
    consumer.on_consume_ready("connection", "channel", [])  # the first connection
    assert consumer.ready == 1 and container.spawned == []
    assert keys._load_all()
    before = len(rpc.calls_to("identity", "revoked_sessions"))
    consumer.on_consume_ready("connection", "channel", [])  # back after a loss
    assert container.spawned == ["reload-after-reconnect"]
    assert len(rpc.calls_to("identity", "revoked_sessions")) == before + 1
    assert len(rpc.calls_to("identity", "locked_accounts")) == 2


def test_paged_lists_that_move_while_read_are_read_again():
    answers = iter(
        [
            {"items": [{"user_id": "a", "locked_until": iso(time.time() + 60)}], "total": 2},
            {"items": [], "total": 1},  # "a"'s lock ran out meanwhile: start again
            {"items": [{"user_id": "b", "locked_until": iso(time.time() + 60)}], "total": 1},
        ]
    )
    locked = LockedAccounts()
    assert load_locked_accounts(lambda method, **_: next(answers), locked) == 1
    assert locked.is_locked("b") and not locked.is_locked("a")


def test_load_revoked_sessions_with_no_answer_records_nothing():
    revoked = RevokedSessions()
    assert load_revoked_sessions(lambda method, **_: {"items": [], "total": 0}, revoked) == 0
    assert len(revoked) == 0


# --- locked accounts --------------------------------------------------------------


def test_a_lock_holds_until_it_runs_out_or_an_operator_lifts_it():
    clock = Clock()
    locked = LockedAccounts(clock=clock)
    apply_account_locked(
        locked,
        make_envelope(
            "identity",
            "account_locked",
            {"user_id": "u-1", "locked_until": iso(clock.now + 60), "failures": 5,
             "lock_count": 1},
        ),
    )  # fmt: skip
    assert locked.is_locked("u-1") and not locked.is_locked("u-2")
    assert not locked.is_locked(None)
    clock.now += 60
    assert not locked.is_locked("u-1") and len(locked) == 0
    apply_account_locked(locked, {"user_id": "u-1", "locked_until": iso(clock.now + 120)})
    apply_account_unlocked(
        locked,
        make_envelope("identity", "account_unlocked", {"user_id": "u-1", "unlocked_by": "o"}),
    )
    assert not locked.is_locked("u-1")


def test_a_malformed_lock_event_is_ignored():
    locked = LockedAccounts()
    apply_account_locked(locked, {"user_id": "u-1"})
    apply_account_locked(locked, {"locked_until": iso(time.time() + 60)})
    apply_account_unlocked(locked, {})
    assert len(locked) == 0


def test_an_unlock_heard_during_a_load_wins_over_the_loaded_list():
    locked = LockedAccounts()
    until = time.time() + 60

    def identity(method, **_):
        # The operator lifts the lock after identity answered, before the load ends.
        apply_account_unlocked(locked, {"user_id": "u-1", "unlocked_by": "o"})
        return {"items": [{"user_id": "u-1", "locked_until": iso(until)}], "total": 1}

    load_locked_accounts(identity, locked)
    assert not locked.is_locked("u-1")


def test_a_load_replaces_locks_lifted_while_this_process_was_away():
    locked = LockedAccounts()
    locked.lock("gone", time.time() + 60)
    load_locked_accounts(lambda method, **_: {"items": [], "total": 0}, locked)
    assert not locked.is_locked("gone")


# --- forged and stale tokens -----------------------------------------------------------


def forge(claims: dict, header: dict, key="", algorithm="HS256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm, headers=header)


def segments(token: str) -> list[str]:
    return token.split(".")


def b64(data: dict) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims_of(signer, **overrides) -> dict:
    return jwt.decode(signer.token(**overrides), options={"verify_signature": False})


def test_alg_none_is_refused(keys, signer):
    header = {"alg": "none", "typ": "JWT", "kid": signer.kid}
    token = f"{b64(header)}.{b64(claims_of(signer))}."
    with pytest.raises(Unauthorized, match="unsupported algorithm"):
        keys.verify(token)


def test_hs256_signed_with_the_public_key_is_refused(keys, signer):
    public_pem = signer.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    body, claims = b64({"alg": "HS256", "typ": "JWT", "kid": signer.kid}), claims_of(signer)
    signing_input = f"{body}.{b64(claims)}".encode()
    mac = hmac.new(public_pem, signing_input, hashlib.sha256).digest()
    token = signing_input.decode() + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    with pytest.raises(Unauthorized, match="unsupported algorithm"):
        keys.verify(token)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"iss": "someone-else"}, "wrong issuer"),
        ({"aud": "another-audience"}, "wrong audience"),
        ({"expires_in": -60}, "token expired"),
        ({"iat": int(time.time()) + 3600}, "not yet valid"),
        ({"nbf": int(time.time()) + 3600}, "not yet valid"),
    ],
)
def test_tokens_for_elsewhere_or_another_time_are_refused(keys, signer, overrides, reason):
    with pytest.raises(Unauthorized, match=reason):
        keys.verify(signer.token(**overrides))


def test_a_token_issued_a_little_ahead_passes_within_the_leeway(keys, signer):
    assert keys.verify(signer.token(iat=int(time.time()) + 10))["sub"] == "u-1"


def test_an_unknown_kid_is_refused_and_refetches_at_most_once_per_interval(keys, signer):
    stranger = Signer(kid="not-published")
    rpc = keys._rpc()
    keys._last_fetch = 0.0  # long ago
    fetches = len(rpc.calls_to("identity", "jwks"))
    for _ in range(3):
        with pytest.raises(Unauthorized, match="unknown key id"):
            keys.verify(stranger.token())
    assert len(rpc.calls_to("identity", "jwks")) == fetches + 1


@pytest.mark.parametrize("kind", ["staff", "operator"])
def test_claims_edited_after_signing_are_refused(keys, signer, kind):
    header, payload, signature = segments(signer.token(kind="citizen"))
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(kind=kind, roles=["dept_admin"])
    with pytest.raises(Unauthorized, match="bad signature"):
        keys.verify(f"{header}.{b64(claims)}.{signature}")


def test_a_token_signed_by_another_key_under_a_published_kid_is_refused(keys, signer):
    impostor = Signer(kid=signer.kid)
    with pytest.raises(Unauthorized, match="bad signature"):
        keys.verify(impostor.token(kind="operator"))
