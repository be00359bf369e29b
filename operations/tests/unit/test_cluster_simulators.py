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
