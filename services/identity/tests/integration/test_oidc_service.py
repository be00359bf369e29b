"""The OpenID provider in a nameko container on the real broker and
PostgreSQL: the RPCs the gateway calls, and the back-channel logout a
department system receives over HTTP (tried again after a failure)."""

import base64
import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

import eventlet
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from services.common.errors import Forbidden, Unauthorized
from services.common.testing import citizen, operator
from services.common.tokens import TokenVerifier
from services.identity.adapters.backchannel import BackchannelClient, BackchannelLogoutFailed

PASSWORD = "secret123"
ISSUER = "http://127.0.0.1:8000"


class _Department(BaseHTTPRequestHandler):
    """A department system's back-channel logout endpoint: answers the next
    status of ``statuses`` (then 200) and keeps the logout tokens received."""

    statuses: list[int] = []
    received: list[str] = []

    def do_POST(self):  # noqa: N802  (the http.server interface)
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode())
        type(self).received.append(form["logout_token"][0])
        status = type(self).statuses.pop(0) if type(self).statuses else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        """Quiet."""


@pytest.fixture
def department():
    handler = type("Department", (_Department,), {"statuses": [], "received": []})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield handler, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def config(config):
    return {
        **config,
        "OIDC_ISSUER": ISSUER,
        "OIDC_BACKCHANNEL_TIMEOUT_SECONDS": 2,
        # A failed delivery is tried again soon.
        "EVENT_RETRY_DELAYS_MS": "200",
    }


def ops(identity) -> dict:
    user = identity.ensure_operator(phone="13800000000", password="Operator2026", name="运营")
    return operator(user["user_id"])


def code_flow(identity, client, scope="openid profile phone"):
    """Sign a browser in, consent, exchange the code: (cookie, token answer)."""
    verifier = secrets.token_urlsafe(48)
    query = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": client["redirect_uris"][0],
        "scope": scope,
        "state": "st",
        "nonce": secrets.token_hex(8),
        "code_challenge": create_s256_code_challenge(verifier),
        "code_challenge_method": "S256",
    }
    assert identity.oidc_authorize(query=query)["outcome"] == "sign_in"
    cookie = identity.oidc_sign_in(phone="13900000001", password=PASSWORD)["browser_session"]
    asked = identity.oidc_authorize(query=query, browser_session=cookie)
    assert asked["outcome"] == "consent" and asked["user_name"] == "张三"
    answer = identity.oidc_consent(query=query, browser_session=cookie, allow=True)
    sent = parse_qs(urlsplit(answer["location"]).query)
    assert sent["iss"] == [ISSUER] and sent["state"] == ["st"]
    credentials = f"{client['client_id']}:{client['client_secret']}"
    tokens = identity.oidc_token(
        form={
            "grant_type": "authorization_code",
            "code": sent["code"][0],
            "redirect_uri": query["redirect_uri"],
            "code_verifier": verifier,
        },
        authorization="Basic " + base64.b64encode(credentials.encode()).decode(),
    )
    return cookie, tokens


def payload_of(token: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "==").decode())


def register(identity, department_url: str, **changes) -> dict:
    body = {
        "name": "苏州市住房公积金管理中心",
        "department_code": "sz-gjj",
        "redirect_uris": ["http://127.0.0.1:8600/callback"],
        "post_logout_redirect_uris": ["http://127.0.0.1:8600/"],
        "backchannel_logout_uri": department_url + "/backchannel-logout",
    }
    body.update(changes)
    return identity.register_oidc_client(actor=ops(identity), **body)


def test_sign_in_tokens_and_userinfo(identity, department):
    _, url = department
    user_id = identity.register(phone="13900000001", password=PASSWORD, name="张三")["user_id"]
    client = register(identity, url)
    assert client["client_secret"] and client["token_endpoint_auth_method"] == "client_secret_basic"
    _, tokens = code_flow(identity, client)
    assert tokens["status"] == 200, tokens
    body = tokens["body"]
    jwks = identity.jwks()
    id_token = TokenVerifier(jwks, issuer=ISSUER, audience=client["client_id"]).verify(
        body["id_token"]
    )
    assert id_token["sub"] == user_id and id_token["phone_number"] == "+8613900000001"
    access = TokenVerifier(jwks).verify(body["access_token"])
    assert access["client_id"] == client["client_id"] and access["scope"] == body["scope"]
    info = identity.oidc_userinfo(
        user_id=user_id, scope=access["scope"], client_id=access["client_id"]
    )
    assert info == {
        "sub": user_id,
        "name": "张三",
        "phone_number": "+8613900000001",
        "phone_number_verified": True,
    }
    with pytest.raises(Unauthorized):
        identity.oidc_sign_in(phone="13900000001", password="wrong1234")


