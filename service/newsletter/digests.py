"""Daily and weekly digests: plan one row per subscriber with something new, compose each.

Beat runs `plan` hourly. A period (daily `2026-11-24`, weekly `2026-W48`, in the site's time
zone) falls due at the configured hour (and weekday); the unique (subscriber, kind, key) makes
planning twice harmless. A subscriber with no issue published since their last digest gets no
row, so nothing new means nothing sent.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from email.utils import formataddr

from sqlalchemy import and_, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from service import mail
from service.core import settings, site
from service.core.urls import absolute
from service.extensions import db
from service.mail.headers import bulk_headers
from service.mail.reply_address import reply_to
from service.models import (
    Comment,
    CommentStatus,
    Delivery,
    DeliveryMode,
    Issue,
    IssueStatus,
    Send,
    SendKind,
    SendStatus,
    Subscriber,
    SubscriberStatus,
)
from service.models.base import utcnow
from service.newsletter.composing import LinkMaker, Recipient
from service.newsletter.planning import plan_rows, start


def due_periods(now: datetime) -> list[tuple[DeliveryMode, str]]:
    """The (delivery mode, period key) pairs due at `now`."""
    local = now.astimezone(site.timezone())
    hour = int(settings.get("newsletter.digest_hour"))
    weekday = int(settings.get("newsletter.digest_weekday"))
    due = []
    if local.hour >= hour:
        due.append((DeliveryMode.DAILY, local.date().isoformat()))
    if (local.weekday(), local.hour) >= (weekday, hour):
        year, week, _ = local.isocalendar()
        due.append((DeliveryMode.WEEKLY, f"{year}-W{week:02d}"))
    return due


def _since():
    return func.coalesce(Subscriber.last_digest_at, Subscriber.confirmed_at, Subscriber.created_at)


def plan_and_start(now: datetime | None = None) -> list[int]:
    """Plan every due digest, then start each send that got new rows (the hourly beat task)."""
    planned = plan(now)
    for send_id in planned:
        start(send_id)
    return planned


def plan(now: datetime | None = None) -> list[int]:
    """Plan every due digest; commit; return the ids of sends that got new rows."""
    now = now or utcnow()
    planned = []
    for mode, key in due_periods(now):
        try:
            send_id = _plan_period(mode, key, now)
            db.session.commit()
        except IntegrityError:  # another beat planned the same period at the same moment
            db.session.rollback()
            continue
        if send_id:
            planned.append(send_id)
    return planned


def _plan_period(mode: str, key: str, now: datetime) -> int | None:
    send = db.session.scalar(select(Send).where(Send.kind == SendKind.DIGEST, Send.key == key))
    cutoff = send.created_at if send else now
    new_issue = select(Issue.id).where(
        Issue.status == IssueStatus.PUBLISHED,
        Issue.published_at > _since(),
        Issue.published_at <= cutoff,
    )
    already = select(Delivery.id).where(
        Delivery.subscriber_id == Subscriber.id,
        Delivery.kind == SendKind.DIGEST,
        Delivery.key == key,
    )
    audience = select(Subscriber.id).where(
        Subscriber.status == SubscriberStatus.ACTIVE,
        Subscriber.delivery == mode,
        new_issue.exists(),
        ~already.exists(),
    )
    if db.session.scalar(select(func.count()).select_from(audience.subquery())) == 0:
        return None
    if send is None:
        send = Send(kind=SendKind.DIGEST, key=key, status=SendStatus.RUNNING, created_at=now)
        db.session.add(send)
        db.session.flush()
    elif send.status == SendStatus.FINISHED:
        send.status, send.finished_at = SendStatus.RUNNING, None
    plan_rows(send, audience, now)
    return send.id


def contents(subscriber: Subscriber, cutoff: datetime) -> tuple[list[Issue], list[tuple]]:
    """Issues published since the subscriber's last digest, and the most discussed comments."""
    since = subscriber.last_digest_at or subscriber.confirmed_at or subscriber.created_at
    issues = db.session.scalars(
        select(Issue)
        .where(
            Issue.status == IssueStatus.PUBLISHED,
            Issue.published_at > since,
            Issue.published_at <= cutoff,
        )
        .order_by(Issue.published_at, Issue.id)
    ).all()
    reply = aliased(Comment)
    replies = (
        select(func.count(reply.id))
        .where(reply.parent_id == Comment.id, reply.status == CommentStatus.APPROVED)
        .correlate(Comment)
        .scalar_subquery()
    )
    comments = db.session.execute(
        select(Comment, Issue.slug, Issue.title)
        .join(Issue, and_(Issue.id == Comment.issue_id, Issue.status == IssueStatus.PUBLISHED))
        .where(
            Comment.status == CommentStatus.APPROVED,
            Comment.created_at > since,
            Comment.created_at <= cutoff,
        )
        .order_by(replies.desc(), Comment.created_at.desc())
        .limit(int(settings.get("newsletter.digest_comments")))
    ).all()
    return list(issues), [tuple(r) for r in comments]


class DigestComposer:
    """Compose each subscriber's digest (their own 'since'), and advance it once sent."""

    def __init__(self, send: Send):
        self.send_id, self.key, self.cutoff = send.id, send.key, send.created_at
        self.links = LinkMaker()
        self.period = "week" if "-W" in send.key else "day"

    def __call__(self, row: Recipient) -> tuple[EmailMessage | None, Callable[[], None] | None]:
        sub = db.session.get(Subscriber, row.subscriber_id)
        if sub is None:
            return None, None
        issues, comments = contents(sub, self.cutoff)
        if not issues:
            return None, None
        links = self.links(row.subscriber_id)
        context = {
            "issues": [(i, absolute("public.issue", slug=i.slug)) for i in issues],
            "comments": [
                (c, title, absolute("public.issue", slug=slug)) for c, slug, title in comments
            ],
            "period": self.period,
            "key": self.key,
            **links,
        }
        subject, text, html = mail.render_parts("digest", context)
        msg = mail.assemble(
            subject,
            text,
            html,
            formataddr((row.name, row.email)),
            bulk_headers(row.subscriber_id, links["one_click_url"])
            | reply_to(issues[-1].id, row.subscriber_id),  # replies comment on the newest issue
        )
        cutoff, sid = self.cutoff, row.subscriber_id

        def advance() -> None:
            db.session.execute(
                update(Subscriber).where(Subscriber.id == sid).values(last_digest_at=cutoff)
            )

        return msg, advance
