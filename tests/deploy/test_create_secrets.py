"""deploy/k8s/create-secrets.sh against a stand-in kubectl that keeps Secrets as files.

What matters: every Secret the manifests read is created with the keys they
read, the broker URI carries the broker's own password, database URLs carry
their role's password, and a Secret that exists is never replaced.
"""

import base64
import json
import os
import subprocess
import sys
import textwrap
from urllib.parse import urlsplit

import pytest

from tests.deploy.conftest import K8S, render

SCRIPT = K8S / "create-secrets.sh"

# Just enough of kubectl: -n NS get secret NAME [-o jsonpath={.data.KEY}] and
# -n NS create secret generic NAME --from-literal=K=V...
FAKE_KUBECTL = textwrap.dedent(
    """\
    #!{python} -S
    import base64, json, os, sys
    args = sys.argv[1:]
    assert args[0] == "-n"
    store = os.path.join(os.environ["FAKE_SECRETS"], args[1])
    os.makedirs(store, exist_ok=True)
    verb, kind, *rest = args[2:]
    assert kind == "secret"
    if verb == "get":
        path = os.path.join(store, rest[0] + ".json")
        if not os.path.exists(path):
            sys.exit(1)
        if len(rest) > 1:
            key = rest[2].removeprefix("jsonpath={.data.").removesuffix("}")
            value = json.load(open(path))[key]
            sys.stdout.write(base64.b64encode(value.encode()).decode())
    elif verb == "create":
        assert rest[0] == "generic"
        data = dict(a.removeprefix("--from-literal=").split("=", 1) for a in rest[2:])
        json.dump(data, open(os.path.join(store, rest[1] + ".json"), "w"))
    """
)


@pytest.fixture
def kubectl(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "kubectl"
    fake.write_text(FAKE_KUBECTL.replace("{python}", sys.executable))
    # The script's python3: this interpreter without site-packages (it needs the
    # standard library only), not a slower launcher on PATH.
    python3 = bin_dir / "python3"
    python3.write_text(f'#!/bin/sh\nexec {sys.executable} -S "$@"\n')
    python3.chmod(0o755)
    fake.chmod(0o755)
    store = tmp_path / "secrets"
    env = dict(
        os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", FAKE_SECRETS=str(store)
    )

    def run(*args):
        result = subprocess.run(
            ["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, check=True
        )
        return result.stdout

    def secrets(namespace):
        folder = store / namespace
        return {p.stem: json.loads(p.read_text()) for p in folder.glob("*.json")}

    return run, secrets


def referenced_secret_keys(objects) -> set[tuple[str, str]]:
    """(Secret, key) pairs the manifests read, from env and volumes."""
    found = set()
    for obj in objects:
        spec = (obj.get("spec") or {}).get("template", {}).get("spec")
        if not spec:
            continue
        for container in spec.get("initContainers", []) + spec["containers"]:
            for env in container.get("env", []):
                ref = (env.get("valueFrom") or {}).get("secretKeyRef")
                if ref and not ref.get("optional"):
                    found.add((ref["name"], ref["key"]))
        for volume in spec.get("volumes", []):
            if "secret" in volume:
                for item in volume["secret"]["items"]:
                    found.add((volume["secret"]["secretName"], item["key"]))
    return found


def test_creates_every_secret_the_manifests_read(kubectl):
    run, secrets = kubectl
    run("tongban", "js-ga")
    created = secrets("tongban")
    prod = render(K8S / "overlays" / "prod")
    department = render(K8S / "overlays" / "department-workflow")
    for name, key in referenced_secret_keys(prod + department):
        assert key in created.get(name, {}), f"{name} has no {key}"
    # Read as optional (a Secret made before it existed still starts the pods),
    # but a new Secret has it.
    assert created["tongban-secrets"]["data-exchange-api-key"]


def test_uris_carry_the_passwords_of_the_broker_and_each_role(kubectl):
    run, secrets = kubectl
    run("tongban", "js-ga")
    created = secrets("tongban")
    amqp = urlsplit(created["tongban-secrets"]["amqp-uri"])
    assert amqp.username == created["tongban-rabbitmq"]["username"]
    assert amqp.password == created["tongban-rabbitmq"]["password"]
    assert amqp.hostname == "rabbitmq"
    for service in ["identity", "catalog", "workflow", "courier", "ratings"]:
        url = urlsplit(created[f"tongban-{service}-db"]["url"])
        assert url.username == service and url.path == f"/{service}"
        assert url.password == created[f"tongban-{service}-db"]["password"]
    department = urlsplit(created["tongban-workflow-js-ga-db"]["url"])
    assert department.username == "workflow_js_ga"
    assert len(base64.b64decode(created["tongban-secrets"]["pii-key"])) == 32
    passwords = [created[f"tongban-{s}-db"]["password"] for s in ["identity", "catalog"]]
    assert passwords[0] != passwords[1]


def test_existing_secrets_are_kept_and_reused(kubectl):
    run, secrets = kubectl
    run("tongban")
    first = secrets("tongban")
    output = run("tongban")
    assert "created" not in output
    assert secrets("tongban") == first


def test_a_lost_secret_is_made_again_from_those_that_remain(kubectl, tmp_path):
    """tongban-secrets lost, the broker's kept: the new URI carries the password in use."""
    run, secrets = kubectl
    run("tongban")
    first = secrets("tongban")
    (tmp_path / "secrets" / "tongban" / "tongban-secrets.json").unlink()
    output = run("tongban")
    assert "created tongban-secrets" in output
    again = secrets("tongban")
    assert again["tongban-rabbitmq"] == first["tongban-rabbitmq"]
    assert again["tongban-secrets"]["amqp-uri"] == first["tongban-secrets"]["amqp-uri"]
    assert again["tongban-secrets"]["pii-key"] != first["tongban-secrets"]["pii-key"]