def test_client_administration_rules(identity, department):
    _, url = department
    client = register(identity, url)
    with pytest.raises(Forbidden):
        identity.register_oidc_client(
            actor=citizen(),
            **{"name": "x", "department_code": "x", "redirect_uris": ["https://x.cn/cb"]},
        )
    page = identity.list_oidc_clients(actor=ops(identity), page="1", page_size="10")
    assert page["total"] == 1 and page["items"][0]["client_id"] == client["client_id"]
    rotated = identity.rotate_oidc_client_secret(actor=ops(identity), client_id=client["client_id"])
    assert rotated["client_secret"] != client["client_secret"]
    assert identity.delete_oidc_client(actor=ops(identity), client_id=client["client_id"]) is None
    assert identity.list_oidc_clients(actor=ops(identity))["total"] == 0


def test_ending_the_session_tells_the_department_over_the_back_channel(identity, department):
    handler, url = department
    handler.statuses.append(503)  # the first delivery fails: the consumer tries again
    identity.register(phone="13900000001", password=PASSWORD, name="张三")
    client = register(identity, url)
    cookie, tokens = code_flow(identity, client)
    id_token = tokens["body"]["id_token"]
    outcome = identity.oidc_end_session(
        query={
            "id_token_hint": id_token,
            "post_logout_redirect_uri": "http://127.0.0.1:8600/",
            "state": "bye",
        },
        browser_session=cookie,
    )
    assert outcome["outcome"] == "redirect"
    assert outcome["location"] == "http://127.0.0.1:8600/?state=bye"
    with eventlet.Timeout(20):
        while len(handler.received) < 2:
            eventlet.sleep(0.1)
    eventlet.sleep(0.5)
    assert len(handler.received) == 2  # one failure, one success: no more
    verifier = TokenVerifier(identity.jwks(), issuer=ISSUER, audience=client["client_id"])
    first, claims = (verifier.verify(token) for token in handler.received)
    assert first["jti"] == claims["jti"]  # the same logout, tried again
    assert claims["sid"] == payload_of(id_token)["sid"]
    assert claims["events"] == {"http://schemas.openid.net/event/backchannel-logout": {}}
    refreshed = identity.oidc_token(
        form={"grant_type": "refresh_token", "refresh_token": tokens["body"]["refresh_token"]},
        authorization="Basic "
        + base64.b64encode(f"{client['client_id']}:{client['client_secret']}".encode()).decode(),
    )
    assert refreshed["body"]["error"] == "invalid_grant"


@pytest.mark.parametrize("status", [200, 204])
def test_the_back_channel_client_takes_200_and_204(department, status):
    handler, url = department
    handler.statuses.append(status)
    assert BackchannelClient(timeout=2).deliver(url + "/logout", "a.b.c") == status
    assert handler.received == ["a.b.c"]


@pytest.mark.parametrize("status", [302, 400, 500])
def test_the_back_channel_client_follows_no_redirect_and_refuses_other_answers(department, status):
    handler, url = department
    handler.statuses.append(status)
    with pytest.raises(BackchannelLogoutFailed) as failed:
        BackchannelClient(timeout=2).deliver(url + "/logout", "a.b.c")
    assert failed.value.fields == {"status": str(status)}
    assert len(handler.received) == 1  # a redirect is not followed


def test_the_back_channel_client_fails_when_nobody_answers(free_port):
    with pytest.raises(BackchannelLogoutFailed):
        BackchannelClient(timeout=1).deliver(f"http://127.0.0.1:{free_port()}/logout", "a.b.c")
