"""The workflow's database dependency, whose units of work can also ask identity
whether an agent may act for a principal (``uow.authorise_principal``).

The check rides on the unit of work so that every command on a case (those
of ``service_layer.use_cases._command`` and any added later) re-checks an
agent's mandate the same way, with no entrypoint having to pass it along.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from services.common.dependencies import Database
from services.common.rpc import RpcClientPool

IDENTITY = "identity"


class IdentityAuthoriser:
    """``identity.authorise_principal`` with the worker's correlation id; its
    Forbidden comes back as Forbidden, a silent identity as Unavailable."""

    def __init__(self, pool: RpcClientPool, correlation_id: str | None):
        self._pool = pool
        self._correlation_id = correlation_id

    def __call__(self, actor_id: str, principal: Mapping[str, Any], item_id: str, on: date) -> dict:
        return self._pool.call(
            IDENTITY,
            "authorise_principal",
            correlation_id=self._correlation_id,
            actor_id=actor_id,
            principal=dict(principal),
            item_id=item_id,
            on=on.isoformat(),
        )


class IdentityPersonFacts:
    """``identity.person_facts`` with the worker's correlation id, saying who
    reads and why (identity records a read of the ID number)."""

    def __init__(self, pool: RpcClientPool, correlation_id: str | None):
        self._pool = pool
        self._correlation_id = correlation_id

    def __call__(self, user_id: str, *, purpose: str, accessor_id: str, accessor_kind: str):
        return self._pool.call(
            IDENTITY,
            "person_facts",
            correlation_id=self._correlation_id,
            user_id=user_id,
            purpose=purpose,
            accessor_id=accessor_id,
            accessor_kind=accessor_kind,
        )


class WorkflowDatabase(Database):
    """``Database`` whose units of work carry an ``authorise_principal`` and a
    ``person_facts``."""

    def setup(self):
        super().setup()
        config = self.container.config
        self.identity = RpcClientPool(
            config, timeout=float(config.get("RPC_TIMEOUT_SECONDS", 5)), size=4
        )

    def stop(self):
        super().stop()
        self.identity.close()

    def kill(self):
        super().kill()
        self.identity.close()

    def get_dependency(self, worker_ctx):
        uow = super().get_dependency(worker_ctx)
        uow.authorise_principal = IdentityAuthoriser(self.identity, uow.correlation_id)
        uow.person_facts = IdentityPersonFacts(self.identity, uow.correlation_id)
        return uow
