"""Workflow tables.

An application keeps its item snapshot, form, materials, delivery and window as
JSON; the columns the service queries by (applicant, department, state, due date)
are plain columns. Department reviews are rows so that a joint department's
worklist is a plain join. Timeline entries are append-only.
"""

import sqlalchemy as sa

from services.common.messaging.tables import add_messaging_tables

# Named constraints, so that SQLite's batch migrations can find them later.
metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

applications = sa.Table(
    "applications",
    metadata,
    # "<department code>." + 32 hex digits on a department's own instance.
    sa.Column("application_id", sa.String(64), primary_key=True),
    sa.Column("item_id", sa.String(64), nullable=False),
    sa.Column("item_name", sa.String(200), nullable=False),
    sa.Column("department_code", sa.String(64), nullable=False),
    sa.Column("region_code", sa.String(12), nullable=False),
    sa.Column("store_id", sa.String(64), nullable=False),
    # ItemSnapshot as catalog described the item at submission time.
    sa.Column("item", sa.JSON, nullable=False),
    sa.Column("applicant_id", sa.String(64), nullable=False),
    # The principal; a person's ID number only as id_number_cipher and
    # id_number_masked (see repository.ApplicationRepository).
    sa.Column("on_behalf_of", sa.JSON, nullable=True),
    sa.Column("form", sa.JSON, nullable=False),
    sa.Column("materials", sa.JSON, nullable=False),
    sa.Column("delivery", sa.JSON, nullable=False),
    sa.Column("window", sa.JSON, nullable=False),
    sa.Column("state", sa.String(32), nullable=False),
    sa.Column("due_date", sa.Date, nullable=False),
    sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("licence_no", sa.String(64), nullable=True),
    sa.Column("overdue_reported", sa.Boolean, nullable=False, default=False),
    sa.Index("ix_applications_applicant", "applicant_id", "submitted_at"),
    sa.Index("ix_applications_state_due", "state", "due_date"),
)

timeline_entries = sa.Table(
    "timeline_entries",
    metadata,
    sa.Column("application_id", sa.ForeignKey("applications.application_id"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("state", sa.String(32), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("actor_id", sa.String(64), nullable=True),
    sa.Column("actor_role", sa.String(32), nullable=False),
    sa.Column("comment", sa.Text, nullable=False, default=""),
)

department_reviews = sa.Table(
    "department_reviews",
    metadata,
    sa.Column("application_id", sa.ForeignKey("applications.application_id"), primary_key=True),
    sa.Column("department_code", sa.String(64), primary_key=True),
    # The owning department first, then the joint departments in catalog order.
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("decision", sa.String(16), nullable=False),
    sa.Index("ix_department_reviews_department", "department_code"),
)

licences = sa.Table(
    "licences",
    metadata,
    sa.Column("licence_no", sa.String(64), primary_key=True),
    sa.Column(
        "application_id",
        sa.ForeignKey("applications.application_id"),
        nullable=False,
        unique=True,
    ),
    sa.Column("applicant_id", sa.String(64), nullable=False, index=True),
    # Only the masked holder is kept: the holder may be a resident ID number.
    sa.Column("holder_masked", sa.String(64), nullable=False),
    sa.Column("item_id", sa.String(64), nullable=False),
    sa.Column("item_name", sa.String(200), nullable=False),
    sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("valid", sa.Boolean, nullable=False, default=True),
)

licence_serials = sa.Table(
    "licence_serials",
    metadata,
    sa.Column("region_code", sa.String(12), primary_key=True),
    sa.Column("issued_on", sa.Date, primary_key=True),
    sa.Column("last_serial", sa.Integer, nullable=False),
)

calendar_days = sa.Table(
    "calendar_days",
    metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("updated_by", sa.String(64), nullable=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('holiday', 'workday')", name="kind"),
)

add_messaging_tables(metadata)
