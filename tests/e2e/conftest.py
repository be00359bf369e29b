"""Start the whole cluster as processes for the end-to-end tests.

Each run gets its own RabbitMQ virtual host (the root conftest's ``amqp_uri``),
its own PostgreSQL databases (or SQLite files when TEST_DATABASE=sqlite) and
free ports. js-ga (江苏省公安厅) runs its own workflow instance, workflow-js-ga,
as in the local cluster.
"""

import pytest

from services.common.cluster import LocalCluster
from services.common.migrate import SERVICES


@pytest.fixture(scope="session")
def cluster(tmp_path_factory, database_factory, amqp_uri, free_port):
    data_dir = tmp_path_factory.mktemp("cluster")
    departments = ["js-ga"]
    instances = [f"workflow-{code}" for code in departments]
    cluster = LocalCluster(
        data_dir=data_dir,
        gateway_port=free_port(),
        ems_port=free_port(),
        service_ports={name: free_port() for name in [*SERVICES, *instances]},
        workflow_departments=departments,
        amqp_uri=amqp_uri,
        database_urls={
            name: database_factory(name.replace("-", "_")) for name in [*SERVICES, *instances]
        },
        ems_step_seconds=0.3,
        extra_env={
            "OUTBOX_POLL_SECONDS": "0.1",
            "EVENT_RETRY_DELAYS_MS": "200,1000",
            "SHUTDOWN_GRACE_SECONDS": "5",
            "CATALOG_CACHE_SECONDS": "2",
            "RPC_TIMEOUT_SECONDS": "2",
            "LOG_LEVEL": "INFO",
        },
    )
    cluster.loaded = cluster.prepare()
    cluster.start(timeout=120)
    yield cluster
    cluster.stop()
