"""Fixtures of the courier's unit tests: a SQLite unit of work and a fake EMS."""

import pytest

from services.courier.service_layer.unit_of_work import CourierUnitOfWork

from .fakes import FakeEms


@pytest.fixture
def uow(uow_factory):
    return uow_factory(CourierUnitOfWork, source="courier")


@pytest.fixture
def ems():
    return FakeEms()
