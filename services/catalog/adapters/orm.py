"""Tables of the catalog database.

Plain SQLAlchemy Core tables; ``repository`` turns rows into domain objects and
back. Lists in an item's guide (modes, conditions, materials, legal basis, joint
departments) are JSON columns: they are read and written with the item, never
queried on their own, except ``modes`` by the search filter.
"""

import sqlalchemy as sa

from services.common.messaging.tables import add_messaging_tables

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

regions = sa.Table(
    "regions",
    metadata,
    sa.Column("code", sa.String(12), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("name_en", sa.String(200), nullable=False, server_default=""),
    sa.Column("level", sa.String(16), nullable=False),
    sa.Column("parent_code", sa.String(12), sa.ForeignKey("regions.code"), nullable=True),
)

departments = sa.Table(
    "departments",
    metadata,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("name_en", sa.String(300), nullable=False, server_default=""),
    sa.Column("region_code", sa.String(12), sa.ForeignKey("regions.code"), nullable=False),
    sa.Column("level", sa.String(16), nullable=False),
    # department | approval_bureau | zone_committee
    sa.Column("kind", sa.String(20), nullable=False, server_default="department"),
    # Unified Social Credit Code, the issuer its licences name; null until recorded.
    sa.Column("uscc", sa.String(18), nullable=True, unique=True),
    # The department's handling window, which receives mailed materials.
    sa.Column("window_name", sa.String(200), nullable=False),
    sa.Column("window_address", sa.String(300), nullable=False),
    sa.Column("window_phone", sa.String(50), nullable=False),
    sa.Column("window_postcode", sa.String(10), nullable=False),
    sa.Index(None, "region_code"),
)

stores = sa.Table(
    "stores",
    metadata,
    sa.Column("store_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column(
        "department_code",
        sa.String(64),
        sa.ForeignKey("departments.code"),
        nullable=False,
        unique=True,
    ),
    sa.Column("region_code", sa.String(12), nullable=False),
    # The rating as ratings last announced it (store_rating_changed), and when
    # ratings recorded it: an older announcement arriving later is ignored.
    sa.Column("reviews", sa.Integer, nullable=False, server_default="0"),
    sa.Column("praise_rate", sa.Float, nullable=True),
    sa.Column("average_grade", sa.Float, nullable=True),
    sa.Column("rating_as_of", sa.DateTime(timezone=True), nullable=True),
)

items = sa.Table(
    "items",
    metadata,
    sa.Column("item_id", sa.String(32), primary_key=True),
    sa.Column("code", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("name_en", sa.String(300), nullable=False, server_default=""),
    sa.Column("department_code", sa.String(64), sa.ForeignKey("departments.code"), nullable=False),
    sa.Column("region_code", sa.String(12), sa.ForeignKey("regions.code"), nullable=False),
    sa.Column("level", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("modes", sa.JSON, nullable=False),
    sa.Column("promised_days", sa.Integer, nullable=False),
    sa.Column("statutory_days", sa.Integer, nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("conditions", sa.JSON, nullable=False),
    sa.Column("materials", sa.JSON, nullable=False),
    # [{name, amount_fen, standard, legal_basis, waivable}]; [] when free.
    sa.Column("fees", sa.JSON, nullable=False),
    sa.Column("fee_waiver", sa.JSON, nullable=True),
    sa.Column("licence_type", sa.JSON, nullable=True),
    # 集中批: the department an approval bureau took the item over from.
    sa.Column("transferred_from", sa.String(64), sa.ForeignKey("departments.code"), nullable=True),
    sa.Column("legal_basis", sa.JSON, nullable=False),
    sa.Column("joint_departments", sa.JSON, nullable=False),
    sa.Column("handled_by", sa.String(100), nullable=False),
    # Follows the department; kept on the row so events and guides need no join for it.
    sa.Column("store_id", sa.String(64), nullable=True),
    # Search filters: the public only ever sees published items, so status leads.
    sa.Index(None, "status", "region_code"),
    sa.Index(None, "status", "department_code"),
    sa.Index(None, "status", "level"),
)

# 区域评: development zones and the regional assessments done for each.
zones = sa.Table(
    "zones",
    metadata,
    sa.Column("zone_id", sa.String(32), primary_key=True),
    sa.Column("code", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("region_code", sa.String(12), sa.ForeignKey("regions.code"), nullable=False),
    sa.Column(
        "committee_department_code",
        sa.String(64),
        sa.ForeignKey("departments.code"),
        nullable=False,
    ),
    sa.Index(None, "committee_department_code"),
)

assessments = sa.Table(
    "assessments",
    metadata,
    sa.Column("assessment_id", sa.String(32), primary_key=True),
    sa.Column("zone_id", sa.String(32), sa.ForeignKey("zones.zone_id"), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("approved_by", sa.String(200), nullable=True),
    sa.Column("valid_from", sa.Date, nullable=False),
    sa.Column("valid_to", sa.Date, nullable=False),
    # Workflow asks for a zone's report of one kind valid on a day.
    sa.Index(None, "zone_id", "kind"),
)

add_messaging_tables(metadata)
