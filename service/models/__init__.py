"""The tables, and the states their rows move through (each a StrEnum with a CHECK constraint).

One module per area; all are imported here so Alembic sees every table.
"""

from __future__ import annotations

from service.models.comments import (
    Comment,
    CommentKind,
    CommentStatus,
    DataRequest,
    DataRequestStatus,
    NoticeStatus,
    ReplyConsent,
    ReplyNotice,
    ReplySubscription,
)
from service.models.deliveries import Delivery, DeliveryStatus, Send, SendKind, SendRate, SendStatus
from service.models.events import Event
from service.models.issues import Author, Category, Issue, IssueStatus
from service.models.moderation import ClassifierToken, ClassifierTraining, ModeratorNotice
from service.models.replies import EmailReply, ReplyMail, ReplyStatus
from service.models.settings import Setting
from service.models.subscribers import DeliveryMode, ReplyMode, Subscriber, SubscriberStatus
from service.models.users import Role, User
from service.models.webhooks import HookStatus, Webhook, WebhookDelivery

__all__ = [
    "Author",
    "Category",
    "ClassifierToken",
    "ClassifierTraining",
    "Comment",
    "CommentKind",
    "CommentStatus",
    "DataRequest",
    "DataRequestStatus",
    "Delivery",
    "DeliveryMode",
    "DeliveryStatus",
    "EmailReply",
    "Event",
    "HookStatus",
    "Issue",
    "IssueStatus",
    "ModeratorNotice",
    "NoticeStatus",
    "ReplyConsent",
    "ReplyMail",
    "ReplyMode",
    "ReplyNotice",
    "ReplyStatus",
    "ReplySubscription",
    "Role",
    "Send",
    "SendKind",
    "SendRate",
    "SendStatus",
    "Setting",
    "Subscriber",
    "SubscriberStatus",
    "User",
    "Webhook",
    "WebhookDelivery",
]
