"""Demo accounts for a local cluster, loaded idempotently.

The passwords are documented development defaults; the operator's can be set
with TONGBAN_OPERATOR_PHONE / TONGBAN_OPERATOR_PASSWORD. Accounts that exist
already are left as they are, so a second run changes nothing.
"""

from __future__ import annotations

import os

from services.common.config import load_config
from services.identity.adapters.crypto import PasswordHasher
from services.identity.adapters.crypto_context import CryptoContext
from services.identity.service_layer import use_cases

OPERATOR_NAME = "平台运营"
DEMO_DEPARTMENT = "js-amr"  # 江苏省市场监督管理局
STAFF_PASSWORD = "Staff2026"  # noqa: S105  (documented dev default)

CITIZEN = {"phone": "13900000001", "password": "Citizen2026", "name": "张三", "role": "citizen"}
STAFF = (
    {"phone": "13700000001", "name": "李审批", "role": "approver"},
    {"phone": "13700000002", "name": "王窗口", "role": "window_clerk"},
    {"phone": "13700000003", "name": "赵管理", "role": "dept_admin"},
)


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

    crypto.keyring.keys(uow)
    return {"accounts": accounts}


def _exists(uow, phone: str) -> bool:
    with uow:
        return uow.users.by_phone(phone) is not None
