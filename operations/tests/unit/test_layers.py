"""The layers, read from the import statements of the source itself.

``services/common`` is the library every service imports: it imports no service
(nor the gateway) and none of the tools. The services and the gateway never import
the tools in ``operations``; the tools may import everything. The simulators of
outside parties (``simulators``) import none of them.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
COMMON = ROOT / "services" / "common"
SERVICE_PACKAGES = sorted(
    path
    for path in (ROOT / "services").iterdir()
    if path.is_dir() and path.name != "common" and (path / "__init__.py").exists()
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every module ``source`` (the text of ``module``) imports: import statements,
    relative ones resolved, and ``importlib.import_module`` / ``__import__`` calls
    whose name is a literal (of an f-string, the literal start)."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                stem = package[: len(package) - (node.level - 1)]
                base = ".".join([*stem, *([base] if base else [])])
            found.add(base)
            # `from services import identity` imports the package services.identity.
            found.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
        elif isinstance(node, ast.Call) and node.args:
            function = node.func
            name = getattr(function, "attr", None) or getattr(function, "id", None)
            if name not in ("import_module", "__import__"):
                continue
            argument = node.args[0]
            if isinstance(argument, ast.JoinedStr) and argument.values:
                argument = argument.values[0]
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                found.add(argument.value)
    return found


def imports_of(folder: Path) -> dict[str, set[str]]:
    modules = {}
    for path in sorted(folder.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        name = module_name(path)
        modules[name] = imported_modules(
            path.read_text(encoding="utf-8"), name, is_package=path.name == "__init__.py"
        )
    return modules


def is_within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def service_or_gateway(module: str) -> bool:
    """A service package (``services.<name>``, not the library) or the gateway;
    ``services.`` alone is a name built at run time, which may be any service."""
    parts = module.split(".")
    if parts[0] == "gateway":
        return True
    return parts[0] == "services" and len(parts) > 1 and parts[1] != "common"


def test_the_shared_library_imports_no_service_gateway_or_tool():
    modules = imports_of(COMMON)
    assert len(modules) > 20  # the walk found the library, tests included
    wrong = {
        module: sorted(
            name for name in imported if is_within(name, "operations") or service_or_gateway(name)
        )
        for module, imported in modules.items()
    }
    assert {module: names for module, names in wrong.items() if names} == {}


@pytest.mark.parametrize(
    "folder",
    [*SERVICE_PACKAGES, ROOT / "gateway"],
    ids=lambda path: str(path.relative_to(ROOT)),
)
def test_services_and_the_gateway_do_not_import_the_tools(folder):
    modules = imports_of(folder)
    assert modules
    wrong = {
        module: sorted(name for name in imported if is_within(name, "operations"))
        for module, imported in modules.items()
    }
    assert {module: names for module, names in wrong.items() if names} == {}


def test_the_simulators_import_no_service_gateway_or_tool():
    """An outside party's simulator knows tongban only by its HTTP API."""
    modules = imports_of(ROOT / "simulators")
    assert modules
    wrong = {
        module: sorted(
            name
            for name in imported
            if is_within(name, "operations")
            or is_within(name, "services")
            or is_within(name, "gateway")
        )
        for module, imported in modules.items()
    }
    assert {module: names for module, names in wrong.items() if names} == {}


def test_every_service_package_is_checked():
    assert {path.name for path in SERVICE_PACKAGES} >= {
        "identity",
        "catalog",
        "workflow",
        "courier",
        "ratings",
    }


@pytest.mark.parametrize(
    ("source", "module", "expected"),
    [
        ("import operations.migrate", "services.common.x", {"operations.migrate"}),
        (
            "from operations import runner",
            "services.common.x",
            {"operations", "operations.runner"},
        ),
        (
            "from services import identity",
            "services.common.x",
            {"services", "services.identity"},
        ),
        (
            "from ..identity.service import IdentityService",
            "services.common.x",
            {"services.identity.service", "services.identity.service.IdentityService"},
        ),
        (
            "from . import topology",
            "services.common.messaging.consumer",
            {"services.common.messaging", "services.common.messaging.topology"},
        ),
        (
            "import importlib\nimportlib.import_module('services.catalog.service')",
            "services.common.x",
            {"importlib", "services.catalog.service"},
        ),
        (
            "from importlib import import_module\nimport_module(f'services.{name}.bootstrap')",
            "services.common.x",
            {"importlib", "importlib.import_module", "services."},
        ),
    ],
)
def test_imports_are_read_from_the_source(source, module, expected):
    assert imported_modules(source, module) == expected


def test_a_package_resolves_relative_imports_from_itself():
    assert imported_modules("from .topology import declare", "services.common.messaging", True) >= {
        "services.common.messaging.topology"
    }


@pytest.mark.parametrize(
    ("module", "flagged"),
    [
        ("services.identity.service", True),
        ("services.catalog", True),
        ("gateway.service", True),
        ("services.", True),
        ("services.common.db", False),
        ("services", False),
        ("sqlalchemy", False),
    ],
)
def test_what_counts_as_a_service(module, flagged):
    assert service_or_gateway(module) is flagged
