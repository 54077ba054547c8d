"""moderation: classifier token counts, training marks, moderator notices

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "classifier_tokens",
        sa.Column("token", sa.String(length=80), nullable=False),
        sa.Column("spam", sa.Integer(), nullable=False),
        sa.Column("ham", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_classifier_tokens")),
    )
    op.create_table(
        "classifier_trainings",
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments.id"],
            ondelete="CASCADE",
            name=op.f("fk_classifier_trainings_comment_id_comments"),
        ),
        sa.PrimaryKeyConstraint("comment_id", name=op.f("pk_classifier_trainings")),
    )
    op.create_table(
        "moderator_notices",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("last_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_comment_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            ondelete="CASCADE",
            name=op.f("fk_moderator_notices_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_moderator_notices")),
    )


def downgrade():
    op.drop_table("moderator_notices")
    op.drop_table("classifier_trainings")
    op.drop_table("classifier_tokens")
