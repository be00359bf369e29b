"""The identity service in a nameko container on the real broker and PostgreSQL."""

import json
import uuid

import eventlet
import pytest
import sqlalchemy as sa
from kombu import Connection, Queue
from nameko.standalone.rpc import ServiceRpcProxy

from services.common.db import make_engine
from services.common.errors import Conflict, Invalid, Unauthorized
from services.common.messaging import topology
from services.common.tokens import TokenVerifier
from services.identity.adapters.orm import metadata
from services.identity.contract import EVENTS

PASSWORD = "secret123"


@pytest.fixture
def events(amqp_uri):
    """A queue of this test's own, bound to identity.events for every event type."""
    queue = Queue(
        f"test-identity-events-{uuid.uuid4().hex[:8]}",
        exchange=topology.event_exchange("identity"),
        routing_key="#",
        durable=False,
        auto_delete=False,
    )
    with Connection(amqp_uri) as connection:
        queue(connection.default_channel).declare()
        yield _Events(amqp_uri, queue.name)
        connection.default_channel.queue_delete(queue.name)


class _Events:
    def __init__(self, amqp_uri, queue_name):
        self.amqp_uri = amqp_uri
        self.queue_name = queue_name

    def next(self, timeout=10.0) -> dict:
        with Connection(self.amqp_uri) as connection, eventlet.Timeout(timeout):
            channel = connection.default_channel
            while True:
                message = channel.basic_get(self.queue_name, no_ack=True)
                if message is not None:
                    return json.loads(message.body)
                eventlet.sleep(0.05)


def test_registration_is_published_on_identity_events(identity, events, config):
    user_id = identity.register(phone="13800138000", password=PASSWORD, name="张三")["user_id"]
    envelope = events.next()
    assert envelope["type"] == "user_registered" and envelope["source"] == "identity"
    payload = EVENTS["user_registered"]().load(envelope["payload"])
    assert payload["user_id"] == user_id and payload["kind"] == "citizen"

    assert identity.verify_real_name(
        user_id=user_id, name="张三", id_number="11010519491231002X"
    ) == {"level": 2}
    verified = events.next()
    assert verified["type"] == "user_verified" and verified["payload"]["level"] == 2
    assert "11010519491231002X" not in json.dumps(verified)
    engine = make_engine(config["DATABASE_URL"])
    try:
        with engine.connect() as connection:
            row = connection.execute(sa.select(metadata.tables["users"])).one()
        assert "11010519491231002X" not in str(tuple(row))
    finally:
        engine.dispose()


def test_login_token_verifies_against_the_published_jwks(identity):
    user_id = identity.register(phone="13800138000", password=PASSWORD, name="张三")["user_id"]
    pair = identity.login(phone="13800138000", password=PASSWORD)
    assert pair["token_type"] == "Bearer" and pair["expires_in"] == 900
    claims = TokenVerifier(identity.jwks()).verify(pair["access_token"])
    assert claims["sub"] == user_id and claims["kind"] == "citizen"
    assert claims["lvl"] == 1 and claims["name"] == "张三" and claims["dept"] is None
    assert claims["roles"] == [] and claims["sid"]


