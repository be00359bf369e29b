"""The migrations build exactly the tables the code declares, and 0003 carries
the cases and the calendar of a database from before processes were data."""

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.orm import sessionmaker

from services.common.db import make_engine
from services.common.migrations import alembic_config
from services.common.working_calendar import WorkingCalendar, year_calendar
from services.workflow.adapters import orm
from services.workflow.domain.model import State
from services.workflow.service_layer import use_cases
from services.workflow.service_layer.unit_of_work import WorkflowUnitOfWork

from .conftest import (
    APPLICANT,
    APPROVER,
    APPROVER_A,
    CLERK,
    CLERK_A,
    ITEM,
    JOINT_A,
    OWN,
    PII_KEY,
)

SUBMITTED_AT = datetime(2026, 9, 29, 2, 0, tzinfo=UTC)
UPDATED_AT = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)
DUE = date(2026, 10, 12)
NOW = datetime(2026, 10, 8, 2, 0, tzinfo=UTC)

# Cases as 0002 stored them: (id, state, {department: decision} in review order).
LEGACY = {
    "submitted-joint": ("submitted", {OWN: "pending", JOINT_A: "pending"}),
    "accepted-joint": ("accepted", {OWN: "approved", JOINT_A: "pending"}),
    "accepted-own": ("accepted", {OWN: "pending"}),
    "waiting-own": ("supplement_requested", {OWN: "pending"}),
    "withdrawn-joint": ("withdrawn", {OWN: "pending", JOINT_A: "pending"}),
    "completed-own": ("completed", {OWN: "approved"}),
    "denied-joint": ("denied", {OWN: "approved", JOINT_A: "denied"}),
}


def legacy_item(joint: bool) -> dict:
    """The item snapshot as 0001 stored it (no statutory days yet)."""
    return {
        "item_id": ITEM["item_id"],
        "item_name": ITEM["name"],
        "department_code": OWN,
        "region_code": "320102",
        "store_id": ITEM["store_id"],
        "modes": ["online", "express", "window"],
        "promised_days": 5,
        "joint_departments": [JOINT_A] if joint else [],
        "window": ITEM["window"],
    }


def legacy_table(name: str, *columns: str, json: tuple[str, ...] = ()) -> sa.TableClause:
    """A table as 0002 had it, enough to write rows to it."""
    return sa.table(
        name, *(sa.column(column, sa.JSON if column in json else None) for column in columns)
    )


APPLICATIONS = legacy_table(
    "applications",
    *("application_id", "item_id", "item_name", "department_code", "region_code"),
    *("store_id", "item", "applicant_id", "on_behalf_of", "form", "materials"),
    *("delivery", "window", "state", "due_date", "submitted_at", "updated_at"),
    *("licence_no", "overdue_reported"),
    json=("item", "on_behalf_of", "form", "materials", "delivery", "window"),
)
TIMELINE = legacy_table(
    "timeline_entries",
    *("application_id", "position", "at", "state", "action", "actor_id", "actor_role"),
    "comment",
)
REVIEWS = legacy_table(
    "department_reviews", "application_id", "department_code", "position", "decision"
)
LICENCES = legacy_table(
    "licences",
    *("licence_no", "application_id", "applicant_id", "holder_masked", "item_id"),
    *("item_name", "issued_at", "valid"),
)
CALENDAR_DAYS = legacy_table("calendar_days", "day", "kind", "updated_by", "updated_at")
LICENCE_NO = "JS32010220260930000001"


def store_legacy(url: str) -> None:
    """0002's tables filled as the service of that time filled them."""
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        for application_id, (state, reviews) in LEGACY.items():
            connection.execute(
                APPLICATIONS.insert().values(
                    application_id=application_id,
                    item_id=ITEM["item_id"],
                    item_name=ITEM["name"],
                    department_code=OWN,
                    region_code="320102",
                    store_id=ITEM["store_id"],
                    item=legacy_item(len(reviews) > 1),
                    applicant_id=APPLICANT["user_id"],
                    on_behalf_of=None,
                    form={},
                    materials=[{"name": "营业执照"}],
                    delivery={"mode": "online", "address": None},
                    window=ITEM["window"],
                    state=state,
                    due_date=DUE,
                    submitted_at=SUBMITTED_AT,
                    updated_at=UPDATED_AT,
                    licence_no=LICENCE_NO if state == "completed" else None,
                    overdue_reported=False,
                )
            )
            connection.execute(
                TIMELINE.insert().values(
                    application_id=application_id,
                    position=0,
                    at=SUBMITTED_AT,
                    state="submitted",
                    action="submit",
                    actor_id=APPLICANT["user_id"],
                    actor_role="applicant",
                    comment="",
                )
            )
            connection.execute(
                REVIEWS.insert(),
                [
                    {
                        "application_id": application_id,
                        "department_code": department,
                        "position": position,
                        "decision": decision,
                    }
                    for position, (department, decision) in enumerate(reviews.items())
                ],
            )
        connection.execute(
            LICENCES.insert().values(
                licence_no=LICENCE_NO,
                application_id="completed-own",
                applicant_id=APPLICANT["user_id"],
                holder_masked="u-ap***cant",
                item_id=ITEM["item_id"],
                item_name=ITEM["name"],
                issued_at=UPDATED_AT,
                valid=True,
            )
        )
        connection.execute(
            CALENDAR_DAYS.insert(),
            [
                {"day": day, "kind": kind, "updated_by": "u-admin", "updated_at": UPDATED_AT}
                for day, kind in [
                    (date(2026, 10, 8), "holiday"),
                    (date(2026, 10, 11), "workday"),
                    (date(2027, 1, 1), "holiday"),
                ]
            ],
        )
    engine.dispose()


