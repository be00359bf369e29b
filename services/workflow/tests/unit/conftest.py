"""What the workflow tests build: actors, the catalog item, a submitted case.

The actors are the shared builders' (``services.common.testing``); the item is
catalog's ``get_item`` answer, and ``make_item`` the domain's snapshot of one.
The working calendar is the 2026 schedule shipped with the code
(``calendars/2026.json``).
"""

import contextlib
import copy
import shutil
from datetime import UTC, date, datetime
from itertools import count

import pytest
import sqlalchemy as sa
from nameko.testing.services import worker_factory

from services.common import errors
from services.common.read_cache import ReadCache
from services.common.testing import citizen, envelope, operator, staff
from services.common.working_calendar import WorkingCalendar, year_calendar
from services.workflow.adapters import repository
from services.workflow.adapters.repository import shipped_calendar
from services.workflow.domain.events import ApplicationEnded
from services.workflow.domain.model import Application, ItemSnapshot, LicenceNumbers
from services.workflow.service import WorkflowService
from services.workflow.service_layer.unit_of_work import WorkflowUnitOfWork

OWN = "ks-xzsp"
JOINT_A = "320102-XF"
JOINT_B = "320102-WJ"
OUTSIDER = "320104-SCJ"

# 10:00 in Nanjing on Tuesday 29 September 2026, two days before National Day.
NOW = datetime(2026, 9, 29, 2, 0, tzinfo=UTC)
LATER = datetime(2026, 10, 8, 2, 0, tzinfo=UTC)

APPLICANT = citizen("u-applicant", name="张三")
OTHER_CITIZEN = citizen("u-other", name="李四")
OPERATOR = operator("u-op")
CLERK = staff("u-clerk", OWN, "window_clerk")
APPROVER = staff("u-approver", OWN, "approver")
APPROVER_A = staff("u-approver-a", JOINT_A, "approver")
APPROVER_B = staff("u-approver-b", JOINT_B, "approver")
CLERK_A = staff("u-clerk-a", JOINT_A, "window_clerk")
OUTSIDE_CLERK = staff("u-clerk-x", OUTSIDER, "window_clerk")
OUTSIDE_APPROVER = staff("u-approver-x", OUTSIDER, "approver")
DEPT_ADMIN = staff("u-admin", OWN, "dept_admin")

ADDRESS = {
    "name": "张三",
    "phone": "13800138000",
    "province": "江苏省",
    "city": "南京市",
    "district": "玄武区",
    "street": "北京东路2号",
    "postcode": "210000",
}
EXPRESS = {"mode": "express", "address": ADDRESS}
ONLINE = {"mode": "online"}
FORM = {"shop_name": "老王面馆"}
MATERIALS = [{"name": "营业执照", "file_id": "f1"}]
PII_KEY = bytes(range(32))

# catalog's get_item answer for an item of OWN, reviewed jointly by JOINT_A.
ITEM = {
    "item_id": "item-food-licence",
    "code": "ks-xzsp-001",
    "name": "食品经营许可",
    "department_code": OWN,
    "department_name": "玄武区市场监督管理局",
    "region_code": "320102",
    "level": "county",
    "modes": ["online", "express", "window"],
    "promised_days": 5,
    "status": "published",
    "description": "从事食品销售和餐饮服务的经营许可",
    "conditions": ["有与经营的食品品种相适应的经营场所"],
    "materials": [{"name": "营业执照", "copies": 1, "original": False, "note": ""}],
    "fees": "不收费",
    "legal_basis": ["《中华人民共和国食品安全法》"],
    "statutory_days": 20,
    "joint_departments": [JOINT_A],
    "window": {
        "name": "玄武区政务服务中心",
        "address": "北京东路1号",
        "phone": "02583000000",
        "postcode": "210000",
    },
    "handled_by": "workflow",
    "store_id": "store-xw-scj",
}


def shared_workflow(uow, catalog):
    """The shared instance's service as a worker of its own, its unit of work
    and catalog given, its items kept in a fresh cache."""
    return worker_factory(
        WorkflowService,
        uow=uow,
        clients=catalog,
        catalog_items=ReadCache(),
        config={"DEPARTMENT_CODE": ""},
    )


