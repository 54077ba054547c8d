"""The beat schedule: periodic sweeps that finish whatever a lost message left undone."""

from __future__ import annotations

from typing import Any

from celery.schedules import crontab


def beat_schedule() -> dict[str, dict[str, Any]]:
    return {
        "publish-due-issues": {"task": "publishing.publish_due", "schedule": 15.0},
        "prune-broker": {"task": "maintenance.prune_broker", "schedule": 3600.0},
        "heartbeat": {"task": "maintenance.ping", "schedule": 60.0, "args": ("beat",)},
        "webhooks": {"task": "webhooks.deliver_due", "schedule": 20.0},
        "moderation-notify": {"task": "moderation.notify_moderators", "schedule": 60.0},
        "comments-purge": {"task": "comments.purge", "schedule": 3600.0},
        "comments-erase-ips": {"task": "comments.erase_ips", "schedule": 3600.0},
        "comments-reply-optins": {"task": "comments.sweep_reply_optins", "schedule": 60.0},
        "comments-reply-retry": {"task": "comments.retry_reply_notices", "schedule": 120.0},
        "comments-data-requests": {"task": "comments.sweep_data_requests", "schedule": 60.0},
        "subscriptions-sweep": {"task": "subscriptions.sweep", "schedule": 300.0},
        "delivery-sweep": {"task": "delivery.sweep", "schedule": 30.0},
        "digests-plan": {"task": "digests.plan", "schedule": crontab(minute=1)},
        "bounces-maildir": {"task": "bounces.process_maildir", "schedule": 300.0},
        "replies-maildir": {"task": "replies.process_maildir", "schedule": 60.0},
        "replies-mail": {"task": "replies.sweep_mail", "schedule": 120.0},
    }
