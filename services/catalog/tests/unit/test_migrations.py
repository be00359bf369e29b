"""The Alembic migrations build exactly the tables the code declares (SQLite),
0002 carries a store's rating from the counts catalog kept to the figures
ratings announces, and 0003 turns a free-text fee into fees in fen."""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.orm import sessionmaker

from services.catalog.adapters.orm import metadata
from services.catalog.domain.model import StoreRating
from services.catalog.service_layer.unit_of_work import CatalogUnitOfWork
from services.common.migrations import alembic_config


def test_migrations_match_the_tables_and_go_down_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    config = alembic_config("catalog", url)

    command.upgrade(config, "head")
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), metadata) == []
        command.downgrade(config, "base")
        assert sa.inspect(engine).get_table_names() == ["alembic_version"]
    finally:
        engine.dispose()


def _stores_as_0001_kept_them(engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO regions (code, name, level) VALUES ('320000', '江苏省', 'province')"
            )
        )
        for code in ("js-amr", "js-ga"):
            connection.execute(
                sa.text(
                    "INSERT INTO departments (code, name, region_code, level, window_name,"
                    " window_address, window_phone, window_postcode) VALUES"
                    " (:code, :code, '320000', 'province', '窗口', '南京', '025', '210019')"
                ),
                {"code": code},
            )
        connection.execute(
            sa.text(
                "INSERT INTO stores (store_id, name, department_code, region_code, reviews,"
                " praise_count, grade_sum) VALUES"
                " ('store-js-amr', '旗舰店', 'js-amr', '320000', 3, 2, 11),"
                " ('store-js-ga', '旗舰店', 'js-ga', '320000', 0, 0, 0)"
            )
        )


def test_a_rated_store_keeps_its_figures_and_gets_them_back_down_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    config = alembic_config("catalog", url)
    engine = sa.create_engine(url)
    try:
        command.upgrade(config, "0001")
        _stores_as_0001_kept_them(engine)

        command.upgrade(config, "head")
        uow = CatalogUnitOfWork(sessionmaker(bind=engine), source="catalog")
        with uow:
            rated, unrated = uow.stores.get("store-js-amr"), uow.stores.get("store-js-ga")
        # 2/3 and 11/3, rounded half up as ratings rounds them
        assert rated.rating == StoreRating(3, 0.6667, 3.67)
        assert unrated.rating == StoreRating()
        assert rated.rating_as_of is unrated.rating_as_of is None

        with uow:
            rated.rate(StoreRating(4, 0.75, 4.0), datetime(2026, 12, 9, 2, tzinfo=UTC))
            uow.stores.save_rating(rated)
            uow.commit()
        with uow:
            assert uow.stores.get("store-js-amr").rating_as_of == datetime(
                2026, 12, 9, 2, tzinfo=UTC
            )

        command.downgrade(config, "0001")
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT store_id, reviews, praise_count, grade_sum FROM stores")
            ).all()
        assert sorted(rows) == [("store-js-amr", 4, 3, 16), ("store-js-ga", 0, 0, 0)]
    finally:
        engine.dispose()


def _items_as_0001_kept_them(engine) -> None:
    _stores_as_0001_kept_them(engine)
    with engine.begin() as connection:
        for code, fees in (("F", "免费"), ("P", "120元/本"), ("S", "按标准收取"), ("E", "")):
            connection.execute(
                sa.text(
                    "INSERT INTO items (item_id, code, name, department_code, region_code, level,"
                    " status, modes, promised_days, statutory_days, conditions, materials, fees,"
                    " legal_basis, joint_departments, handled_by) VALUES (:code, :code, :code,"
                    " 'js-ga', '320000', 'province', 'published', '[]', 1, 1, '[]', '[]', :fees,"
                    " '[]', '[]', 'workflow')"
                ),
                {"code": code, "fees": fees},
            )


def test_a_fee_line_becomes_a_list_of_fees_in_fen_and_a_line_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    config = alembic_config("catalog", url)
    engine = sa.create_engine(url)
    try:
        command.upgrade(config, "0001")
        _items_as_0001_kept_them(engine)

        command.upgrade(config, "head")
        uow = CatalogUnitOfWork(sessionmaker(bind=engine), source="catalog")
        with uow:
            fees = {code: uow.items.get(code).fees for code in ("F", "P", "S", "E")}
            department = uow.departments.get("js-ga")
        assert fees["F"] == fees["E"] == []
        assert [(f.amount_fen, f.standard) for f in fees["P"]] == [(12000, "120元/本")]
        assert [(f.amount_fen, f.standard) for f in fees["S"]] == [(0, "按标准收取")]
        assert (department.kind, department.uscc) == ("department", None)

        command.downgrade(config, "0002")
        with engine.connect() as connection:
            rows = dict(connection.execute(sa.text("SELECT code, fees FROM items")).all())
        assert rows == {"F": "免费", "E": "免费", "P": "收费120元", "S": "收费0元"}
    finally:
        engine.dispose()
