"""Department systems as operators register them, and who may see them."""

import pytest

from services.common import errors
from services.common.testing import citizen, outbox, staff
from services.identity import bootstrap
from services.identity.contract import EVENTS
from services.identity.service_layer import oidc

BODY = {
    "name": "苏州市住房公积金管理中心",
    "department_code": "sz-gjj",
    "redirect_uris": ["https://gjj.example.cn/callback"],
    "post_logout_redirect_uris": ["https://gjj.example.cn/"],
    "backchannel_logout_uri": "https://gjj.example.cn/backchannel-logout",
}


def test_an_operator_registers_and_gets_the_secret_once(uow, operator):
    created = oidc.register_client(uow, operator, **BODY)
    assert (
        created["client_secret"] and created["token_endpoint_auth_method"] == "client_secret_basic"
    )
    seen = oidc.get_client(uow, operator, created["client_id"])
    assert seen["client_secret"] is None and seen["redirect_uris"] == BODY["redirect_uris"]
    [event] = [e for e in outbox(uow) if e["type"] == "oidc_client_registered"]
    payload = EVENTS["oidc_client_registered"]().load(event["payload"])
    assert (
        payload["client_id"] == created["client_id"] and payload["actor_id"] == operator["user_id"]
    )
    assert created["client_secret"] not in str(outbox(uow))


def test_only_an_operator_changes_clients(uow, operator):
    created = oidc.register_client(uow, operator, **BODY)
    admin = staff("u-admin", "sz-gjj", "dept_admin")
    for actor in (admin, citizen()):
        with pytest.raises(errors.Forbidden):
            oidc.register_client(uow, actor, **BODY)
        with pytest.raises(errors.Forbidden):
            oidc.update_client(uow, actor, created["client_id"], **BODY)
        with pytest.raises(errors.Forbidden):
            oidc.rotate_client_secret(uow, actor, created["client_id"])
        with pytest.raises(errors.Forbidden):
            oidc.delete_client(uow, None, actor, created["client_id"])


def test_a_department_admin_sees_their_departments_clients_only(uow, operator):
    own = oidc.register_client(uow, operator, **BODY)
    other = oidc.register_client(uow, operator, **{**BODY, "department_code": "sz-rs"})
    admin = staff("u-admin", "sz-gjj", "dept_admin")
    page = oidc.list_clients(uow, admin)
    assert [item["client_id"] for item in page["items"]] == [own["client_id"]]
    assert page["total"] == 1
    assert oidc.get_client(uow, admin, own["client_id"])["name"] == BODY["name"]
    with pytest.raises(errors.NotFound):
        oidc.get_client(uow, admin, other["client_id"])
    with pytest.raises(errors.Forbidden):
        oidc.list_clients(uow, admin, department_code="sz-rs")
    with pytest.raises(errors.Forbidden):
        oidc.list_clients(uow, staff("u-clerk", "sz-gjj", "window_clerk"))
    assert oidc.list_clients(uow, operator)["total"] == 2
    assert oidc.list_clients(uow, operator, department_code="sz-rs")["total"] == 1
    assert (
        oidc.list_clients(uow, operator, page=2, page_size=1)["items"][0]["client_id"]
        == (other["client_id"])
    )


def test_update_rotate_and_delete(uow, crypto, operator):
    created = oidc.register_client(uow, operator, **BODY)
    client_id = created["client_id"]
    updated = oidc.update_client(
        uow, operator, client_id, **{**BODY, "redirect_uris": ["https://gjj.example.cn/cb2"]}
    )
    assert updated["redirect_uris"] == ["https://gjj.example.cn/cb2"]
    rotated = oidc.rotate_client_secret(uow, operator, client_id)
    with uow:
        client = uow.oidc_clients.get(client_id)
    assert client.secret_matches(rotated["client_secret"])
    assert not client.secret_matches(created["client_secret"])
    oidc.delete_client(uow, crypto, operator, client_id)
    with pytest.raises(errors.NotFound):
        oidc.get_client(uow, operator, client_id)
    with pytest.raises(errors.NotFound):
        oidc.delete_client(uow, crypto, operator, client_id)
    assert oidc.list_clients(uow, operator)["total"] == 0
    types = [e["type"] for e in outbox(uow) if e["type"].startswith("oidc_client")]
    assert types == ["oidc_client_registered", "oidc_client_updated", "oidc_client_deleted"]


def test_bad_registrations_name_the_field(uow, operator):
    with pytest.raises(errors.Invalid) as refused:
        oidc.register_client(
            uow, operator, **{**BODY, "redirect_uris": ["http://gjj.example.cn/callback"]}
        )
    assert set(refused.value.fields) == {"redirect_uris"}
    keyed = oidc.register_client(
        uow, operator, **{**BODY, "jwks": {"keys": [{"kty": "RSA", "n": "x", "e": "AQAB"}]}}
    )
    assert keyed["client_secret"] is None
    with pytest.raises(errors.Conflict):
        oidc.rotate_client_secret(uow, operator, keyed["client_id"])


def test_the_demo_system_is_ensured_idempotently(uow):
    def ensure(**changes):
        values = {
            "client_id": "gjj-suzhou",
            "client_secret": "dev-secret-of-the-demo",
            "name": BODY["name"],
            "department_code": "sz-gjj",
            "redirect_uris": ["http://127.0.0.1:8600/callback"],
            "post_logout_redirect_uris": ["http://127.0.0.1:8600/"],
            "backchannel_logout_uri": "http://127.0.0.1:8600/backchannel-logout",
        }
        values.update(changes)
        return bootstrap.ensure_oidc_client(uow, **values)

    assert ensure() == "gjj-suzhou"
    ensure()
    assert [e["type"] for e in outbox(uow)] == ["oidc_client_registered"]
    ensure(redirect_uris=["http://127.0.0.1:8601/callback"])
    with uow:
        client = uow.oidc_clients.get("gjj-suzhou")
    assert client.redirect_uris == ["http://127.0.0.1:8601/callback"]
    assert client.secret_matches("dev-secret-of-the-demo")
    assert [e["type"] for e in outbox(uow)][-1] == "oidc_client_updated"


def test_the_portal_is_ensured_as_a_public_client_without_consent(uow):
    def ensure(**changes):
        values = {
            "client_id": "tongban-portal",
            "client_secret": None,
            "name": "通办政务服务网",
            "department_code": "js-zwfw",
            "redirect_uris": ["http://127.0.0.1:8000/auth/callback"],
            "post_logout_redirect_uris": ["http://127.0.0.1:8000/"],
            "public": True,
            "skip_consent": True,
        }
        values.update(changes)
        return bootstrap.ensure_oidc_client(uow, **values)

    assert ensure() == "tongban-portal"
    ensure()
    assert [e["type"] for e in outbox(uow)] == ["oidc_client_registered"]
    with uow:
        client = uow.oidc_clients.get("tongban-portal")
    assert client.public and client.skip_consent
    assert client.token_endpoint_auth_method == "none"
    assert client.secret_hash is None
    ensure(redirect_uris=["http://127.0.0.1:9000/auth/callback"])
    with uow:
        client = uow.oidc_clients.get("tongban-portal")
    assert client.redirect_uris == ["http://127.0.0.1:9000/auth/callback"]
    assert client.public and client.secret_hash is None
    assert [e["type"] for e in outbox(uow)][-1] == "oidc_client_updated"
    with pytest.raises(ValueError):
        ensure(client_secret="a public client has none")
