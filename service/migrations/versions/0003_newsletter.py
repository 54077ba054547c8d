"""newsletter: the confirmation outbox flag and the shared send-rate token buckets

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("subscribers") as batch:
        batch.add_column(
            sa.Column("confirm_due", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "send_rate",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("updated", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_send_rate")),
    )


def downgrade():
    op.drop_table("send_rate")
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("confirm_due")
