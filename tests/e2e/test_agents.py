"""Agents (代办制), end to end through the gateway: an enterprise's owner adds
members and mandates a service centre's agent; the agent applies for the
enterprise, whose members follow the case and hold its licence; a revoked
mandate stops the agent's next action while the enterprise still acts; a
citizen mandates another citizen the same way.

320000-JSSCJG-004 (外商投资企业设立登记, js-amr): accept, then register; free,
online.
"""

import random
from datetime import date, timedelta

import pytest

from services.identity.domain.uscc import USCC_ALPHABET, uscc_check_char
from tests.e2e.approvals import act, case, citizen, item, operator, staff
from tests.e2e.test_journey import Client, eventually

pytestmark = pytest.mark.e2e

FOREIGN_FIRM = "320000-JSSCJG-004"
SERVICE_CENTRE = "js-zwfw"  # 江苏省政务服务中心: the agents' department


@pytest.fixture(scope="module", autouse=True)
def watch(log_watch):
    return log_watch()


# ----------------------------------------------------------------- helpers


def new_uscc() -> str:
    first17 = "91320102" + "".join(random.choice(USCC_ALPHABET) for _ in range(9))
    return first17 + uscc_check_char(first17)


def user_id_of(client: Client) -> str:
    response = client.get("/api/v1/me")
    assert response.status_code == 200, response.text
    return response.json()["user_id"]


def in_a_month() -> str:
    return (date.today() + timedelta(days=30)).isoformat()


def apply(applicant: Client, guide: dict, principal: dict | None, expect: int = 201):
    response = applicant.post(
        "/api/v1/applications",
        json={
            "item_id": guide["item_id"],
            "on_behalf_of": principal,
            "materials": [{"name": material["name"]} for material in guide["materials"]],
            "delivery": {"mode": "online"},
        },
    )
    assert response.status_code == expect, response.text
    return response.json().get("application_id")


def listed(client: Client, application_id: str, path: str = "/api/v1/applications") -> bool:
    response = client.get(path, params={"page_size": 100})
    assert response.status_code == 200, response.text
    return any(entry["application_id"] == application_id for entry in response.json()["items"])


def licence_numbers(client: Client) -> set[str]:
    response = client.get("/api/v1/licences")
    assert response.status_code == 200, response.text
    return {licence["licence_no"] for licence in response.json()["items"]}


def actions_of(view: dict) -> set[str]:
    return {entry["action"] for entry in view["available_actions"]}


class Enterprise:
    """A new enterprise: its owner, a member, a stranger, and a service
    centre's agent the owner has mandated (for the item, when ``guide``)."""

    def __init__(self, base: str, guide: dict | None = None):
        ops = operator(base)
        self.owner, _ = citizen(base, "陈老板")
        self.member, _ = citizen(base, "刘会计")
        self.stranger, _ = citizen(base, "路人甲")
        self.agent = staff(ops, SERVICE_CENTRE, "agent", name="周代办")
        self.clerk = staff(ops, "js-amr", "window_clerk", "approver", name="市监窗口")
        self.uscc = new_uscc()
        self.principal = {"kind": "enterprise", "uscc": self.uscc}
        self.name = f"南京代办测试{self.uscc[-4:]}有限公司"
        response = self.owner.post(
            "/api/v1/enterprises",
            json={"name": self.name, "uscc": self.uscc, "legal_representative": "陈老板"},
        )
        assert response.status_code == 201, response.text
        self.member_id = user_id_of(self.member)
        response = self.owner.post(
            f"/api/v1/enterprises/{self.uscc}/members", json={"user_id": self.member_id}
        )
        assert response.status_code == 201, response.text
        self.mandate_id = None
        if guide is not None:
            self.mandate_id = self.grant([guide["item_id"]])

    def grant(self, item_ids=None) -> str:
        response = self.owner.post(
            f"/api/v1/enterprises/{self.uscc}/mandates",
            json={
                "agent_user_id": user_id_of(self.agent),
                "item_ids": item_ids,
                "expires_on": in_a_month(),
            },
        )
        assert response.status_code == 201, response.text
        return response.json()["mandate_id"]

    def followed_by_member(self, application_id: str) -> None:
        """The member sees the case once workflow learnt of the membership
        (identity's events)."""
        eventually(
            lambda: listed(self.member, application_id),
            timeout=30,
            what="the member to follow the enterprise's case",
        )


