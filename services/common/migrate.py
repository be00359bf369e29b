"""Migrate the databases and declare the broker topology, once per deploy.

    python -m services.common.migrate                 # every service
    python -m services.common.migrate identity courier
    python -m services.common.migrate --no-broker     # databases only
    DEPARTMENT_CODE=js-ga python -m services.common.migrate workflow
                                                      # a department's own instance

Services never migrate at start: with several replicas that would race. When
TONGBAN_OPERATOR_PHONE and TONGBAN_OPERATOR_PASSWORD are set, the operator
account is ensured too, so a new deploy has someone who can create staff.
"""

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
warnings.filterwarnings("ignore", message=r"pkg_resources is deprecated")

import argparse
import importlib
import logging
import sys
from contextlib import contextmanager

from alembic import command
from alembic.config import Config
from kombu import Connection

from services.common.config import (
    PROJECT_ROOT,
    amqp_uri,
    database_url,
    load_config,
    service_for_config,
)
from services.common.messaging import topology

log = logging.getLogger(__name__)

SERVICES = {
    "identity": "services.identity.service:IdentityService",
    "catalog": "services.catalog.service:CatalogService",
    "workflow": "services.workflow.service:WorkflowService",
    "courier": "services.courier.service:CourierService",
    "ratings": "services.ratings.service:RatingsService",
}


def alembic_config(service: str, url: str | None = None) -> Config:
    config = Config()
    config.set_main_option(
        "script_location", str(PROJECT_ROOT / "services" / service / "migrations")
    )
    config.set_main_option("sqlalchemy.url", url or database_url(service))
    return config


def upgrade(service: str, url: str | None = None) -> None:
    command.upgrade(alembic_config(service, url), "head")


def service_class(service: str, config: dict | None = None):
    """The service's class for ``config`` (the class's ``for_config`` hook picks
    the instance, for example ``workflow-js-ga`` when DEPARTMENT_CODE is set);
    the base class when no config is given."""
    module_name, _, class_name = SERVICES[service].partition(":")
    service_cls = getattr(importlib.import_module(module_name), class_name)
    return service_for_config(service_cls, config) if config is not None else service_cls


@contextmanager
def unit_of_work_for(service: str, url: str | None = None):
    """A unit of work of the service on its database, outside any nameko container."""
    from sqlalchemy.orm import sessionmaker

    from services.common.db import make_engine

    uow_class = service_class(service).uow.uow_class
    engine = make_engine(url or database_url(service))
    try:
        yield uow_class(
            sessionmaker(bind=engine, expire_on_commit=False), source=service, config=load_config()
        )
    finally:
        engine.dispose()


def declare_topology(
    services=None, uri: str | None = None, config: dict | None = None, extra_classes=()
):
    """Declare the exchanges and queues of ``services`` (each as ``config`` picks
    its instance) and of ``extra_classes`` (more instances, such as a local
    cluster's department workflow instances), of the type EVENT_QUEUE_TYPE names."""
    config = config if config is not None else load_config()
    queue_type = topology.configured_queue_type(config)
    delays = topology.parse_delays(config.get("EVENT_RETRY_DELAYS_MS") or "1000,5000,30000")
    entities = []
    for service in services or SERVICES:
        entities.extend(
            topology.service_topology(service_class(service, config), delays, queue_type)
        )
    for service_cls in extra_classes:
        entities.extend(topology.service_topology(service_cls, delays, queue_type))
    with Connection(uri or amqp_uri(config)) as connection:
        topology.declare(connection, entities)
    return entities


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("services", nargs="*", help=f"some of: {', '.join(SERVICES)}")
    parser.add_argument("--no-broker", action="store_true")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.services) - set(SERVICES))
    if unknown:
        parser.error(f"unknown service(s): {', '.join(unknown)}")
    logging.basicConfig(level="INFO", format="%(message)s")
    services = args.services or list(SERVICES)
    config = load_config()
    try:
        # A bad queue type is refused before any database is touched.
        topology.configured_queue_type(config)
    except ValueError as exc:
        parser.error(str(exc))
    for service in services:
        # The instance's own database (workflow-js-ga's with DEPARTMENT_CODE=js-ga),
        # migrated with the service's history.
        name = service_class(service, config).name
        upgrade(service, database_url(name, config))
        print(f"migrated {name}")
    if "identity" in services:
        from services.identity.bootstrap import ensure_operator_from_environment

        with unit_of_work_for("identity") as uow:
            if ensure_operator_from_environment(uow):
                print("operator account ensured")
    if not args.no_broker:
        # Topology for every service, so that each queue exists before any
        # publisher runs, whichever services this deploy migrates.
        entities = declare_topology(config=config)
        print(f"declared {len(entities)} exchanges and queues")
    return 0


if __name__ == "__main__":
    sys.exit(main())
