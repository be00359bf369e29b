"""Migration 0005 fills the statistics read model from the items and basic
items already stored, and opens the city stores with their aggregate rating;
down again, the city stores go."""

import json

import sqlalchemy as sa
from alembic import command
from sqlalchemy.orm import sessionmaker

from services.catalog.service_layer import stats, stores
from services.catalog.service_layer.unit_of_work import CatalogUnitOfWork
from services.common.migrations import alembic_config

LAW = [{"law": "《中华人民共和国食品安全法》", "article": "第三十五条"}]


def _catalogue_as_0004_kept_it(engine) -> None:
    with engine.begin() as connection:
        run = lambda sql, **values: connection.execute(sa.text(sql), values)  # noqa: E731
        for code, name, level, parent in [
            ("320000", "江苏省", "province", None),
            ("320100", "南京市", "city", "320000"),
            ("320115", "江宁区", "county", "320100"),
            ("320500", "苏州市", "city", "320000"),
        ]:
            run(
                "INSERT INTO regions (code, name, level, parent_code)"
                " VALUES (:code, :name, :level, :parent)",
                code=code,
                name=name,
                level=level,
                parent=parent,
            )
        for code, region, reviews, praise, grade in [
            ("js-amr", "320000", 9, 1.0, 5.0),
            ("nj-amr", "320100", 3, 1.0, 5.0),
            ("jn-amr", "320115", 1, 0.0, 2.0),
        ]:
            run(
                "INSERT INTO departments (code, name, region_code, level, window_name,"
                " window_address, window_phone, window_postcode) VALUES"
                " (:code, :code, :region, 'city', '窗口', '南京', '025', '210019')",
                code=code,
                region=region,
            )
            run(
                "INSERT INTO stores (store_id, name, department_code, region_code, reviews,"
                " praise_rate, average_grade) VALUES"
                " (:store, '旗舰店', :code, :region, :reviews, :praise, :grade)",
                store=f"store-{code}",
                code=code,
                region=region,
                reviews=reviews,
                praise=praise,
                grade=grade,
            )
        run(
            "INSERT INTO basic_items (basic_code, name, type, legal_basis, department_code,"
            " serves, created_at, updated_at, revision) VALUES ('000117006000', '食品经营许可',"
            " '01', :law, 'js-amr', '[]', '2026-12-01', '2026-12-01', 2)",
            law=json.dumps(LAW),
        )
        for number, (department, region, level, name, modes, status, basic) in enumerate(
            [
                (
                    "nj-amr",
                    "320100",
                    "city",
                    "食品经营许可",
                    ["online"],
                    "published",
                    "000117006000",
                ),
                (
                    "jn-amr",
                    "320115",
                    "county",
                    "食品经营许可证",
                    ["window"],
                    "published",
                    "000117006000",
                ),
                ("jn-amr", "320115", "county", "旧事项", ["window"], "published", None),
                ("nj-amr", "320100", "city", "草稿", ["online"], "draft", None),
            ]
        ):
            run(
                "INSERT INTO items (item_id, code, name, department_code, region_code, level,"
                " status, modes, promised_days, statutory_days, conditions, materials,"
                " legal_basis, joint_departments, handled_by, fees, serves, basic_code, type,"
                " revision) VALUES (:item_id, :item_id, :name, :department, :region, :level,"
                " :status, :modes, 1, 1, '[]', '[]', :law, '[]', 'workflow', '[]', '[]',"
                " :basic, :type, 3)",
                item_id=f"i-{number}",
                name=name,
                department=department,
                region=region,
                level=level,
                status=status,
                modes=json.dumps(modes),
                law=json.dumps(LAW),
                basic=basic,
                type="01" if basic else None,
            )


def test_upgrading_fills_the_statistics_and_opens_the_city_stores(tmp_path):
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    config = alembic_config("catalog", url)
    command.upgrade(config, "0004")
    engine = sa.create_engine(url)
    try:
        _catalogue_as_0004_kept_it(engine)
        command.upgrade(config, "head")
        uow = CatalogUnitOfWork(sessionmaker(bind=engine), source="catalog")

        figures = stats.catalog_stats(uow)
        assert {key: figures[key] for key in ("published", "online", "implemented")} == {
            "published": 3,
            "online": 1,
            "implemented": 1,
        }
        assert figures["basic_items"] == 1
        assert figures["deviating"] == 1  # the county's item names itself differently
        county = next(e for e in figures["by_region"] if e["region_code"] == "320115")
        assert (county["published"], county["implemented"], county["deviating"]) == (2, 1, 1)
        with uow:
            assert uow.catalogue.item("i-0").revision == 3

        assert stores.get_store(uow, "store-city-320100") == {
            "store_id": "store-city-320100",
            "name": "南京市旗舰店",
            "kind": "city",
            "department_code": None,
            "region_code": "320100",
            "rating": {"reviews": 4, "praise_rate": 0.75, "average_grade": 4.25},
        }
        assert stores.get_store(uow, "store-city-320500")["rating"]["reviews"] == 0
        assert stores.get_store(uow, "store-js-amr")["kind"] == "department"

        command.downgrade(config, "0004")
        with engine.connect() as connection:
            kept = connection.execute(sa.text("SELECT store_id FROM stores ORDER BY 1")).scalars()
            assert list(kept) == ["store-jn-amr", "store-js-amr", "store-nj-amr"]
    finally:
        engine.dispose()
