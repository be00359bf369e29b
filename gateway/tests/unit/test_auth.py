import pytest

from gateway.auth import OPERATOR, STAFF, actor_from_claims, staff_with
from services.common.errors import Forbidden, Unauthorized


def actor(kind, roles=()):
    return {"user_id": "u", "kind": kind, "roles": list(roles), "department_code": "d"}


def test_actor_is_built_from_claims():
    claims = {"sub": "u-1", "sid": "s", "kind": "staff", "roles": ["approver"], "dept": "js-gat",
              "lvl": 2, "name": "王五"}  # fmt: skip
    assert actor_from_claims(claims) == {
        "user_id": "u-1",
        "kind": "staff",
        "roles": ["approver"],
        "department_code": "js-gat",
        "name": "王五",
        "level": 2,
    }


def test_unknown_kind_is_unauthorized():
    with pytest.raises(Unauthorized):
        actor_from_claims({"sub": "u", "kind": "robot"})


@pytest.mark.parametrize(
    ("access", "who", "allowed"),
    [
        (STAFF, actor("citizen"), False),
        (STAFF, actor("staff"), True),
        (OPERATOR, actor("staff", ["dept_admin"]), False),
        (OPERATOR, actor("operator"), True),
        (staff_with("window_clerk", "approver"), actor("staff", ["dept_admin"]), False),
        (staff_with("window_clerk", "approver"), actor("staff", ["approver"]), True),
        (staff_with("dept_admin", operator=True), actor("operator"), True),
        (staff_with("dept_admin", operator=True), actor("citizen"), False),
    ],
)
def test_access_guards(access, who, allowed):
    if allowed:
        access.check(who)
    else:
        with pytest.raises(Forbidden):
            access.check(who)
