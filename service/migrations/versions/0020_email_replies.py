"""email replies: what readers answered to an issue email, and what became of it

Revision ID: 0020
Revises: 0019

One row per reply that reached its signed reply+ address: held until the reader chooses
publish or private, then a pending comment (comment_id), a private letter for the writer, or
refused with the reason. `message_key` is unique, so a message delivered twice (an LMTP retry, a
Maildir and a webhook) is stored once; `mail`/`mail_due` record the email owed to the reader, so
a sweep sends it when its task was lost. The values are written out as they are at this revision.
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

STATUS = "status IN ('held', 'published', 'private', 'withdrawn', 'refused')"
MAIL = "mail IN ('ask', 'received', 'refused')"


def upgrade():
    op.create_table(
        "email_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("message_key", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("body_md", sa.Text(), nullable=False),
        sa.Column("attachments_dropped", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("mail", sa.String(length=20), nullable=True),
        sa.Column("mail_due", sa.Boolean(), nullable=False),
        sa.Column("mail_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(STATUS, name=op.f("ck_email_replies_status")),
        sa.CheckConstraint(MAIL, name=op.f("ck_email_replies_mail")),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments.id"],
            name=op.f("fk_email_replies_comment_id_comments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["issue_id"],
            ["issues.id"],
            name=op.f("fk_email_replies_issue_id_issues"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_email_replies_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_replies")),
        sa.UniqueConstraint("message_key", name=op.f("uq_email_replies_message_key")),
    )
    op.create_index("ix_email_replies_issue_id", "email_replies", ["issue_id"])
    op.create_index("ix_email_replies_comment_id", "email_replies", ["comment_id"])
    op.create_index("ix_email_replies_status_received", "email_replies", ["status", "received_at"])
    op.create_index(
        "ix_email_replies_subscriber_received", "email_replies", ["subscriber_id", "received_at"]
    )
    op.create_index("ix_email_replies_mail_due", "email_replies", ["mail_due", "received_at"])


def downgrade():
    op.drop_table("email_replies")
