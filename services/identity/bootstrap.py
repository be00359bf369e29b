"""Demo accounts for a local cluster, loaded idempotently.

The passwords are documented development defaults; the operator's can be set
with TONGBAN_OPERATOR_PHONE / TONGBAN_OPERATOR_PASSWORD. Accounts that exist
already are left as they are, so a second run changes nothing.
"""

from __future__ import annotations

import os
from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from services.common import clock
from services.common.config import load_config
from services.common.errors import Conflict
from services.identity.adapters.crypto import PasswordHasher
from services.identity.adapters.crypto_context import CryptoContext
from services.identity.domain.id_numbers import id_number_check_char
from services.identity.domain.oidc import ClientSettings, OidcClient
from services.identity.domain.uscc import uscc_check_char
from services.identity.service_layer import mandates, use_cases

OPERATOR_NAME = "平台运营"
DEMO_DEPARTMENT = "js-amr"  # 江苏省市场监督管理局
STAFF_PASSWORD = "Staff2026"  # noqa: S105  (documented dev default)

CITIZEN = {"phone": "13900000001", "password": "Citizen2026", "name": "张三", "role": "citizen"}
STAFF = (
    {"phone": "13700000001", "name": "李审批", "role": "approver"},
    {"phone": "13700000002", "name": "王窗口", "role": "window_clerk"},
    {"phone": "13700000003", "name": "赵管理", "role": "dept_admin"},
)

# 代办制: a provincial service centre's agent, and an enterprise whose owner
# added a member and mandated the agent for every item.
SERVICE_CENTRE = "js-zwfw"  # 江苏省政务服务中心
AGENT = {"phone": "13700000004", "name": "周代办", "role": "agent"}
OWNER = {
    "phone": "13900000004",
    "password": "Citizen2026",
    "name": "陈老板",
    "role": "enterprise owner",
    "id_number": "32010219800101011" + id_number_check_char("32010219800101011"),
}
MEMBER = {
    "phone": "13900000005",
    "password": "Citizen2026",
    "name": "刘会计",
    "role": "enterprise member",
    "id_number": "32010219920315022" + id_number_check_char("32010219920315022"),
}
ENTERPRISE = {
    "name": "南京代办示范科技有限公司",
    "uscc": "91320102MA1DB0001" + uscc_check_char("91320102MA1DB0001"),
}
MANDATE_DAYS = 365
# Who the events of a bootstrap's changes name as their actor.
BOOTSTRAP_ACTOR = "bootstrap"


def ensure_operator_from_environment(uow, config: dict | None = None) -> str | None:
    """The operator named by TONGBAN_OPERATOR_PHONE / TONGBAN_OPERATOR_PASSWORD, if both
    are set (a deploy's first operator); returns its user id."""
    phone = os.environ.get("TONGBAN_OPERATOR_PHONE")
    password = os.environ.get("TONGBAN_OPERATOR_PASSWORD")
    if not (phone and password):
        return None
    crypto = CryptoContext.from_config(config if config is not None else load_config())
    return use_cases.ensure_operator(uow, crypto, phone, password, OPERATOR_NAME).user_id


def load_demo(uow, hasher: PasswordHasher | None = None, config: dict | None = None) -> dict:
    """Ensure the operator, a demo citizen, the js-amr demo staff and a signing key.

    Returns ``{"accounts": [{phone, password, role, name}, ...]}`` for the local
    runner to print.
    """
    crypto = CryptoContext.from_config(config if config is not None else load_config(), hasher)
    operator_account = {
        "phone": os.environ.get("TONGBAN_OPERATOR_PHONE") or "13800000000",
        "password": os.environ.get("TONGBAN_OPERATOR_PASSWORD") or "Operator2026",
        "name": OPERATOR_NAME,
        "role": "operator",
    }
    operator = use_cases.ensure_operator(
        uow,
        crypto,
        operator_account["phone"],
        operator_account["password"],
        operator_account["name"],
    )
    actor = {"user_id": operator.user_id, "kind": "operator", "roles": []}
    accounts = [operator_account]

    if not _exists(uow, CITIZEN["phone"]):
        use_cases.register(uow, crypto, CITIZEN["phone"], CITIZEN["password"], CITIZEN["name"])
    accounts.append(dict(CITIZEN))

    for member in STAFF:
        if not _exists(uow, member["phone"]):
            use_cases.create_staff(
                uow,
                crypto,
                actor,
                member["phone"],
                STAFF_PASSWORD,
                member["name"],
                DEMO_DEPARTMENT,
                [member["role"]],
            )
        accounts.append({**member, "password": STAFF_PASSWORD})

    if not _exists(uow, AGENT["phone"]):
        use_cases.create_staff(
            uow,
            crypto,
            actor,
            AGENT["phone"],
            STAFF_PASSWORD,
            AGENT["name"],
            SERVICE_CENTRE,
            [AGENT["role"]],
        )
    accounts.append({**AGENT, "password": STAFF_PASSWORD})
    owner = _verified_citizen(uow, crypto, OWNER)
    member = _verified_citizen(uow, crypto, MEMBER)
    _demo_enterprise(uow, owner, member)
    for person in (OWNER, MEMBER):
        accounts.append({key: person[key] for key in ("phone", "password", "name", "role")})

    crypto.keyring.keys(uow)
    return {"accounts": accounts, "enterprise": dict(ENTERPRISE)}


