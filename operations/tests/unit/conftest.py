"""Fixtures of the operations' unit tests."""

from contextlib import contextmanager

import pytest

from operations import local_cluster
from services.identity import bootstrap


@pytest.fixture
def registered_clients(monkeypatch):
    """The OpenID Connect clients the cluster registers while preparing, as
    ``((service, database URL), client)``, with identity's database left alone."""
    registered = []

    @contextmanager
    def unit_of_work_for(service, url):
        yield (service, url)

    monkeypatch.setattr(local_cluster, "unit_of_work_for", unit_of_work_for)
    monkeypatch.setattr(
        bootstrap,
        "ensure_oidc_client",
        lambda uow, **client: registered.append((uow, client)),
        raising=False,
    )
    return registered
