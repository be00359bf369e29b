"""Workflow instance names and the ids that say their instance."""

import pytest

from services.common import instances
from services.common.errors import NotFound


@pytest.mark.parametrize(
    ("identifier", "instance"),
    [
        ("3f2a9c0e5b7d4e1f8a6b2c3d4e5f6a7b", "workflow"),
        ("JS32000020261125000001", "workflow"),
        ("js-ga.3f2a9c0e5b7d4e1f8a6b2c3d4e5f6a7b", "workflow-js-ga"),
        ("js-ga.JS32000020261125000001", "workflow-js-ga"),
        ("ks-xzsp.a-1", "workflow-ks-xzsp"),
        ("320102.x", "workflow-320102"),
    ],
)
def test_an_id_names_its_instance(identifier, instance):
    assert instances.workflow_instance_of(identifier) == instance


@pytest.mark.parametrize(
    "identifier",
    ["", ".abc", "js-ga.", "JS-GA.abc", "js_ga.abc", "-js.abc", "js-ga.a.b", "a" * 25 + ".x"],
)
def test_a_malformed_prefix_is_not_found(identifier):
    with pytest.raises(NotFound):
        instances.workflow_instance_of(identifier)


def test_instance_names_and_prefixes():
    assert instances.instance_for(None) == "workflow"
    assert instances.instance_for(" ") == "workflow"
    assert instances.instance_for("js-ga") == "workflow-js-ga"
    assert instances.id_prefix("workflow") == ""
    assert instances.id_prefix("workflow-js-ga") == "js-ga."
    assert instances.code_of("workflow-js-ga") == "js-ga"
    for bad in ("JS-GA", "js_ga", "-x", "a" * 25, "js.ga"):
        with pytest.raises(ValueError):
            instances.instance_for(bad)
    with pytest.raises(ValueError):
        instances.id_prefix("workflow-JS")
    with pytest.raises(ValueError):
        instances.id_prefix("catalog")


def test_prefixed_ids_fit_the_id_columns():
    longest = "a" * instances.MAX_CODE_LENGTH
    assert len(instances.id_prefix(instances.instance_for(longest)) + "f" * 32) <= 64


def test_department_lists_from_config():
    assert instances.parse_departments(None) == []
    assert instances.parse_departments("") == []
    assert instances.parse_departments(" js-ga , ks-xzsp,js-ga,") == ["js-ga", "ks-xzsp"]
    assert instances.parse_departments(["js-ga"]) == ["js-ga"]
    with pytest.raises(ValueError):
        instances.parse_departments("js-ga,JS-RS")
