"""The seed's catalogue: 41 provincial departments and their counterparts in the
13 cities and 95 counties, 1,327 basic items, each implemented by its provincial
department, about 13,000 city items and 61,000 county items derived from them.

Everything goes in as catalog records it: domain objects (``BasicItem.create``,
``Item.create`` with the basic item's locked values, ``publish``), the
repositories, and each batch's ``basic_item_published`` and ``item_published``
events written to the outbox in the batch's transaction, so that every read
model follows by events once the cluster runs. Items are inserted a batch at a
time (one multi-row INSERT per batch).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from services.catalog.adapters import orm
from services.catalog.adapters.repository import ItemRepository
from services.catalog.demo import load_basic_items, load_departments, load_regions
from services.catalog.domain.basic import BasicItem, derived_values, implementing_code
from services.catalog.domain.model import Department, Item, Region, Store, Window
from services.catalog.service_layer.unit_of_work import CatalogUnitOfWork
from services.catalog.service_layer.use_cases import item_id_for
from services.common import uscc

from .departments import KINDS, LICENCE_ACTIONS, DepartmentKind
from .volumes import Volumes

COUNTIES_FILE = Path(__file__).with_name("counties.json")
BATCH = 2000
LEVEL_CITY, LEVEL_COUNTY, LEVEL_PROVINCE = "city", "county", "province"

# Telephone area codes and postcodes of the 13 cities.
CITY_CONTACTS = {
    "320100": ("025", "210000"),
    "320200": ("0510", "214000"),
    "320300": ("0516", "221000"),
    "320400": ("0519", "213000"),
    "320500": ("0512", "215000"),
    "320600": ("0513", "226000"),
    "320700": ("0518", "222000"),
    "320800": ("0517", "223000"),
    "320900": ("0515", "224000"),
    "321000": ("0514", "225000"),
    "321100": ("0511", "212000"),
    "321200": ("0523", "225300"),
    "321300": ("0527", "223800"),
}
HOURS = "周一至周五 上午9:00-12:00，下午13:30-17:00（法定节假日除外）"


# ----------------------------------------------------------------- departments


def _organisation_code(seed: str) -> str:
    """A GB 11714 organisation code (8 digits and the check character) drawn from ``seed``."""
    digits = f"{int(hashlib.sha256(seed.encode()).hexdigest(), 16) % 10**8:08d}"
    total = sum(int(d) * w for d, w in zip(digits, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    check = 11 - total % 11
    return digits + {10: "X", 11: "0"}.get(check, str(check))


def department_uscc(department_code: str, region_code: str) -> str:
    """A Party and government body's code (11 + division + organisation code + check)."""
    first17 = "11" + region_code + _organisation_code(department_code)
    return first17 + uscc.check_char(first17)


@dataclass(frozen=True)
class PlannedDepartment:
    code: str
    name: str
    region_code: str
    level: str
    kind: DepartmentKind
    uscc: str | None = None


def counties() -> list[dict]:
    return json.loads(COUNTIES_FILE.read_text(encoding="utf-8"))


def _county_department_name(county: dict, city_name: str, suffix: str) -> str:
    # A district's departments carry the city's name (南京市江宁区...), a county's
    # or county-level city's their own (宜兴市...).
    prefix = city_name + county["name"] if county["name"].endswith("区") else county["name"]
    return prefix + suffix


def plan_departments(regions: dict[str, dict], known: dict[tuple[str, str], str]) -> list:
    """Every department of the seed: the 41 provincial ones, then each city's and
    each county's counterparts. ``known`` maps (region, name) to the code of a
    department recorded already (the demo's), which is kept."""
    planned = []
    cities = sorted(code for code, region in regions.items() if region["level"] == LEVEL_CITY)
    for kind in KINDS:
        planned.append(
            PlannedDepartment(kind.province_code, kind.province_name, "320000", "province", kind)
        )
    for city in cities:
        city_name = regions[city]["name"]
        for kind in KINDS:
            if kind.city_suffix is None:
                continue
            name = city_name + kind.city_suffix
            if kind.key == "sw":
                name = f"国家税务总局{name}"
            planned.append(PlannedDepartment(f"{city}-{kind.key}", name, city, LEVEL_CITY, kind))
    for county in counties():
        city_name = regions[county["parent_code"]]["name"]
        for kind in KINDS:
            if kind.county_suffix is None:
                continue
            name = _county_department_name(county, city_name, kind.county_suffix)
            if kind.key == "sw":
                name = f"国家税务总局{name}"
            planned.append(
                PlannedDepartment(
                    f"{county['code']}-{kind.key}", name, county["code"], LEVEL_COUNTY, kind
                )
            )
    return [
        PlannedDepartment(
            known.get((p.region_code, p.name), p.code), p.name, p.region_code, p.level, p.kind
        )
        for p in planned
    ]


