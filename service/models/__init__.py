"""The tables. One module per area; import them all here so Alembic sees every table."""

from __future__ import annotations

from .comments import Comment
from .deliveries import Delivery, Send
from .events import Event
from .issues import Author, Category, Issue
from .settings import Setting
from .subscribers import Subscriber
from .users import User

__all__ = [
    "Author", "Category", "Comment", "Delivery", "Event", "Issue", "Send", "Setting",
    "Subscriber", "User",
]
