"""Workflow tables.

An application keeps its item snapshot, form, materials, delivery and window as
JSON, and so its process definition (pinned when it was submitted) and where it
stands in it (``progress``: steps, tasks, clock, extensions, suspensions); the
columns the service queries by (applicant, department, state, due date) are plain
columns. Every task of a case is also a row of ``tasks``, so that a department's
worklist (with its own due dates) is a plain query, and so is every escalation
(``escalations``), so that the lists of open escalations are. Timeline entries are
append-only. Process definitions are versioned per item; the working calendar is
stored per year.
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

# Licence numbers: GB/T 36904 ("1.2.156.3005.2.<type>.<USCC>.<serial>.<version>.<check>",
# at most 73 characters), or the old "[<code>.]JS..." of licences issued before.
LICENCE_NO_LENGTH = 100

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
    # Whose the case is: the principal's uscc or user id, else the applicant's
    # user id (the principal's members list their cases by it).
    sa.Column("holder_id", sa.String(64), nullable=True),
    # The mandate an agent applied under.
    sa.Column("mandate_id", sa.String(64), nullable=True),
    sa.Column("form", sa.JSON, nullable=False),
    sa.Column("materials", sa.JSON, nullable=False),
    sa.Column("delivery", sa.JSON, nullable=False),
    sa.Column("window", sa.JSON, nullable=False),
    sa.Column("state", sa.String(32), nullable=False),
    # Promised (承诺时限) and legal (法定时限) due dates.
    sa.Column("due_date", sa.Date, nullable=False),
    sa.Column("legal_due_date", sa.Date, nullable=True),
    # The process definition the case runs (version 0: the item's default).
    sa.Column("process_version", sa.Integer, nullable=False, default=0),
    sa.Column("process", sa.JSON, nullable=True),
    sa.Column("progress", sa.JSON, nullable=True),
    sa.Column("calendar_provisional", sa.Boolean, nullable=False, default=False),
    sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("licence_no", sa.String(LICENCE_NO_LENGTH), nullable=True),
    sa.Column("overdue_reported", sa.Boolean, nullable=False, default=False),
    sa.Index("ix_applications_applicant", "applicant_id", "submitted_at"),
    sa.Index("ix_applications_holder", "holder_id", "submitted_at"),
    sa.Index("ix_applications_state_due", "state", "due_date"),
)

# The case each applicant's submit opened under an idempotency key (the
# client's Idempotency-Key, or one the gateway made for the request).
submissions = sa.Table(
    "submissions",
    metadata,
    sa.Column("applicant_id", sa.String(64), primary_key=True),
    sa.Column("idempotency_key", sa.String(128), primary_key=True),
    sa.Column("application_id", sa.String(64), nullable=False),
    sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
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
    sa.Column("step", sa.String(32), nullable=True),
    # Whom the applicant's side acted for ({kind, uscc|user_id, name}).
    sa.Column("on_behalf_of", sa.JSON, nullable=True),
)

tasks = sa.Table(
    "tasks",
    metadata,
    sa.Column("application_id", sa.ForeignKey("applications.application_id"), primary_key=True),
    sa.Column("step_id", sa.String(32), primary_key=True),
    # The branch of a parallel step; 0 for any other step.
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("department_code", sa.String(64), nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("due_date", sa.Date, nullable=True),
    sa.Index("ix_tasks_department", "department_code", "state", "due_date"),
    # The escalation sweep: open tasks past their due date, whatever the department.
    sa.Index("ix_tasks_state_due", "state", "due_date"),
)

# Each escalation of a case (its progress holds them too) as a row, so that the
# lists of open escalations read neither the cases nor their progress.
escalations = sa.Table(
    "escalations",
    metadata,
    sa.Column("escalation_id", sa.String(32), primary_key=True),
    sa.Column("application_id", sa.ForeignKey("applications.application_id"), nullable=False),
    sa.Column("step_id", sa.String(32), nullable=False),
    sa.Column("department_code", sa.String(64), nullable=False),
    # dept_admin or operator
    sa.Column("level", sa.String(16), nullable=False),
    sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
    # The due date the task had missed.
    sa.Column("due_date", sa.Date, nullable=False),
    sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
    # Once per task and level, whatever races.
    sa.UniqueConstraint("application_id", "step_id", "department_code", "level"),
    sa.Index("ix_escalations_department_open", "department_code", "resolved_at", "raised_at"),
    sa.Index("ix_escalations_level_open", "level", "resolved_at", "raised_at"),
)

# The payment of each case that has one (its progress holds it whole), so that
# the payment sweep finds what it has to do without reading the cases.
payments = sa.Table(
    "payments",
    metadata,
    sa.Column("application_id", sa.ForeignKey("applications.application_id"), primary_key=True),
    # domain.payment.STATES
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("order_id", sa.String(64), nullable=True, unique=True),
    sa.Column("amount_fen", sa.BigInteger, nullable=False),
    # The last calendar day to pay.
    sa.Column("due_on", sa.Date, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_payments_state_due", "state", "due_on"),
)

process_definitions = sa.Table(
    "process_definitions",
    metadata,
    sa.Column("item_id", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("definition", sa.JSON, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

licences = sa.Table(
    "licences",
    metadata,
    sa.Column("licence_no", sa.String(LICENCE_NO_LENGTH), primary_key=True),
    sa.Column(
        "application_id",
        sa.ForeignKey("applications.application_id"),
        nullable=False,
        unique=True,
    ),
    sa.Column("applicant_id", sa.String(64), nullable=False, index=True),
    # Only the masked holder is shown; holder_id is a user id or a USCC (never
    # an ID number), null for an old licence of a principal known only by one.
    sa.Column("holder_masked", sa.String(64), nullable=False),
    sa.Column("holder_id", sa.String(64), nullable=True, index=True),
    sa.Column("item_id", sa.String(64), nullable=False),
    sa.Column("item_name", sa.String(200), nullable=False),
    sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("valid", sa.Boolean, nullable=False, default=True),
    sa.Column("department_code", sa.String(64), nullable=True),
    sa.Column("licence_type_code", sa.String(20), nullable=True),
    sa.Column("licence_type_name", sa.String(200), nullable=True),
    sa.Column("issuer_uscc", sa.String(18), nullable=True),
    sa.Column("valid_from", sa.Date, nullable=True),
    # Null: no end.
    sa.Column("valid_to", sa.Date, nullable=True),
    # The signed document {"licence": {...}, "signature": {alg, kid, value}};
    # null for an old licence until it is first read (then signed).
    sa.Column("document", sa.JSON, nullable=True),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("revocation_reason", sa.Text, nullable=True),
)

# The instance's licence signing keys (Ed25519): the private key PKCS#8 PEM
# encrypted with the PII key, bound to its kid; the public key as a JWK.
licence_keys = sa.Table(
    "licence_keys",
    metadata,
    sa.Column("kid", sa.String(64), primary_key=True),
    sa.Column("private_key_cipher", sa.Text, nullable=False),
    sa.Column("public_jwk", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
)

calendar_years = sa.Table(
    "calendar_years",
    metadata,
    sa.Column("year", sa.Integer, primary_key=True),
    # ISO dates: the year's public holidays and its make-up working days.
    sa.Column("holidays", sa.JSON, nullable=False),
    sa.Column("workdays", sa.JSON, nullable=False),
    sa.Column("source", sa.String(300), nullable=False, default=""),
    sa.Column("updated_by", sa.String(64), nullable=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# Read model of identity's enterprises: who acts for which (the owner from
# enterprise_registered, members from enterprise_member_added/_removed). A row
# is kept when removed (active false), so an older event arriving late
# (``changed_at`` before the row's) changes nothing.
principal_members = sa.Table(
    "principal_members",
    metadata,
    sa.Column("uscc", sa.String(18), primary_key=True),
    sa.Column("user_id", sa.String(64), primary_key=True),
    # owner or member
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_principal_members_user", "user_id", "active"),
)

add_messaging_tables(metadata)
