"""What every rendered overlay must hold, beyond what the schemas and checkov see.

Every workload has probes on the real health checks, requests and limits, a
locked-down security context, a disruption budget and (where the count is not
fixed) an autoscaler; the network denies by default and only the gateway is
reachable from outside; a department's overlay deploys its workflow instance and
nothing else; the settings, commands, ports and dashboard name things that
exist in the code.
"""

import json
import re

import pytest
import yaml

from tests.deploy.conftest import K8S, ROOT

WORKLOADS = ("Deployment", "StatefulSet")
TONGBAN_SERVICES = {"identity", "catalog", "workflow", "courier", "ratings"}


def of_kind(objects, *kinds):
    return [obj for obj in objects if obj["kind"] in kinds]


def pod_labels(workload):
    return workload["spec"]["template"]["metadata"]["labels"]


def selects(selector: dict, labels: dict) -> bool:
    """A Kubernetes LabelSelector (matchLabels and matchExpressions) against labels."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values")
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def containers(workload):
    spec = workload["spec"]["template"]["spec"]
    return spec.get("initContainers", []) + spec["containers"]


def runs_a_tongban_process(container) -> bool:
    """A service or the gateway (not a migration, the simulator or a third-party image)."""
    return container.get("command", [])[:3] == ["python", "-m", "operations.runner"]


def config_data(objects) -> dict:
    (config,) = [
        o for o in of_kind(objects, "ConfigMap") if o["metadata"]["name"] == "tongban-config"
    ]
    return config["data"]


def test_every_workload_has_probes_resources_and_a_locked_down_context(overlay):
    name, objects = overlay
    workloads = of_kind(objects, *WORKLOADS)
    assert workloads, name
    for workload in workloads:
        pod = workload["spec"]["template"]["spec"]
        where = f"{name}: {workload['kind']}/{workload['metadata']['name']}"
        assert pod["securityContext"]["runAsNonRoot"] is True, where
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", where
        assert pod.get("automountServiceAccountToken") is False, where
        for container in containers(workload):
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["capabilities"]["drop"] == ["ALL"], where
            for kind in ("requests", "limits"):
                assert set(container["resources"][kind]) >= {"cpu", "memory"}, where
        for container in pod["containers"]:
            assert "readinessProbe" in container and "livenessProbe" in container, where


def test_tongban_processes_probe_their_real_health_checks(overlay):
    name, objects = overlay
    for workload in of_kind(objects, "Deployment"):
        for container in workload["spec"]["template"]["spec"]["containers"]:
            if not runs_a_tongban_process(container):
                continue
            where = f"{name}: {workload['metadata']['name']}"
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", where
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", where
            assert container["startupProbe"]["httpGet"]["path"] == "/healthz", where


def test_shutdown_fits_in_the_grace_period(overlay):
    """preStop, then SHUTDOWN_GRACE_SECONDS for in-flight work, then the kill."""
    name, objects = overlay
    if name == "department-workflow":
        grace = 20  # the joined cluster's tongban-config; the base's default
    else:
        grace = int(config_data(objects)["SHUTDOWN_GRACE_SECONDS"])
    for workload in of_kind(objects, "Deployment"):
        pod = workload["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        if not runs_a_tongban_process(container):
            continue
        pre_stop = container["lifecycle"]["preStop"]["exec"]["command"]
        assert pre_stop[0] == "sleep"
        assert int(pre_stop[1]) + grace < pod["terminationGracePeriodSeconds"], workload


def test_every_workload_has_a_disruption_budget_that_selects_it(overlay):
    name, objects = overlay
    budgets = of_kind(objects, "PodDisruptionBudget")
    for workload in of_kind(objects, *WORKLOADS):
        matching = [b for b in budgets if selects(b["spec"]["selector"], pod_labels(workload))]
        assert len(matching) == 1, (
            f"{name}: {workload['metadata']['name']}: {len(matching)} budgets"
        )
        assert matching[0]["spec"].get("maxUnavailable") == 1


def test_stateless_deployments_are_scaled_by_an_autoscaler(overlay):
    name, objects = overlay
    autoscalers = {
        hpa["spec"]["scaleTargetRef"]["name"]: hpa
        for hpa in of_kind(objects, "HorizontalPodAutoscaler")
    }
    for workload in of_kind(objects, "Deployment"):
        component = pod_labels(workload)["app.kubernetes.io/component"]
        if component in ("service", "gateway"):
            hpa = autoscalers.get(workload["metadata"]["name"])
            assert hpa is not None, f"{name}: {workload['metadata']['name']} has no autoscaler"
            assert hpa["spec"]["scaleTargetRef"]["kind"] == "Deployment"
            assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
            # The autoscaler owns the count: a fixed one would fight it on every apply.
            assert "replicas" not in workload["spec"], workload["metadata"]["name"]
        else:
            # Not scaled by an autoscaler: the count is fixed in the manifest.
            assert workload["metadata"]["name"] not in autoscalers
            assert workload["spec"]["replicas"] >= 1
    for target in autoscalers:
        assert target in {w["metadata"]["name"] for w in of_kind(objects, "Deployment")}


def test_no_workload_selects_another_ones_pods(prod, department):
    """The department's instance joins the cluster's namespace: selectors must not overlap."""
    workloads = of_kind(prod + department, *WORKLOADS)
    for owner in workloads:
        for other in workloads:
            if other is not owner:
                assert not selects(owner["spec"]["selector"], pod_labels(other)), (
                    owner["metadata"]["name"],
                    other["metadata"]["name"],
                )


def test_each_service_has_a_migration_job_for_its_own_database(prod):
    jobs = {job["metadata"]["name"]: job for job in of_kind(prod, "Job")}
    assert set(jobs) == {f"{service}-migrate" for service in TONGBAN_SERVICES}
    for service in TONGBAN_SERVICES:
        container = jobs[f"{service}-migrate"]["spec"]["template"]["spec"]["containers"][0]
        assert container["command"] == ["python", "-m", "operations.migrate", service]
        database = next(e for e in container["env"] if e["name"] == "DATABASE_URL")
        assert database["valueFrom"]["secretKeyRef"]["name"] == f"tongban-{service}-db"


def network_policies_selecting(objects, labels):
    return [
        policy
        for policy in of_kind(objects, "NetworkPolicy")
        if selects(policy["spec"]["podSelector"], labels)
    ]


@pytest.mark.parametrize("overlay_name", ["dev", "prod"])
def test_network_denies_by_default_and_only_the_gateway_is_reachable_from_outside(
    overlay_name, dev, prod
):
    objects = {"dev": dev, "prod": prod}[overlay_name]
    (deny,) = [
        p for p in of_kind(objects, "NetworkPolicy") if p["metadata"]["name"] == "default-deny"
    ]
    assert deny["spec"]["podSelector"] == {}
    assert set(deny["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny["spec"] and "egress" not in deny["spec"]
    for workload in of_kind(objects, *WORKLOADS, "Job"):
        labels = pod_labels(workload)
        own = [p for p in network_policies_selecting(objects, labels) if p["spec"]["podSelector"]]
        assert own, f"{workload['metadata']['name']} has no policy of its own"
        for policy in own:
            for rule in policy["spec"].get("ingress", []):
                for peer in rule["from"]:
                    namespaces = peer.get("namespaceSelector")
                    if namespaces is None:
                        continue  # a peer inside the namespace
                    (expression,) = namespaces["matchExpressions"]
                    outside = set(expression["values"]) - {"monitoring"}
                    if outside:
                        assert labels["app.kubernetes.io/name"] == "gateway", policy["metadata"]
                        assert outside == {"ingress-nginx"}
    (ingress,) = of_kind(objects, "Ingress")
    backends = {
        path["backend"]["service"]["name"]
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    assert backends == {"gateway"}
    for inside in ("/metrics", "/healthz", "/readyz", "/healthz/x"):
        assert not ingress_routes(ingress, inside), inside
    for outside in ("/api/v1/items", "/oidc/authorize", "/.well-known/jwks.json", "/docs"):
        assert ingress_routes(ingress, outside), outside


def ingress_routes(ingress, path: str) -> bool:
    """Whether the Ingress sends ``path`` to a backend (Kubernetes' rules: Exact
    compares the whole path; Prefix compares whole segments, a trailing slash
    ignored)."""
    segments = [segment for segment in path.split("/") if segment]
    for rule in ingress["spec"]["rules"]:
        for entry in rule["http"]["paths"]:
            if entry["pathType"] == "Exact" and entry["path"] == path:
                return True
            if entry["pathType"] == "Prefix":
                prefix = [segment for segment in entry["path"].split("/") if segment]
                if segments[: len(prefix)] == prefix:
                    return True
    return False


def portal_paths() -> set[str]:
    """A path of each page of the portal's router (a parameter as "x"), and its
    favicon: what a browser asks the Ingress for."""
    found = {"/favicon.svg", "/assets/index-abc123.js"}
    for source in (ROOT / "portal" / "src" / "router").glob("*.ts"):
        for path in re.findall(r'path: "(/[^"]*)"', source.read_text()):
            if path.startswith("/:pathMatch"):
                continue  # the application's own "page not found"
            found.add(re.sub(r":\w+\??", "x", path))
    return found


def test_the_ingress_routes_every_page_of_the_portal(prod):
    (ingress,) = of_kind(prod, "Ingress")
    pages = portal_paths()
    assert {"/", "/items/x", "/my/cases/x", "/staff/worklist", "/operator/live"} <= pages
    for page in pages:
        assert ingress_routes(ingress, page), f"the Ingress does not route the portal's {page}"


def egress_targets(policy):
    for rule in policy["spec"].get("egress", []):
        ports = {port["port"] for port in rule.get("ports", [])}
        for peer in rule.get("to", []):
            if "ipBlock" in peer:
                yield "outside", ports
            else:
                (expression,) = peer["podSelector"]["matchExpressions"]
                yield tuple(expression["values"]), ports


def test_services_reach_only_the_broker_and_the_database(prod):
    for workload in of_kind(prod, "Deployment"):
        labels = pod_labels(workload)
        name = labels["app.kubernetes.io/name"]
        targets = set()
        for policy in network_policies_selecting(prod, labels):
            for target, ports in egress_targets(policy):
                targets.add((target, frozenset(ports)))
        expected = {(("rabbitmq",), frozenset({5672}))}
        if name != "gateway":
            expected.add((("postgres",), frozenset({5432})))
        # courier: the EMS open platform; workflow: the data exchange platform;
        # ratings: the SMS gateway; identity: departments' systems (back-channel
        # logout).
        if name in ("courier", "workflow", "ratings", "identity"):
            expected.add(("outside", frozenset({443})))
        # DNS is allowed to every pod by allow-dns.
        targets.discard((("kube-dns",), frozenset({53})))
        assert targets == expected, name


def test_dev_runs_the_simulators_and_points_their_callers_at_them(dev):
    """courier books with the EMS simulator, workflow asks the data exchange
    simulator, ratings texts through the SMS simulator: the settings name them
    and the policies let the calls through."""
    config = config_data(dev)
    assert config["EMS_BASE_URL"] == "http://ems-simulator:8200"
    assert config["DATA_EXCHANGE_URL"] == "http://data-exchange-simulator:8300"
    assert config["SMS_URL"] == "http://sms-simulator:8400"
    assert config["PAYMENT_URL"] == "http://payment-simulator:8500"
    services = {o["metadata"]["name"]: o for o in of_kind(dev, "Service")}
    assert services["payment-simulator"]["spec"]["ports"][0]["port"] == 8500
    assert services["data-exchange-simulator"]["spec"]["ports"][0]["port"] == 8300
    assert services["sms-simulator"]["spec"]["ports"][0]["port"] == 8400
    workloads = {w["metadata"]["name"]: w for w in of_kind(dev, "Deployment")}
    for caller, simulator, port in [
        ("courier", "ems-simulator", 8200),
        ("workflow", "data-exchange-simulator", 8300),
        ("ratings", "sms-simulator", 8400),
        ("workflow", "payment-simulator", 8500),
    ]:
        assert simulator in workloads
        targets = {
            (target, frozenset(ports))
            for policy in network_policies_selecting(dev, pod_labels(workloads[caller]))
            for target, ports in egress_targets(policy)
        }
        assert ((simulator,), frozenset({port})) in targets, caller
        admitted = [
            peer["podSelector"]
            for policy in network_policies_selecting(dev, pod_labels(workloads[simulator]))
            for rule in policy["spec"].get("ingress", [])
            for peer in rule["from"]
        ]
        assert any(selects(peer, pod_labels(workloads[caller])) for peer in admitted), simulator


def test_department_overlay_deploys_its_workflow_instance_and_nothing_else(department):
    kinds = {obj["kind"] for obj in department}
    assert kinds == {
        "ServiceAccount",
        "ConfigMap",
        "Service",
        "Deployment",
        "Job",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "NetworkPolicy",
    }
    for obj in department:
        labels = obj["metadata"]["labels"]
        assert labels["app.kubernetes.io/instance"] == "workflow-js-ga", obj["metadata"]["name"]
        assert labels["app.kubernetes.io/name"] in ("workflow", "workflow-migrate")
        assert obj["metadata"]["name"].startswith("workflow-")
    (config,) = of_kind(department, "ConfigMap")
    assert config["data"] == {"DEPARTMENT_CODE": "js-ga"}
    for workload in of_kind(department, "Deployment", "Job"):
        (container,) = workload["spec"]["template"]["spec"]["containers"]
        assert container["command"][:3] == ["python", "-m", "operations.runner"] or container[
            "command"
        ] == ["python", "-m", "operations.migrate", "workflow"]
        assert {"configMapRef": {"name": config["metadata"]["name"]}} in container["envFrom"]
        database = next(e for e in container["env"] if e["name"] == "DATABASE_URL")
        assert database["valueFrom"]["secretKeyRef"]["name"] == "tongban-workflow-js-ga-db"
    (deployment,) = of_kind(department, "Deployment")
    assert deployment["metadata"]["name"] == "workflow-js-ga"


def test_config_keys_are_settings_the_code_reads(prod):
    service_yaml = (ROOT / "config" / "service.yaml").read_text()
    read = set(re.findall(r"\$\{([A-Z0-9_]+):", service_yaml))
    for key in config_data(prod):
        assert key in read, f"tongban-config sets {key}, which config/service.yaml never reads"


def test_commands_name_real_modules_and_ports_match(overlay):
    name, objects = overlay
    for workload in of_kind(objects, "Deployment", "Job"):
        template = workload["spec"]["template"]
        (container,) = template["spec"]["containers"]
        command = container["command"]
        assert command[:2] == ["python", "-m"]
        module_path = ROOT / (command[2].replace(".", "/") + ".py")
        package_path = ROOT / command[2].replace(".", "/") / "__main__.py"
        assert module_path.exists() or package_path.exists(), command
        if command[2] == "operations.runner":
            module, _, cls = command[3].partition(":")
            source = (ROOT / (module.replace(".", "/") + ".py")).read_text()
            assert f"class {cls}" in source, command
            env = {e["name"]: e.get("value") for e in container["env"]}
            port = int(env["WEB_SERVER_ADDRESS"].rsplit(":", 1)[1])
            assert container["ports"][0]["containerPort"] == port
            annotations = template["metadata"]["annotations"]
            assert annotations["prometheus.io/scrape"] == "true"
            assert int(annotations["prometheus.io/port"]) == port
            assert annotations["prometheus.io/path"] == "/metrics"


def test_dashboard_asks_for_metrics_the_code_exports():
    dashboard = json.loads((K8S / "base" / "monitoring" / "tongban-dashboard.json").read_text())
    source = "\n".join(
        path.read_text()
        for folder in ("services", "gateway")
        for path in (ROOT / folder).rglob("*.py")
        if "tests" not in path.parts
    )
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert panels
    asked = set()
    for panel in panels:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            asked.update(re.findall(r"\b(tongban_[a-z_]+)", target["expr"]))
    assert asked
    for metric in asked:
        base = re.sub(r"_(total|bucket|count|sum|created)$", "", metric)
        assert f'"{base}"' in source, f"the dashboard asks for {metric}; nothing exports {base}"


def test_dashboard_is_shipped_as_a_labelled_config_map(prod):
    (dashboard,) = [
        o
        for o in of_kind(prod, "ConfigMap")
        if o["metadata"]["name"] == "tongban-grafana-dashboard"
    ]
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(dashboard["data"]["tongban-dashboard.json"])["uid"] == "tongban-overview"


def test_waivers_give_reasons():
    waivers = yaml.safe_load((K8S / "checkov-waivers.yaml").read_text())["waivers"]
    for waiver in waivers:
        assert re.fullmatch(r"CKV2?_(K8S|DOCKER)_\d+", waiver["check"])
        assert len(waiver["reason"].split()) >= 10, waiver["check"]


def test_what_comes_before_the_services_is_complete_on_its_own(overlay):
    """The README applies settings, broker, database, policies and migrations by
    label before anything else: the Jobs must find all they use in that part."""
    name, objects = overlay
    early = {"config", "broker", "database", "network-policy", "migration"}
    part = [o for o in objects if o["metadata"]["labels"]["app.kubernetes.io/component"] in early]
    accounts = {o["metadata"]["name"] for o in of_kind(part, "ServiceAccount")}
    config_maps = {o["metadata"]["name"] for o in of_kind(part, "ConfigMap")}
    if name == "department-workflow":
        config_maps.add("tongban-config")  # the joined cluster's
    jobs = of_kind(part, "Job")
    assert jobs, name
    for job in jobs:
        pod = job["spec"]["template"]["spec"]
        assert pod["serviceAccountName"] in accounts, job["metadata"]["name"]
        for source in pod["containers"][0]["envFrom"]:
            assert source["configMapRef"]["name"] in config_maps, job["metadata"]["name"]
        own = [
            p for p in network_policies_selecting(part, pod_labels(job)) if p["spec"]["podSelector"]
        ]
        assert own, f"{job['metadata']['name']} has no policy of its own among its part"
    for workload in of_kind(objects, *WORKLOADS):
        if workload["metadata"]["labels"]["app.kubernetes.io/component"] in early:
            assert workload["kind"] == "StatefulSet"  # broker and database only


@pytest.mark.parametrize("overlay_name", ["dev", "prod"])
def test_pods_meet_the_restricted_pod_security_standard_their_namespace_enforces(
    overlay_name, dev, prod
):
    objects = {"dev": dev, "prod": prod}[overlay_name]
    (namespace,) = of_kind(objects, "Namespace")
    labels = namespace["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert {o["metadata"].get("namespace") for o in objects if o is not namespace} == {
        namespace["metadata"]["name"]
    }
    allowed_volumes = {"configMap", "secret", "emptyDir", "persistentVolumeClaim", "projected"}
    for workload in of_kind(objects, *WORKLOADS, "Job"):
        pod = workload["spec"]["template"]["spec"]
        where = workload["metadata"]["name"]
        assert not any(pod.get(key) for key in ("hostNetwork", "hostPID", "hostIPC")), where
        for volume in pod.get("volumes", []):
            assert set(volume) - {"name"} <= allowed_volumes, where
        assert pod["securityContext"]["runAsUser"] != 0, where
        for container in containers(workload):
            capabilities = container["securityContext"]["capabilities"]
            assert set(capabilities.get("add", [])) <= {"NET_BIND_SERVICE"}, where
            assert not container["securityContext"].get("privileged"), where
