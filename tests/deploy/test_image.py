"""The image holds the code its commands run.

Every ``python -m <module>`` the Dockerfile (CMD, HEALTHCHECK) or a rendered
manifest runs names a module of this tree whose top-level package the Dockerfile
copies into /app and .dockerignore lets into the build context.
"""

import json
import re

from tests.deploy.conftest import ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text()


def copied_into_app() -> set[str]:
    """Top-level folders of this tree the build stage copies into the app."""
    return set(re.findall(r"^COPY (\w+) \./app/\1$", DOCKERFILE, re.MULTILINE))


def let_in() -> set[str]:
    """What .dockerignore lets into the build context (it ignores everything else)."""
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return {line[1:].rstrip("/") for line in lines if line.startswith("!")}


def dockerfile_commands() -> list[list[str]]:
    return [json.loads(found) for found in re.findall(r"\bCMD (\[.*\])$", DOCKERFILE, re.M)]


def module_of(command: list[str]) -> str | None:
    return command[2] if command[:2] == ["python", "-m"] else None


def module_exists(module: str) -> bool:
    path = ROOT / module.replace(".", "/")
    return path.with_suffix(".py").exists() or (path / "__main__.py").exists()


def assert_shipped(module: str, where: str) -> None:
    assert module_exists(module), f"{where}: {module} is not in the tree"
    package = module.split(".")[0]
    assert package in copied_into_app(), f"{where}: the Dockerfile does not copy {package}/"
    assert package in let_in(), f"{where}: .dockerignore keeps {package}/ out"


def test_the_dockerfile_runs_the_runner_and_checks_health_with_shipped_modules():
    commands = dockerfile_commands()
    assert len(commands) == 2  # HEALTHCHECK's and the default CMD
    for command in commands:
        module = module_of(command)
        assert module, command
        assert_shipped(module, f"Dockerfile {command}")


def test_every_manifest_command_runs_a_shipped_module(overlay):
    name, objects = overlay
    for workload in objects:
        if workload["kind"] not in ("Deployment", "Job"):
            continue
        for container in workload["spec"]["template"]["spec"]["containers"]:
            if container["image"].rsplit("/", 1)[-1].split(":")[0] != "tongban":
                continue  # the broker's or the database's own image
            module = module_of(container["command"])
            assert module, container["command"]
            assert_shipped(module, f"{name}: {workload['metadata']['name']}")


def test_the_image_carries_the_portals_build_where_the_gateway_reads_it():
    # Built in a Node stage from the locked dependencies, copied to PORTAL_DIST's
    # default (<project>/portal/dist, the project being /app).
    assert re.search(r"^FROM node:\S+ AS portal$", DOCKERFILE, re.M)
    assert "RUN npm ci\n" in DOCKERFILE and "RUN npm run build\n" in DOCKERFILE
    assert re.search(r"^COPY --from=portal /portal/dist /app/portal/dist$", DOCKERFILE, re.M)
    assert "portal" in let_in()
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert {"portal/node_modules/", "portal/dist/"} <= set(ignored)
