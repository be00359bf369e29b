"""A principal's full ID number is decrypted only where it is shown or needed,
and each such read is recorded (``pii_accessed``); lists, views and commands
work on the masked number."""

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from services.common.environment import RefusedToStart, RequiredSecrets
from services.common.pii import DEV_PII_KEY, PII_SECRETS, PiiCipher
from services.common.testing import outbox
from services.workflow.adapters import orm
from services.workflow.domain import exceptions as domain
from services.workflow.service import WorkflowService
from services.workflow.service_layer import pii_reads, use_cases

from .conftest import (
    APPLICANT,
    APPROVER,
    CLERK,
    FORM,
    MATERIALS,
    ONLINE,
    OPERATOR,
    OUTSIDE_CLERK,
    FakeIdentity,
    item,
)
from .conftest import PII_KEY as KEY

ID_NUMBER = "320102199001011234"
MASKED = "3201**********1234"
AT = datetime(2026, 10, 9, 2, 0, tzinfo=UTC)


class CountingCipher(PiiCipher):
    """The real cipher, counting what it decrypts."""

    def __init__(self, key: bytes):
        super().__init__(key)
        self.decrypted = 0

    def decrypt(self, ciphertext: str, *, associated_data: str = "") -> str:
        self.decrypted += 1
        return super().decrypt(ciphertext, associated_data=associated_data)


@pytest.fixture
def cipher(uow) -> CountingCipher:
    counting = CountingCipher(KEY)
    uow._pii_cipher = counting
    return counting


def by_number_case(uow) -> str:
    """A case whose agent named a person by ID number (before persons had
    accounts), saved once since, so the number is stored encrypted."""
    application_id = use_cases.submit_application(
        uow, item(joint_departments=[]), APPLICANT, FORM, MATERIALS, ONLINE
    ).application_id
    with uow:
        uow.session.execute(
            orm.applications.update()
            .where(orm.applications.c.application_id == application_id)
            .values(on_behalf_of={"kind": "person", "name": "王五", "id_number": ID_NUMBER})
        )
        uow.commit()
    use_cases.act(uow, CLERK, application_id, "accept")
    return application_id


def recorded(uow) -> list[dict]:
    return [sent["payload"] for sent in outbox(uow) if sent["type"] == "pii_accessed"]


def test_lists_views_and_commands_never_decrypt(uow, cipher):
    application_id = by_number_case(uow)
    other = by_number_case(uow)
    assert cipher.decrypted == 0
    listed = use_cases.list_applications(uow, APPLICANT)
    assert {case.application_id for case in listed["items"]} >= {application_id, other}
    worked = use_cases.worklist(uow, CLERK)
    assert {case.application_id for case in worked["items"]} >= {application_id, other}
    shown = use_cases.get_application(uow, APPROVER, application_id)
    assert shown.on_behalf_of == {"kind": "person", "name": "王五", "id_number": MASKED}
    approved = use_cases.act(uow, APPROVER, application_id, "approve")
    assert approved.licence is not None
    assert cipher.decrypted == 0
    assert recorded(uow) == []


def test_a_command_writes_the_stored_cipher_back(uow, cipher):
    application_id = by_number_case(uow)
    with uow:
        before = (
            uow.session.execute(
                orm.applications.select().where(orm.applications.c.application_id == application_id)
            )
            .mappings()
            .one()["on_behalf_of"]
        )
    use_cases.act(uow, APPROVER, application_id, "approve")
    with uow:
        after = (
            uow.session.execute(
                orm.applications.select().where(orm.applications.c.application_id == application_id)
            )
            .mappings()
            .one()["on_behalf_of"]
        )
    assert after == before
    assert set(after) == {"kind", "name", "id_number_cipher", "id_number_masked"}
    with uow:
        assert uow.applications.principal_id_number(application_id) == ID_NUMBER


def test_a_reviewer_reads_the_number_and_the_read_is_recorded(uow, cipher):
    application_id = by_number_case(uow)
    shown = pii_reads.principal_identity(uow, CLERK, application_id, "workflow", now=AT)
    assert shown == {
        "application_id": application_id,
        "kind": "person",
        "user_id": None,
        "name": "王五",
        "id_number": ID_NUMBER,
    }
    assert cipher.decrypted == 1
    assert recorded(uow) == [
        {
            "accessor_id": CLERK["user_id"],
            "accessor_kind": "staff",
            "subject_id": application_id,
            "subject_kind": "application_principal",
            "purpose": "case_review",
            "service": "workflow",
            "at": "2026-10-09T02:00:00Z",
        }
    ]


