"""Thin task adapters over the domain functions: tasks take ids and re-read the world.

Task names are explicit strings, kept across refactors, so messages already queued still find
their task.
"""

from __future__ import annotations

from celery import shared_task

from service import webhooks
from service.comments import data_requests, reply_consent, reply_notices, retention
from service.comments.email_replies import mails as reply_mails
from service.comments.email_replies import receiving as replies
from service.moderation import decisions, notices
from service.newsletter import bounces, confirmations, digests, sending, sweeps
from service.publishing import scheduling
from service.staff import maintenance


@shared_task(name="publishing.publish_due")
def publish_due() -> list[int]:
    """Publish every scheduled issue whose time has come."""
    return scheduling.publish_due()


@shared_task(name="maintenance.prune_broker")
def prune_broker() -> int:
    return maintenance.prune_broker()


@shared_task(name="maintenance.ping")
def ping(token: str) -> str:
    """Record that a worker ran (used by the health check and the round-trip test)."""
    return maintenance.heartbeat(token)


@shared_task(name="moderation.moderate_comment")
def moderate_comment(comment_id: int) -> str | None:
    """Decide one comment automatically (a no-op when it is no longer due)."""
    return decisions.moderate_comment(comment_id)


@shared_task(name="moderation.notify_moderators")
def notify_moderators() -> int:
    """Email moderators about held comments (batched per moderator)."""
    return notices.notify_moderators()


@shared_task(name="comments.send_reply_optin")
def send_reply_optin(subscription_id: int) -> bool:
    """Email the confirmation link for reply notifications (at most once a day per address)."""
    return reply_consent.send_optin(subscription_id)


@shared_task(name="comments.notify_replies")
def notify_reply(comment_id: int) -> int:
    """Tell the parent comment's author about an approved reply (enqueue after approval)."""
    return reply_notices.notify(comment_id)


@shared_task(name="comments.purge")
def purge_comments() -> int:
    """Delete spam and trash older than comments.purge_after_days."""
    return retention.purge_old()


@shared_task(name="comments.erase_ips")
def erase_comment_ips() -> int:
    """Erase commenter IPs and user agents older than comments.ip_retention_days."""
    return retention.erase_old_ips()


@shared_task(name="subscriptions.send_confirmation")
def send_confirmation(subscriber_id: int) -> bool:
    return confirmations.send_confirmation(subscriber_id)


@shared_task(name="subscriptions.sweep")
def subscriptions_sweep() -> int:
    return confirmations.sweep()


@shared_task(name="delivery.drain")
def delivery_drain(send_id: int) -> int:
    return sending.drain(send_id)


@shared_task(name="delivery.sweep")
def delivery_sweep() -> int:
    return sweeps.sweep()


@shared_task(name="digests.plan")
def digests_plan() -> list[int]:
    return digests.plan_and_start()


@shared_task(name="bounces.process_maildir")
def bounces_process_maildir() -> dict[str, int]:
    return bounces.process_configured_maildir()


@shared_task(name="comments.sweep_reply_optins")
def sweep_reply_optins() -> int:
    """Send confirmation emails whose enqueue was lost (the row records what is still to do)."""
    return reply_consent.sweep_optins()


@shared_task(name="comments.retry_reply_notices")
def retry_reply_notices() -> int:
    """Send again the reply notifications claimed but never accepted by the SMTP server."""
    return reply_notices.retry_unsent()


@shared_task(name="comments.send_data_link")
def send_data_link(request_id: int) -> bool:
    """Answer one commenter's data request (at most one email per address per hour)."""
    return data_requests.send_link(request_id)


@shared_task(name="comments.sweep_data_requests")
def sweep_data_requests() -> int:
    """Answer data requests whose enqueue was lost."""
    return data_requests.sweep()


@shared_task(name="webhooks.deliver_due")
def deliver_webhooks() -> int:
    """Send the webhook deliveries whose time has come (also the beat sweep)."""
    return webhooks.deliver_due()


@shared_task(name="replies.send_mail")
def send_reply_mail(reply_id: int) -> bool:
    """Send the one email an emailed reply earns its reader (ask, received or refused)."""
    return reply_mails.send_mail(reply_id)


@shared_task(name="replies.sweep_mail")
def sweep_reply_mail() -> int:
    """Send the emails about replies whose enqueue was lost or whose send failed."""
    return reply_mails.sweep()


@shared_task(name="replies.process_maildir")
def replies_process_maildir() -> dict[str, int]:
    """Read the replies waiting in REPLY_MAILDIR."""
    return replies.process_configured_maildir()
