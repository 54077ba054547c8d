"""notify retry: reply notices are claimed then marked sent (retried until then); data requests

Revision ID: 0007
Revises: 0006

reply_notices gains status and attempts: a notice is "pending" from its claim until the SMTP
server accepted it, and a sweep retries pending ones. Existing rows were sent. A commenter's data
request is a row that a task answers (at most one email per address per hour).
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reply_notices") as batch:
        batch.add_column(
            sa.Column("status", sa.String(length=20), nullable=False, server_default="sent")
        )
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "commenter_data_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=100), nullable=False),
        sa.Column("avatar_key", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commenter_data_requests")),
    )
    op.create_index(
        "ix_commenter_data_requests_key_sent", "commenter_data_requests", ["avatar_key", "sent_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_commenter_data_requests_key_sent", table_name="commenter_data_requests")
    op.drop_table("commenter_data_requests")
    with op.batch_alter_table("reply_notices") as batch:
        batch.drop_column("attempts")
        batch.drop_column("status")
