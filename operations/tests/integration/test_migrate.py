"""The deploy step: every database migrated, the topology declared, the first
operator ensured; twice in a row changes nothing."""

import pytest
import sqlalchemy as sa
from amqp.exceptions import PreconditionFailed
from kombu import Connection

from operations import migrate
from services.common.messaging import topology


@pytest.fixture
def deploy_env(tmp_path, monkeypatch):
    """An environment naming no database, queue type or department: SQLite files
    in tmp_path; each test sets what it is about."""
    monkeypatch.setenv("TONGBAN_DATA_DIR", str(tmp_path))
    for name in ["DATABASE_URL", "EVENT_QUEUE_TYPE", "DEPARTMENT_CODE"] + [
        f"{service.upper()}_DATABASE_URL" for service in [*migrate.SERVICES, "workflow_js_ga"]
    ]:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_migrate_every_service_declare_queues_and_ensure_the_operator(
    tmp_path, deploy_env, amqp_uri, capsys
):
    deploy_env.setenv("AMQP_URI", amqp_uri)
    deploy_env.setenv("TONGBAN_OPERATOR_PHONE", "13811112222")
    deploy_env.setenv("TONGBAN_OPERATOR_PASSWORD", "Operator2027")

    assert migrate.main([]) == 0
    assert migrate.main([]) == 0

    output = capsys.readouterr().out
    for service in migrate.SERVICES:
        assert f"migrated {service}" in output
        assert (tmp_path / f"{service}.db").exists()
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'identity.db'}")
    with engine.connect() as connection:
        operators = connection.execute(
            sa.text("SELECT phone FROM users WHERE kind = 'operator'")
        ).all()
    engine.dispose()
    assert [row.phone for row in operators] == ["13811112222"]

    queue = topology.handler_queue_name(
        "workflow", "application_submitted", "courier", "on_application_submitted"
    )
    # The virtual host is shared with other tests, which may have left messages
    # in these queues: a passive declare answers only whether they exist.
    with Connection(amqp_uri) as connection:
        channel = connection.default_channel
        for name in (queue, f"{queue}.dead"):
            assert channel.queue_declare(name, durable=True, passive=True).queue == name


def test_migrate_a_department_workflow_instance(tmp_path, deploy_env, amqp_uri, capsys):
    deploy_env.setenv("AMQP_URI", amqp_uri)
    deploy_env.setenv("DEPARTMENT_CODE", "js-ga")

    assert migrate.main(["workflow"]) == 0

    assert "migrated workflow-js-ga" in capsys.readouterr().out
    assert (tmp_path / "workflow-js-ga.db").exists()
    assert not (tmp_path / "workflow.db").exists()
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'workflow-js-ga.db'}")
    assert "applications" in sa.inspect(engine).get_table_names()
    engine.dispose()
    queue = topology.handler_queue_name(
        "courier", "materials_received", "workflow-js-ga", "on_materials_received"
    )
    # The virtual host is shared with other tests, which may have left messages
    # in these queues: a passive declare answers only whether they exist.
    with Connection(amqp_uri) as connection:
        channel = connection.default_channel
        for name in (queue, f"{queue}.dead"):
            assert channel.queue_declare(name, durable=True, passive=True).queue == name


def test_migrate_declares_quorum_queues_when_configured(deploy_env, quorum_amqp_uri, broker_queues):
    deploy_env.setenv("AMQP_URI", quorum_amqp_uri)
    deploy_env.setenv("EVENT_QUEUE_TYPE", "quorum")

    # The topology of every service is declared, whichever databases are migrated.
    assert migrate.main(["courier"]) == 0
    assert migrate.main(["courier"]) == 0  # the same declarations again are accepted

    listed = broker_queues(quorum_amqp_uri)
    expected = {
        entity.name
        for entity in migrate.declare_topology(config={"EVENT_QUEUE_TYPE": "quorum"})
        if hasattr(entity, "queue_arguments")
    }
    assert any(name.endswith(".dead") for name in expected)
    assert any(name.startswith(topology.RETRY_PREFIX) for name in expected)
    assert {name: listed[name]["type"] for name in expected} == dict.fromkeys(expected, "quorum")
    retry = listed[topology.retry_exchange_name(1000)]["arguments"]
    assert retry["x-dead-letter-strategy"] == "at-least-once"
    assert retry["x-overflow"] == "reject-publish"

    queue = topology.handler_queue_name(
        "workflow", "application_submitted", "courier", "on_application_submitted"
    )
    for name in (queue, topology.dead_letter_queue_name(queue)):
        with Connection(quorum_amqp_uri) as connection:
            with pytest.raises(PreconditionFailed, match="received 'classic' but current is"):
                connection.default_channel.queue_declare(
                    name, durable=True, auto_delete=False, arguments={"x-queue-type": "classic"}
                )


def test_migrate_retires_the_queues_of_handlers_taken_out(deploy_env, amqp_uri):
    """ratings' count_case_ended queue, left by an earlier version with an event
    in it: the deploy step hands the event to on_application_ended and drops
    the queue."""
    deploy_env.setenv("AMQP_URI", amqp_uri)
    old = topology.handler_queue("workflow", "application_ended", "ratings", "count_case_ended")
    successor = topology.handler_queue_name(
        "workflow", "application_ended", "ratings", "on_application_ended"
    )
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        topology.declare(connection, [topology.event_exchange("workflow"), old])
        channel = connection.default_channel
        channel.basic_publish(
            channel.prepare_message(b'{"id": "left-behind"}'), exchange="", routing_key=old.name
        )

    assert migrate.main(["--no-broker"]) == 0  # the databases alone retire nothing
    with Connection(amqp_uri) as connection:
        assert topology.queue_exists(connection, old.name)

    assert migrate.main([]) == 0

    with Connection(amqp_uri) as connection:
        assert not topology.queue_exists(connection, old.name)
        channel = connection.channel()
        bodies = []
        while (message := channel.basic_get(successor, no_ack=True)) is not None:
            bodies.append(message.body)
        channel.close()
    assert b'{"id": "left-behind"}' in bodies
