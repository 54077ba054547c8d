"""The tables. One module per area; import them all here so Alembic sees every table."""

from __future__ import annotations

from .comments import Comment
from .events import Event
from .issues import Author, Category, Issue
from .settings import Setting
from .users import User

__all__ = ["Author", "Category", "Comment", "Event", "Issue", "Setting", "User"]
