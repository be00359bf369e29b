"""Migrate the databases and declare the broker topology, once per deploy.

    python -m operations.migrate                 # every service
    python -m operations.migrate identity courier
    python -m operations.migrate --no-broker     # databases only
    DEPARTMENT_CODE=js-ga python -m operations.migrate workflow
                                                 # a department's own instance

Services never migrate at start: with several replicas that would race. When
TONGBAN_OPERATOR_PHONE and TONGBAN_OPERATOR_PASSWORD are set, the operator
account is ensured too, so a new deploy has someone who can create staff.
"""

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
warnings.filterwarnings("ignore", message=r"pkg_resources is deprecated")

import argparse
import logging
import sys

from kombu import Connection

from operations.roster import SERVICES, service_class, unit_of_work_for
from services.common.config import amqp_uri, database_url, load_config
from services.common.messaging import topology
from services.common.migrations import upgrade

log = logging.getLogger(__name__)


def declare_topology(
    services=None, uri: str | None = None, config: dict | None = None, extra_classes=()
):
    """Declare the exchanges and queues of ``services`` (each as ``config`` picks
    its instance) and of ``extra_classes`` (more instances, such as a local
    cluster's department workflow instances), of the type EVENT_QUEUE_TYPE names;
    then retire the queues of the handlers they no longer have (``topology.retire``:
    after the declarations, so a successor's queue exists to take what is left)."""
    config = config if config is not None else load_config()
    queue_type = topology.configured_queue_type(config)
    delays = topology.parse_delays(config.get("EVENT_RETRY_DELAYS_MS") or "1000,5000,30000")
    classes = [service_class(service, config) for service in services or SERVICES]
    classes += list(extra_classes)
    entities = []
    for service_cls in classes:
        entities.extend(topology.service_topology(service_cls, delays, queue_type))
    with Connection(uri or amqp_uri(config)) as connection:
        topology.declare(connection, entities)
        for service_cls in classes:
            for retired in topology.retired_handlers(service_cls):
                topology.retire(connection, service_cls.name, retired)
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
