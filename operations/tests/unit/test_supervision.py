"""The local cluster runs replicas side by side and starts again, with backoff,
whatever exits, as Kubernetes would."""

from operations.local_cluster import LocalCluster, Process


class ExitedProcess:
    """What subprocess.Popen answers for a child that has ended."""

    def __init__(self, returncode: int):
        self.returncode = returncode

    def poll(self):
        return self.returncode


class RunningProcess:
    returncode = None

    def poll(self):
        return None


def test_replicas_share_the_database_and_get_ports_of_their_own(tmp_path, monkeypatch):
    monkeypatch.delenv("WORKFLOW_DEPARTMENTS", raising=False)
    cluster = LocalCluster(data_dir=tmp_path, replicas={"workflow": 2, "ratings": 3})
    processes = {process.name: process for process in cluster.plan()}
    names = [name for name in processes if name.startswith(("workflow", "ratings"))]
    assert sorted(names) == [
        "ratings",
        "ratings.2",
        "ratings.3",
        "workflow",
        "workflow-js-ga",
        "workflow.2",
    ]
    assert processes["workflow"].env["WEB_SERVER_ADDRESS"] == "127.0.0.1:8103"
    assert processes["workflow.2"].env["DATABASE_URL"] == processes["workflow"].env["DATABASE_URL"]
    ports = {process.env.get("WEB_SERVER_ADDRESS") for process in processes.values()}
    assert len([p for p in ports if p]) == len(
        [p for p in processes.values() if "WEB_SERVER_ADDRESS" in p.env]
    )
    assert processes["ratings.2"].health_url.endswith(
        processes["ratings.2"].env["WEB_SERVER_ADDRESS"] + "/healthz"
    )


def supervised(tmp_path, monkeypatch):
    cluster = LocalCluster(data_dir=tmp_path)
    process = Process("workflow", ["true"], {}, "http://127.0.0.1:1/healthz", tmp_path / "w.log")
    process.popen = ExitedProcess(-9)
    process.starts, process.started_at = 1, 100.0
    cluster.processes = [process]
    launched = []

    def launch(target):
        launched.append(target.name)
        target.popen = RunningProcess()
        target.starts += 1
        target.restart_at = None

    monkeypatch.setattr(cluster, "_launch", launch)
    return cluster, process, launched


def test_an_exited_process_is_started_again_after_a_growing_wait(tmp_path, monkeypatch):
    cluster, process, launched = supervised(tmp_path, monkeypatch)
    said = []
    cluster.supervise_once(said.append, now=101.0)
    assert said == [f"workflow exited (code -9); restarting in 1 s; see {tmp_path / 'w.log'}"]
    cluster.supervise_once(said.append, now=101.5)
    assert launched == []
    cluster.supervise_once(said.append, now=102.0)
    assert launched == ["workflow"] and said[-1] == "workflow restarted"

    # It exits again at once: the wait doubles, and doubles again, up to 30 s.
    waits = []
    now = 102.0
    for _ in range(7):
        process.popen, process.started_at = ExitedProcess(1), now
        cluster.supervise_once(said.append, now=now + 0.1)
        waits.append(process.restart_at - (now + 0.1))
        now = process.restart_at
        cluster.supervise_once(said.append, now=now)
    assert [round(w) for w in waits] == [2, 4, 8, 16, 30, 30, 30]


def test_a_process_that_ran_for_a_while_is_restarted_after_the_first_wait(tmp_path, monkeypatch):
    cluster, process, _ = supervised(tmp_path, monkeypatch)
    process.quick_exits = 5
    cluster.supervise_once(lambda line: None, now=100.0 + 3600)
    assert process.restart_at == 100.0 + 3600 + 1.0


def test_a_running_process_is_left_alone(tmp_path, monkeypatch):
    cluster, process, launched = supervised(tmp_path, monkeypatch)
    process.popen = RunningProcess()
    said = []
    cluster.supervise_once(said.append, now=1000.0)
    assert said == [] and launched == []


def test_replicas_are_read_from_the_environment_form():
    from operations.local_cluster import parse_replicas

    assert parse_replicas("workflow=2, catalog=3,") == {"workflow": 2, "catalog": 3}
    assert parse_replicas("") == {}
    for bad in ("workflow", "workflow=0", "workflow=two"):
        try:
            parse_replicas(bad)
        except SystemExit as exc:
            assert bad in str(exc)
        else:
            raise AssertionError(f"{bad!r} accepted")
