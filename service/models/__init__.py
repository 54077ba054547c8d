"""The tables. One module per area; import them all here so Alembic sees every table."""

from __future__ import annotations

from .comments import Comment, DataRequest, ReplyNotice, ReplySubscription
from .deliveries import Delivery, Send, SendRate
from .events import Event
from .issues import Author, Category, Issue
from .moderation import ClassifierToken, ClassifierTraining, ModeratorNotice
from .settings import Setting
from .subscribers import Subscriber
from .users import User
from .webhooks import Webhook, WebhookDelivery

__all__ = [
    "Author",
    "Category",
    "ClassifierToken",
    "ClassifierTraining",
    "Comment",
    "DataRequest",
    "Delivery",
    "Event",
    "Issue",
    "ModeratorNotice",
    "ReplyNotice",
    "ReplySubscription",
    "Send",
    "SendRate",
    "Setting",
    "Subscriber",
    "User",
    "Webhook",
    "WebhookDelivery",
]
