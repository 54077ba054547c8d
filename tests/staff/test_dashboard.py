"""The admin dashboard: weekly charts as inline SVG, pending count, sends, worker health."""

from __future__ import annotations

from datetime import timedelta

from service.extensions import db
from service.models import Subscriber
from service.models.base import utcnow
from service.staff import dashboard, maintenance
from tests.factories import make_comment, make_issue


def _subscriber(email, confirmed_days_ago, unsubscribed_days_ago=None):
    now = utcnow()
    sub = Subscriber(
        email=email, status="active", confirmed_at=now - timedelta(days=confirmed_days_ago)
    )
    if unsubscribed_days_ago is not None:
        sub.status = "unsubscribed"
        sub.unsubscribed_at = now - timedelta(days=unsubscribed_days_ago)
    db.session.add(sub)
    db.session.commit()


def test_weekly_subscriber_counts(app):
    _subscriber("a@example.org", 20)
    _subscriber("b@example.org", 1)
    _subscriber("c@example.org", 20, unsubscribed_days_ago=1)
    series = dashboard.subscriber_weeks(weeks=4)
    assert sum(series["new"]) == 3
    assert series["unsubscribed"][-1] == 1
    assert series["active"][-1] == 2  # a and b; c left this week
    assert series["active"][-2] >= 2  # a and c were both active at the end of last week


def test_weekly_comment_counts(app):
    issue = make_issue()
    make_comment(issue, status="approved")
    make_comment(issue, body="other", status="pending")
    series = dashboard.comment_weeks(weeks=2)
    assert series["received"][-1] == 2 and series["approved"][-1] == 1


def test_dashboard_shows_charts_pending_and_worker_health(admin_client):
    issue = make_issue()
    make_comment(issue, status="pending")
    page = admin_client.get("/admin/").get_data(as_text=True)
    assert page.count("<svg") >= 2 and "Subscribers per week" in page
    assert "<strong>1</strong> comments awaiting moderation" in page
    assert "never</strong> — is a worker running?" in page
    maintenance.heartbeat("beat")
    page = admin_client.get("/admin/").get_data(as_text=True)
    assert "is a worker running" not in page
    assert '<script src="http' not in page
