"""Where a process runs (``TONGBAN_ENV``), and the secrets it will not start without.

``development`` (the default of config/service.yaml) keeps the public
development defaults of the secrets so a laptop cluster needs no setup.
Anywhere else (``production``) a service refuses to start, with one clear log
line and a non-zero exit, while a secret it needs is missing or is still its
public development default: a webhook anyone could sign, or ID numbers
encrypted under a key printed in the repository, is worse than no service.
An unknown ``TONGBAN_ENV`` is refused too rather than taken for either.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from nameko.extensions import DependencyProvider

log = logging.getLogger(__name__)

DEVELOPMENT = "development"
PRODUCTION = "production"
ENVIRONMENTS = (DEVELOPMENT, PRODUCTION)


class RefusedToStart(RuntimeError):
    """The configuration is not fit for the environment it names."""


def environment_of(config: Mapping | None) -> str:
    """``TONGBAN_ENV`` of the config (development when unset); ValueError for
    any other value than development or production."""
    value = str((config or {}).get("TONGBAN_ENV") or DEVELOPMENT).strip().lower()
    if value not in ENVIRONMENTS:
        raise ValueError(f"TONGBAN_ENV must be one of {', '.join(ENVIRONMENTS)}, not {value!r}")
    return value


def is_development(config: Mapping | None) -> bool:
    return environment_of(config) == DEVELOPMENT


def unfit_secrets(config: Mapping | None, defaults: Mapping[str, str]) -> list[str]:
    """What keeps a process with ``config`` from starting: each secret named in
    ``defaults`` (name -> its public development default) that is missing or
    equal to its default outside development; an unknown TONGBAN_ENV. Empty
    when it may start. Never names a secret's value."""
    config = config or {}
    try:
        if is_development(config):
            return []
    except ValueError as problem:
        return [str(problem)]
    problems = []
    for name, default in defaults.items():
        value = str(config.get(name) or "").strip()
        if not value:
            problems.append(f"{name} is not set")
        elif value == default:
            problems.append(f"{name} is the public development default")
    return problems


def check_secrets(config: Mapping | None, defaults: Mapping[str, str], service: str) -> None:
    """Log one line and raise RefusedToStart when :func:`unfit_secrets` finds
    anything."""
    problems = unfit_secrets(config, defaults)
    if problems:
        environment = str((config or {}).get("TONGBAN_ENV") or DEVELOPMENT)
        line = f"{service} refuses to start in {environment}: {'; '.join(problems)}"
        log.critical(line, extra={"problems": problems})
        raise RefusedToStart(line)


class RequiredSecrets(DependencyProvider):
    """Refuses to start the container (see the module) unless the secrets
    named in ``defaults`` are fit for TONGBAN_ENV. Checked in ``setup``, before
    any entrypoint listens."""

    def __init__(self, defaults: Mapping[str, str]):
        self.defaults = dict(defaults)

    def setup(self):
        check_secrets(self.container.config, self.defaults, self.container.service_name)

    def get_dependency(self, worker_ctx):
        return None
