"""The dead-letter tool: its setting checked, and every queue it looks at."""

import pytest

from operations import dead_letters


def test_dead_letters_refuses_a_bad_queue_type(monkeypatch, capsys):
    monkeypatch.setenv("EVENT_QUEUE_TYPE", "qorum")

    with pytest.raises(SystemExit):
        dead_letters.main(["list"])

    assert "EVENT_QUEUE_TYPE must be one of classic, quorum" in capsys.readouterr().err


def test_dead_letters_lists_the_departments_own_workflow_instances():
    shared = dead_letters.dead_letter_queues({})
    with_departments = dead_letters.dead_letter_queues({"WORKFLOW_DEPARTMENTS": "js-ga, ks-xzsp"})
    added = set(with_departments) - set(shared)
    assert set(shared) <= set(with_departments)
    assert added
    assert {name.split("--")[1].split(".")[0] for name in added} == {
        "workflow-js-ga",
        "workflow-ks-xzsp",
    }
    assert all(name.endswith(".dead") for name in added)
