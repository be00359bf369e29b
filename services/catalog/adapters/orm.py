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
    # department: one department's store; city: a city's, gathering the stores
    # of the departments seated in the city or its counties (no department).
    sa.Column("kind", sa.String(16), nullable=False, server_default="department"),
    sa.Column(
        "department_code",
        sa.String(64),
        sa.ForeignKey("departments.code"),
        nullable=True,
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
    # National elements. basic_code is null only on items made before basic items.
    sa.Column("basic_code", sa.String(12), sa.ForeignKey("basic_items.basic_code"), nullable=True),
    sa.Column("implementing_code", sa.String(31), nullable=True, unique=True),
    sa.Column("type", sa.String(2), nullable=True),
    sa.Column("case_type", sa.String(16), nullable=False, server_default="promised"),
    sa.Column("visits", sa.Integer, nullable=False, server_default="1"),
    sa.Column("online_depth", sa.Integer, nullable=True),
    sa.Column("limit_unit", sa.String(16), nullable=False, server_default="working_days"),
    sa.Column("limit_note", sa.String(500), nullable=False, server_default=""),
    sa.Column("process_summary", sa.Text, nullable=False, server_default=""),
    sa.Column("place", sa.String(300), nullable=False, server_default=""),
    sa.Column("hours", sa.String(200), nullable=False, server_default=""),
    sa.Column("consultation_phone", sa.String(50), nullable=False, server_default=""),
    sa.Column("complaint_phone", sa.String(50), nullable=False, server_default=""),
    sa.Column("serves", sa.JSON, nullable=False),
    sa.Column("revision", sa.Integer, nullable=False, server_default="1"),
    # Search filters: the public only ever sees published items, so status leads.
    sa.Index(None, "status", "region_code"),
    sa.Index(None, "status", "department_code"),
    sa.Index(None, "status", "level"),
    # Propagation of a basic item's change reads its derived items.
    sa.Index(None, "basic_code"),
)

# 三级四同: the basic items province-level departments publish; items derive from them.
basic_items = sa.Table(
    "basic_items",
    metadata,
    sa.Column("basic_code", sa.String(12), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("name_en", sa.String(300), nullable=False, server_default=""),
    sa.Column("type", sa.String(2), nullable=False),
    # [{law, article}]
    sa.Column("legal_basis", sa.JSON, nullable=False),
    sa.Column("department_code", sa.String(64), sa.ForeignKey("departments.code"), nullable=False),
    sa.Column("serves", sa.JSON, nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("revision", sa.Integer, nullable=False, server_default="1"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index(None, "department_code"),
)

# The catalogue statistics read model, kept by catalog's own events
# (item_published, item_retired, basic_item_published; see service_layer/stats.py).
# The facts of every item and basic item the events told, at the highest
# revision seen, and counters per scope ("all", "level:<level>",
# "region:<code>") so that the statistics are read without counting items.
catalogue_item_facts = sa.Table(
    "catalogue_item_facts",
    metadata,
    sa.Column("item_id", sa.String(32), primary_key=True),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("published", sa.Boolean, nullable=False),
    # Unknown (null) for an item only ever seen retired.
    sa.Column("region_code", sa.String(12), nullable=True),
    sa.Column("level", sa.String(16), nullable=True),
    sa.Column("online", sa.Boolean, nullable=False),
    sa.Column("basic_code", sa.String(12), nullable=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("type", sa.String(2), nullable=True),
    sa.Column("legal_basis", sa.JSON, nullable=False),
    sa.Column("deviating", sa.Boolean, nullable=False),
    # A basic item's change re-checks its derived items; implementation counts
    # look up the published items of one basic code.
    sa.Index(None, "basic_code"),
)

catalogue_basic_facts = sa.Table(
    "catalogue_basic_facts",
    metadata,
    sa.Column("basic_code", sa.String(12), primary_key=True),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("type", sa.String(2), nullable=True),
    sa.Column("legal_basis", sa.JSON, nullable=False),
)

catalogue_counts = sa.Table(
    "catalogue_counts",
    metadata,
    sa.Column("scope", sa.String(32), primary_key=True),
    sa.Column("published", sa.Integer, nullable=False, server_default="0"),
    sa.Column("online", sa.Integer, nullable=False, server_default="0"),
    sa.Column("implemented", sa.Integer, nullable=False, server_default="0"),
    sa.Column("deviating", sa.Integer, nullable=False, server_default="0"),
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
