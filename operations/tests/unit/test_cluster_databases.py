from operations.local_cluster import LocalCluster, per_service_database


def test_a_shared_database_url_is_the_stem_of_one_database_per_service():
    url = "postgresql+psycopg2://postgres:secret@127.0.0.1:5432/tongban"
    assert per_service_database(url, "identity") == (
        "postgresql+psycopg2://postgres:secret@127.0.0.1:5432/tongban_identity"
    )
    assert per_service_database("sqlite:////srv/tongban.db", "catalog") == (
        "sqlite:////srv/tongban_catalog.db"
    )


def test_a_service_specific_url_wins_then_the_shared_stem_then_sqlite(tmp_path, monkeypatch):
    cluster = LocalCluster(data_dir=tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("WORKFLOW_DATABASE_URL", raising=False)
    assert cluster.database_url("workflow") == f"sqlite:///{tmp_path / 'workflow.db'}"
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/tongban")
    assert cluster.database_url("workflow") == "postgresql://db/tongban_workflow"
    monkeypatch.setenv("WORKFLOW_DATABASE_URL", "postgresql://other/wf")
    assert cluster.database_url("workflow") == "postgresql://other/wf"


def test_department_workflow_instances_get_a_process_port_and_database(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("WORKFLOW_JS_GA_DATABASE_URL", raising=False)
    monkeypatch.delenv("WORKFLOW_DEPARTMENTS", raising=False)
    cluster = LocalCluster(data_dir=tmp_path)
    assert cluster.workflow_departments == ["js-ga"]
    assert cluster.workflow_instances == ["workflow-js-ga"]
    assert cluster.port_of("workflow-js-ga") == 8106
    assert cluster.database_url("workflow-js-ga") == f"sqlite:///{tmp_path / 'workflow-js-ga.db'}"
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/tongban")
    assert cluster.database_url("workflow-js-ga") == "postgresql://db/tongban_workflow-js-ga"
    monkeypatch.setenv("WORKFLOW_JS_GA_DATABASE_URL", "postgresql://other/ga")
    assert cluster.database_url("workflow-js-ga") == "postgresql://other/ga"

    processes = {process.name: process for process in cluster.plan()}
    instance = processes["workflow-js-ga"]
    assert instance.command[-1] == "services.workflow.service:WorkflowService"
    assert instance.env["DEPARTMENT_CODE"] == "js-ga"
    assert instance.env["WEB_SERVER_ADDRESS"] == "127.0.0.1:8106"
    assert instance.env["DATABASE_URL"] == "postgresql://other/ga"
    assert processes["workflow"].env["DEPARTMENT_CODE"] == ""
    assert processes["gateway"].env["WORKFLOW_DEPARTMENTS"] == "js-ga"


def test_workflow_departments_from_the_environment_or_the_argument(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKFLOW_DEPARTMENTS", "")
    assert LocalCluster(data_dir=tmp_path).workflow_departments == []
    monkeypatch.setenv("WORKFLOW_DEPARTMENTS", "js-ga,ks-xzsp")
    cluster = LocalCluster(data_dir=tmp_path, service_ports={"workflow-ks-xzsp": 9999})
    assert cluster.workflow_instances == ["workflow-js-ga", "workflow-ks-xzsp"]
    assert cluster.port_of("workflow-ks-xzsp") == 9999
    cluster = LocalCluster(data_dir=tmp_path, workflow_departments=["nj-rs"])
    assert cluster.workflow_departments == ["nj-rs"]