def item(**changes) -> dict:
    """catalog's get_item answer, with ``changes``."""
    result = copy.deepcopy(ITEM)
    result.update(changes)
    return result


def calendar_2026() -> WorkingCalendar:
    """The 2026 schedule as shipped (only 2026 is loaded)."""
    shipped = shipped_calendar(2026)
    return year_calendar(
        2026,
        map(date.fromisoformat, shipped["holidays"]),
        map(date.fromisoformat, shipped["workdays"]),
    )


CAL = calendar_2026()


def make_item(joint=(), modes=("online", "express", "window"), promised_days=5, statutory_days=0):
    return ItemSnapshot(
        item_id="item-1",
        item_name="食品经营许可",
        department_code=OWN,
        region_code="320102",
        store_id="store-1",
        modes=tuple(modes),
        promised_days=promised_days,
        joint_departments=tuple(joint),
        window={"name": "玄武区政务服务中心", "address": "北京东路1号", "phone": "02583000000"},
        statutory_days=statutory_days,
    )


def submit(
    mode="online",
    *,
    joint=(),
    actor=APPLICANT,
    now=NOW,
    on_behalf_of=None,
    materials=None,
    **overrides,
):
    """A case opened by the domain alone (no unit of work)."""
    delivery = {"mode": mode}
    if mode == "express":
        delivery["address"] = dict(ADDRESS)
    arguments = {
        "item": make_item(joint),
        "actor": actor,
        "form": dict(FORM),
        "materials": [{"name": "营业执照", "file_id": "f1"}] if materials is None else materials,
        "delivery": delivery,
        "calendar": CAL,
        "on_behalf_of": on_behalf_of,
        "now": now,
    }
    arguments.update(overrides)
    return Application.submit(**arguments)


def ended(app, outcome, *, at, on_time, working_days, handled_by=OWN, due_date=None):
    """The ``application_ended`` a case built by ``submit`` (``make_item``'s
    item) records when it ends with ``outcome`` at ``at``."""
    return ApplicationEnded(
        application_id=app.application_id,
        applicant_id=APPLICANT["user_id"],
        item_id="item-1",
        item_name="食品经营许可",
        department_code=OWN,
        handled_by=handled_by,
        region_code="320102",
        store_id="store-1",
        mode=app.delivery["mode"],
        outcome=outcome,
        submitted_at=app.submitted_at,
        ended_at=at,
        due_date=due_date or app.due_date,
        on_time=on_time,
        working_days=working_days,
    )


def act(app, actor, action, comment="", *, now=NOW, calendar=CAL, numbers=None, **more):
    """``app.act`` with the 2026 calendar and licence numbers at hand."""
    app.act(
        actor,
        action,
        comment,
        calendar=calendar,
        licence_numbers=numbers or licence_numbers(),
        now=now,
        **more,
    )
    return app


# The catalogue's departments (list_departments).
DEPARTMENTS = [OWN, JOINT_A, JOINT_B, OUTSIDER]


class FakeCatalog:
    """Stands in for the ``rpc`` dependency: answers catalog's get_item and
    list_departments."""

    def __init__(self, *items):
        self.items = {entry["item_id"]: entry for entry in items}
        self.calls = []

    def call(self, service, method, correlation_id=None, **kwargs):
        self.calls.append((service, method, kwargs))
        assert service == "catalog"
        if method == "list_departments":
            return {"items": [{"code": code, "name": code} for code in DEPARTMENTS]}
        assert method == "get_item"
        if kwargs["item_id"] not in self.items:
            raise errors.NotFound(f"item {kwargs['item_id']} not found")
        return self.items[kwargs["item_id"]]


TRACKING_NO = "EA123456785CN"


def courier_event(event_type: str, application_id: str, at: str = "2026-10-08T02:00:00Z"):
    """courier's materials_received or result_delivered, as courier emits it."""
    instant = {"materials_received": "received_at", "result_delivered": "delivered_at"}
    payload = {"application_id": application_id, "tracking_no": TRACKING_NO}
    return envelope("courier", event_type, {**payload, instant[event_type]: at})


