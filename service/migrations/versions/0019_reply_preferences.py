"""reply preferences: a subscriber's public display name and what happens to emailed replies

Revision ID: 0019
Revises: 0010

Readers can answer an issue email and have it become a comment (issue 18). A comment needs a
public name that is never the address, so subscribers get `display_name` (empty: their name);
and `reply_mode` records whether their replies are published, kept private for the writer, or
(the default) asked about first. On SQLite the CHECK constraint needs a table rebuild.
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0010"
branch_labels = None
depends_on = None

CHECK = "reply_mode IN ('ask', 'publish', 'private')"


def _columns() -> list[sa.Column]:
    return [
        sa.Column("display_name", sa.String(length=100), nullable=False, server_default=""),
        sa.Column(
            "reply_mode", sa.String(length=20), nullable=False, server_default=sa.text("'ask'")
        ),
    ]


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("subscribers", recreate="always") as batch:
            for column in _columns():
                batch.add_column(column)
            batch.create_check_constraint(op.f("ck_subscribers_reply_mode"), CHECK)
        return
    for column in _columns():
        op.add_column("subscribers", column)
    op.create_check_constraint(op.f("ck_subscribers_reply_mode"), "subscribers", CHECK)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("subscribers", recreate="always") as batch:
            batch.drop_constraint(op.f("ck_subscribers_reply_mode"), type_="check")
            batch.drop_column("reply_mode")
            batch.drop_column("display_name")
        return
    op.drop_constraint(op.f("ck_subscribers_reply_mode"), "subscribers", type_="check")
    op.drop_column("subscribers", "reply_mode")
    op.drop_column("subscribers", "display_name")
