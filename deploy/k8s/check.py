"""Offline checks of the deployment: ``make k8s-check``.

Renders every overlay with ``kubectl kustomize``, validates every object
against the Kubernetes OpenAPI schemas (kubernetes-validate, strict: unknown
fields are errors) for the oldest and newest Kubernetes versions we support,
runs checkov's Kubernetes checks on every overlay and its Dockerfile checks on
the Dockerfile, lints the Dockerfile with hadolint, and parses every query of
the Grafana dashboard with a PromQL parser. Any finding fails,
except those waived, with a reason, in checkov-waivers.yaml; a waiver that no
longer matches anything fails too.

Runs with the tools of deploy/k8s/requirements.lock (the Makefile's .venv-k8s);
the rendered manifests are left in var/k8s/ for inspection.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import promql_parser
import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OVERLAYS = ["dev", "prod", "department-workflow"]
KUBERNETES_VERSIONS = ["1.29.0", "1.37.0"]
OUT = ROOT / "var" / "k8s"


def tool(name: str) -> str:
    """A tool from this Python's environment (where the lock installs them), else PATH."""
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        sys.exit(f"{name} not found: run `make k8s-check`, which installs it")
    return found


def render(overlay: str) -> Path:
    result = subprocess.run(  # noqa: S603
        [tool("kubectl"), "kustomize", str(HERE / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"kustomize failed for overlays/{overlay}:\n{result.stderr}")
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{overlay}.yaml"
    path.write_text(result.stdout)
    return path


def name_of(obj: dict) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


def validate(objects: list[dict]) -> list[str]:
    problems = []
    for version in KUBERNETES_VERSIONS:
        for obj in objects:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                where = "/".join(str(part) for part in exc.path)
                problems.append(f"{name_of(obj)} ({version}): {where}: {exc.message}")
            except kubernetes_validate.SchemaNotFoundError:
                problems.append(f"{name_of(obj)}: no schema in {version}")
    return problems


def load_waivers() -> list[dict]:
    waivers = yaml.safe_load((HERE / "checkov-waivers.yaml").read_text())["waivers"]
    for waiver in waivers:
        if not str(waiver.get("reason", "")).strip():
            sys.exit(f"waiver {waiver.get('check')} gives no reason")
    return waivers


def checkov(path: Path, framework: str) -> list[dict]:
    result = subprocess.run(  # noqa: S603
        [
            tool("checkov"),
            "--file",
            str(path),
            "--framework",
            framework,
            "--output",
            "json",
            "--quiet",
            "--compact",
            "--skip-download",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        report = json.loads(result.stdout or "{}")
    except json.JSONDecodeError:
        sys.exit(f"checkov failed on {path}:\n{result.stdout}\n{result.stderr}")
    reports = report if isinstance(report, list) else [report]
    failed = []
    for one in reports:
        failed.extend((one.get("results") or {}).get("failed_checks", []))
    if result.returncode not in (0, 1):
        sys.exit(f"checkov failed on {path}:\n{result.stderr}")
    return failed


def object_name(resource: str) -> str:
    """checkov's "StatefulSet.tongban.rabbitmq" (kind.namespace.name) as "StatefulSet/rabbitmq"."""
    parts = resource.split(".")
    return f"{parts[0]}/{parts[-1]}" if len(parts) >= 2 else resource


def waived(finding: dict, waivers: list[dict], used: set) -> bool:
    for index, waiver in enumerate(waivers):
        if waiver["check"] != finding["check_id"]:
            continue
        allowed = waiver.get("resources")
        if allowed is None or object_name(finding.get("resource", "")) in allowed:
            used.add(index)
            return True
    return False


def hadolint(path: Path) -> list[str]:
    result = subprocess.run(  # noqa: S603
        [
            tool("hadolint"),
            "--failure-threshold",
            "style",
            "--format",
            "tty",
            "--no-color",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode == 0:
        return []
    # Findings come on stdout; a Dockerfile hadolint cannot parse only on stderr.
    return [line for line in result.stdout.splitlines() if line.strip()] or [result.stderr]


def dashboard_queries(path: Path) -> tuple[int, list[str]]:
    """Every panel query of a Grafana dashboard, parsed as PromQL."""
    dashboard = json.loads(path.read_text())
    problems = []
    count = 0
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            count += 1
            try:
                promql_parser.parse(target["expr"])
            except ValueError as exc:
                problems.append(f"{path.name}: panel {panel['title']!r}: {exc}")
    return count, problems


def main() -> int:
    waivers = load_waivers()
    used: set[int] = set()
    failures: list[str] = []
    targets = [(render(overlay), "kubernetes") for overlay in OVERLAYS]
    for path, _ in targets:
        objects = [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
        problems = validate(objects)
        print(
            f"kubernetes-validate --strict {path.relative_to(ROOT)}: {len(objects)} objects, "
            f"versions {', '.join(KUBERNETES_VERSIONS)}: {len(problems)} problems"
        )
        failures.extend(f"{path.name}: {p}" for p in problems)
    dockerfile = ROOT / "Dockerfile"
    for path, framework in [*targets, (dockerfile, "dockerfile")]:
        findings = checkov(path, framework)
        open_findings = [f for f in findings if not waived(f, waivers, used)]
        print(
            f"checkov --framework {framework} {path.relative_to(ROOT)}: "
            f"{len(findings) - len(open_findings)} waived, {len(open_findings)} failed"
        )
        failures.extend(
            f"{path.name}: {f['check_id']} {f['check_name']}: {f.get('resource')}"
            for f in open_findings
        )
    lint = hadolint(dockerfile)
    print(f"hadolint Dockerfile: {len(lint)} findings")
    failures.extend(lint)
    count, problems = dashboard_queries(HERE / "base" / "monitoring" / "tongban-dashboard.json")
    print(f"promql-parser: {count} dashboard queries, {len(problems)} errors")
    failures.extend(problems)
    for index, waiver in enumerate(waivers):
        if index not in used:
            failures.append(f"waiver {waiver['check']} matches nothing any more: remove it")
    for failure in failures:
        print(f"  FAIL {failure}")
    print("k8s-check: " + ("passed" if not failures else f"{len(failures)} failures"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
