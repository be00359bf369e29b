"""A person an agent applied for before principals had accounts: the ID number
is stored encrypted and masked only; principals with accounts need no key."""

import json

import pytest
import sqlalchemy as sa

from services.common.pii import PiiCipher, PiiDecryptionError
from services.workflow import contract
from services.workflow.adapters import orm
from services.workflow.service_layer import use_cases
from services.workflow.service_layer.unit_of_work import WorkflowUnitOfWork

from .conftest import APPLICANT, APPROVER, CLERK, FORM, MATERIALS, ONLINE, item
from .conftest import PII_KEY as KEY

ID_NUMBER = "320102199001011234"
MASKED = "3201**********1234"
PERSON = {"kind": "person", "name": "王五", "id_number": ID_NUMBER}


def submit_for(uow, principal=PERSON):
    return use_cases.submit_application(
        uow, item(joint_departments=[]), APPLICANT, FORM, MATERIALS, ONLINE, principal
    )


def stored_principal(uow, application_id) -> dict:
    with uow:
        return uow.session.execute(
            sa.select(orm.applications.c.on_behalf_of).where(
                orm.applications.c.application_id == application_id
            )
        ).scalar_one()


def stored_text(uow) -> str:
    """Every row of every workflow table (outbox included), as stored."""
    with uow:
        return "\n".join(
            str(tuple(row))
            for table in orm.metadata.sorted_tables
            for row in uow.session.execute(sa.text(f"SELECT * FROM {table.name}"))  # noqa: S608
        )


def legacy_case(uow, principal=PERSON) -> str:
    """A case as stored before principals had accounts: the agent named a person
    by name and ID number, kept in the clear by the oldest rows."""
    application_id = submit_for(uow, None).application_id
    with uow:
        uow.session.execute(
            orm.applications.update()
            .where(orm.applications.c.application_id == application_id)
            .values(on_behalf_of=dict(principal))
        )
        uow.commit()
    return application_id


def test_an_older_case_loads_with_the_number_shows_it_masked_and_is_encrypted_on_save(uow):
    application_id = legacy_case(uow)
    loaded = use_cases.get_application(uow, APPLICANT, application_id)
    # Loaded masked: a view needs no more.
    assert loaded.on_behalf_of == {**PERSON, "id_number": MASKED}
    shown = contract.Application().dump(loaded)
    assert shown["on_behalf_of"] == {"kind": "person", "name": "王五", "id_number": MASKED}
    assert ID_NUMBER not in json.dumps(shown)
    # The agent still acts on it: no mandate can be asked of a person with no account.
    use_cases.act(uow, CLERK, application_id, "accept")
    stored = stored_principal(uow, application_id)
    assert set(stored) == {"kind", "name", "id_number_cipher", "id_number_masked"}
    assert stored["id_number_masked"] == MASKED
    cipher = PiiCipher(KEY)
    assert cipher.decrypt(stored["id_number_cipher"], associated_data=application_id) == ID_NUMBER
    with pytest.raises(PiiDecryptionError):
        cipher.decrypt(stored["id_number_cipher"])
    approved = use_cases.act(uow, APPROVER, application_id, "approve")
    # Its licence is the applicant's: the person has no account to hold it.
    assert approved.licence.holder_id == APPLICANT["user_id"]
    assert ID_NUMBER not in stored_text(uow)


def test_a_ciphertext_copied_onto_another_application_does_not_decrypt(uow):
    first = legacy_case(uow)
    use_cases.act(uow, CLERK, first, "accept")
    second = submit_for(uow, None).application_id
    copied = stored_principal(uow, first)
    with uow:
        uow.session.execute(
            orm.applications.update()
            .where(orm.applications.c.application_id == second)
            .values(on_behalf_of=copied)
        )
        uow.commit()
    # Loading never decrypts; the read of the number does, and refuses it.
    assert use_cases.get_application(uow, APPLICANT, second).on_behalf_of["id_number"] == MASKED
    with uow, pytest.raises(PiiDecryptionError):
        uow.applications.principal_id_number(second)


def test_principals_with_accounts_and_own_cases_need_no_key(uow_factory, identity):
    uow = uow_factory(WorkflowUnitOfWork, source="workflow")
    uow.authorise_principal = identity
    assert uow.config == {}
    enterprise = {"kind": "enterprise", "uscc": "91320102MA1XYR1234"}
    person = {"kind": "person", "user_id": "u-principal"}
    identity.allow(APPLICANT["user_id"], enterprise)
    identity.allow(APPLICANT["user_id"], person)
    own = submit_for(uow, None).application_id
    for_enterprise = submit_for(uow, enterprise).application_id
    for_person = submit_for(uow, person).application_id
    assert use_cases.get_application(uow, APPLICANT, own).on_behalf_of is None
    assert use_cases.get_application(uow, APPLICANT, for_enterprise).on_behalf_of == {
        **enterprise,
        "name": "南京某某科技有限公司",
    }
    assert use_cases.get_application(uow, APPLICANT, for_person).on_behalf_of == {
        **person,
        "name": "王五",
    }
