"""A submit sent twice under one idempotency key opens one case."""

import pytest
import sqlalchemy as sa

from services.common import errors
from services.common.testing import staff
from services.workflow.adapters import orm
from services.workflow.service_layer import use_cases

from .conftest import (
    APPLICANT,
    EXPRESS,
    FORM,
    MATERIALS,
    OTHER_CITIZEN,
    FakeCatalog,
    item,
    shared_workflow,
    statements_sent,
)


@pytest.fixture
def service(uow):
    return shared_workflow(uow, FakeCatalog(item()))


def submit(service, key, actor=APPLICANT):
    return service.submit_application(
        actor=actor,
        item_id="item-food-licence",
        form=FORM,
        materials=MATERIALS,
        delivery=EXPRESS,
        idempotency_key=key,
    )


def cases(uow) -> int:
    with uow:
        return uow.session.execute(
            sa.select(sa.func.count()).select_from(orm.applications)
        ).scalar()


def test_the_same_key_answers_the_case_it_opened(service, uow):
    first = submit(service, "retry-1")
    again = submit(service, "retry-1")
    assert again == first
    assert cases(uow) == 1
    other = submit(service, "retry-2")
    assert other["application_id"] != first["application_id"]
    assert cases(uow) == 2


def test_a_key_is_the_applicants_own(service, uow):
    mine = submit(service, "k")
    theirs = submit(service, "k", actor=OTHER_CITIZEN)
    assert mine["application_id"] != theirs["application_id"]
    assert cases(uow) == 2


# On PostgreSQL the twin's key is written with the commit (db.DEFERRED), and
# the commit is where its conflict is found.
@pytest.mark.parametrize("uow", ["sqlite", "postgresql"], indirect=True)
def test_of_two_racing_submits_one_opens_a_case(service, uow, monkeypatch):
    first = submit(service, "race")
    # The second passed the check before the first committed.
    looked_up = []
    real = use_cases._submitted_under

    def not_yet(uow_, actor, key, item_id=None):
        if not looked_up:
            looked_up.append(key)
            return None
        return real(uow_, actor, key, item_id)

    monkeypatch.setattr(use_cases, "_submitted_under", not_yet)
    second = submit(service, "race")
    assert looked_up == ["race"]
    assert second == first
    assert cases(uow) == 1


def test_without_a_key_each_submit_opens_a_case(service, uow):
    submit(service, None)
    submit(service, None)
    assert cases(uow) == 2


def test_a_retry_is_answered_though_the_item_closed_since(uow):
    """The key is looked up first, in the transaction that would open the
    case: what changed since the first submit refuses nothing it answers."""
    first = use_cases.submit_application(
        uow, item(), APPLICANT, FORM, MATERIALS, EXPRESS, idempotency_key="k"
    )
    again = use_cases.submit_application(
        uow, item(status="retired"), APPLICANT, FORM, MATERIALS, EXPRESS, idempotency_key="k"
    )
    assert again.application_id == first.application_id
    with pytest.raises(errors.Conflict):
        use_cases.submit_application(
            uow, item(status="retired"), APPLICANT, FORM, MATERIALS, EXPRESS, idempotency_key="k2"
        )


def test_a_retry_for_someone_else_is_answered_before_identity_is_asked(uow, identity):
    agent = staff("u-agent", "js-zwfw", "agent")
    principal = {"kind": "enterprise", "uscc": "91320102MA1XYR1234"}
    identity.allow(agent["user_id"], principal)
    first = use_cases.submit_application(
        uow, item(), agent, FORM, MATERIALS, EXPRESS, principal, idempotency_key="k"
    )
    identity.revoke(agent["user_id"], principal)
    asked = len(identity.calls)

    again = use_cases.submit_application(
        uow, item(), agent, FORM, MATERIALS, EXPRESS, principal, idempotency_key="k"
    )
    assert again.application_id == first.application_id
    assert len(identity.calls) == asked


@pytest.mark.parametrize("uow", ["sqlite", "postgresql"], indirect=True)
def test_a_submit_under_a_key_reads_the_key_and_the_process_in_one_statement(service, uow):
    """On PostgreSQL the key's lookup brings the item's current process and
    the calendar's stamps with it; a retry is answered all the same."""
    with uow:
        engine = uow.session.get_bind()
    with statements_sent(engine) as statements:
        first = submit(service, "one-read")
    assert submit(service, "one-read") == first
    assert cases(uow) == 1
    if engine.dialect.name == "postgresql":
        reads = [
            s
            for s in statements
            if s.lstrip().startswith("SELECT") and ("submissions" in s or "process_defin" in s)
        ]
        assert len(reads) == 1 and "submissions" in reads[0] and "process_defin" in reads[0]
