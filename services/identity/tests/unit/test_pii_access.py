"""The trail of ID numbers read: identity records its own reads (person_facts)
in the reading transaction, files workflow's ``pii_accessed`` once per event,
and shows the trail to operators only, newest first, paged."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from nameko.testing.services import worker_factory

from services.common.environment import RefusedToStart, RequiredSecrets
from services.common.errors import Forbidden, Invalid, NotFound
from services.common.pii import DEV_PII_KEY, PII_SECRETS
from services.common.testing import delivered, envelope
from services.identity.domain.pii_access import PiiAccess
from services.identity.service import IdentityService
from services.identity.service_layer import pii_access, use_cases
from services.identity.tests.unit.conftest import actor_of, rows
from services.workflow import contract as workflow_contract

AT = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
APPLICATION_ID = "3f2a9c4e5b6d4e7f8a9b0c1d2e3f4a5b"


@pytest.fixture
def service(uow, crypto):
    return worker_factory(IdentityService, uow=uow, crypto=crypto)


def read_by_workflow(accessor_id="u-clerk", at="2026-12-02T01:00:00Z", **meta) -> dict:
    sent = envelope(
        "workflow",
        "pii_accessed",
        {
            "accessor_id": accessor_id,
            "accessor_kind": "staff",
            "subject_id": APPLICATION_ID,
            "subject_kind": "application_principal",
            "purpose": "case_review",
            "service": "workflow",
            "at": at,
        },
        **meta,
    )
    return delivered(sent, workflow_contract.PiiAccessed)


def test_a_read_of_the_number_by_a_service_is_recorded_with_it(uow, crypto, verified):
    facts = use_cases.person_facts(
        uow,
        crypto,
        verified.user_id,
        purpose="automatic_decision",
        accessor_id="workflow-js-ga",
        accessor_kind="service",
        now=AT,
    )
    assert facts.id_number is not None
    (row,) = rows(uow, "pii_access")
    assert {key: value for key, value in row.items() if key not in ("access_id", "at")} == {
        "accessor_id": "workflow-js-ga",
        "accessor_kind": "service",
        "subject_id": verified.user_id,
        "subject_kind": "user",
        "purpose": "automatic_decision",
        "service": "identity",
    }
    assert len(row["access_id"]) == 32


def test_a_caller_naming_nobody_is_recorded_as_an_unnamed_services_decision(uow, crypto, verified):
    use_cases.person_facts(uow, crypto, verified.user_id)
    (row,) = rows(uow, "pii_access")
    assert (row["accessor_id"], row["accessor_kind"], row["purpose"]) == (
        "unnamed",
        "service",
        "automatic_decision",
    )


def test_no_number_read_nothing_recorded(uow, crypto, citizen):
    assert use_cases.person_facts(uow, crypto, citizen.user_id).id_number is None
    with pytest.raises(NotFound):
        use_cases.person_facts(uow, crypto, "nobody")
    assert rows(uow, "pii_access") == []


def test_the_owner_reading_their_own_number_is_not_someone_elses_read(uow, crypto, verified):
    use_cases.person_facts(
        uow, crypto, verified.user_id, accessor_id=verified.user_id, accessor_kind="citizen"
    )
    assert rows(uow, "pii_access") == []


def test_a_bad_purpose_or_kind_is_refused_naming_the_field(service, verified):
    with pytest.raises(Invalid) as refused:
        service.person_facts(user_id=verified.user_id, purpose="curiosity", accessor_kind="cat")
    assert set(refused.value.fields) == {"purpose", "accessor_kind"}


def test_workflows_read_is_filed_once_however_often_it_arrives(uow):
    event = read_by_workflow()
    assert pii_access.on_pii_accessed(uow, event) is True
    assert pii_access.on_pii_accessed(uow, event) is False
    (row,) = rows(uow, "pii_access")
    assert (row["subject_id"], row["subject_kind"], row["service"]) == (
        APPLICATION_ID,
        "application_principal",
        "workflow",
    )


def test_the_consumer_takes_the_event_as_workflow_emits_it(service, uow):
    service.on_pii_accessed(
        envelope(
            "workflow",
            "pii_accessed",
            {**read_by_workflow()["payload"], "at": "2026-12-02T01:00:00Z", "later_field": 1},
        )
    )
    assert len(rows(uow, "pii_access")) == 1


def test_operators_read_the_trail_newest_first_paged_and_filtered(uow, crypto, verified, operator):
    for minutes, accessor in enumerate(["u-a", "u-b", "u-a"]):
        at = (AT + timedelta(minutes=minutes)).isoformat()
        pii_access.on_pii_accessed(uow, read_by_workflow(accessor, at))
    use_cases.person_facts(
        uow,
        crypto,
        verified.user_id,
        purpose="case_review",
        accessor_id="u-a",
        accessor_kind="staff",
        now=AT + timedelta(minutes=10),
    )
    everything = pii_access.list_pii_access(uow, operator)
    assert everything["total"] == 4
    assert [entry["at"] for entry in everything["items"]] == sorted(
        (entry["at"] for entry in everything["items"]), reverse=True
    )
    assert everything["items"][0]["subject_id"] == verified.user_id
    by_a = pii_access.list_pii_access(uow, operator, accessor_id="u-a", page=2, page_size=2)
    assert (by_a["total"], by_a["page"], by_a["page_size"]) == (3, 2, 2)
    assert [entry["at"] for entry in by_a["items"]] == [AT]
    of_case = pii_access.list_pii_access(uow, operator, subject_id=APPLICATION_ID)
    assert of_case["total"] == 3
    both = pii_access.list_pii_access(uow, operator, subject_id=verified.user_id, accessor_id="u-b")
    assert both["total"] == 0


def test_only_operators_read_the_trail(uow, verified):
    with pytest.raises(Forbidden):
        pii_access.list_pii_access(uow, actor_of(verified))


def test_the_rpc_answers_its_page(service, operator):
    service.on_pii_accessed(read_by_workflow())
    page = service.list_pii_access(actor=operator, page="1", page_size="10")
    assert page["total"] == 1 and page["items"][0]["at"] == "2026-12-02T01:00:00Z"
    assert set(page["items"][0]) == {
        "access_id",
        "accessor_id",
        "accessor_kind",
        "subject_id",
        "subject_kind",
        "purpose",
        "service",
        "at",
    }


def test_a_record_names_its_parts_plainly():
    with pytest.raises(Invalid) as refused:
        PiiAccess(
            accessor_id="",
            accessor_kind="staff",
            subject_id="u-1",
            subject_kind="user",
            purpose="case_review",
            service="identity",
            at=datetime(2026, 12, 2, 1, 0),
        )
    assert set(refused.value.fields) == {"accessor_id", "at"}


def test_identity_will_not_start_in_production_on_the_development_pii_key():
    (provider,) = [
        value for value in vars(IdentityService).values() if isinstance(value, RequiredSecrets)
    ]
    assert provider.defaults == PII_SECRETS
    provider.container = SimpleNamespace(
        config={"TONGBAN_ENV": "production", "PII_KEY": DEV_PII_KEY}, service_name="identity"
    )
    with pytest.raises(RefusedToStart):
        provider.setup()
