"""The identity service in a nameko container, on the real broker and a
migrated PostgreSQL database of its own."""

import pytest
from nameko.standalone.rpc import ServiceRpcProxy

from services.common.migrations import upgrade
from services.identity.service import IdentityService


@pytest.fixture
def config(amqp_uri, database_factory):
    url = database_factory("identity")
    upgrade("identity", url)  # the migrations, as a deploy runs them
    return {
        "AMQP_URI": amqp_uri,
        "DATABASE_URL": url,
        "PII_KEY": bytes(range(32)).hex(),
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_KIB": 8,
        "ARGON2_PARALLELISM": 1,
        "OUTBOX_POLL_SECONDS": 0.05,
    }


@pytest.fixture
def identity(config, container_factory):
    container = container_factory(IdentityService, config)
    container.start()
    with ServiceRpcProxy("identity", config) as proxy:
        yield proxy