def licence_numbers():
    """Numbers with serials 00000001, 00000002, ... and a stand-in signature
    (the domain never sees a key; the service layer's tests sign for real)."""
    serials = count(1)
    return LicenceNumbers(
        lambda data: ("test-kid", f"signed-{len(data)}"), serial=lambda: f"{next(serials):08d}"
    )


@pytest.fixture
def calendar():
    return calendar_2026()


@pytest.fixture
def numbers():
    return licence_numbers()


@pytest.fixture
def only_2026_shipped(monkeypatch, tmp_path):
    """The code ships the 2026 schedule only: a later year's file, once it is
    added to ``calendars/``, does not change what the tests count with."""
    shipped = tmp_path / "calendars"
    shipped.mkdir()
    shutil.copy(repository.SHIPPED_CALENDARS / "2026.json", shipped / "2026.json")
    monkeypatch.setattr(repository, "SHIPPED_CALENDARS", shipped)


class FakeIdentity:
    """Stands in for identity's ``authorise_principal``: an actor may act for
    the principals ``allow`` named, and nobody for anyone else."""

    NAMES = {"enterprise": "南京某某科技有限公司", "person": "王五"}

    def __init__(self):
        self.allowed: dict[tuple[str, str, str], str | None] = {}
        self.calls: list[tuple] = []

    def allow(self, actor_id: str, principal: dict, mandate_id: str | None = "m-1") -> None:
        key = principal.get("uscc") or principal.get("user_id")
        self.allowed[(actor_id, principal["kind"], key)] = mandate_id

    def revoke(self, actor_id: str, principal: dict) -> None:
        key = principal.get("uscc") or principal.get("user_id")
        self.allowed.pop((actor_id, principal["kind"], key), None)

    def __call__(self, actor_id, principal, item_id, on):
        self.calls.append((actor_id, dict(principal), item_id, on))
        key = principal.get("uscc") or principal.get("user_id")
        if (actor_id, principal["kind"], key) not in self.allowed:
            raise errors.Forbidden("no mandate in force")
        mandate_id = self.allowed[(actor_id, principal["kind"], key)]
        return {
            "basis": "mandate" if mandate_id else "member",
            "mandate_id": mandate_id,
            "principal": {**principal, "name": self.NAMES[principal["kind"]]},
        }

    # A person's ID number as identity's person_facts gives it (level 2).
    ID_NUMBER = "32010219900101123X"

    def person_facts(self, user_id, *, purpose, accessor_id, accessor_kind):
        self.calls.append(("person_facts", user_id, purpose, accessor_id, accessor_kind))
        return {
            "user_id": user_id,
            "level": 2,
            "name": self.NAMES["person"],
            "id_number": self.ID_NUMBER,
            "birth_date": "1990-01-01",
            "household_region": "320102",
        }


@pytest.fixture
def identity():
    return FakeIdentity()


@pytest.fixture
def uow(request, uow_factory, database_factory, only_2026_shipped, identity):
    """A SQLite unit of work that can encrypt a principal's ID number and asks
    ``identity`` (a FakeIdentity) who may act for whom; the calendar it loads
    is 2026's, as shipped. Parametrized indirectly with "postgresql", one on a
    PostgreSQL database of its own (skipped where the tests run on SQLite)."""
    url = None
    if getattr(request, "param", None) == "postgresql":
        url = database_factory("workflow_unit")
        if not url.startswith("postgresql"):
            pytest.skip("PostgreSQL is not where the tests run")
    unit = uow_factory(WorkflowUnitOfWork, source="workflow", url=url)
    unit.config = {"PII_KEY": PII_KEY.hex()}
    unit.authorise_principal = identity
    unit.person_facts = identity.person_facts
    return unit


@contextlib.contextmanager
def statements_sent(engine):
    """The statements ``engine`` runs inside the block, as its driver is handed them."""
    sent: list[str] = []

    def record(connection, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