# ------------------------------------------------------------------- tests


def test_members_are_managed_by_the_owner_and_read_by_members(cluster):
    firm = Enterprise(cluster.gateway_url)
    path = f"/api/v1/enterprises/{firm.uscc}/members"
    for reader in (firm.owner, firm.member):
        response = reader.get(path)
        assert response.status_code == 200, response.text
        page = response.json()
        assert (page["total"], page["items"][0]["user_id"]) == (1, firm.member_id)
        assert page["items"][0]["name"] == "刘会计"
    assert firm.stranger.get(path).status_code == 403
    stranger_id = user_id_of(firm.stranger)
    response = firm.member.post(path, json={"user_id": stranger_id})
    assert response.status_code == 403
    response = firm.owner.post(path, json={"user_id": firm.member_id})
    assert response.status_code == 409
    response = firm.owner.post(path, json={"user_id": user_id_of(firm.agent)})
    assert response.status_code == 422
    assert "user_id" in response.json()["error"]["fields"]

    response = firm.owner.request("DELETE", f"{path}/{stranger_id}")
    assert response.status_code == 404
    response = firm.owner.request("DELETE", f"{path}/{firm.member_id}")
    assert response.status_code == 204
    assert firm.member.get(path).status_code == 403


def test_an_agent_with_a_mandate_applies_for_the_enterprise_whose_members_follow(cluster):
    base = cluster.gateway_url
    guide = item(Client(base), FOREIGN_FIRM)
    firm = Enterprise(base)

    # Without a mandate the agent is refused, and so is an agent for nobody.
    apply(firm.agent, guide, firm.principal, expect=403)
    apply(firm.agent, guide, None, expect=403)
    apply(firm.clerk, guide, firm.principal, expect=403)  # staff but no agent

    mandate_id = firm.grant([guide["item_id"]])
    response = firm.agent.get("/api/v1/me/mandates", params={"role": "agent"})
    assert response.status_code == 200, response.text
    [mine] = [m for m in response.json()["items"] if m["mandate_id"] == mandate_id]
    assert mine["principal"] == {"kind": "enterprise", "uscc": firm.uscc, "name": firm.name}
    assert (mine["status"], mine["item_ids"]) == ("active", [guide["item_id"]])
    response = firm.member.get(f"/api/v1/enterprises/{firm.uscc}/mandates")
    assert [m["mandate_id"] for m in response.json()["items"]] == [mandate_id]

    application_id = apply(firm.agent, guide, firm.principal)
    view = case(firm.agent, application_id)
    assert view["on_behalf_of"] == {"kind": "enterprise", "uscc": firm.uscc, "name": firm.name}
    assert view["mandate_id"] == mandate_id
    submitted = view["timeline"][0]
    assert (submitted["action"], submitted["on_behalf_of"]["uscc"]) == ("submit", firm.uscc)
    assert listed(firm.agent, application_id)

    # The enterprise's owner and member follow it; a stranger does not see it.
    firm.followed_by_member(application_id)
    assert listed(firm.owner, application_id)
    assert case(firm.member, application_id)["application_id"] == application_id
    assert firm.stranger.get(f"/api/v1/applications/{application_id}").status_code == 404
    assert not listed(firm.stranger, application_id)

    act(firm.clerk, application_id, "accept")
    done = act(firm.clerk, application_id, "approve")
    assert done["state"] == "completed" and done["licence_no"]
    # The licence is the enterprise's: its members list it, and the agent too.
    for follower in (firm.owner, firm.member, firm.agent):
        assert done["licence_no"] in licence_numbers(follower)
    assert done["licence_no"] not in licence_numbers(firm.stranger)


