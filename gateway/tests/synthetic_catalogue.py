"""A province-sized catalogue in memory, as catalog's events carry it.

``regions()`` is a province with 13 cities and about 96 counties;
``payloads(total)`` yields ``item_published`` payloads shaped like the seed's
三级四同 catalogue: 1,327 basic items implemented at the province, in every city
and in most counties (the same name, type and basic code at every level; the
description shared too, with a few local variants). Deterministic for a given
``total``. Used by the search index's tests and its in-process measurement
(``python -m gateway.tests.measure_search``).
"""

from __future__ import annotations

import random
from collections.abc import Iterator

PROVINCE = "320000"
CITIES = 13
COUNTIES_PER_CITY = (11, 9, 6, 7, 10, 6, 5, 9, 7, 6, 6, 5, 9)  # 96 counties in all
BASIC_ITEMS = 1327

OBJECTS = (
    "营业执照",
    "食品经营许可证",
    "食品生产许可证",
    "药品经营许可证",
    "居民身份证",
    "驾驶证",
    "行驶证",
    "普通护照",
    "往来港澳通行证",
    "居住证",
    "社会保障卡",
    "住房公积金",
    "户籍",
    "排污许可证",
    "建设工程规划许可证",
    "建筑工程施工许可证",
    "不动产权证书",
    "医师执业证书",
    "教师资格证",
    "道路运输经营许可证",
    "危险化学品经营许可证",
    "烟草专卖零售许可证",
    "出生医学证明",
    "残疾人证",
    "老年人优待证",
    "失业保险金",
    "基本养老保险",
    "医疗保险",
    "人力资源服务许可证",
    "采矿许可证",
    "取水许可证",
    "林木采伐许可证",
    "渔业捕捞许可证",
    "特种设备使用登记证",
    "消防安全检查合格证",
    "公共场所卫生许可证",
    "结婚登记",
    "离婚登记",
    "收养登记",
    "社会团体登记证书",
    "民办非企业单位登记证书",
    "个体工商户营业执照",
)
ACTIONS = (
    "核发",
    "变更",
    "延续",
    "注销",
    "补领",
    "换领",
    "设立登记",
    "变更登记",
    "注销登记",
    "审批",
    "备案",
    "申领",
    "迁入",
    "迁出",
    "查询",
    "证明开具",
    "年度报告",
    "信息修改",
    "首次申领",
    "遗失补办",
    "到期换证",
    "转移登记",
    "抵押登记",
    "签注",
)
QUALIFIERS = ("", "", "", "（个人）", "（企业）", "（涉外）", "（电子证照）", "（港澳台居民）")
TYPES = ("01", "01", "01", "07", "20", "20", "05", "04", "06", "10")
MODE_SETS = (("online", "express", "window"), ("online", "window"), ("window",), ("online",))
SERVES = (("natural_person",), ("legal_person",), ("natural_person", "legal_person"))
CLAUSES = (
    "申请人应当提交完整的申请材料",
    "符合法定条件的当场办理",
    "材料齐全的予以受理",
    "可通过政务服务网在线申请",
    "依法在规定期限内作出决定",
    "办理结果可邮寄送达",
    "已实现电子证照共享的可免于提交",
    "涉及现场核查的另行通知",
    "不收取任何费用",
)


def regions() -> list[dict]:
    """The province, its cities (3201..3213) and their counties, as ``list_regions`` answers."""
    out = [{"code": PROVINCE, "name": "江苏省", "level": "province", "parent_code": None}]
    for city_number, counties in enumerate(COUNTIES_PER_CITY, start=1):
        city = f"32{city_number:02d}00"
        out.append(
            {"code": city, "name": f"市{city_number}", "level": "city", "parent_code": PROVINCE}
        )
        for county in range(1, counties + 1):
            code = f"32{city_number:02d}{county + 1:02d}"
            out.append({"code": code, "name": f"县{code}", "level": "county", "parent_code": city})
    return out


def basic_items(rng: random.Random) -> list[dict]:
    names, out = set(), []
    while len(out) < BASIC_ITEMS:
        name = rng.choice(OBJECTS) + rng.choice(ACTIONS) + rng.choice(QUALIFIERS)
        if name in names:
            continue
        names.add(name)
        number = len(out) + 1
        out.append(
            {
                "basic_code": f"{rng.randrange(10**11, 10**12)}",
                "name": name,
                "name_en": f"Service item {number}",
                "type": rng.choice(TYPES),
                "serves": list(rng.choice(SERVES)),
                "description": f"{name}：" + "，".join(rng.sample(CLAUSES, 4)) + "。",
                "department": f"d{number % 41:02d}",
            }
        )
    return out


def payloads(total: int = 75_000, seed: int = 13) -> Iterator[dict]:
    """``total`` item_published payloads: every basic item at the province, each
    city and county implementing a share of them (more than one implementation
    of a basic item in a place once every place holds them all)."""
    rng = random.Random(seed)
    basics = basic_items(rng)
    places = [(r["code"], r["level"]) for r in regions()]
    share = min(1.0, max(0, total - len(basics)) / ((len(places) - 1) * len(basics)))
    made = 0
    for place, level in places:
        for basic in basics:
            if made >= total:
                return
            if level != "province" and rng.random() >= share:
                continue
            made += 1
            yield _payload(rng, basic, place, level, made)
    while made < total:
        place, level = rng.choice(places[1:])
        made += 1
        yield _payload(rng, rng.choice(basics), place, level, made)


def _payload(rng: random.Random, basic: dict, place: str, level: str, number: int) -> dict:
    department = f"{basic['department']}-{place}"
    description = basic["description"]
    if rng.random() < 0.05:
        description = description + f"（本地：{place}）"
    code = f"{place}-{basic['basic_code']}-{number:06d}"
    modes = list(rng.choice(MODE_SETS))
    return {
        "item_id": f"{number:032x}",
        "code": code,
        "name": basic["name"],
        "name_en": basic["name_en"],
        "department_code": department,
        "department_name": f"部门{department}",
        "region_code": place,
        "level": level,
        "modes": modes,
        "promised_days": rng.randint(1, 20),
        "status": "published",
        "transferred_from": None,
        "fees": [],
        "licence_type": None,
        "basic_code": basic["basic_code"],
        "implementing_code": f"11{place}MB0000000{level[0]}{basic['basic_code']}",
        "type": basic["type"],
        "case_type": "promised",
        "serves": basic["serves"],
        "visits": 0 if "window" not in modes else 1,
        "online_depth": 4,
        "description": description,
        "legal_basis": [{"law": "《中华人民共和国行政许可法》", "article": "第十二条"}],
        "statutory_days": 20,
        "joint_departments": [],
        "window": None,
        "handled_by": "workflow",
        "store_id": f"store-{department}",
        "revision": 1,
    }
