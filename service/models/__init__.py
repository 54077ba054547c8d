"""The tables. One module per area; import them all here so Alembic sees every table."""

from __future__ import annotations

from service.models.comments import Comment, DataRequest, ReplyNotice, ReplySubscription
from service.models.deliveries import Delivery, Send, SendRate
from service.models.events import Event
from service.models.issues import Author, Category, Issue
from service.models.moderation import ClassifierToken, ClassifierTraining, ModeratorNotice
from service.models.settings import Setting
from service.models.subscribers import Subscriber
from service.models.users import User
from service.models.webhooks import Webhook, WebhookDelivery

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