def test_a_revoked_mandate_stops_the_agent_at_once_and_the_enterprise_still_acts(cluster):
    base = cluster.gateway_url
    guide = item(Client(base), FOREIGN_FIRM)
    firm = Enterprise(base, guide)
    application_id = apply(firm.agent, guide, firm.principal)
    act(
        firm.clerk,
        application_id,
        "request_supplement",
        comment="缺少法定代表人身份证明",
        missing_materials=["法定代表人身份证明"],
    )
    assert actions_of(case(firm.agent, application_id)) == {"withdraw", "supplement"}

    response = firm.owner.request(
        "DELETE", f"/api/v1/enterprises/{firm.uscc}/mandates/{firm.mandate_id}"
    )
    assert response.status_code == 204
    materials = {"materials": [{"name": "法定代表人身份证明"}]}
    path = f"/api/v1/applications/{application_id}"
    response = firm.agent.post(f"{path}/supplement", json=materials)
    assert response.status_code == 403, response.text
    assert firm.agent.post(f"{path}/withdraw", json={}).status_code == 403
    apply(firm.agent, guide, firm.principal, expect=403)
    # The agent still sees the case, with nothing left to do on it.
    assert actions_of(case(firm.agent, application_id)) == set()
    listed_mandates = firm.owner.get(f"/api/v1/enterprises/{firm.uscc}/mandates").json()
    assert [m["status"] for m in listed_mandates["items"]] == ["revoked"]

    # A member supplies the materials in the enterprise's name.
    firm.followed_by_member(application_id)
    response = firm.member.post(f"{path}/supplement", json=materials)
    assert response.status_code == 200, response.text
    entry = response.json()["timeline"][-1]
    assert (entry["action"], entry["actor_id"]) == ("supplement", firm.member_id)
    assert entry["on_behalf_of"]["uscc"] == firm.uscc
    assert firm.owner.post(f"{path}/withdraw", json={}).json()["state"] == "withdrawn"


def test_a_citizen_mandates_another_citizen_who_applies_for_them(cluster):
    base = cluster.gateway_url
    guide = item(Client(base), FOREIGN_FIRM)
    elder, _ = citizen(base, "王老人")
    helper, _ = citizen(base, "小王")
    elder_id, helper_id = user_id_of(elder), user_id_of(helper)
    person = {"kind": "person", "user_id": elder_id}
    apply(helper, guide, person, expect=403)

    response = elder.post(
        "/api/v1/me/mandates", json={"agent_user_id": helper_id, "expires_on": in_a_month()}
    )
    assert response.status_code == 201, response.text
    mandate_id = response.json()["mandate_id"]
    granted = elder.get("/api/v1/me/mandates").json()["items"]
    assert [(m["mandate_id"], m["agent_user_id"]) for m in granted] == [(mandate_id, helper_id)]
    received = helper.get("/api/v1/me/mandates", params={"role": "agent"}).json()["items"]
    assert [m["principal"] for m in received] == [
        {"kind": "person", "user_id": elder_id, "name": "王老人"}
    ]

    first = apply(helper, guide, person)
    second = apply(helper, guide, person)
    assert listed(elder, first) and listed(elder, second)
    clerk = staff(operator(base), "js-amr", "window_clerk", "approver", name="市监窗口")
    act(clerk, first, "accept")
    done = act(clerk, first, "approve")
    assert done["licence_no"] in licence_numbers(elder)

    response = elder.request("DELETE", f"/api/v1/me/mandates/{mandate_id}")
    assert response.status_code == 204
    path = f"/api/v1/applications/{second}/withdraw"
    assert helper.post(path, json={}).status_code == 403
    response = elder.post(path, json={})
    assert response.status_code == 200, response.text
    entry = response.json()["timeline"][-1]
    assert (entry["actor_id"], entry["on_behalf_of"]["user_id"]) == (elder_id, elder_id)


def test_a_bad_mandate_is_refused_naming_the_field(cluster):
    firm = Enterprise(cluster.gateway_url)
    path = f"/api/v1/enterprises/{firm.uscc}/mandates"
    agent_id = user_id_of(firm.agent)
    for body, field in (
        ({"agent_user_id": agent_id, "expires_on": date.today().isoformat()}, "expires_on"),
        ({"agent_user_id": agent_id, "expires_on": "2099-01-01"}, "expires_on"),
        ({"agent_user_id": "0" * 32, "expires_on": in_a_month()}, "agent_user_id"),
        ({"agent_user_id": agent_id, "expires_on": "soon"}, "expires_on"),
    ):
        response = firm.owner.post(path, json=body)
        assert response.status_code == 422, response.text
        assert field in response.json()["error"]["fields"]
    response = firm.member.post(path, json={"agent_user_id": agent_id, "expires_on": in_a_month()})
    assert response.status_code == 403
    unknown = new_uscc()
    assert firm.owner.get(f"/api/v1/enterprises/{unknown}/mandates").status_code == 404


def test_nothing_was_logged_as_an_error(watch):
    assert watch.problems() == []
