"""Which workflow instance answers, and lists merged across instances, without
nameko: ``call`` is a fake that answers from per-instance lists."""

import pytest

from gateway.workflow_instances import (
    WorkflowInstances,
    newest_first,
    newest_raised_first,
    soonest_due_first,
)
from services.common.errors import NotFound, Unavailable
from services.common.rpc import Timeout

GA = "workflow-js-ga"


@pytest.fixture
def workflows():
    return WorkflowInstances.from_config({"WORKFLOW_DEPARTMENTS": "js-ga, ks-xzsp"})


def case(application_id, submitted_at):
    return {"application_id": application_id, "submitted_at": submitted_at}


class Instances:
    """A fake ``call``: each instance pages its own cases newest first, and
    remembers the arguments of every call."""

    def __init__(self, **cases):
        self.cases = cases
        self.calls = []

    def __call__(self, instance, method, page=1, page_size=20, **arguments):
        self.calls.append((instance, method, {"page": page, "page_size": page_size, **arguments}))
        answer = self.cases[instance]
        if isinstance(answer, Exception):
            raise answer
        newest = newest_first(answer, "submitted_at", "application_id")
        start = (page - 1) * page_size
        return {
            "items": newest[start : start + page_size],
            "page": page,
            "page_size": page_size,
            "total": len(answer),
        }


def test_the_names_and_the_instance_an_id_names(workflows):
    assert workflows.names == ["workflow", GA, "workflow-ks-xzsp"]
    assert workflows.of("js-ga.0123456789abcdef") == GA
    assert workflows.of("0123456789abcdef") == "workflow"
    assert workflows.of("js-ga.JS32000020261125000001") == GA
    with pytest.raises(NotFound):
        workflows.of("JS-GA.abc")
    with pytest.raises(NotFound, match="workflow-nj-rs"):
        workflows.of("nj-rs.0123456789abcdef")


def test_new_applications_go_where_the_guide_says(workflows):
    assert workflows.for_item({"handled_by": GA}) == GA
    assert workflows.for_item({"handled_by": "workflow"}) == "workflow"
    assert workflows.for_item({}) == "workflow"
    with pytest.raises(Unavailable, match="workflow-nj-rs"):
        workflows.for_item({"handled_by": "workflow-nj-rs"})


def test_a_worklist_spans_every_instance_the_own_first(workflows):
    # A joint review's branch may sit on another department's instance.
    assert workflows.for_worklist("js-ga") == [GA, "workflow", "workflow-ks-xzsp"]
    assert workflows.for_worklist("js-amr") == ["workflow", GA, "workflow-ks-xzsp"]
    assert workflows.for_worklist(None) == ["workflow", GA, "workflow-ks-xzsp"]


def test_by_due_date_soonest_first_cases_without_an_open_task_last():
    entries = [
        {"application_id": "a", "submitted_at": "2026-11-02T00:00:00Z", "task": None},
        {"application_id": "b", "submitted_at": "2026-11-01T00:00:00Z",
         "task": {"due_date": "2026-12-03"}},
        {"application_id": "c", "submitted_at": "2026-11-03T00:00:00Z",
         "task": {"due_date": "2026-12-01"}},
        {"application_id": "d", "submitted_at": "2026-11-04T00:00:00Z",
         "task": {"due_date": "2026-12-03"}},
    ]  # fmt: skip
    assert [entry["application_id"] for entry in soonest_due_first(entries)] == [
        "c",
        "d",
        "b",
        "a",
    ]


def test_one_instance_answers_as_it_is():
    workflows = WorkflowInstances([])
    call = Instances(workflow=[case("s-1", "2026-11-20T09:00:00Z")])
    page = workflows.merged_page(
        call, workflows.names, "list_applications", {"page": 3, "page_size": 5}, actor="me"
    )
    assert page == {"items": [], "page": 3, "page_size": 5, "total": 1}
    assert call.calls == [
        ("workflow", "list_applications", {"page": 3, "page_size": 5, "actor": "me"})
    ]


def test_a_merged_first_page_is_newest_first_and_counts_everything(workflows):
    call = Instances(
        workflow=[case(f"s-{n}", f"2026-11-{10 + n:02d}T09:00:00Z") for n in range(5)],
        **{
            GA: [case("js-ga.g-2", "2026-11-24T09:00:00Z")],
            "workflow-ks-xzsp": [],
        },
    )
    page = workflows.merged_page(
        call, workflows.names, "list_applications", {"page": 1, "page_size": 2}, actor="me"
    )
    assert [entry["application_id"] for entry in page["items"]] == ["js-ga.g-2", "s-4"]
    assert (page["page"], page["page_size"], page["total"]) == (1, 2, 6)
    assert sorted(instance for instance, _, _ in call.calls) == sorted(workflows.names)


def test_a_later_page_takes_enough_of_every_instance(workflows):
    shared = [case(f"s-{n}", f"2026-11-{10 + 2 * n:02d}T09:00:00Z") for n in range(5)]
    ga = [case(f"js-ga.g-{n}", f"2026-11-{11 + 2 * n:02d}T09:00:00Z") for n in range(3)]
    call = Instances(workflow=shared, **{GA: ga, "workflow-ks-xzsp": []})
    page = workflows.merged_page(
        call, workflows.names, "list_applications", {"page": 2, "page_size": 3}, actor="me"
    )
    everything = newest_first(shared + ga, "submitted_at", "application_id")
    assert page["items"] == everything[3:6]
    assert page["total"] == 8


