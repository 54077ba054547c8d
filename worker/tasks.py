"""Thin task adapters over the domain modules. Tasks take ids and re-read the world."""

from __future__ import annotations

from celery import shared_task

from service import maintenance, publishing


@shared_task(name="publishing.publish_due")
def publish_due() -> list[int]:
    return publishing.publish_due()


@shared_task(name="maintenance.prune_broker")
def prune_broker() -> int:
    return maintenance.prune_broker()


@shared_task(name="maintenance.ping")
def ping(token: str) -> str:
    """Record that a worker ran (used by the health check and the round-trip test)."""
    maintenance.heartbeat(token)
    return token


@shared_task(name="moderation.moderate_comment")
def moderate_comment(comment_id: int) -> str | None:
    """Decide one comment automatically (a no-op when it is no longer due)."""
    from service import moderation

    return moderation.moderate_comment(comment_id)


@shared_task(name="moderation.notify_moderators")
def notify_moderators() -> int:
    """Email moderators about held comments (batched per moderator)."""
    from service import moderator_notify

    return moderator_notify.notify_moderators()


@shared_task(name="comments.send_reply_optin")
def send_reply_optin(subscription_id: int) -> bool:
    """Email the confirmation link for reply notifications (at most once a day per address)."""
    from service import reply_notifications

    return reply_notifications.send_optin(subscription_id)


@shared_task(name="comments.notify_replies")
def notify_reply(comment_id: int) -> int:
    """Tell the parent comment's author about an approved reply (enqueue after approval)."""
    from service import reply_notifications

    return reply_notifications.notify(comment_id)


@shared_task(name="comments.purge")
def purge_comments() -> int:
    """Delete spam and trash older than comments.purge_after_days."""
    from service import commenter_data

    return commenter_data.purge_old()


@shared_task(name="comments.erase_ips")
def erase_comment_ips() -> int:
    """Erase commenter IPs and user agents older than comments.ip_retention_days."""
    from service import commenter_data

    return commenter_data.erase_old_ips()


@shared_task(name="subscriptions.send_confirmation")
def send_confirmation(subscriber_id: int) -> bool:
    from service import subscriptions

    return subscriptions.send_confirmation(subscriber_id)


@shared_task(name="subscriptions.sweep")
def subscriptions_sweep() -> int:
    from service import subscriptions

    return subscriptions.sweep()


@shared_task(name="delivery.drain")
def delivery_drain(send_id: int) -> int:
    from service import delivery

    return delivery.drain(send_id)


@shared_task(name="delivery.sweep")
def delivery_sweep() -> int:
    from service import delivery

    return delivery.sweep()


@shared_task(name="digests.plan")
def digests_plan() -> list[int]:
    from service import delivery, digests

    planned = digests.plan()
    for send_id in planned:
        delivery.start(send_id)
    return planned


@shared_task(name="bounces.process_maildir")
def bounces_process_maildir() -> dict:
    from flask import current_app

    from service import bounces

    path = current_app.config.get("BOUNCE_MAILDIR")
    return bounces.process_maildir(path) if path else {}


@shared_task(name="comments.sweep_reply_optins")
def sweep_reply_optins() -> int:
    """Send confirmation emails whose enqueue was lost (the row records what is still to do)."""
    from service import reply_notifications

    return sum(reply_notifications.send_optin(i) for i in reply_notifications.unsent_optins())


@shared_task(name="comments.retry_reply_notices")
def retry_reply_notices() -> int:
    """Send again the reply notifications claimed but never accepted by the SMTP server."""
    from service import reply_notifications

    return reply_notifications.retry_unsent()


@shared_task(name="comments.send_data_link")
def send_data_link(request_id: int) -> bool:
    """Answer one commenter's data request (at most one email per address per hour)."""
    from service import commenter_data

    return commenter_data.send_link(request_id)


@shared_task(name="comments.sweep_data_requests")
def sweep_data_requests() -> int:
    """Answer data requests whose enqueue was lost."""
    from service import commenter_data

    return sum(commenter_data.send_link(i) for i in commenter_data.unsent_requests())


@shared_task(name="webhooks.deliver_due")
def deliver_webhooks() -> int:
    """Send the webhook deliveries whose time has come (also the beat sweep)."""
    from service import webhooks

    return webhooks.deliver_due()
