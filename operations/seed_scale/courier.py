"""The seed's EMS shipments: 270,000 waybills between departments' windows and
real-named citizens in Jiangsu, with their tracking scans, loaded with COPY a
chunk at a time.

Most were delivered long ago; a few failed (as the EMS simulator words it) and
a few hundred are still on the way. Everything follows from the shipment's
number (ids, S10 tracking numbers with the EC prefix, which the simulator does
not issue), so a second run skips every chunk in place. The seed is history:
no courier event is recorded for it.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from services.courier.domain.tracking_numbers import make_tracking_number

from . import identity
from .volumes import Volumes

CHUNK = 50_000
TRACKING_PREFIX = "EC"
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:tongban:seed:shipment")
# The seed's "now": shipments still on the way were made in the days before it.
AS_OF = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
_FIRST = AS_OF - timedelta(days=730)
_STREETS = ("人民路", "中山路", "解放路", "建设路", "和平路", "长江路", "文化路", "新华路")
_KINDS = ("amr", "ga", "rs", "mz", "zjt", "wjw", "zrzy", "jt", "yb", "cl")
# (share out of 1000, status), by rank.
_STATUSES = (
    (920, "delivered"),
    (940, "failed"),
    (955, "out_for_delivery"),
    (975, "in_transit"),
    (985, "picked_up"),
    (995, "accepted"),
    (1000, "created"),
)
_FAILURES = ("地址无法投递", "收件人拒收", "邮件已退回寄件人", "邮件丢失")
_SHIPMENT_COLUMNS = (
    "shipment_id",
    "application_id",
    "applicant_id",
    "department_code",
    "direction",
    "sender",
    "recipient",
    "tracking_no",
    "status",
    "created_at",
    "attempt",
)
_EVENT_COLUMNS = ("shipment_id", "status", "occurred_at", "location", "description")


def shipment_id(number: int) -> str:
    return uuid.uuid5(_NAMESPACE, str(number)).hex


def status_of(number: int) -> str:
    share = number * 7919 % 1000
    return next(status for limit, status in _STATUSES if share < limit)


def _address(name: str, phone: str, city: dict, county: dict, number: int) -> dict:
    return {
        "name": name,
        "phone": phone,
        "province": "江苏省",
        "city": city["name"],
        "district": county["name"],
        "street": f"{_STREETS[number % len(_STREETS)]}{number % 300 + 1}号",
        "postcode": city["postcode"],
    }


def _scans(status: str, sender: dict, recipient: dict, start: datetime, number: int) -> list:
    at = [start + timedelta(hours=hours) for hours in (1, 5, 20, 40, 44)]
    steps = [
        (
            "accepted",
            f"{sender['city']}{sender['district']}",
            "EMS已受理寄件订单，等待揽投员上门揽收",
        ),
        ("picked_up", f"{sender['city']}{sender['district']}", "揽投员已揽收"),
        (
            "in_transit",
            f"{sender['city']}邮件处理中心",
            f"离开{sender['city']}邮件处理中心，发往{recipient['city']}",
        ),
        ("out_for_delivery", f"{recipient['city']}{recipient['district']}", "揽投员正在派送"),
        ("delivered", f"{recipient['city']}{recipient['district']}", "已签收，收件人本人签收"),
    ]
    if status == "created":
        return []
    if status == "failed":
        reason = _FAILURES[number % len(_FAILURES)]
        done = steps[:4]
        return [*zip(at, done, strict=False), (at[4], ("failed", done[-1][1], reason))]
    reached = [step[0] for step in steps].index(status) + 1
    return list(zip(at, steps[:reached], strict=False))


def _line(values) -> str:
    return "\t".join("\\N" if value is None else str(value) for value in values) + "\n"


def _rows(numbers: range, places: list[tuple[dict, dict]], citizens: int):
    shipments, events = io.StringIO(), io.StringIO()
    for number in numbers:
        status = status_of(number)
        city, county = places[number % len(places)]
        # A real-named citizen: the k-th of them is number (k // 61) * 109 + k % 61.
        k = number * 37 % max(1, citizens * 61 // 109)
        citizen = k // 61 * 109 + k % 61
        applicant = _address(identity.name(citizen), identity.phone(citizen), city, county, number)
        department = f"{county['code']}-{_KINDS[number % len(_KINDS)]}"
        window = {
            **_address(f"{county['name']}政务服务中心", city["phone"], city, county, number // 7),
            "street": "政务服务中心一楼EMS专窗",
        }
        result = number % 5 != 0
        sender, recipient = (window, applicant) if result else (applicant, window)
        if status in ("delivered", "failed"):
            created = _FIRST + timedelta(minutes=number * 3889 % (700 * 24 * 60))
        else:
            created = AS_OF - timedelta(hours=number % 40 + 1)
        own_id = shipment_id(number)
        shipments.write(
            _line(
                (
                    own_id,
                    uuid.uuid5(_NAMESPACE, f"application:{number}").hex,
                    identity.user_id(citizen),
                    department,
                    "result" if result else "materials",
                    json.dumps(sender, ensure_ascii=False),
                    json.dumps(recipient, ensure_ascii=False),
                    make_tracking_number(number, TRACKING_PREFIX),
                    status,
                    created.isoformat(),
                    1,
                )
            )
        )
        for occurred, (scan, location, description) in _scans(
            status, sender, recipient, created, number
        ):
            events.write(_line((own_id, scan, occurred.isoformat(), location, description)))
    shipments.seek(0)
    events.seek(0)
    return shipments, events


def places(regions: dict[str, dict], counties: list[dict], contacts: dict) -> list:
    """(city, county) pairs, the city with its postcode and a window phone."""
    found = []
    for county in counties:
        code = county["parent_code"]
        area, postcode = contacts[code]
        city = {"name": regions[code]["name"], "postcode": postcode, "phone": f"{area}-12345678"}
        found.append((city, county))
    return found


def load(engine, volumes: Volumes, pairs: list, report: Callable) -> dict[str, int]:
    """Add the shipments not in the database yet, with their scans."""
    added = {"shipments": 0, "tracking_events": 0}
    connection = engine.raw_connection()
    try:
        for start in range(0, volumes.shipments, CHUNK):
            numbers = range(start, min(start + CHUNK, volumes.shipments))
            ids = [shipment_id(number) for number in numbers]
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM shipments WHERE shipment_id = ANY(%s)", (ids,))
                present = cursor.fetchone()[0]
                if present == len(ids):
                    continue
                shipments, events = _rows(numbers, pairs, volumes.citizens)
                cursor.execute(
                    "CREATE TEMP TABLE seed_shipments (LIKE shipments INCLUDING DEFAULTS) "
                    "ON COMMIT DROP"
                )
                cursor.execute(
                    "CREATE TEMP TABLE seed_scans ON COMMIT DROP AS "
                    "SELECT shipment_id, status, occurred_at, location, description "
                    "FROM tracking_events WITH NO DATA"
                )
                cursor.copy_expert(
                    f"COPY seed_shipments ({', '.join(_SHIPMENT_COLUMNS)}) FROM STDIN", shipments
                )
                cursor.copy_expert(
                    f"COPY seed_scans ({', '.join(_EVENT_COLUMNS)}) FROM STDIN", events
                )
                columns = ", ".join(_SHIPMENT_COLUMNS)
                scan_columns = ", ".join(_EVENT_COLUMNS)
                # Column names are this module's constants.
                cursor.execute(
                    f"WITH added AS (INSERT INTO shipments ({columns}) "  # noqa: S608
                    f"SELECT {columns} FROM seed_shipments ON CONFLICT DO NOTHING "
                    "RETURNING shipment_id) "
                    f"INSERT INTO tracking_events ({scan_columns}) "
                    f"SELECT {', '.join('s.' + c for c in _EVENT_COLUMNS)} FROM seed_scans s "
                    "JOIN added USING (shipment_id) ORDER BY s.shipment_id, s.occurred_at"
                )
                added["tracking_events"] += cursor.rowcount
                cursor.execute("SELECT count(*) FROM shipments WHERE shipment_id = ANY(%s)", (ids,))
                added["shipments"] += cursor.fetchone()[0] - present
            connection.commit()
            report(f"shipments: {added['shipments']} added so far", transient=True)
    finally:
        connection.close()
    return added
