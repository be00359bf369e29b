"""Attacks on access tokens through the real gateway, and a signing key rotation.

Forged tokens (alg none, HS256 keyed with the published public key, claims
edited after signing, another key under a published or an unknown key id) are
refused; so are the tokens of a locked account, and those of a session that
ended before a gateway process started. A rotation publishes the new key
before it signs, and tokens of the old key keep working.

The cluster publishes a new key SIGNING_KEY_PUBLISH_SECONDS (6 s) before it
signs and each gateway loads the JWKS every JWKS_REFRESH_SECONDS (2 s; see
conftest).
"""

import base64
import hashlib
import hmac
import json
import subprocess
import time
from datetime import datetime

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from services.common.config import PROJECT_ROOT
from tests.e2e.test_journey import OPERATOR, Client, eventually, register_citizen

pytestmark = pytest.mark.e2e

SESSION_ENDED = "the session has ended; sign in again"
ACCOUNT_LOCKED = "the account is locked; try again later"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(value: dict) -> str:
    return b64(json.dumps(value, separators=(",", ":")).encode())


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def me(base: str, token: str) -> requests.Response:
    return requests.get(
        base + "/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


def refused(base: str, token: str) -> str:
    response = me(base, token)
    assert response.status_code == 401, response.text
    return response.json()["error"]["message"]


def test_forged_tokens_are_refused(cluster):
    base = cluster.gateway_url
    citizen, _ = register_citizen(base, "伪造测试")
    token = citizen.token
    assert me(base, token).status_code == 200
    header, claims = jwt.get_unverified_header(token), claims_of(token)

    unsigned = f"{segment({'alg': 'none', 'typ': 'JWT', 'kid': header['kid']})}.{segment(claims)}."
    assert "algorithm" in refused(base, unsigned)

    jwks = requests.get(base + "/.well-known/jwks.json", timeout=10).json()
    published = next(key for key in jwks["keys"] if key["kid"] == header["kid"])
    public_pem = jwt.PyJWK(published).key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = f"{segment({'alg': 'HS256', 'typ': 'JWT', 'kid': header['kid']})}." + (
        segment(claims)
    )
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    assert "algorithm" in refused(base, f"{signing_input}.{b64(mac)}")

    head, _, signature = token.split(".")
    for kind in ("staff", "operator"):
        edited = segment({**claims, "kind": kind, "roles": ["dept_admin"]})
        assert "signature" in refused(base, f"{head}.{edited}.{signature}")

    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    own = {**claims, "kind": "operator"}
    under_published = jwt.encode(own, attacker, algorithm="RS256", headers=header)
    assert "signature" in refused(base, under_published)
    under_unknown = jwt.encode(own, attacker, algorithm="RS256", headers={"kid": "made-up"})
    assert "unknown key id" in refused(base, under_unknown)


def test_the_tokens_of_a_locked_account_are_refused_until_it_is_unlocked(cluster):
    base = cluster.gateway_url
    citizen, phone = register_citizen(base, "锁定令牌")
    user_id = citizen.get("/api/v1/me").json()["user_id"]
    anonymous = Client(base)
    for _ in range(5):
        wrong = anonymous.post(
            "/api/v1/auth/login", json={"phone": phone, "password": "Wrong2026x"}
        )
        assert wrong.status_code == 401
    eventually(
        lambda: me(base, citizen.token).status_code == 401, timeout=8, what="the lock to reach"
    )
    assert refused(base, citizen.token) == ACCOUNT_LOCKED

    operator = Client(base)
    operator.login(**OPERATOR)
    assert operator.post(f"/api/v1/admin/accounts/{user_id}/unlock", json={}).status_code == 200
    eventually(lambda: me(base, citizen.token).status_code == 200, timeout=8, what="the unlock")


@pytest.fixture
def start_gateway(cluster, free_port, tmp_path):
    """Start another gateway process against the cluster; stopped after the test."""
    started = []

    def start() -> str:
        model = cluster.process("gateway")
        port = free_port()
        env = dict(model.env, WEB_SERVER_ADDRESS=f"127.0.0.1:{port}")
        log = open(tmp_path / f"gateway-{port}.log", "ab")  # noqa: SIM115
        popen = subprocess.Popen(  # noqa: S603  (our own interpreter and modules)
            model.command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT
        )
        log.close()
        started.append(popen)
        base = f"http://127.0.0.1:{port}"

        def ready():
            try:
                return requests.get(base + "/readyz", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        eventually(ready, timeout=60, what="the second gateway to be ready")
        return base

    yield start
    for popen in started:
        popen.terminate()
        try:
            popen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait()


def test_a_gateway_started_after_a_logout_refuses_the_session(cluster, start_gateway):
    base = cluster.gateway_url
    citizen, phone = register_citizen(base, "登出测试")
    ended = citizen.token
    still = Client(base)
    still.login(phone, "Secret2026")
    assert citizen.post("/api/v1/auth/logout", json={}).status_code == 204
    eventually(lambda: me(base, ended).status_code == 401, timeout=8, what="the logout")

    later = start_gateway()
    assert refused(later, ended) == SESSION_ENDED
    assert me(later, still.token).status_code == 200


def test_a_rotated_key_is_published_before_it_signs_and_old_tokens_keep_working(cluster):
    base = cluster.gateway_url
    operator = Client(base)
    operator.login(**OPERATOR)
    citizen, phone = register_citizen(base, "轮换测试")
    old_kid = jwt.get_unverified_header(citizen.token)["kid"]

    rotated = operator.post("/api/v1/admin/keys/rotate", json={})
    assert rotated.status_code == 201, rotated.text
    answer = rotated.json()
    assert set(answer) == {"kid", "signs_from", "published_kids"}
    assert answer["kid"] in answer["published_kids"] and old_kid in answer["published_kids"]
    signs_from = datetime.fromisoformat(answer["signs_from"].replace("Z", "+00:00")).timestamp()
    if answer["kid"] != old_kid and time.time() < signs_from:
        # The gateway publishes it before any token it signs exists.
        def published():
            document = requests.get(base + "/.well-known/jwks.json", timeout=10).json()
            return time.time() if answer["kid"] in {k["kid"] for k in document["keys"]} else None

        seen_at = eventually(published, timeout=10, interval=0.2, what="the new key")
        assert seen_at < signs_from
        fresh = Client(base)
        fresh.login(phone, "Secret2026")
        assert jwt.get_unverified_header(fresh.token)["kid"] == old_kid

    listed = operator.get("/api/v1/admin/keys", params={"page_size": 100})
    assert listed.status_code == 200, listed.text
    statuses = {key["kid"]: key["status"] for key in listed.json()["items"]}
    assert statuses[answer["kid"]] in ("pending", "signing")

    time.sleep(max(0.0, signs_from - time.time()) + 0.5)
    fresh = Client(base)
    fresh.login(phone, "Secret2026")
    assert jwt.get_unverified_header(fresh.token)["kid"] == answer["kid"]
    assert me(base, fresh.token).status_code == 200
    assert me(base, citizen.token).status_code == 200  # signed by the old key

    keys = {key["kid"]: key for key in operator.get("/api/v1/admin/keys").json()["items"]}
    assert keys[answer["kid"]]["status"] == "signing"
    assert keys[answer["kid"]]["retires_at"] is None
    assert keys[old_kid]["status"] == "verifying" and keys[old_kid]["retires_at"]