@pytest.fixture
def migrated(tmp_path):
    """A workflow database at 0002 holding legacy cases, upgraded to head; a
    unit of work on it."""
    url = f"sqlite:///{tmp_path / 'workflow.db'}"
    config = alembic_config("workflow", url)
    command.upgrade(config, "0002")
    store_legacy(url)
    command.upgrade(config, "head")
    engine = make_engine(url)
    uow = WorkflowUnitOfWork(sessionmaker(bind=engine, expire_on_commit=False), source="workflow")
    uow.config = {"PII_KEY": PII_KEY.hex()}
    yield uow
    engine.dispose()


# 0002 widens these to 64 characters on PostgreSQL only: SQLite enforces no
# VARCHAR length (and cannot alter a column in place).
WIDENED_ON_POSTGRESQL = {
    ("applications", "application_id"),
    ("applications", "licence_no"),
    ("timeline_entries", "application_id"),
    ("licences", "application_id"),
    ("licences", "licence_no"),
}


def differences(connection) -> list:
    """What the migrated database lacks or has beyond the code's tables."""
    found = []
    for difference in compare_metadata(MigrationContext.configure(connection), orm.metadata):
        changes = difference if isinstance(difference, list) else [difference]
        found += [
            change
            for change in changes
            if not (
                connection.dialect.name == "sqlite"
                and change[0] == "modify_type"
                and (change[2], change[3]) in WIDENED_ON_POSTGRESQL
            )
        ]
    return found


