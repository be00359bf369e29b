"""The services the tools know, and how to reach each one's class and database.

Only the tools under ``operations`` read this table; a service knows no other.
"""

import importlib
from contextlib import contextmanager

from services.common.config import database_url, load_config, service_for_config

SERVICES = {
    "identity": "services.identity.service:IdentityService",
    "catalog": "services.catalog.service:CatalogService",
    "workflow": "services.workflow.service:WorkflowService",
    "courier": "services.courier.service:CourierService",
    "ratings": "services.ratings.service:RatingsService",
}


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
    from services.common.db import core_sessions, make_engine

    uow_class = service_class(service).uow.uow_class
    engine = make_engine(url or database_url(service))
    try:
        yield uow_class(core_sessions(engine), source=service, config=load_config())
    finally:
        engine.dispose()
