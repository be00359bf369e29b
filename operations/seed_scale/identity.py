"""The seed's citizens: 1.09 million registered accounts, 0.61 million of them
real-named (61 of every 109), loaded with COPY a chunk at a time.

Ids, phones (166 + eight digits), names and ID numbers follow from the
citizen's number, so a second run finds every chunk in place and skips it. ID
numbers are kept as identity keeps them: the keyed hash, the AES-GCM ciphertext
bound to the user id and the masked form. Every seeded citizen has the same
password, :data:`PASSWORD`, hashed once with identity's hasher and settings.
The seed is history: no user_registered or user_verified event is recorded
(nothing consumes them).
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from services.common.masking import mask_id_number
from services.identity.adapters.crypto_context import CryptoContext
from services.identity.domain.id_numbers import id_number_check_char

from .volumes import Volumes

# Every seeded citizen's password (the README says so): one hash for them all.
PASSWORD = "Citizen2026"  # noqa: S105
PHONE_PREFIX = "166"
CHUNK = 100_000
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:tongban:seed:citizen")
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国红梅文斌辉鹏宇浩晨欣怡思雨子涵嘉琪佳"
_FIRST_BIRTH = date(1950, 1, 1)
_REGISTERED_FROM = datetime(2019, 1, 1, tzinfo=UTC)
_COLUMNS = (
    "user_id",
    "phone",
    "name",
    "kind",
    "password_hash",
    "created_at",
    "assurance_level",
    "id_number_hash",
    "id_number_cipher",
    "id_number_masked",
    "roles",
    "department_code",
)


def user_id(number: int) -> str:
    return uuid.uuid5(_NAMESPACE, str(number)).hex


def phone(number: int) -> str:
    return f"{PHONE_PREFIX}{number:08d}"


def is_real_named(number: int) -> bool:
    """61 of every 109 citizens: 0.61 of 1.09 million."""
    return number % 109 < 61


def name(number: int) -> str:
    surname = _SURNAMES[number % len(_SURNAMES)]
    rest = number // len(_SURNAMES)
    given = _GIVEN[rest % len(_GIVEN)]
    if rest // len(_GIVEN) % 3:
        given += _GIVEN[(rest // len(_GIVEN)) % len(_GIVEN)]
    return surname + given


def id_number(number: int, counties: list[str]) -> str:
    """A valid resident ID number, different for every citizen number: the
    county, the birth day and the sequence follow from the number."""
    place, rest = number % len(counties), number // len(counties)
    born = _FIRST_BIRTH + timedelta(days=rest % 20_000)
    first17 = f"{counties[place]}{born:%Y%m%d}{rest // 20_000 % 1000:03d}"
    return first17 + id_number_check_char(first17)


def _line(values) -> str:
    return "\t".join("\\N" if value is None else str(value) for value in values) + "\n"


def _rows(
    numbers: range, password_hash: str, crypto: CryptoContext, counties: list[str]
) -> io.StringIO:
    buffer = io.StringIO()
    roles = json.dumps([])
    for number in numbers:
        owner = user_id(number)
        created = _REGISTERED_FROM + timedelta(minutes=number * 3 % (7 * 365 * 24 * 60))
        if is_real_named(number):
            id_no = id_number(number, counties)
            pii = crypto.pii_for(owner)
            identity = (2, pii.keyed_hash(id_no), pii.encrypt(id_no), mask_id_number(id_no))
        else:
            identity = (1, None, None, None)
        values = (owner, phone(number), name(number), "citizen", password_hash, created.isoformat())
        buffer.write(_line((*values, *identity, roles, None)))
    buffer.seek(0)
    return buffer


def load(engine, volumes: Volumes, config: dict, counties: list[str], report: Callable) -> int:
    """Add the citizens not in the database yet; returns how many were added."""
    crypto = CryptoContext.from_config(config)
    password_hash = None
    added = 0
    connection = engine.raw_connection()
    try:
        for start in range(0, volumes.citizens, CHUNK):
            numbers = range(start, min(start + CHUNK, volumes.citizens))
            ids = [user_id(number) for number in numbers]
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM users WHERE user_id = ANY(%s)", (ids,))
                if cursor.fetchone()[0] == len(ids):
                    continue
                if password_hash is None:
                    password_hash = crypto.hasher.hash(PASSWORD)
                cursor.execute(
                    "CREATE TEMP TABLE seed_users (LIKE users INCLUDING DEFAULTS) ON COMMIT DROP"
                )
                cursor.copy_expert(
                    f"COPY seed_users ({', '.join(_COLUMNS)}) FROM STDIN",
                    _rows(numbers, password_hash, crypto, counties),
                )
                # Column names are this module's constants.
                cursor.execute(
                    f"INSERT INTO users ({', '.join(_COLUMNS)}) "  # noqa: S608
                    f"SELECT {', '.join(_COLUMNS)} FROM seed_users ON CONFLICT DO NOTHING"
                )
                added += cursor.rowcount
            connection.commit()
            report(f"citizens: {added} added so far", transient=True)
    finally:
        connection.close()
    return added
