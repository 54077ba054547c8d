"""Moderation state of our own: classifier token counts, training marks, moderator notices."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, UTCDateTime


class ClassifierToken(Base):
    """How many spam and ham comments contained `token` (the row '' holds the totals)."""

    __tablename__ = "classifier_tokens"

    token: Mapped[str] = mapped_column(String(80), primary_key=True)
    spam: Mapped[int] = mapped_column(default=0)
    ham: Mapped[int] = mapped_column(default=0)


class ClassifierTraining(Base):
    """The label a comment was trained with, so a changed verdict retrains instead of adding."""

    __tablename__ = "classifier_trainings"

    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True
    )
    label: Mapped[str] = mapped_column(String(10))


class ModeratorNotice(Base):
    """When a moderator was last emailed about held comments, and up to which comment."""

    __tablename__ = "moderator_notices"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_comment_id: Mapped[int] = mapped_column(default=0)
