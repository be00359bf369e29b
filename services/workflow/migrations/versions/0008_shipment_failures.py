"""Cases whose EMS shipment failed, and how the applicant recovers.

The failure, the applicant's choice and the attempt per direction are kept in
the case's ``progress`` JSON (``shipping``; ``domain.delivery``), and a clock
stopped for the choice in its ``clock``, both columns that exist: a case
stored before reads as one whose shipments never failed. No table changes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
