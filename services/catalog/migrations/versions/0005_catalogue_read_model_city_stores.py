"""The catalogue statistics read model; city stores.

The statistics are read from tables kept by catalog's own events: the facts
of each item and basic item at the highest revision seen, and counters per
scope ("all", "level:<level>", "region:<code>"). Upgrading fills them from the
items and basic items already stored, so the statistics are right at once.

Stores get a kind ("department" or "city") and may have no department (a
city's store); every city gets its flagship store ``store-city-<code>``
showing the aggregate of the stores of the departments seated in the city or
its counties. Down again, the city stores go.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEVELS = ("province", "city", "county")


def _legal_basis_key(value) -> tuple:
    references = []
    for reference in value or ():
        if isinstance(reference, dict):
            references.append((str(reference.get("law", "")), str(reference.get("article", ""))))
        else:
            references.append((str(reference), ""))
    return tuple(references)


def _columns(bind, table: str) -> set[str]:
    inspector = sa.inspect(bind)
    if table not in inspector.get_table_names():
        return set()
    return {column["name"] for column in inspector.get_columns(table)}


def _fill_read_model(bind) -> None:
    item_columns = _columns(bind, "items")
    basic_columns = _columns(bind, "basic_items")
    items = sa.table(
        "items",
        *(
            sa.column(name, sa.JSON if name in ("modes", "legal_basis") else sa.String)
            for name in item_columns
        ),
    )
    basics = {}
    if basic_columns:
        basic_items = sa.table(
            "basic_items",
            *(
                sa.column(name, sa.JSON if name == "legal_basis" else sa.String)
                for name in basic_columns
            ),
        )
        for row in bind.execute(sa.select(basic_items)).mappings():
            basics[row["basic_code"]] = {
                "basic_code": row["basic_code"],
                "revision": int(row.get("revision") or 1),
                "name": row["name"],
                "type": row.get("type"),
                "legal_basis": list(row.get("legal_basis") or []),
            }
    if basics:
        op.bulk_insert(BASIC_FACTS, list(basics.values()))

    facts = []
    counts: dict[str, dict] = {}
    implemented: dict[str, set] = {}
    for row in bind.execute(sa.select(items)).mappings():
        published = row["status"] == "published"
        basic_code = row.get("basic_code")
        legal_basis = _legal_basis_key(row.get("legal_basis"))
        basic = basics.get(basic_code) if basic_code else None
        deviating = basic is not None and (row["name"], row.get("type"), legal_basis) != (
            basic["name"],
            basic["type"],
            _legal_basis_key(basic["legal_basis"]),
        )
        online = any(mode in ("online", "express") for mode in row["modes"] or ())
        facts.append(
            {
                "item_id": row["item_id"],
                "revision": int(row.get("revision") or 1),
                "published": published,
                "region_code": row["region_code"],
                "level": row["level"],
                "online": online,
                "basic_code": basic_code,
                "name": row["name"],
                "type": row.get("type"),
                "legal_basis": [{"law": law, "article": article} for law, article in legal_basis],
                "deviating": deviating,
            }
        )
        if not published:
            continue
        for scope in ("all", f"level:{row['level']}", f"region:{row['region_code']}"):
            entry = counts.setdefault(
                scope, {"published": 0, "online": 0, "implemented": 0, "deviating": 0}
            )
            entry["published"] += 1
            entry["online"] += online
            entry["deviating"] += deviating
            if basic_code:
                implemented.setdefault(scope, set()).add(basic_code)
    if facts:
        op.bulk_insert(ITEM_FACTS, facts)
    counts.setdefault("all", {"published": 0, "online": 0, "implemented": 0, "deviating": 0})
    for scope, basic_codes in implemented.items():
        counts[scope]["implemented"] = len(basic_codes)
    op.bulk_insert(COUNTS, [{"scope": scope, **entry} for scope, entry in sorted(counts.items())])


def _open_city_stores(bind) -> None:
    regions = bind.execute(sa.text("SELECT code, name, level, parent_code FROM regions")).all()
    stores = bind.execute(
        sa.text(
            "SELECT s.store_id, s.reviews, s.praise_rate, s.average_grade, d.region_code"
            " FROM stores s JOIN departments d ON d.code = s.department_code"
        )
    ).all()
    known = set(bind.execute(sa.text("SELECT store_id FROM stores")).scalars())
    parent = {region.code: region.parent_code for region in regions}
    rows = []
    for city in regions:
        store_id = f"store-city-{city.code}"
        if city.level != "city" or store_id in known:
            continue
        rated = [
            store
            for store in stores
            if store.reviews
            and (store.region_code == city.code or parent.get(store.region_code) == city.code)
        ]
        reviews = sum(store.reviews for store in rated)
        rows.append(
            {
                "store_id": store_id,
                "name": f"{city.name}旗舰店",
                "kind": "city",
                "department_code": None,
                "region_code": city.code,
                "reviews": reviews,
                "praise_rate": (
                    round(sum(s.praise_rate * s.reviews for s in rated) / reviews, 4)
                    if reviews
                    else None
                ),
                "average_grade": (
                    round(sum(s.average_grade * s.reviews for s in rated) / reviews, 2)
                    if reviews
                    else None
                ),
            }
        )
    if rows:
        op.bulk_insert(STORES, rows)


STORES = sa.table(
    "stores",
    sa.column("store_id", sa.String),
    sa.column("name", sa.String),
    sa.column("kind", sa.String),
    sa.column("department_code", sa.String),
    sa.column("region_code", sa.String),
    sa.column("reviews", sa.Integer),
    sa.column("praise_rate", sa.Float),
    sa.column("average_grade", sa.Float),
)
ITEM_FACTS = sa.table(
    "catalogue_item_facts",
    sa.column("item_id", sa.String),
    sa.column("revision", sa.Integer),
    sa.column("published", sa.Boolean),
    sa.column("region_code", sa.String),
    sa.column("level", sa.String),
    sa.column("online", sa.Boolean),
    sa.column("basic_code", sa.String),
    sa.column("name", sa.String),
    sa.column("type", sa.String),
    sa.column("legal_basis", sa.JSON),
    sa.column("deviating", sa.Boolean),
)
BASIC_FACTS = sa.table(
    "catalogue_basic_facts",
    sa.column("basic_code", sa.String),
    sa.column("revision", sa.Integer),
    sa.column("name", sa.String),
    sa.column("type", sa.String),
    sa.column("legal_basis", sa.JSON),
)
COUNTS = sa.table(
    "catalogue_counts",
    sa.column("scope", sa.String),
    sa.column("published", sa.Integer),
    sa.column("online", sa.Integer),
    sa.column("implemented", sa.Integer),
    sa.column("deviating", sa.Integer),
)


def upgrade() -> None:
    with op.batch_alter_table("stores") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=16), server_default="department", nullable=False)
        )
        batch.alter_column("department_code", existing_type=sa.String(length=64), nullable=True)

    op.create_table(
        "catalogue_item_facts",
        sa.Column("item_id", sa.String(length=32), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=True),
        sa.Column("level", sa.String(length=16), nullable=True),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("basic_code", sa.String(length=12), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=2), nullable=True),
        sa.Column("legal_basis", sa.JSON(), nullable=False),
        sa.Column("deviating", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_catalogue_item_facts")),
    )
    op.create_index(
        op.f("ix_catalogue_item_facts_basic_code"),
        "catalogue_item_facts",
        ["basic_code"],
        unique=False,
    )
    op.create_table(
        "catalogue_basic_facts",
        sa.Column("basic_code", sa.String(length=12), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=2), nullable=True),
        sa.Column("legal_basis", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("basic_code", name=op.f("pk_catalogue_basic_facts")),
    )
    op.create_table(
        "catalogue_counts",
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("published", sa.Integer(), server_default="0", nullable=False),
        sa.Column("online", sa.Integer(), server_default="0", nullable=False),
        sa.Column("implemented", sa.Integer(), server_default="0", nullable=False),
        sa.Column("deviating", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_catalogue_counts")),
    )

    bind = op.get_bind()
    _fill_read_model(bind)
    _open_city_stores(bind)


def downgrade() -> None:
    op.drop_table("catalogue_counts")
    op.drop_table("catalogue_basic_facts")
    op.drop_index(op.f("ix_catalogue_item_facts_basic_code"), table_name="catalogue_item_facts")
    op.drop_table("catalogue_item_facts")

    op.execute(sa.text("DELETE FROM stores WHERE kind = 'city'"))
    with op.batch_alter_table("stores") as batch:
        batch.alter_column("department_code", existing_type=sa.String(length=64), nullable=False)
        batch.drop_column("kind")
