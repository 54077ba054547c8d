"""comments: reply-notification consent and sent notices; an index for the flood check

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "reply_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirm_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reply_subscriptions")),
        sa.UniqueConstraint("email", name=op.f("uq_reply_subscriptions_email")),
    )
    op.create_table(
        "reply_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=100), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments.id"],
            name=op.f("fk_reply_notices_comment_id_comments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reply_notices")),
        sa.UniqueConstraint("comment_id", "email", name=op.f("uq_reply_notices_comment_id")),
    )
    op.create_index("ix_reply_notices_email_sent", "reply_notices", ["email", "sent_at"])
    with op.batch_alter_table("comments") as batch:
        batch.create_index("ix_comments_ip_created", ["author_ip", "created_at"])


def downgrade():
    with op.batch_alter_table("comments") as batch:
        batch.drop_index("ix_comments_ip_created")
    op.drop_index("ix_reply_notices_email_sent", table_name="reply_notices")
    op.drop_table("reply_notices")
    op.drop_table("reply_subscriptions")
