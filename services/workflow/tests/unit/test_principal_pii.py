"""A person an agent applies for: the ID number is stored encrypted and masked only."""

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


def test_the_id_number_is_stored_only_encrypted_and_masked(uow):
    application_id = submit_for(uow).application_id
    with uow:
        row_text = str(
            tuple(
                uow.session.execute(
                    sa.text("SELECT * FROM applications WHERE application_id = :id"),
                    {"id": application_id},
                ).one()
            )
        )
    assert ID_NUMBER not in row_text
    assert MASKED in row_text
    assert ID_NUMBER not in stored_text(uow)
    stored = stored_principal(uow, application_id)
    assert set(stored) == {"kind", "name", "id_number_cipher", "id_number_masked"}
    assert stored["id_number_masked"] == MASKED
    # Bound to its application: readable with the key and the application id only.
    cipher = PiiCipher(KEY)
    assert cipher.decrypt(stored["id_number_cipher"], associated_data=application_id) == ID_NUMBER
    with pytest.raises(PiiDecryptionError):
        cipher.decrypt(stored["id_number_cipher"])


def test_the_application_loads_with_the_number_and_shows_it_masked(uow):
    application_id = submit_for(uow).application_id
    loaded = use_cases.get_application(uow, APPLICANT, application_id)
    assert loaded.on_behalf_of == PERSON
    shown = contract.Application().dump(loaded)
    assert shown["on_behalf_of"] == {"kind": "person", "name": "王五", "id_number": MASKED}
    assert ID_NUMBER not in json.dumps(shown)
    listed = use_cases.list_applications(uow, APPLICANT)["items"]
    assert listed[0].on_behalf_of == PERSON


def test_saving_after_review_keeps_it_encrypted_and_the_licence_masked(uow):
    application_id = submit_for(uow).application_id
    use_cases.act(uow, CLERK, application_id, "accept")
    approved = use_cases.act(uow, APPROVER, application_id, "approve")
    assert approved.licence.holder_id == ID_NUMBER  # in memory only
    assert use_cases.verify_licence(uow, approved.licence_no)["holder_masked"] == MASKED
    assert ID_NUMBER not in stored_text(uow)
    assert use_cases.get_application(uow, APPLICANT, application_id).on_behalf_of == PERSON


def test_a_row_stored_before_encryption_loads_and_is_encrypted_on_its_next_save(uow):
    application_id = submit_for(uow).application_id
    with uow:
        uow.session.execute(
            orm.applications.update()
            .where(orm.applications.c.application_id == application_id)
            .values(on_behalf_of=dict(PERSON))
        )
        uow.commit()
    assert use_cases.get_application(uow, APPLICANT, application_id).on_behalf_of == PERSON
    use_cases.act(uow, CLERK, application_id, "accept")
    assert stored_principal(uow, application_id)["id_number_masked"] == MASKED
    assert ID_NUMBER not in stored_text(uow)


def test_a_ciphertext_copied_onto_another_application_does_not_decrypt(uow):
    first = submit_for(uow).application_id
    second = submit_for(uow).application_id
    copied = stored_principal(uow, first)
    with uow:
        uow.session.execute(
            orm.applications.update()
            .where(orm.applications.c.application_id == second)
            .values(on_behalf_of=copied)
        )
        uow.commit()
    with pytest.raises(PiiDecryptionError):
        use_cases.get_application(uow, APPLICANT, second)


def test_enterprise_principals_and_own_cases_need_no_key(uow_factory):
    uow = uow_factory(WorkflowUnitOfWork, source="workflow")
    assert uow.config == {}
    own = submit_for(uow, None).application_id
    enterprise = {"kind": "enterprise", "uscc": "91320102MA1XYR1234", "name": "某公司"}
    for_enterprise = submit_for(uow, enterprise).application_id
    assert use_cases.get_application(uow, APPLICANT, own).on_behalf_of is None
    assert use_cases.get_application(uow, APPLICANT, for_enterprise).on_behalf_of == enterprise
    with pytest.raises(ValueError, match="PII_KEY is not set"):
        submit_for(uow)
