"""claim index: deliveries (send_id, status, id), so claiming stays fast at 100,000 rows

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_deliveries_send_status_id", "deliveries", ["send_id", "status", "id"])
    op.drop_index("ix_deliveries_send_status", table_name="deliveries")


def downgrade():
    op.create_index("ix_deliveries_send_status", "deliveries", ["send_id", "status"])
    op.drop_index("ix_deliveries_send_status_id", table_name="deliveries")
