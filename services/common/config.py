"""One loader for configuration.

Services get their settings from nameko's config (``config/service.yaml``, where
``${VAR:default}`` reads the environment); code outside nameko (migrations, the
local cluster runner, tests) reads the same names through :func:`load_config`.
Nothing here runs at import time.
"""

import os
from pathlib import Path

import yaml
from nameko.cli.main import setup_yaml_parser

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SERVICE_CONFIG = PROJECT_ROOT / "config" / "service.yaml"

DEFAULT_AMQP_URI = "pyamqp://guest:guest@127.0.0.1:5672/"


def load_config(path: Path | str = SERVICE_CONFIG) -> dict:
    """Read a nameko YAML config with ``${VAR:default}`` taken from the environment."""
    setup_yaml_parser()
    with open(path) as handle:
        return yaml.safe_load(handle) or {}


def data_dir(config: dict | None = None) -> Path:
    value = (config or {}).get("DATA_DIR") or os.environ.get("TONGBAN_DATA_DIR")
    return Path(value or PROJECT_ROOT / "var")


def database_url(service_name: str, config: dict | None = None) -> str:
    """The service's database: DATABASE_URL when set, else a SQLite file of its own.

    ``<SERVICE>_DATABASE_URL`` wins over ``DATABASE_URL`` so that one shell can
    point several services at different databases (the local cluster runner and
    the tests do this).
    """
    config = config or {}
    specific = os.environ.get(f"{service_name.upper().replace('-', '_')}_DATABASE_URL")
    url = specific or config.get("DATABASE_URL") or os.environ.get("DATABASE_URL")
    if url:
        return url
    directory = data_dir(config)
    directory.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{directory / (service_name + '.db')}"


def service_for_config(service_cls, config: dict) -> type:
    """The class to run for this config.

    A service class may offer a classmethod hook ``for_config(config) -> type``
    (workflow does: with ``DEPARTMENT_CODE`` set it answers a subclass named
    ``workflow-<code>``); the runner and the deploy step call it when it is there.
    """
    hook = getattr(service_cls, "for_config", None)
    return hook(config) if callable(hook) else service_cls


def amqp_uri(config: dict | None = None) -> str:
    config = config or {}
    return config.get("AMQP_URI") or os.environ.get("AMQP_URI") or DEFAULT_AMQP_URI
