"""The local cluster runs the simulators of outside parties beside the services,
and points the services that use them at them."""

from operations.local_cluster import LocalCluster


def test_the_data_exchange_simulator_runs_and_every_workflow_instance_is_pointed_at_it(
    tmp_path, monkeypatch
):
    monkeypatch.delenv("DATA_EXCHANGE_API_KEY", raising=False)
    monkeypatch.delenv("WORKFLOW_DEPARTMENTS", raising=False)
    cluster = LocalCluster(data_dir=tmp_path, data_exchange_port=9300)
    processes = {process.name: process for process in cluster.plan()}
    simulator = processes["data-exchange-simulator"]
    assert simulator.command[1:] == [
        "-m",
        "simulators.data_exchange",
        "--host",
        "127.0.0.1",
        "--port",
        "9300",
    ]
    assert simulator.health_url == "http://127.0.0.1:9300/healthz"
    key = simulator.env["DATA_EXCHANGE_API_KEY"]
    assert key == "dev-data-exchange-api-key"
    for name in ("workflow", "workflow-js-ga"):
        assert processes[name].env["DATA_EXCHANGE_URL"] == "http://127.0.0.1:9300"
        assert processes[name].env["DATA_EXCHANGE_API_KEY"] == key


def test_a_key_from_the_environment_reaches_both_sides(tmp_path, monkeypatch):
    monkeypatch.setenv("DATA_EXCHANGE_API_KEY", "from-the-environment")
    processes = {process.name: process for process in LocalCluster(data_dir=tmp_path).plan()}
    assert processes["data-exchange-simulator"].env["DATA_EXCHANGE_API_KEY"] == (
        "from-the-environment"
    )
    assert processes["workflow"].env["DATA_EXCHANGE_API_KEY"] == "from-the-environment"
    assert processes["workflow"].env["DATA_EXCHANGE_URL"] == "http://127.0.0.1:8300"


def test_the_ems_simulator_runs_from_the_simulators_package(tmp_path):
    processes = {p.name: p for p in LocalCluster(data_dir=tmp_path, ems_port=9200).plan()}
    ems = processes["ems-simulator"]
    assert ems.command[1:5] == ["-m", "simulators.ems", "--host", "127.0.0.1"]
    assert ems.health_url == "http://127.0.0.1:9200/healthz"
    assert processes["courier"].env["EMS_BASE_URL"] == "http://127.0.0.1:9200"


def test_the_sms_simulator_runs_and_ratings_is_pointed_at_it(tmp_path, monkeypatch):
    monkeypatch.delenv("SMS_API_KEY", raising=False)
    monkeypatch.delenv("PORTAL_URL", raising=False)
    cluster = LocalCluster(data_dir=tmp_path, sms_port=9400, gateway_port=9000)
    processes = {process.name: process for process in cluster.plan()}
    simulator = processes["sms-simulator"]
    assert simulator.command[1:] == [
        "-m",
        "simulators.sms",
        "--host",
        "127.0.0.1",
        "--port",
        "9400",
    ]
    assert simulator.health_url == "http://127.0.0.1:9400/healthz"
    assert simulator.env["SMS_API_KEY"] == "dev-sms-api-key"
    ratings = processes["ratings"].env
    assert ratings["SMS_URL"] == "http://127.0.0.1:9400"
    assert ratings["SMS_API_KEY"] == simulator.env["SMS_API_KEY"]
    # The texts link to this cluster's gateway.
    assert ratings["PORTAL_URL"] == "http://127.0.0.1:9000"


def test_an_sms_key_and_portal_from_the_environment_win(tmp_path, monkeypatch):
    monkeypatch.setenv("SMS_API_KEY", "from-the-environment")
    monkeypatch.setenv("PORTAL_URL", "https://portal.example")
    processes = {process.name: process for process in LocalCluster(data_dir=tmp_path).plan()}
    assert processes["sms-simulator"].env["SMS_API_KEY"] == "from-the-environment"
    assert processes["ratings"].env["SMS_API_KEY"] == "from-the-environment"
    assert processes["ratings"].env["PORTAL_URL"] == "https://portal.example"
    assert processes["ratings"].env["SMS_URL"] == "http://127.0.0.1:8400"
