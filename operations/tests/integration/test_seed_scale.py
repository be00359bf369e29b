"""The seed's loader at a thousandth of its volumes, on PostgreSQL."""

import json

import pytest
import sqlalchemy as sa

from operations.seed_scale import NotPostgres, require_postgres, seed
from operations.seed_scale import identity as seeded_citizens
from operations.seed_scale.volumes import Volumes
from services.catalog.domain.basic import LEVEL_DIGITS
from services.common import uscc
from services.common.config import load_config
from services.common.pii import cipher_from_config
from services.identity.domain.id_numbers import validate_id_number

SCALE = 0.001
PARTS = ("catalog", "identity", "courier")


def test_sqlite_is_refused_naming_database_url():
    with pytest.raises(NotPostgres, match="DATABASE_URL"):
        require_postgres("catalog", "sqlite:///var/catalog.db")


def test_volumes_scale_down():
    volumes = Volumes.at(SCALE)
    assert (volumes.basic_items, volumes.city_items, volumes.county_items) == (1, 13, 61)
    assert (volumes.citizens, volumes.real_named, volumes.shipments) == (1090, 610, 270)
    assert Volumes.at(1).citizens == 1_090_000
    with pytest.raises(ValueError):
        Volumes.at(0)


@pytest.fixture(scope="module")
def seeded(database_factory):
    urls = {part: database_factory(f"seed_{part}") for part in PARTS}
    if not urls["catalog"].startswith("postgresql"):
        pytest.skip("the seed loads PostgreSQL only")
    first = seed(urls, Volumes.at(SCALE), PARTS, report=lambda text, transient=False: None)
    second = seed(urls, Volumes.at(SCALE), PARTS, report=lambda text, transient=False: None)
    engines = {part: sa.create_engine(url) for part, url in urls.items()}
    yield {"first": first, "second": second, "engines": engines}
    for engine in engines.values():
        engine.dispose()


def _rows(engine, query: str, **params):
    with engine.connect() as connection:
        return connection.execute(sa.text(query), params).mappings().all()


def test_first_run_adds_the_volumes(seeded):
    added = {outcome.part: outcome.added for outcome in seeded["first"]}
    assert added["catalog"]["basic_items"] == 1
    assert added["catalog"]["items"] == 1 + 13 + 61
    assert added["identity"] == {"citizens": 1090}
    assert added["courier"]["shipments"] == 270
    assert added["courier"]["tracking_events"] > 270


def test_second_run_adds_nothing(seeded):
    for outcome in seeded["second"]:
        assert not any(outcome.added.values()), outcome
        assert "nothing to add" in outcome.line()


def test_items_keep_three_levels_four_sames(seeded):
    catalog = seeded["engines"]["catalog"]
    items = _rows(
        catalog,
        "SELECT i.name, i.type, i.legal_basis::text AS legal_basis, i.level, i.status,"
        " i.implementing_code, i.code, i.basic_code, d.uscc, b.name AS basic_name,"
        " b.type AS basic_type, b.legal_basis::text AS basic_legal_basis"
        " FROM items i JOIN basic_items b USING (basic_code)"
        " JOIN departments d ON d.code = i.department_code",
    )
    assert {level: sum(1 for i in items if i["level"] == level) for level in LEVEL_DIGITS} == {
        "province": 1,
        "city": 13,
        "county": 61,
    }
    for item in items:
        assert (item["name"], item["type"], item["legal_basis"]) == (
            item["basic_name"],
            item["basic_type"],
            item["basic_legal_basis"],
        )
        assert item["status"] == "published"
        assert uscc.is_uscc(item["uscc"])
        expected = item["uscc"] + LEVEL_DIGITS[item["level"]] + item["basic_code"]
        assert item["implementing_code"] == item["code"] == expected
    assert len({item["implementing_code"] for item in items}) == len(items)


def test_every_item_and_basic_item_has_its_event_in_the_outbox(seeded):
    catalog = seeded["engines"]["catalog"]
    published = _rows(
        catalog,
        "SELECT envelope::text AS envelope FROM outbox WHERE event_type = 'item_published'",
    )
    item_ids = {row["item_id"] for row in _rows(catalog, "SELECT item_id FROM items")}
    payloads = [json.loads(row["envelope"])["payload"] for row in published]
    assert {payload["item_id"] for payload in payloads} == item_ids
    assert len(payloads) == len(item_ids)
    assert all(payload["basic_code"] for payload in payloads)
    basic = _rows(
        catalog, "SELECT count(*) AS n FROM outbox WHERE event_type = :t", t="basic_item_published"
    )
    assert basic[0]["n"] == 1


def test_citizens_are_stored_as_identity_stores_them(seeded):
    engine = seeded["engines"]["identity"]
    rows = _rows(
        engine,
        "SELECT user_id, phone, assurance_level, id_number_hash, id_number_cipher,"
        " id_number_masked, password_hash FROM users WHERE phone LIKE '166%' ORDER BY phone",
    )
    assert len(rows) == 1090
    verified = [row for row in rows if row["assurance_level"] == 2]
    assert len(verified) == 610
    assert len({row["password_hash"] for row in rows}) == 1
    cipher = cipher_from_config(load_config())
    for row in verified[:50]:
        number = cipher.decrypt(row["id_number_cipher"], associated_data=row["user_id"])
        assert validate_id_number(number) == number
        assert cipher.keyed_hash(number) == row["id_number_hash"]
        assert row["id_number_masked"][-4:] == number[-4:]
    assert rows[0]["user_id"] == seeded_citizens.user_id(0)


def test_shipments_have_tracking_that_matches_their_status(seeded):
    engine = seeded["engines"]["courier"]
    rows = _rows(
        engine,
        "SELECT s.status, count(e.id) AS scans, max(e.status) FILTER"
        " (WHERE e.occurred_at = (SELECT max(occurred_at) FROM tracking_events"
        " WHERE shipment_id = s.shipment_id)) AS last"
        " FROM shipments s LEFT JOIN tracking_events e USING (shipment_id)"
        " GROUP BY s.shipment_id, s.status",
    )
    assert len(rows) == 270
    for row in rows:
        if row["status"] == "created":
            assert row["scans"] == 0
        else:
            assert row["last"] == row["status"]
    assert sum(row["status"] == "delivered" for row in rows) > 200
