"""Licences between two workflow instances over RabbitMQ, each on its own
database: js-ga's instance issues a licence, the shared instance takes it as a
material of a new application by asking js-ga's (``check_held_licence``), and
both publish their keys (``licence_jwks``)."""

import pytest
from alembic import command
from nameko.rpc import rpc
from nameko.standalone.rpc import ServiceRpcProxy

from services.common import errors
from services.common.migrations import alembic_config
from services.workflow.service import WorkflowService
from services.workflow.tests.integration.test_workflow_service import delete_event_queues
from services.workflow.tests.unit.conftest import (
    APPLICANT,
    APPROVER,
    CLERK,
    FORM,
    MATERIALS,
    ONLINE,
    OTHER_CITIZEN,
    OWN,
    PII_KEY,
    item,
)

GA_USCC = "11320000MB0123456K"
SHARED_ITEM = item(joint_departments=[])
GA_ITEM = item(
    item_id="item-js-ga",
    department_code="js-ga",
    region_code="320000",
    handled_by="workflow-js-ga",
    joint_departments=[],
    licence_type={"code": "BAFWXK", "name": "保安服务许可证", "valid_years": None},
    issuer_uscc=GA_USCC,
)
ITEMS = {found["item_id"]: found for found in (SHARED_ITEM, GA_ITEM)}
GA_CLERK = {**CLERK, "department_code": "js-ga"}
GA_APPROVER = {**APPROVER, "department_code": "js-ga"}


class Catalog:
    name = "catalog"

    @rpc
    def get_item(self, item_id):
        if item_id not in ITEMS:
            raise errors.NotFound(f"item {item_id} not found")
        return ITEMS[item_id]

    @rpc
    def list_departments(self, region=None):
        return {
            "items": [
                {"code": OWN, "region_code": "320102"},
                {"code": "js-ga", "region_code": "320000", "uscc": GA_USCC},
            ]
        }


@pytest.fixture
def instances(amqp_uri, database_factory, free_port, container_factory):
    configs = {}
    for name, code in (("workflow", ""), ("workflow-js-ga", "js-ga")):
        url = database_factory(name.replace("-", "_"))
        command.upgrade(alembic_config("workflow", url), "head")
        configs[name] = {
            "AMQP_URI": amqp_uri,
            "DATABASE_URL": url,
            "WEB_SERVER_ADDRESS": f"127.0.0.1:{free_port()}",
            "METRICS_READ_SECONDS": 0,
            "DEPARTMENT_CODE": code,
            "WORKFLOW_DEPARTMENTS": "js-ga",
            "OUTBOX_POLL_SECONDS": 0.05,
            "RPC_TIMEOUT_SECONDS": 5,
            "PII_KEY": PII_KEY.hex(),
        }
    container_factory(Catalog, {"AMQP_URI": amqp_uri}).start()
    classes = []
    for config in configs.values():
        service_class = WorkflowService.for_config(config)
        container_factory(service_class, config).start()
        classes.append(service_class)
    yield configs
    for service_class in classes:
        delete_event_queues(amqp_uri, service_class)


def test_a_licence_of_another_instance_is_reused_as_material(instances):
    with ServiceRpcProxy("workflow-js-ga", instances["workflow-js-ga"]) as ga:
        application_id = ga.submit_application(
            actor=APPLICANT,
            item_id=GA_ITEM["item_id"],
            form=FORM,
            materials=MATERIALS,
            delivery=ONLINE,
        )["application_id"]
        ga.act(actor=GA_CLERK, application_id=application_id, action="accept")
        licence_no = ga.act(actor=GA_APPROVER, application_id=application_id, action="approve")[
            "licence_no"
        ]
        assert licence_no.startswith(f"1.2.156.3005.2.BAFWXK.{GA_USCC}.")
        ga_keys = ga.licence_jwks()["keys"]
        kid = ga.get_licence(actor=APPLICANT, licence_no=licence_no)["document"]["signature"]["kid"]
        assert [key["kid"] for key in ga_keys] == [kid]

    with ServiceRpcProxy("workflow", instances["workflow"]) as shared:
        materials = [*MATERIALS, {"licence_no": licence_no}]
        submitted = shared.submit_application(
            actor=APPLICANT,
            item_id=SHARED_ITEM["item_id"],
            form=FORM,
            materials=materials,
            delivery=ONLINE,
        )
        shown = shared.get_application(actor=APPLICANT, application_id=submitted["application_id"])
        assert shown["materials"][-1]["name"] == "保安服务许可证"
        assert shown["materials"][-1]["licence"]["holder_id"] == APPLICANT["user_id"]
        with pytest.raises(errors.Invalid) as refused:
            shared.submit_application(
                actor=OTHER_CITIZEN,
                item_id=SHARED_ITEM["item_id"],
                form=FORM,
                materials=materials,
                delivery=ONLINE,
            )
        assert list(refused.value.fields) == ["materials.1.licence_no"]
        # The shared instance never issued it: it does not verify it.
        with pytest.raises(errors.NotFound):
            shared.verify_licence(licence_no=licence_no)
        assert shared.licence_jwks() == {"keys": []}
