from services.common.tokens import TokenVerifier
from services.identity.bootstrap import load_demo
from services.identity.service_layer import use_cases
from services.identity.tests.unit.conftest import PII_KEY, cheap_hasher, outbox, rows

CONFIG = {"PII_KEY": PII_KEY.hex()}


def test_load_demo_is_idempotent(uow, crypto, monkeypatch):
    monkeypatch.delenv("TONGBAN_OPERATOR_PHONE", raising=False)
    monkeypatch.delenv("TONGBAN_OPERATOR_PASSWORD", raising=False)
    loaded = load_demo(uow, hasher=cheap_hasher(), config=CONFIG)
    accounts = {account["phone"]: account for account in loaded["accounts"]}
    assert accounts["13800000000"] == {
        "phone": "13800000000",
        "password": "Operator2026",
        "name": "平台运营",
        "role": "operator",
    }
    assert accounts["13900000001"]["role"] == "citizen"
    assert accounts["13900000001"]["name"] == "张三"
    assert {accounts[p]["role"] for p in ("13700000001", "13700000002", "13700000003")} == {
        "approver",
        "window_clerk",
        "dept_admin",
    }
    users = {row["phone"]: row for row in rows(uow, "users")}
    assert users["13700000003"]["department_code"] == "js-amr"
    assert users["13700000003"]["roles"] == ["dept_admin"]
    assert len(rows(uow, "signing_keys")) == 1
    before = (rows(uow, "users"), len(outbox(uow)), rows(uow, "signing_keys"))

    assert load_demo(uow, hasher=cheap_hasher(), config=CONFIG) == loaded
    assert (rows(uow, "users"), len(outbox(uow)), rows(uow, "signing_keys")) == before

    # The printed credentials work.
    for account in loaded["accounts"]:
        pair = use_cases.login(uow, crypto, account["phone"], account["password"])
        TokenVerifier(use_cases.jwks(uow, crypto)).verify(pair.access_token)


def test_operator_credentials_come_from_the_environment(uow, monkeypatch):
    monkeypatch.setenv("TONGBAN_OPERATOR_PHONE", "13811112222")
    monkeypatch.setenv("TONGBAN_OPERATOR_PASSWORD", "Secret2099")
    loaded = load_demo(uow, hasher=cheap_hasher(), config=CONFIG)
    assert loaded["accounts"][0]["phone"] == "13811112222"
    assert {row["phone"]: row["kind"] for row in rows(uow, "users")}["13811112222"] == "operator"


def test_the_demo_enterprise_has_a_member_and_mandates_the_demo_agent(uow, monkeypatch):
    from services.identity.bootstrap import AGENT, ENTERPRISE, MEMBER
    from services.identity.service_layer import mandates

    monkeypatch.delenv("TONGBAN_OPERATOR_PHONE", raising=False)
    loaded = load_demo(uow, hasher=cheap_hasher(), config=CONFIG)
    roles = {account["phone"]: account["role"] for account in loaded["accounts"]}
    assert roles[AGENT["phone"]] == "agent"
    with uow:
        agent = uow.users.by_phone(AGENT["phone"])
        member = uow.users.by_phone(MEMBER["phone"])
    principal = {"kind": "enterprise", "uscc": ENTERPRISE["uscc"]}
    assert mandates.authorise_principal(uow, agent.user_id, principal, "any-item")["basis"] == (
        "mandate"
    )
    assert mandates.authorise_principal(uow, member.user_id, principal, "any-item")["basis"] == (
        "member"
    )
    events = [envelope["type"] for envelope in outbox(uow)]
    assert events.count("mandate_granted") == 1
    load_demo(uow, hasher=cheap_hasher(), config=CONFIG)
    assert [envelope["type"] for envelope in outbox(uow)] == events