def _window(department: PlannedDepartment, regions: dict[str, dict]) -> Window:
    region = regions[department.region_code]
    city = region["parent_code"] if region["level"] == LEVEL_COUNTY else department.region_code
    area, postcode = CITY_CONTACTS.get(city, ("025", "210000"))
    place = region["name"]
    if region["level"] == LEVEL_COUNTY:
        place = regions[city]["name"] + place
    number = int(hashlib.sha256(department.code.encode()).hexdigest(), 16)
    short = department.name.removeprefix("国家税务总局")
    return Window(
        name=f"{place}政务服务中心{short.removeprefix(place)}窗口",
        address=f"{place}政务服务中心{number % 3 + 1}楼{number % 40 + 1}号窗口",
        phone=f"{area}-{8 if len(area) == 3 else 6}{number % 10**7:07d}",
        postcode=postcode,
    )


def _department(planned: PlannedDepartment, regions: dict[str, dict]) -> Department:
    return Department(
        code=planned.code,
        name=planned.name,
        region_code=planned.region_code,
        level=planned.level,
        store=Store(
            store_id=f"store-{planned.code}",
            name=f"{planned.name}旗舰店",
            department_code=planned.code,
            region_code=planned.region_code,
        ),
        window=_window(planned, regions),
        uscc=department_uscc(planned.code, planned.region_code),
    )


# ----------------------------------------------------------------- basic items


@dataclass(frozen=True)
class PlannedBasic:
    basic_code: str
    name: str
    type: str
    kind: DepartmentKind


def _licence_names(matter: str) -> list[tuple[str, str]]:
    """(type, name) of a licence's items, in the order they are taken."""
    if matter.endswith(("证", "证书", "执照", "运输证")):
        issued = [f"{matter}{action}" for action in LICENCE_ACTIONS] + [f"{matter}补办"]
    else:
        issued = [f"{matter}（{label}）" for label in ("新办", "变更", "延续", "注销", "补正")]
    return [
        ("01", issued[0]),
        ("01", issued[1]),
        ("02", f"对未取得{matter}擅自从事相关活动的行政处罚"),
        ("06", f"对{matter}持有人的监督检查"),
        ("01", issued[2]),
        ("02", f"对超出{matter}许可范围从事相关活动的行政处罚"),
        ("01", issued[3]),
        ("03", f"对未取得{matter}从事相关活动的场所、物品的查封扣押"),
        ("01", issued[4]),
        ("02", f"对以欺骗、贿赂等不正当手段取得{matter}的行政处罚"),
        ("10", f"{matter}的撤销"),
    ]


def _kind_candidates(kind: DepartmentKind) -> list[tuple[str, str]]:
    """The kind's possible basic items, (type, name), interleaved so that any
    prefix has a mix of types."""
    rounds: list[list[tuple[str, str]]] = [[] for _ in range(11)]
    for matter in kind.matters:
        item_type, name = matter.split(":", 1)
        if item_type == "01":
            for index, entry in enumerate(_licence_names(name)):
                rounds[index].append(entry)
        else:
            rounds[0].append((item_type, name))
    field = kind.province_name.removeprefix("江苏省").removeprefix("国家税务总局江苏省")
    rounds[-1].append(("08", f"全省{field}系统先进集体和先进个人表彰"))
    return [entry for entries in rounds for entry in entries]


def plan_basic_items(count: int) -> list[PlannedBasic]:
    """``count`` basic items taken in turn from each kind's candidates. Codes are
    fixed by the full list (32, the kind's number, the type, a serial), so a
    smaller scale picks a subset with the same codes."""
    per_kind = []
    for number, kind in enumerate(KINDS, start=1):
        serials: dict[str, int] = {}
        planned = []
        for item_type, name in _kind_candidates(kind):
            serials[item_type] = serials.get(item_type, 0) + 1
            code = f"32{number:02d}{item_type}{serials[item_type]:06d}"
            planned.append(PlannedBasic(code, name, item_type, kind))
        per_kind.append(planned)
    chosen: list[PlannedBasic] = []
    depth = 0
    while len(chosen) < count and any(depth < len(entries) for entries in per_kind):
        for entries in per_kind:
            if depth < len(entries) and len(chosen) < count:
                chosen.append(entries[depth])
        depth += 1
    return chosen


