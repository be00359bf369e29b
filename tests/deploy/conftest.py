"""Rendered Kubernetes manifests, for the deployment policy tests.

The overlays are rendered with kubectl's kustomize: the one `make k8s-check`
installs in .venv-k8s, else one on PATH.
"""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ["dev", "prod", "department-workflow"]


def kubectl() -> str | None:
    local = ROOT / ".venv-k8s" / "bin" / "kubectl"
    return str(local) if local.exists() else shutil.which("kubectl")


_rendered: dict[str, list[dict]] = {}


def render(path: Path) -> list[dict]:
    key = str(path)
    if key not in _rendered:
        binary = kubectl()
        if binary is None:
            pytest.skip("kubectl is not installed: `make k8s-check` installs it")
        result = subprocess.run(  # noqa: S603
            [binary, "kustomize", str(path)], capture_output=True, text=True, check=True
        )
        _rendered[key] = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    return _rendered[key]


@pytest.fixture(params=OVERLAYS)
def overlay(request):
    """(name, objects) of each overlay."""
    return request.param, render(K8S / "overlays" / request.param)


@pytest.fixture
def prod():
    return render(K8S / "overlays" / "prod")


@pytest.fixture
def department():
    return render(K8S / "overlays" / "department-workflow")


@pytest.fixture
def dev():
    return render(K8S / "overlays" / "dev")
