"""The local cluster runs the demo department system beside the gateway, points
every process at the gateway as the OpenID Connect issuer, and registers the
department system's client in identity while preparing."""

from operations.local_cluster import LocalCluster


def test_the_department_portal_runs_and_signs_in_at_the_gateway(tmp_path, monkeypatch):
    monkeypatch.delenv("DEPARTMENT_PORTAL_CLIENT_SECRET", raising=False)
    monkeypatch.setenv("OIDC_ISSUER", "http://stray.example")
    cluster = LocalCluster(data_dir=tmp_path, gateway_port=9000, department_portal_port=9600)
    processes = {process.name: process for process in cluster.plan()}
    portal = processes["department-portal"]
    assert portal.command[1:] == [
        "-m",
        "simulators.department_portal",
        "--host",
        "127.0.0.1",
        "--port",
        "9600",
        "--issuer",
        "http://127.0.0.1:9000",
        "--client-id",
        "gjj-suzhou",
        "--base-url",
        "http://127.0.0.1:9600",
    ]
    assert portal.health_url == "http://127.0.0.1:9600/healthz"
    assert portal.env["DEPARTMENT_PORTAL_CLIENT_SECRET"] == "dev-gjj-suzhou-client-secret"
    # identity builds its URLs and the gateway its discovery document from it.
    for name in ("identity", "gateway"):
        assert processes[name].env["OIDC_ISSUER"] == "http://127.0.0.1:9000"


def test_an_issuer_given_to_the_cluster_wins(tmp_path):
    cluster = LocalCluster(data_dir=tmp_path, extra_env={"OIDC_ISSUER": "https://tongban.example"})
    processes = {process.name: process for process in cluster.plan()}
    assert processes["identity"].env["OIDC_ISSUER"] == "https://tongban.example"
    assert "https://tongban.example" in processes["department-portal"].command
    assert cluster.department_portal_url == "http://127.0.0.1:8600"


def test_preparing_registers_the_department_systems_client(
    tmp_path, monkeypatch, registered_clients
):
    monkeypatch.setenv("DEPARTMENT_PORTAL_CLIENT_SECRET", "from-the-environment")
    registered = registered_clients
    cluster = LocalCluster(
        data_dir=tmp_path,
        department_portal_port=9600,
        database_urls={"identity": "sqlite:///identity.db"},
    )
    cluster.register_department_portal()
    assert registered == [
        (
            ("identity", "sqlite:///identity.db"),
            {
                "client_id": "gjj-suzhou",
                "client_secret": "from-the-environment",
                "name": "苏州市住房公积金管理中心",
                "department_code": "sz-gjj",
                "redirect_uris": ["http://127.0.0.1:9600/callback"],
                "post_logout_redirect_uris": ["http://127.0.0.1:9600/"],
                "backchannel_logout_uri": "http://127.0.0.1:9600/backchannel-logout",
            },
        )
    ]
