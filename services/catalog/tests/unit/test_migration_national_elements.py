"""Migration 0004 gives existing items the national elements: a legal basis
line becomes {law, article}, visits follow the window, and down again the
references become lines."""

import json

import sqlalchemy as sa
from alembic import command
from sqlalchemy.orm import sessionmaker

from services.catalog.domain.basic import LegalReference
from services.catalog.service_layer.unit_of_work import CatalogUnitOfWork
from services.common.migrations import alembic_config

from .test_migrations import _stores_as_0001_kept_them

LINES = ["《中华人民共和国护照法》第十条", "《中华人民共和国出境入境管理法》", "公安部有关规定"]


def test_legal_basis_lines_become_references_and_lines_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    config = alembic_config("catalog", url)
    engine = sa.create_engine(url)
    try:
        command.upgrade(config, "0001")
        _stores_as_0001_kept_them(engine)
        command.upgrade(config, "0003")
        with engine.begin() as connection:
            for code, modes in (("W", ["window", "online"]), ("O", ["online"])):
                connection.execute(
                    sa.text(
                        "INSERT INTO items (item_id, code, name, department_code, region_code,"
                        " level, status, modes, promised_days, statutory_days, conditions,"
                        " materials, fees, legal_basis, joint_departments, handled_by) VALUES"
                        " (:code, :code, :code, 'js-ga', '320000', 'province', 'published',"
                        " :modes, 1, 1, '[]', :materials, '[]', :basis, '[]', 'workflow')"
                    ),
                    {
                        "code": code,
                        "modes": json.dumps(modes),
                        "materials": json.dumps(
                            [{"name": "申请表", "copies": 1, "original": True, "note": ""}]
                        ),
                        "basis": json.dumps(LINES, ensure_ascii=False),
                    },
                )

        command.upgrade(config, "0004")
        uow = CatalogUnitOfWork(sessionmaker(bind=engine), source="catalog")
        with uow:
            window, online = uow.items.get("W"), uow.items.get("O")
        assert window.legal_basis == [
            LegalReference("《中华人民共和国护照法》", "第十条"),
            LegalReference("《中华人民共和国出境入境管理法》", ""),
            LegalReference("公安部有关规定", ""),
        ]
        assert (window.visits, online.visits) == (1, 0)
        assert (window.basic_code, window.implementing_code, window.type) == (None, None, None)
        assert (window.serves, window.revision, window.case_type) == ([], 1, "promised")
        assert window.materials[0].necessity == "required"

        command.downgrade(config, "0003")
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT legal_basis FROM items")).scalars().all()
        assert [json.loads(row) if isinstance(row, str) else row for row in rows] == [LINES] * 2
    finally:
        engine.dispose()
