"""Every deploy runs as production: the services that hold a secret refuse to
start without it (services.common.environment), so each must be given it."""

from .test_manifests import config_data, of_kind, runs_a_tongban_process

# The secrets each process refuses to start without, outside development.
REQUIRED = {
    "gateway": {"EMS_WEBHOOK_SECRET", "PAYMENT_WEBHOOK_SECRET"},
    "identity": {"TONGBAN_PII_KEY"},
    "workflow": {"TONGBAN_PII_KEY"},
}


def test_the_shared_settings_say_production(overlay):
    name, objects = overlay
    if name == "department-workflow":
        return  # it joins a cluster's tongban-config
    assert config_data(objects)["TONGBAN_ENV"] == "production"


def test_every_process_reads_the_settings_and_gets_the_secrets_it_needs(overlay):
    name, objects = overlay
    seen = set()
    for workload in of_kind(objects, "Deployment"):
        (container,) = workload["spec"]["template"]["spec"]["containers"]
        if not runs_a_tongban_process(container):
            continue
        where = f"{name}: {workload['metadata']['name']}"
        sources = [source["configMapRef"]["name"] for source in container["envFrom"]]
        assert "tongban-config" in sources, where
        module = container["command"][3].split(":")[0].split(".")
        service = module[0] if module[0] == "gateway" else module[1]
        seen.add(service)
        secrets = {
            entry["name"]
            for entry in container.get("env", [])
            if "secretKeyRef" in entry.get("valueFrom", {})
        }
        assert REQUIRED.get(service, set()) <= secrets, where
    expected = {"workflow"} if name == "department-workflow" else set(REQUIRED)
    assert expected <= seen, name