def upgrade_and_downgrade(url: str) -> None:
    config = alembic_config("workflow", url)
    command.upgrade(config, "head")
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            assert differences(connection) == []
        command.downgrade(config, "base")
        assert set(sa.inspect(engine).get_table_names()) == {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_matches_the_metadata_and_downgrade_removes_it(tmp_path):
    upgrade_and_downgrade(f"sqlite:///{tmp_path / 'workflow.db'}")


def test_the_old_tables_are_gone_and_the_calendar_is_kept_per_year(migrated):
    with migrated:
        tables = set(sa.inspect(migrated.session.get_bind()).get_table_names())
        assert not tables & {"department_reviews", "calendar_days"}
        years = migrated.calendar.stored()
    assert sorted(years) == [2026, 2027]
    assert (years[2026]["holidays"], years[2026]["workdays"]) == (["2026-10-08"], ["2026-10-11"])
    assert (years[2027]["holidays"], years[2027]["workdays"]) == (["2027-01-01"], [])
    # The year a department stored day by day replaces the shipped one.
    with migrated:
        calendar = migrated.calendar.load()
    assert calendar == WorkingCalendar.combine(
        [
            year_calendar(2026, {date(2026, 10, 8)}, {date(2026, 10, 11)}),
            year_calendar(2027, {date(2027, 1, 1)}, set()),
        ]
    )


def test_legacy_cases_load_as_the_default_process_where_they_stood(migrated):
    with migrated:
        cases = {
            application_id: migrated.applications.get(application_id) for application_id in LEGACY
        }
    for application_id, (state, _) in LEGACY.items():
        case = cases[application_id]
        assert (case.state, case.process_version, case.due_date) == (state, 0, DUE)
        assert case.legal_due_date == DUE
        assert [entry.action for entry in case.timeline] == ["submit"]

    def steps(application_id):
        return {run.id: str(run.state) for run in cases[application_id].steps}

    assert steps("submitted-joint") == {"accept": "active", "joint": "pending"}
    assert steps("accepted-joint") == {"accept": "done", "joint": "active"}
    assert steps("accepted-own") == {"accept": "done", "approve": "active"}
    assert steps("waiting-own") == {"accept": "active", "approve": "pending"}
    assert steps("withdrawn-joint") == {"accept": "closed", "joint": "closed"}
    assert steps("completed-own") == {"accept": "done", "approve": "done"}
    assert steps("denied-joint") == {"accept": "done", "joint": "denied"}
    assert cases["accepted-joint"].reviews == {OWN: "approved", JOINT_A: "pending"}
    assert cases["denied-joint"].reviews == {OWN: "approved", JOINT_A: "denied"}
    assert cases["completed-own"].licence.licence_no == LICENCE_NO
    waiting = cases["waiting-own"]
    assert (waiting.clock.stopped_for, waiting.clock.stopped_on) == (
        "supplement",
        date(2026, 9, 30),
    )


def test_the_worklist_rows_are_the_tasks_the_legacy_cases_load_with(migrated):
    """What the migration wrote to ``tasks`` is what the repository would write
    for each case as it loads: a worklist finds no open work a case does not
    have (nor misses any) before the case is next saved."""
    with migrated:
        cases = {
            application_id: migrated.applications.get(application_id) for application_id in LEGACY
        }
    tasks = orm.tasks
    with migrated:
        stored = [
            tuple(row)
            for row in migrated.session.execute(
                sa.select(
                    tasks.c.application_id,
                    tasks.c.step_id,
                    tasks.c.position,
                    tasks.c.department_code,
                    tasks.c.role,
                    tasks.c.state,
                    tasks.c.due_date,
                )
            )
        ]
    expected = sorted(
        (
            application_id,
            run.id,
            position,
            task.department_code,
            task.role,
            str(task.state),
            task.due_date,
        )
        for application_id, case in cases.items()
        for run in case.steps
        for position, task in enumerate(run.tasks)
    )
    assert sorted(stored) == expected


def test_legacy_cases_run_on_to_their_end(migrated):
    # An accepted joint case: the joint department's approval completes it.
    done = use_cases.act(migrated, APPROVER_A, "accepted-joint", "approve", now=NOW)
    assert (done.state, done.licence_no is not None) == (State.COMPLETED, True)
    # A submitted joint case: accepted, its joint step starts afresh.
    use_cases.act(migrated, CLERK, "submitted-joint", "accept", now=NOW)
    use_cases.act(migrated, APPROVER, "submitted-joint", "approve", now=NOW)
    use_cases.act(migrated, APPROVER_A, "submitted-joint", "approve", now=NOW)
    assert use_cases.get_application(migrated, APPLICANT, "submitted-joint").state == "completed"
    # Waiting for materials: the applicant supplies, the window takes it on.
    use_cases.supplement(migrated, APPLICANT, "waiting-own", [{"name": "身份证"}], now=NOW)
    use_cases.act(migrated, CLERK, "waiting-own", "accept", now=NOW)
    assert use_cases.act(migrated, APPROVER, "waiting-own", "approve", now=NOW).state == (
        "completed"
    )
    # The joint department's worklist holds the cases it reviewed.
    listed = use_cases.worklist(migrated, CLERK_A, today=NOW.date())
    assert {case.application_id for case in listed["items"]} == {
        "submitted-joint",
        "accepted-joint",
        "withdrawn-joint",
        "denied-joint",
    }


def test_a_licence_issued_before_is_carried_and_keeps_verifying(migrated):
    from services.workflow.service_layer import licences

    with migrated:
        row = migrated.licences.get(LICENCE_NO)
    # Its case's department, its issue day in Nanjing, its holder (the
    # applicant's own licence); its document comes with its first read.
    assert (row["holder_id"], row["department_code"], row["valid_from"], row["document"]) == (
        APPLICANT["user_id"],
        OWN,
        date(2026, 9, 30),
        None,
    )
    check = licences.verify_licence(migrated, LICENCE_NO)
    assert check["valid"] is True and check["checks"]["signature"] == "valid"
    document = licences.get_licence(migrated, APPLICANT, LICENCE_NO)["document"]
    assert document["licence"]["licence_no"] == LICENCE_NO
    with migrated:
        assert licences.held_licence(migrated, LICENCE_NO, [APPLICANT["user_id"]]) is not None


def test_0010_masks_the_id_numbers_timeline_entries_kept(tmp_path):
    url = f"sqlite:///{tmp_path / 'workflow.db'}"
    config = alembic_config("workflow", url)
    command.upgrade(config, "0009")
    entries = legacy_table(
        "timeline_entries",
        "application_id",
        "position",
        "at",
        "state",
        "action",
        "actor_id",
        "actor_role",
        "comment",
        "step",
        "on_behalf_of",
        json=("on_behalf_of",),
    )
    person = {"kind": "person", "user_id": None, "name": "张三", "id_number": "32010219900307123X"}
    enterprise = {"kind": "enterprise", "uscc": "91320000MA1XXXXX0X", "name": "某公司"}
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            for position, principal in enumerate((person, enterprise, None)):
                connection.execute(
                    entries.insert().values(
                        application_id="case-1",
                        position=position,
                        at=NOW,
                        state="submitted",
                        action="submit",
                        actor_id="u-agent",
                        actor_role="applicant",
                        comment="",
                        step=None,
                        on_behalf_of=principal,
                    )
                )
        command.upgrade(config, "0010")
        with engine.connect() as connection:
            stored = [
                row.on_behalf_of
                for row in connection.execute(
                    sa.select(entries.c.on_behalf_of).order_by(entries.c.position)
                )
            ]
    finally:
        engine.dispose()
    assert stored == [
        {
            "kind": "person",
            "user_id": None,
            "name": "张三",
            "id_number_masked": "3201**********123X",
        },
        enterprise,
        None,
    ]