def test_refresh_rotation_and_reuse(identity):
    identity.register(phone="13800138000", password=PASSWORD, name="张三")
    first = identity.login(phone="13800138000", password=PASSWORD)
    second = identity.refresh(refresh_token=first["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"]
    TokenVerifier(identity.jwks()).verify(second["access_token"])
    with pytest.raises(Unauthorized):
        identity.refresh(refresh_token=first["refresh_token"])  # reuse: the session is revoked
    with pytest.raises(Unauthorized):
        identity.refresh(refresh_token=second["refresh_token"])


def test_two_parallel_refreshes_with_one_token_cannot_both_win(identity, config):
    identity.register(phone="13800138000", password=PASSWORD, name="张三")
    token = identity.login(phone="13800138000", password=PASSWORD)["refresh_token"]

    def refresh():
        with ServiceRpcProxy("identity", config) as proxy:
            try:
                return proxy.refresh(refresh_token=token)
            except Unauthorized as exc:
                return exc

    results = [thread.wait() for thread in [eventlet.spawn(refresh) for _ in range(4)]]
    # The token's row lock makes them take turns: the first wins, the others
    # find it spent, which is a reuse.
    assert sum(isinstance(result, dict) for result in results) == 1
    assert sum(isinstance(result, Unauthorized) for result in results) == 3


def test_logout_ends_the_session(identity):
    identity.register(phone="13800138000", password=PASSWORD, name="张三")
    pair = identity.login(phone="13800138000", password=PASSWORD)
    sid = TokenVerifier(identity.jwks()).verify(pair["access_token"])["sid"]
    assert identity.logout(session_id=sid) is None
    with pytest.raises(Unauthorized):
        identity.refresh(refresh_token=pair["refresh_token"])


def test_errors_arrive_as_the_shared_types(identity):
    identity.register(phone="13800138000", password=PASSWORD, name="张三")
    with pytest.raises(Conflict):
        identity.register(phone="13800138000", password=PASSWORD, name="张三")
    with pytest.raises(Unauthorized) as unknown:
        identity.login(phone="13900139000", password=PASSWORD)
    with pytest.raises(Unauthorized) as wrong:
        identity.login(phone="13800138000", password="wrong1234")
    assert unknown.value.message == wrong.value.message
    with pytest.raises(Invalid) as excinfo:
        identity.register(phone="12345", password="short", name="张三")
    assert set(excinfo.value.fields) == {"phone", "password"}
    with pytest.raises(Invalid) as excinfo:
        identity.register(password=PASSWORD, name="张三")
    assert set(excinfo.value.fields) == {"phone"}


def test_members_and_mandates_over_the_broker(identity, events):
    from datetime import date, timedelta

    from services.common.errors import Forbidden
    from services.identity.tests.unit.conftest import OTHER_ID_NUMBER, USCC

    def verified(phone, name, id_number):
        user_id = identity.register(phone=phone, password=PASSWORD, name=name)["user_id"]
        identity.verify_real_name(user_id=user_id, name=name, id_number=id_number)
        return {"user_id": user_id, "kind": "citizen", "roles": [], "name": name}

    owner = verified("13800138000", "张三", "11010519491231002X")
    member = verified("13800138001", "王五", OTHER_ID_NUMBER)
    identity.register_enterprise(actor=owner, name="某公司", uscc=USCC, legal_representative="张三")
    identity.add_enterprise_member(actor=owner, uscc=USCC, user_id=member["user_id"])
    expires_on = (date.today() + timedelta(days=30)).isoformat()
    agent = identity.register(phone="13800138002", password=PASSWORD, name="路人")["user_id"]
    mandate_id = identity.grant_personal_mandate(
        actor=member, agent_user_id=owner["user_id"], expires_on=expires_on, item_ids=["item-a"]
    )["mandate_id"]
    principal = {"kind": "person", "user_id": member["user_id"]}
    answer = identity.authorise_principal(
        actor_id=owner["user_id"], principal=principal, item_id="item-a"
    )
    assert (answer["basis"], answer["mandate_id"]) == ("mandate", mandate_id)
    enterprise = {"kind": "enterprise", "uscc": USCC}
    assert (
        identity.authorise_principal(
            actor_id=member["user_id"], principal=enterprise, item_id="item-a"
        )["basis"]
        == "member"
    )
    with pytest.raises(Forbidden):
        identity.authorise_principal(actor_id=agent, principal=enterprise, item_id="item-a")
    identity.revoke_my_mandate(actor=member, mandate_id=mandate_id)
    with pytest.raises(Forbidden):
        identity.authorise_principal(
            actor_id=owner["user_id"], principal=principal, item_id="item-a"
        )

    published = [events.next()["type"] for _ in range(9)]
    assert [kind for kind in published if "mandate" in kind or "member" in kind] == [
        "enterprise_member_added",
        "mandate_granted",
        "mandate_revoked",
    ]