def test_deep_pages_are_fetched_in_pages_the_instances_accept(workflows):
    shared = [case(f"s-{n:03d}", f"2026-10-01T{n // 60:02d}:{n % 60:02d}:00Z") for n in range(250)]
    call = Instances(workflow=shared, **{GA: [], "workflow-ks-xzsp": []})
    page = workflows.merged_page(
        call, workflows.names, "worklist", {"page": 3, "page_size": 100, "state": None}
    )
    assert [entry["application_id"] for entry in page["items"]] == [
        f"s-{n:03d}" for n in range(49, -1, -1)
    ]
    shared_calls = [arguments for instance, _, arguments in call.calls if instance == "workflow"]
    assert [arguments["page"] for arguments in shared_calls] == [1, 2, 3]
    assert {arguments["page_size"] for arguments in shared_calls} == {100}
    assert all(arguments["state"] is None for arguments in shared_calls)


def test_an_instance_that_fails_fails_the_whole_list(workflows):
    call = Instances(workflow=[], **{GA: Timeout("no answer"), "workflow-ks-xzsp": []})
    with pytest.raises(Timeout):
        workflows.merged_page(
            call, workflows.names, "list_applications", {"page": 1, "page_size": 20}
        )


def test_licences_of_every_instance_newest_first(workflows):
    answers = {
        "workflow": {"items": [{"licence_no": "JS1", "issued_at": "2026-11-20T09:00:00Z"}]},
        GA: {"items": [{"licence_no": "js-ga.JS2", "issued_at": "2026-11-25T09:00:00Z"}]},
        "workflow-ks-xzsp": {"items": []},
    }

    def call(instance, method, **arguments):
        assert method == "list_licences" and arguments == {"actor": "me"}
        return answers[instance]

    merged = workflows.merged_collection(
        call, "list_licences", "issued_at", "licence_no", actor="me"
    )
    assert [licence["licence_no"] for licence in merged["items"]] == ["js-ga.JS2", "JS1"]


def test_escalations_of_every_instance_merge_newest_raised_first(workflows):
    def raised(application_id, level, at):
        return {"application_id": application_id, "level": level, "raised_at": at}

    shared = [
        raised("a-2", "operator", "2026-10-15T02:00:00Z"),
        raised("a-2", "dept_admin", "2026-10-15T02:00:00Z"),
        raised("a-1", "dept_admin", "2026-10-12T02:00:00Z"),
    ]
    own = [raised("js-ga.a-3", "dept_admin", "2026-10-13T02:00:00Z")]
    merged = newest_raised_first(shared + own)
    # Raised at one instant for one case: the instance's order (operator first) holds.
    assert [(e["application_id"], e["level"]) for e in merged] == [
        ("a-2", "operator"),
        ("a-2", "dept_admin"),
        ("js-ga.a-3", "dept_admin"),
        ("a-1", "dept_admin"),
    ]
    # Each instance answers its own, newest first (as list_escalations does).
    listed = {"workflow": shared, GA: own, "workflow-ks-xzsp": []}
    page = workflows.merged_page(
        lambda instance, method, **arguments: {
            "items": listed[instance],
            "total": len(listed[instance]),
        },
        workflows.for_worklist("js-ga"),
        "list_escalations",
        {"page": 1, "page_size": 3, "level": None},
        order=newest_raised_first,
    )
    assert [(e["application_id"], e["level"]) for e in page["items"]] == [
        ("a-2", "operator"),
        ("a-2", "dept_admin"),
        ("js-ga.a-3", "dept_admin"),
    ]
    assert page["total"] == 4


# A national licence number names its issuer by USCC; the catalogue's
# departments say whose it is (a default code when the catalogue has none).
GA_USCC = "11320000MB0123456K"
DEPARTMENTS = [
    {"code": "js-ga", "region_code": "320000", "uscc": GA_USCC},
    {"code": "js-amr", "region_code": "320000"},
]


def national(uscc: str) -> str:
    from services.workflow.domain.licences import format_number

    return format_number("SPJY", uscc, "K7Q2M9X4TB8W", 1)


def test_a_national_licence_number_goes_to_its_issuers_instance(workflows):
    from services.common.instances import default_issuer_uscc

    assert workflows.for_licence(national(GA_USCC), DEPARTMENTS) == [GA]
    # js-amr runs no instance of its own: the shared one issued it.
    amr = default_issuer_uscc("js-amr", "320000")
    assert workflows.for_licence(national(amr), DEPARTMENTS) == ["workflow"]
    # An issuer no department has (yet): every instance may hold it.
    assert workflows.for_licence(national("91320102MA1XYR1234"), DEPARTMENTS) == workflows.names
    # Old numbers keep their prefix rule.
    assert workflows.for_licence("js-ga.JS32000020261125000001", []) == [GA]
    assert workflows.for_licence("JS32000020261125000001", []) == ["workflow"]
    with pytest.raises(NotFound):
        workflows.for_licence("not-a-number.x.y", DEPARTMENTS)


def test_the_first_instance_that_knows_a_licence_answers(workflows):
    asked = []

    def ask(instance):
        asked.append(instance)
        if instance != GA:
            raise NotFound("not here")
        return {"licence_no": "x"}

    assert workflows.first_answer(workflows.names, ask) == {"licence_no": "x"}
    assert asked == ["workflow", GA]
    with pytest.raises(NotFound):
        workflows.first_answer(["workflow"], ask)
