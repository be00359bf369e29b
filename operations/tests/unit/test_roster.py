"""The tools reach each service's class the way its runner would."""

from operations import roster


def test_a_config_picks_the_instance_and_no_config_the_base_class():
    assert roster.service_class("workflow", {"DEPARTMENT_CODE": "js-ga"}).name == ("workflow-js-ga")
    assert roster.service_class("workflow").name == "workflow"


def test_the_roster_names_every_service_by_its_package():
    assert list(roster.SERVICES) == ["identity", "catalog", "workflow", "courier", "ratings"]
    for service, path in roster.SERVICES.items():
        assert path.startswith(f"services.{service}.service:")
        assert roster.service_class(service).name == service
