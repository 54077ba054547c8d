"""scale: a per-issue comments version kept by triggers (thread cache), indexes for big tables

Revision ID: 0006
Revises: 0005

Every insert, delete or visible change of a comment bumps issues.comments_version in the same
transaction, whatever code (or SQL) made it: the rendered-thread cache keys on it, so it is
correct across processes and hosts.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

#: Comment columns a public page shows; changing any of them changes the rendered thread.
VISIBLE = (
    "status, kind, issue_id, parent_id, author_name, author_url, avatar_key, body_html, "
    "is_author_reply, created_at"
)

PG = [
    """CREATE OR REPLACE FUNCTION margins_bump_comments_version() RETURNS trigger AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    UPDATE issues SET comments_version = comments_version + 1 WHERE id = OLD.issue_id;
  END IF;
  IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.issue_id IS DISTINCT FROM OLD.issue_id) THEN
    UPDATE issues SET comments_version = comments_version + 1 WHERE id = NEW.issue_id;
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql""",
    f"""CREATE TRIGGER comments_version_bump AFTER INSERT OR DELETE OR UPDATE OF {VISIBLE}
ON comments FOR EACH ROW EXECUTE FUNCTION margins_bump_comments_version()""",
]
SQLITE = [
    """CREATE TRIGGER comments_version_insert AFTER INSERT ON comments BEGIN
  UPDATE issues SET comments_version = comments_version + 1 WHERE id = NEW.issue_id; END""",
    """CREATE TRIGGER comments_version_delete AFTER DELETE ON comments BEGIN
  UPDATE issues SET comments_version = comments_version + 1 WHERE id = OLD.issue_id; END""",
    f"""CREATE TRIGGER comments_version_update AFTER UPDATE OF {VISIBLE} ON comments BEGIN
  UPDATE issues SET comments_version = comments_version + 1
  WHERE id IN (OLD.issue_id, NEW.issue_id); END""",
]


def upgrade():
    with op.batch_alter_table("issues") as batch:
        batch.add_column(
            sa.Column("comments_version", sa.Integer(), nullable=False, server_default="0")
        )
    for statement in PG if op.get_bind().dialect.name == "postgresql" else SQLITE:
        op.execute(statement)
    # The subscriber admin list pages by newest first, filtered by status.
    op.create_index("ix_subscribers_status_created", "subscribers", ["status", "created_at"])
    # The moderation queue: a tab by status, newest first, keyset-paginated on (created_at, id).
    op.create_index("ix_comments_status_created_id", "comments", ["status", "created_at", "id"])
    if op.get_bind().dialect.name == "postgresql":
        _trigram_indexes()


def _trigram_indexes() -> None:
    """Subscriber search (`LIKE '%text%'` on email and name) by trigram GIN indexes, when the
    database lets us create pg_trgm (a trusted extension since PostgreSQL 13)."""
    bind = op.get_bind()
    try:
        with bind.begin_nested():
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except sa.exc.DBAPIError:
        return  # search still works, by a sequential scan
    op.execute(
        "CREATE INDEX ix_subscribers_email_trgm ON subscribers USING gin (email gin_trgm_ops)"
    )
    op.execute(
        "CREATE INDEX ix_subscribers_name_trgm ON subscribers USING gin (lower(name) gin_trgm_ops)"
    )


def downgrade():
    op.drop_index("ix_comments_status_created_id", table_name="comments")
    op.drop_index("ix_subscribers_status_created", table_name="subscribers")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_subscribers_name_trgm")
        op.execute("DROP INDEX IF EXISTS ix_subscribers_email_trgm")
        op.execute("DROP TRIGGER IF EXISTS comments_version_bump ON comments")
        op.execute("DROP FUNCTION IF EXISTS margins_bump_comments_version()")
    else:
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS comments_version_{name}")
    with op.batch_alter_table("issues") as batch:
        batch.drop_column("comments_version")
