"""Agents (代办制) over the real broker and database: workflow asks a stand-in
identity whether an agent may act for a principal, at submission and before
each later command, and learns who acts for an enterprise from identity's
events as identity's relay publishes them."""

import pytest
from nameko.rpc import rpc
from nameko.standalone.rpc import ServiceRpcProxy
from nameko.testing.services import entrypoint_waiter

from services.common import errors
from services.common.testing import citizen, envelope, staff
from services.workflow.service import WorkflowService
from services.workflow.tests.integration.test_workflow_service import (
    ITEM,
    CatalogStandIn,
    config,  # noqa: F401  (the fixture)
    delete_event_queues,
    publish,
)
from services.workflow.tests.unit.conftest import CLERK, MATERIALS, ONLINE

USCC = "91320102MA1XYR1234"
ENTERPRISE = {"kind": "enterprise", "uscc": USCC}
AGENT = staff("u-agent", "js-zwfw", "agent")
OWNER = citizen("u-owner", name="张老板")
MEMBER = citizen("u-member", name="李会计")
# Whom the stand-in lets act for the enterprise (the test revokes by removing).
MANDATED = {"u-agent"}


class IdentityStandIn:
    name = "identity"

    @rpc
    def authorise_principal(self, actor_id, principal, item_id, on=None):
        if actor_id not in MANDATED or principal != ENTERPRISE:
            raise errors.Forbidden("no mandate in force")
        return {
            "basis": "mandate",
            "mandate_id": "m-1",
            "principal": {**principal, "name": "南京某某科技有限公司"},
        }


@pytest.fixture
def services(config, container_factory, amqp_uri):  # noqa: F811
    MANDATED.clear()
    MANDATED.add("u-agent")
    for stand_in in (CatalogStandIn, IdentityStandIn):
        container_factory(stand_in, {"AMQP_URI": amqp_uri}).start()
    workflow = container_factory(WorkflowService, config)
    workflow.start()
    yield workflow
    workflow.stop()
    delete_event_queues(amqp_uri, WorkflowService)


def test_an_agents_case_is_followed_by_the_enterprise_and_stops_with_the_mandate(
    services,
    config,  # noqa: F811
    amqp_uri,
):
    registered = envelope(
        "identity",
        "enterprise_registered",
        {"enterprise_id": "e-1", "uscc": USCC, "owner_user_id": OWNER["user_id"]},
    )
    added = envelope("identity", "enterprise_member_added", {"uscc": USCC, "user_id": "u-member"})
    with entrypoint_waiter(services, "on_enterprise_registered"):
        assert publish(amqp_uri, registered) == []
    with entrypoint_waiter(services, "on_enterprise_member_added"):
        assert publish(amqp_uri, added) == []

    with ServiceRpcProxy("workflow", config) as workflow:
        submitted = workflow.submit_application(
            actor=AGENT,
            item_id=ITEM["item_id"],
            materials=MATERIALS,
            delivery=ONLINE,
            on_behalf_of=ENTERPRISE,
        )
        application_id = submitted["application_id"]
        for follower in (AGENT, OWNER, MEMBER):
            listed = workflow.list_applications(actor=follower)["items"]
            assert [case["application_id"] for case in listed] == [application_id]
        shown = workflow.get_application(actor=MEMBER, application_id=application_id)
        assert shown["on_behalf_of"] == {**ENTERPRISE, "name": "南京某某科技有限公司"}
        assert shown["mandate_id"] == "m-1"
        assert shown["timeline"][0]["on_behalf_of"] == shown["on_behalf_of"]

        MANDATED.clear()  # the owner revoked the mandate
        with pytest.raises(errors.Forbidden):
            workflow.withdraw(actor=AGENT, application_id=application_id)
        with pytest.raises(errors.Forbidden):
            workflow.submit_application(
                actor=AGENT, item_id=ITEM["item_id"], delivery=ONLINE, on_behalf_of=ENTERPRISE
            )
        workflow.act(actor=CLERK, application_id=application_id, action="accept")
        withdrawn = workflow.withdraw(actor=MEMBER, application_id=application_id)
        assert withdrawn["state"] == "withdrawn"
        assert withdrawn["timeline"][-1]["actor_id"] == "u-member"
        assert withdrawn["timeline"][-1]["on_behalf_of"]["uscc"] == USCC

        # A member removed no longer follows the enterprise's cases.
        removed = envelope(
            "identity", "enterprise_member_removed", {"uscc": USCC, "user_id": "u-member"}
        )
        with entrypoint_waiter(services, "on_enterprise_member_removed"):
            assert publish(amqp_uri, removed) == []
        assert workflow.list_applications(actor=MEMBER)["total"] == 0
        with pytest.raises(errors.NotFound):
            workflow.get_application(actor=MEMBER, application_id=application_id)
