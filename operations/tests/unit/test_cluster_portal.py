"""The local cluster registers the portal's public client in identity while
preparing, with the gateway's URLs, and names the portal first when it runs."""

from operations import local_cluster
from operations.local_cluster import LocalCluster, print_banner


def test_preparing_registers_the_portals_public_client(tmp_path, registered_clients):
    registered = registered_clients
    cluster = LocalCluster(
        data_dir=tmp_path,
        gateway_port=9000,
        database_urls={"identity": "sqlite:///identity.db"},
    )
    cluster.register_portal()
    assert registered == [
        (
            ("identity", "sqlite:///identity.db"),
            {
                "client_id": "tongban-portal",
                "client_secret": None,
                "name": "通办政务服务网",
                "department_code": "js-zwfw",
                "redirect_uris": ["http://127.0.0.1:9000/auth/callback"],
                "post_logout_redirect_uris": ["http://127.0.0.1:9000/"],
                "public": True,
                "skip_consent": True,
            },
        )
    ]


def test_prepare_registers_both_clients_after_the_demo_data(tmp_path, monkeypatch):
    steps = []
    monkeypatch.setattr(local_cluster, "create_database_if_missing", lambda url: None)
    monkeypatch.setattr(local_cluster, "upgrade", lambda service, url: None)
    monkeypatch.setattr(local_cluster, "declare_topology", lambda **kwargs: None)
    monkeypatch.setattr(LocalCluster, "load_demo", lambda self, *names: steps.append(names) or {})
    monkeypatch.setattr(
        LocalCluster, "register_department_portal", lambda self: steps.append("department")
    )
    monkeypatch.setattr(LocalCluster, "register_portal", lambda self: steps.append("portal"))
    LocalCluster(data_dir=tmp_path, amqp_uri="pyamqp://x", workflow_departments=[]).prepare()
    assert steps[-2:] == ["department", "portal"]


def test_the_banner_names_the_portal_first(tmp_path, monkeypatch, capsys):
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text("<!doctype html>")
    monkeypatch.setenv("PORTAL_DIST", str(dist))
    cluster = LocalCluster(data_dir=tmp_path, gateway_port=9000)
    print_banner(cluster, {})
    lines = [line.split() for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert lines[0] == ["tongban", "is", "running"]
    assert lines[1] == ["portal", "http://127.0.0.1:9000/"]
    monkeypatch.setenv("PORTAL_DIST", str(tmp_path / "none"))
    print_banner(cluster, {})
    portal_line = capsys.readouterr().out.splitlines()[2]
    assert portal_line.split()[:2] == ["portal", "http://127.0.0.1:9000/"]
    assert "not built" in portal_line and "make portal" in portal_line