def generated_basic_items(volumes: Volumes) -> int:
    """The basic items to generate: the volume less the demo's own (they count
    toward it), at least one."""
    return max(1, volumes.basic_items - len(load_basic_items()))


def _article(seed: str) -> str:
    numerals = "一二三四五六七八九十"
    number = int(hashlib.sha256(seed.encode()).hexdigest(), 16) % 60 + 1
    tens, ones = divmod(number, 10)
    text = (
        (numerals[tens - 1] if tens > 1 else "")
        + ("十" if tens else "")
        + (numerals[ones - 1] if ones else "")
    )
    return f"第{text}条"


def _basic_item(planned: PlannedBasic) -> BasicItem:
    kind = planned.kind
    return BasicItem.create(
        basic_code=planned.basic_code,
        name=planned.name,
        type=planned.type,
        legal_basis=[{"law": kind.law, "article": _article(planned.basic_code)}],
        department_code=kind.province_code,
        serves=list(kind.serves),
        description=f"{kind.province_name}依据{kind.law}发布的{planned.name}基本目录事项。",
    )


# ----------------------------------------------------------------- items


def implementers(
    basics: list[PlannedBasic], departments: list[PlannedDepartment], volumes: Volumes
) -> Iterator[tuple[PlannedBasic, PlannedDepartment]]:
    """(basic item, implementing department) pairs: every basic item by its
    provincial department, then in each city and each county the share of the
    volumes, drawn deterministically among the basic items whose department has
    a counterpart there."""
    by_region: dict[str, dict[str, PlannedDepartment]] = {}
    for department in departments:
        by_region.setdefault(department.region_code, {})[department.kind.key] = department
    province = by_region["320000"]
    for basic in basics:
        yield basic, province[basic.kind.key]
    for level, total in ((LEVEL_CITY, volumes.city_items), (LEVEL_COUNTY, volumes.county_items)):
        regions = sorted(
            code for code, found in by_region.items() if next(iter(found.values())).level == level
        )
        base, extra = divmod(total, len(regions)) if regions else (0, 0)
        for index, region in enumerate(regions):
            present = by_region[region]
            eligible = [basic for basic in basics if basic.kind.key in present]
            eligible.sort(
                key=lambda basic, region=region: hashlib.sha256(
                    f"{region}:{basic.basic_code}".encode()
                ).digest()
            )
            for basic in eligible[: base + (1 if index < extra else 0)]:
                yield basic, present[basic.kind.key]


def _guide(code: str, basic: BasicItem, department: Department, regions: dict) -> dict:
    """The local elements of an implementing item, drawn from its code."""
    rng = random.Random(code)
    modes = ["online"] if rng.random() < 0.9 else []
    if rng.random() < 0.85 or not modes:
        modes.append("window")
    if rng.random() < 0.4:
        modes.append("express")
    statutory = rng.choice((5, 10, 15, 20, 20, 30, 60))
    immediate = basic.type in ("07", "20") and rng.random() < 0.5
    promised = 1 if immediate else max(1, round(statutory * rng.choice((0.3, 0.5, 0.5, 0.7))))
    online = "online" in modes
    visits = 0 if online and rng.random() < 0.6 else (1 if "window" in modes else 0)
    if visits == 0 and not (online or "express" in modes):
        visits = 1
    applicant = "申请人" if "legal_person" not in basic.serves else "申请单位"
    materials = [
        {
            "name": f"{basic.name}申请表",
            "necessity": "required",
            "source": "applicant",
            "copies": 1,
            "original": True,
            "blank_form": f"https://zwfw.jiangsu.gov.cn/forms/{basic.basic_code}.docx",
            "sample": f"https://zwfw.jiangsu.gov.cn/samples/{basic.basic_code}.pdf",
            "acceptance_standard": "填写完整，签字（盖章）清晰",
        },
        {
            "name": "营业执照" if applicant == "申请单位" else "居民身份证",
            "necessity": "required",
            "source": "government",
            "copies": 0,
            "original": False,
            "note": "已实现电子证照共享的免于提交",
        },
    ]
    if rng.random() < 0.5:
        materials.append(
            {
                "name": "授权委托书",
                "necessity": "conditional",
                "copies": 1,
                "original": True,
                "note": "委托代理人办理的提供",
            }
        )
    region = regions[department.region_code]
    return {
        "modes": modes,
        "promised_days": promised,
        "statutory_days": statutory,
        "case_type": "immediate" if immediate else "promised",
        "visits": visits,
        "online_depth": rng.choice((3, 4, 4, 5)) if online else None,
        "limit_unit": "working_days",
        "limit_note": "" if rng.random() < 0.8 else "专家评审、现场核查时间不计入承诺时限",
        "description": f"{region['name']}{department.name}依据{basic.legal_basis[0].law}"
        f"办理{basic.name}。",
        "conditions": [
            f"{applicant}具备相应的主体资格",
            f"{applicant}提交的材料齐全、符合法定形式",
        ],
        "materials": materials,
        "fees": [],
        "process_summary": "申请—受理—审查—决定—送达",
        "place": department.window.address,
        "hours": HOURS,
        "consultation_phone": department.window.phone,
        "complaint_phone": "12345",
        "handled_by": "workflow",
    }