def _verified_citizen(uow, crypto, person: dict):
    with uow:
        user = uow.users.by_phone(person["phone"])
    if user is None:
        user = use_cases.register(uow, crypto, person["phone"], person["password"], person["name"])
    if not user.is_verified:
        user = use_cases.verify_real_name(
            uow, crypto, user.user_id, person["name"], person["id_number"]
        )
    return user


def _demo_enterprise(uow, owner, member) -> None:
    """The demo enterprise, its member and its mandate to the demo agent, each
    made once."""
    actor = {"user_id": owner.user_id, "kind": "citizen", "roles": []}
    with uow:
        enterprise = uow.enterprises.by_uscc(ENTERPRISE["uscc"])
        agent = uow.users.by_phone(AGENT["phone"])
    if enterprise is None:
        use_cases.register_enterprise(
            uow, actor, ENTERPRISE["name"], ENTERPRISE["uscc"], owner.name
        )
    with uow:
        has_member = uow.members.get(ENTERPRISE["uscc"], member.user_id) is not None
        granted = uow.mandates.page_of_principal(
            "enterprise", ENTERPRISE["uscc"], page=1, page_size=1
        )[1]
    if not has_member:
        mandates.add_member(uow, actor, ENTERPRISE["uscc"], member.user_id)
    if not granted:
        expires_on = mandates.china_today(clock.now()) + timedelta(days=MANDATE_DAYS)
        mandates.grant_enterprise_mandate(uow, actor, ENTERPRISE["uscc"], agent.user_id, expires_on)


def _exists(uow, phone: str) -> bool:
    with uow:
        return uow.users.by_phone(phone) is not None


def ensure_oidc_client(
    uow,
    client_id: str,
    client_secret: str | None,
    name: str,
    department_code: str,
    redirect_uris,
    post_logout_redirect_uris=(),
    backchannel_logout_uri: str | None = None,
    public: bool = False,
    skip_consent: bool = False,
) -> str:
    """A deployment's own OIDC client with the given id, registered when
    missing, its registration (and secret) brought up to date when they
    changed; a second run with the same values writes nothing. Returns the
    client id. The demo department system authenticates with client_secret_basic
    (the given secret); a ``public`` client (the portal: PKCE, no secret) is
    given ``client_secret=None``."""
    if public and client_secret is not None:
        raise ValueError("a public client has no secret")
    settings = ClientSettings.checked(
        name,
        department_code,
        list(redirect_uris),
        list(post_logout_redirect_uris),
        backchannel_logout_uri,
        public=public,
        skip_consent=skip_consent,
    )
    with uow:
        client = uow.oidc_clients.get(client_id, for_update=True)
        if client is None:
            client, _ = OidcClient.register(
                settings, BOOTSTRAP_ACTOR, client_id=client_id, secret=client_secret
            )
            try:
                uow.oidc_clients.add(client)
                uow.collect(client)
                uow.commit()
            except IntegrityError:  # another process registered it a moment ago
                uow.rollback()
            return client_id
        if client.matches(settings, client_secret):
            return client_id
        if client.is_deleted:
            raise Conflict("the client was deleted by an operator", code="client_deleted")
        client.update(settings, BOOTSTRAP_ACTOR)
        if client_secret is not None:
            client.set_secret(client_secret)
        uow.oidc_clients.save(client)
        uow.collect(client)
        uow.commit()
    return client_id
