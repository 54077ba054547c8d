"""moderation feed: workers claim due comments from the comments table; lighter inserts

Revision ID: 0009
Revises: 0008

A post no longer writes to the broker: the comment row (moderation_due) is the queue entry, and a
worker claims it by setting moderation_claimed_at (a lease: a claim older than a minute is taken
again). A partial index holds only the due rows. Inserting a comment that is not approved no longer
bumps issues.comments_version (nobody else can see it, so the cached thread is still right), and
ix_comments_status_created goes: ix_comments_status_created_id starts with the same columns.
The duplicate check (same text on the same issue from the same email or name) finds comments by
(author_email, issue_id) and (author_name, issue_id) instead of reading every comment on the
issue: a post costs the same on an issue with 10 comments or 10,000.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

DUE = sa.text("moderation_due")
PG_FUNCTION = """CREATE OR REPLACE FUNCTION margins_bump_comments_version() RETURNS trigger AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    UPDATE issues SET comments_version = comments_version + 1 WHERE id = OLD.issue_id;
  END IF;
  IF (TG_OP = 'INSERT' AND {insert_when})
     OR (TG_OP = 'UPDATE' AND NEW.issue_id IS DISTINCT FROM OLD.issue_id) THEN
    UPDATE issues SET comments_version = comments_version + 1 WHERE id = NEW.issue_id;
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql"""
SQLITE_INSERT = """CREATE TRIGGER comments_version_insert AFTER INSERT ON comments {when}BEGIN
  UPDATE issues SET comments_version = comments_version + 1 WHERE id = NEW.issue_id; END"""


def upgrade():
    op.add_column(
        "comments", sa.Column("moderation_claimed_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.drop_index("ix_comments_moderation_due", table_name="comments")
    op.create_index(
        "ix_comments_moderation_due", "comments", ["id"], postgresql_where=DUE, sqlite_where=DUE
    )
    op.drop_index("ix_comments_status_created", table_name="comments")
    op.drop_index("ix_comments_author_email", table_name="comments")
    op.create_index("ix_comments_author_email_issue", "comments", ["author_email", "issue_id"])
    op.create_index("ix_comments_author_name_issue", "comments", ["author_name", "issue_id"])
    _insert_trigger(approved_only=True)


def downgrade():
    _insert_trigger(approved_only=False)
    op.drop_index("ix_comments_author_name_issue", table_name="comments")
    op.drop_index("ix_comments_author_email_issue", table_name="comments")
    op.create_index("ix_comments_author_email", "comments", ["author_email"])
    op.create_index("ix_comments_status_created", "comments", ["status", "created_at"])
    op.drop_index("ix_comments_moderation_due", table_name="comments")
    op.create_index("ix_comments_moderation_due", "comments", ["moderation_due"])
    # plain ALTER TABLE (SQLite 3.35+): a batch table copy would drop the 0006 triggers
    op.execute("ALTER TABLE comments DROP COLUMN moderation_claimed_at")


def _insert_trigger(approved_only: bool) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            PG_FUNCTION.format(insert_when="NEW.status = 'approved'" if approved_only else "TRUE")
        )
        return
    op.execute("DROP TRIGGER IF EXISTS comments_version_insert")
    op.execute(SQLITE_INSERT.format(when="WHEN NEW.status = 'approved' " if approved_only else ""))