def _derived_item(basic: BasicItem, department: Department, regions: dict) -> Item:
    code = implementing_code(department.uscc, department.level, basic.basic_code)
    requested = {
        "code": code,
        "implementing_code": code,
        "department_code": department.code,
        "department_name": department.name,
        "region_code": department.region_code,
        "level": department.level,
        "store_id": department.store.store_id,
        "window": department.window,
        **_guide(code, basic, department, regions),
    }
    item = Item.create(item_id_for(code), **derived_values(basic, requested))
    item.publish()
    return item


# ----------------------------------------------------------------- loading


def load(uow: CatalogUnitOfWork, volumes: Volumes, report) -> dict[str, int]:
    """Add whatever of the seed's catalogue is missing; returns what was added."""
    added = {"regions": 0, "departments": 0, "basic_items": 0, "items": 0}
    with uow:
        regions = {region.code: region for region in uow.regions.list()}
        # The demo's regions and departments, as the demo loader adds them (the
        # demo's items are left to it).
        for data in [*load_regions(), *counties()]:
            if data["code"] not in regions:
                region = Region.from_dict(data)
                uow.regions.add(region)
                regions[region.code] = region
                added["regions"] += 1
        present = uow.departments.codes()
        for data in load_departments():
            if data["code"] not in present:
                uow.departments.add(Department.from_dict(data))
                added["departments"] += 1
        known = {(d.region_code, d.name): d.code for d in uow.departments.list()}
        uow.commit()
    region_dicts = {
        code: {"name": r.name, "level": r.level, "parent_code": r.parent_code}
        for code, r in regions.items()
    }
    planned = plan_departments(region_dicts, known)

    with uow:
        existing = {d.code: d for d in uow.departments.list()}
        for department in planned:
            if department.code not in existing:
                created = _department(department, region_dicts)
                uow.departments.add(created)
                existing[created.code] = created
                added["departments"] += 1
            elif existing[department.code].uscc is None:
                stored = existing[department.code]
                stored.uscc = department_uscc(stored.code, stored.region_code)
                uow.departments.set_identity(stored)
        uow.commit()
    report(f"departments: {added['departments']} added ({len(planned)} in the seed)")

    basics_planned = plan_basic_items(generated_basic_items(volumes))
    basics: dict[str, BasicItem] = {}
    with uow:
        known_basic = uow.basic_items.codes()
        now = datetime.now(UTC)
        for planned_basic in basics_planned:
            basic = _basic_item(planned_basic)
            basics[basic.basic_code] = basic
            if basic.basic_code not in known_basic:
                uow.basic_items.add(basic, now)
                uow.collect(basic)
                added["basic_items"] += 1
            else:
                basic.events.clear()
        uow.commit()
    report(f"basic items: {added['basic_items']} added ({len(basics_planned)} in the seed)")

    with uow:
        known_codes = set(uow.items.ids_by_code())
    pending: list[Item] = []
    for planned_basic, planned_department in implementers(basics_planned, planned, volumes):
        department = existing[planned_department.code]
        basic = basics[planned_basic.basic_code]
        code = implementing_code(department.uscc, department.level, basic.basic_code)
        if code in known_codes:
            continue
        pending.append(_derived_item(basic, department, region_dicts))
        if len(pending) >= BATCH:
            added["items"] += _insert_items(uow, pending)
            report(f"items: {added['items']} added so far", transient=True)
            pending = []
    if pending:
        added["items"] += _insert_items(uow, pending)
    return added


def _insert_items(uow: CatalogUnitOfWork, items: list[Item]) -> int:
    """One transaction: the items (one multi-row INSERT) and their events."""
    with uow:
        uow.session.execute(
            orm.items.insert(),
            [_row(item) for item in items],
        )
        uow.collect(*items)
        uow.commit()
    return len(items)


def _row(item: Item) -> dict:
    """The item's row, as the repository maps it."""
    return {"item_id": item.item_id, **ItemRepository._values(item)}
