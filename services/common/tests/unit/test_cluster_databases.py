from services.common.cluster import LocalCluster, per_service_database


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
