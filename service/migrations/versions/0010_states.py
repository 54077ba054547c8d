"""states: a CHECK constraint holds every state column to its StrEnum (models/)

Revision ID: 0010
Revises: 0009

A typo in a state ('aproved') used to be a silent no-op UPDATE or an unreadable row; the models
now bind StrEnum members and the database refuses anything else. On SQLite a constraint can only
be added by rebuilding the table (batch mode, foreign keys off — see env.py); the comments
table's triggers (0006, 0009) and its partial index go with the old table and are made again.
The values are written out here, as they were at this revision.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

COMMENT = ("pending", "approved", "spam", "trash")
STATES = {
    "comments": {"status": COMMENT, "previous_status": COMMENT, "kind": ("comment", "pingback")},
    "reply_subscriptions": {"status": ("pending", "confirmed", "stopped")},
    "reply_notices": {"status": ("pending", "sent", "failed", "dropped")},
    "commenter_data_requests": {"status": ("pending", "sending", "sent", "skipped", "none")},
    "sends": {"kind": ("issue", "digest"), "status": ("running", "paused", "finished")},
    "deliveries": {"kind": ("issue", "digest"), "status": ("queued", "sending", "sent", "failed")},
    "issues": {"status": ("draft", "scheduled", "publishing", "published")},
    "subscribers": {
        "status": ("pending", "active", "unsubscribed", "bounced", "complained"),
        "delivery": ("issue", "weekly", "daily", "none"),
    },
    "users": {"role": ("admin", "moderator")},
    "webhook_deliveries": {"status": ("queued", "sending", "sent", "failed")},
}

VISIBLE = (
    "status, kind, issue_id, parent_id, author_name, author_url, avatar_key, body_html, "
    "is_author_reply, created_at"
)
SQLITE_TRIGGERS = [
    """CREATE TRIGGER comments_version_insert AFTER INSERT ON comments
  WHEN NEW.status = 'approved' BEGIN
  UPDATE issues SET comments_version = comments_version + 1 WHERE id = NEW.issue_id; END""",
    """CREATE TRIGGER comments_version_delete AFTER DELETE ON comments BEGIN
  UPDATE issues SET comments_version = comments_version + 1 WHERE id = OLD.issue_id; END""",
    f"""CREATE TRIGGER comments_version_update AFTER UPDATE OF {VISIBLE} ON comments BEGIN
  UPDATE issues SET comments_version = comments_version + 1
  WHERE id IN (OLD.issue_id, NEW.issue_id); END""",
]


def _condition(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _sqlite_triggers() -> list[str]:
    rows = op.get_bind().exec_driver_sql(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'comments'"
    )
    return [name for (name,) in rows]


def upgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, columns in STATES.items():
        if not sqlite:
            for column, values in columns.items():
                op.create_check_constraint(
                    op.f(f"ck_{table}_{column}"), table, _condition(column, values)
                )
            continue
        with op.batch_alter_table(table, recreate="always") as batch:
            for column, values in columns.items():
                batch.create_check_constraint(
                    op.f(f"ck_{table}_{column}"), _condition(column, values)
                )
    if sqlite:
        _restore_comments_extras()


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, columns in STATES.items():
        if not sqlite:
            for column in columns:
                op.drop_constraint(op.f(f"ck_{table}_{column}"), table, type_="check")
            continue
        with op.batch_alter_table(table, recreate="always") as batch:
            for column in columns:
                batch.drop_constraint(op.f(f"ck_{table}_{column}"), type_="check")
    if sqlite:
        _restore_comments_extras()


def _restore_comments_extras() -> None:
    """The rebuilt comments table lost its triggers; make them (and the partial index) again."""
    for name in _sqlite_triggers():
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for statement in SQLITE_TRIGGERS:
        op.execute(statement)
    op.execute("DROP INDEX IF EXISTS ix_comments_moderation_due")
    op.create_index(
        "ix_comments_moderation_due", "comments", ["id"], sqlite_where=sa.text("moderation_due")
    )
