"""A submit sent twice under one idempotency key opens one case."""

import pytest
import sqlalchemy as sa

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
    real = use_cases._opened_under

    def not_yet(uow_, actor, key):
        if not looked_up:
            looked_up.append(key)
            return None
        return real(uow_, actor, key)

    monkeypatch.setattr(use_cases, "_opened_under", not_yet)
    second = submit(service, "race")
    assert looked_up == ["race"]
    assert second == first
    assert cases(uow) == 1


def test_without_a_key_each_submit_opens_a_case(service, uow):
    submit(service, None)
    submit(service, None)
    assert cases(uow) == 2