def test_an_automatic_decision_reading_the_number_is_recorded(uow, cipher):
    application_id = by_number_case(uow)
    number = pii_reads.principal_id_number_for_decision(uow, application_id, "workflow-js-ga")
    assert number == ID_NUMBER
    (entry,) = recorded(uow)
    assert (entry["accessor_id"], entry["accessor_kind"], entry["purpose"]) == (
        "workflow-js-ga",
        "service",
        "automatic_decision",
    )
    assert entry["service"] == "workflow-js-ga"


def test_a_case_without_a_number_reads_and_records_nothing(uow, cipher):
    own = use_cases.submit_application(
        uow, item(joint_departments=[]), APPLICANT, FORM, MATERIALS, ONLINE
    ).application_id
    assert pii_reads.principal_id_number_for_decision(uow, own, "workflow") is None
    assert recorded(uow) == [] and cipher.decrypted == 0


def test_a_person_with_an_account_is_read_at_identity_which_records_it(uow, identity, cipher):
    person = {"kind": "person", "user_id": "u-principal"}
    identity.allow(APPLICANT["user_id"], person)
    application_id = use_cases.submit_application(
        uow, item(joint_departments=[]), APPLICANT, FORM, MATERIALS, ONLINE, person
    ).application_id
    shown = pii_reads.principal_identity(uow, CLERK, application_id, "workflow")
    assert shown["id_number"] == FakeIdentity.ID_NUMBER and shown["user_id"] == "u-principal"
    assert ("person_facts", "u-principal", "case_review", CLERK["user_id"], "staff") in (
        identity.calls
    )
    # identity keeps that record; workflow decrypted nothing and emits none.
    assert recorded(uow) == [] and cipher.decrypted == 0


@pytest.mark.parametrize("actor", [APPLICANT, OPERATOR], ids=["citizen", "operator"])
def test_only_staff_look_at_a_principal(uow, cipher, actor):
    application_id = by_number_case(uow)
    with pytest.raises(domain.Forbidden):
        pii_reads.principal_identity(uow, actor, application_id, "workflow")
    assert cipher.decrypted == 0 and recorded(uow) == []


def test_staff_who_do_not_see_the_case_learn_nothing(uow, cipher):
    application_id = by_number_case(uow)
    with pytest.raises(domain.NotFound):
        pii_reads.principal_identity(uow, OUTSIDE_CLERK, application_id, "workflow")
    assert cipher.decrypted == 0 and recorded(uow) == []


def test_a_case_for_oneself_has_no_principal_to_look_at(uow):
    own = use_cases.submit_application(
        uow, item(joint_departments=[]), APPLICANT, FORM, MATERIALS, ONLINE
    ).application_id
    with pytest.raises(domain.NotFound):
        pii_reads.principal_identity(uow, CLERK, own, "workflow")


def test_the_agent_who_applied_does_not_review_the_principal(uow, identity, cipher):
    agent = {**CLERK, "user_id": "u-agent", "department_code": "js-zwfw", "roles": ["agent"]}
    person = {"kind": "person", "user_id": "u-principal"}
    identity.allow(agent["user_id"], person)
    application_id = use_cases.submit_application(
        uow, item(joint_departments=[]), agent, FORM, MATERIALS, ONLINE, person
    ).application_id
    assert use_cases.get_application(uow, agent, application_id).application_id
    with pytest.raises(domain.Forbidden):
        pii_reads.principal_identity(uow, agent, application_id, "workflow")
    assert not [call for call in identity.calls if call[0] == "person_facts"]


def test_workflow_will_not_start_in_production_on_the_development_pii_key():
    (provider,) = [
        value for value in vars(WorkflowService).values() if isinstance(value, RequiredSecrets)
    ]
    assert provider.defaults == PII_SECRETS
    provider.container = SimpleNamespace(
        config={"TONGBAN_ENV": "production", "PII_KEY": DEV_PII_KEY}, service_name="workflow"
    )
    with pytest.raises(RefusedToStart):
        provider.setup()
