"""Sign-in lockout through the gateway: five wrong passwords lock the phone (a
right one is refused too, with the body of a wrong one and a Retry-After), an
unknown phone locks the same way, and the operator lifts a lock.

The cluster locks a phone for LOGIN_LOCK_BASE_SECONDS (10 s here, see conftest).
"""

import pytest

from tests.e2e.test_journey import OPERATOR, Client, new_phone, register_citizen

pytestmark = pytest.mark.e2e

PASSWORD = "Secret2026"


def login(client: Client, phone: str, password: str):
    return client.post("/api/v1/auth/login", json={"phone": phone, "password": password})


def fail_five_times(client: Client, phone: str) -> list:
    answers = [login(client, phone, "Wrong2026x") for _ in range(5)]
    assert [answer.status_code for answer in answers] == [401] * 5
    assert all("Retry-After" not in answer.headers for answer in answers)
    return answers


def test_five_wrong_passwords_lock_the_phone_until_the_operator_unlocks(cluster):
    base = cluster.gateway_url
    citizen, phone = register_citizen(base, "锁定测试")
    user_id = citizen.get("/api/v1/me").json()["user_id"]
    anonymous = Client(base)

    wrong = fail_five_times(anonymous, phone)
    locked = login(anonymous, phone, PASSWORD)
    assert locked.status_code == 401
    assert 1 <= int(locked.headers["Retry-After"]) <= 10
    assert locked.json() == wrong[-1].json()
    assert "retry_after" not in locked.text

    # only an operator lifts it (the locked citizen's own tokens are refused meanwhile)
    other, _ = register_citizen(base, "旁人")
    refused = other.post(f"/api/v1/admin/accounts/{user_id}/unlock", json={})
    assert refused.status_code == 403, refused.text
    operator = Client(base)
    operator.login(**OPERATOR)
    unlocked = operator.post(f"/api/v1/admin/accounts/{user_id}/unlock", json={})
    assert unlocked.status_code == 200, unlocked.text
    assert unlocked.json() == {"user_id": user_id, "locked": False}
    assert login(anonymous, phone, PASSWORD).status_code == 200

    missing = operator.post("/api/v1/admin/accounts/no-such-user/unlock", json={})
    assert missing.status_code == 404


def test_an_unknown_phone_locks_the_same_way(cluster):
    anonymous = Client(cluster.gateway_url)
    phone = new_phone()
    wrong = fail_five_times(anonymous, phone)
    locked = login(anonymous, phone, PASSWORD)
    assert locked.status_code == 401
    assert 1 <= int(locked.headers["Retry-After"]) <= 10
    assert locked.json() == wrong[-1].json()
