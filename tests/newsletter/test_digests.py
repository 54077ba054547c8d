"""Daily and weekly digests: due periods, what goes in, and nothing new → nothing sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from service.core import settings
from service.extensions import db
from service.models import Delivery, Send, Subscriber
from service.newsletter import digests, sending
from tests.factories import make_comment, make_issue

MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # ISO week 2026-W48


@pytest.fixture
def mail_to(app, smtp):
    app.config["SMTP_URL"] = smtp.url
    return smtp


def reader(email: str, mode: str, days: float = 30) -> Subscriber:
    sub = Subscriber(
        email=email,
        status="active",
        delivery=mode,
        confirmed_at=MONDAY_9 - timedelta(days=days),
        created_at=MONDAY_9 - timedelta(days=days),
    )
    db.session.add(sub)
    db.session.commit()
    return sub


def issue_at(title: str, when: datetime):
    issue = make_issue(title, publish=False)
    from service.publishing import scheduling

    scheduling.publish(issue.id, when=when)
    return issue


def run(now: datetime) -> list[int]:
    planned = digests.plan(now)
    for send_id in planned:
        sending.drain(send_id)
    return planned


def test_periods_fall_due_at_the_configured_day_and_hour(app):
    assert digests.due_periods(MONDAY_9 - timedelta(hours=2)) == []
    assert digests.due_periods(MONDAY_9) == [("daily", "2026-11-23"), ("weekly", "2026-W48")]
    settings.put("newsletter.digest_weekday", 4)  # Friday
    settings.put("newsletter.digest_hour", 18)
    db.session.commit()
    assert digests.due_periods(MONDAY_9) == []
    assert digests.due_periods(MONDAY_9 + timedelta(days=4, hours=9)) == [
        ("daily", "2026-11-27"),
        ("weekly", "2026-W48"),
    ]


def test_periods_follow_the_site_time_zone(app):
    app.config["TIMEZONE"] = "America/New_York"  # 09:00 UTC is 04:00 there
    assert digests.due_periods(MONDAY_9) == []
    assert ("daily", "2026-11-23") in digests.due_periods(MONDAY_9 + timedelta(hours=4))


def test_weekly_digest_lists_new_issues_and_the_most_discussed_comment_once(mail_to):
    weekly = reader("weekly@example.com", "weekly")
    reader("every@example.com", "issue")
    old = issue_at("Before the last digest", MONDAY_9 - timedelta(days=40))
    new = issue_at("Fresh thinking", MONDAY_9 - timedelta(days=2))
    ago = (datetime.now(UTC) - MONDAY_9).total_seconds() / 60  # minutes since "now"
    quiet = make_comment(new, body="Just a note.", minutes_ago=ago + 60)
    lively = make_comment(new, body="A contested claim.", name="Lively Larry", minutes_ago=ago + 90)
    for n in range(2):
        make_comment(new, body=f"Reply {n}", parent=lively, minutes_ago=ago + 30)
    mail_to.sink.messages.clear()  # the issue emails themselves
    run(MONDAY_9)
    [message] = mail_to.sink.to("weekly@example.com")
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "weekly digest" in message["Subject"]
    assert "Fresh thinking" in text and old.title not in text
    assert text.index("Lively Larry") < text.index(quiet.author_name)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert db.session.get(Subscriber, weekly.id, populate_existing=True).last_digest_at
    run(MONDAY_9 + timedelta(hours=1))  # the next hourly tick plans nothing new
    assert len(mail_to.sink.to("weekly@example.com")) == 1
    assert [m["To"] for m in mail_to.sink.messages] == ["weekly@example.com"]


def test_nothing_new_means_nothing_sent(mail_to):
    reader("daily@example.com", "daily")
    issue_at("Long ago", MONDAY_9 - timedelta(days=45))
    mail_to.sink.messages.clear()
    assert run(MONDAY_9) == []
    assert db.session.scalar(select(Send.id).where(Send.kind == "digest")) is None
    assert mail_to.sink.messages == []


def test_daily_digest_key_is_the_local_date_and_covers_only_since_the_last_one(mail_to):
    sub = reader("daily@example.com", "daily")
    issue_at("Sunday piece", MONDAY_9 - timedelta(hours=20))
    mail_to.sink.messages.clear()
    run(MONDAY_9)
    row = db.session.scalar(select(Delivery).where(Delivery.subscriber_id == sub.id))
    assert (row.kind, row.key, row.status) == ("digest", "2026-11-23", "sent")
    issue_at("Monday piece", MONDAY_9 + timedelta(hours=3))
    run(MONDAY_9 + timedelta(days=1))
    second = mail_to.sink.messages[-1].get_body(preferencelist=("plain",)).get_content()
    assert len(mail_to.sink.messages) == 2
    assert "Monday piece" in second and "Sunday piece" not in second


def test_cli_send_digest_shows_progress(mail_to, runner, app):
    reader("daily@example.com", "daily", days=2)
    issue_at("Today", datetime.now(UTC) - timedelta(hours=1))
    settings.put("newsletter.digest_hour", 0)
    db.session.commit()
    mail_to.sink.messages.clear()
    result = runner.invoke(["send-digest"])
    assert result.exit_code == 0, result.output
    assert "sent 1, failed 0" in result.output
    assert len(mail_to.sink.to("daily@example.com")) == 1


def test_a_reader_who_leaves_while_the_digest_is_sending_gets_none(mail_to, app):
    from service.newsletter import subscriptions

    reader("stays@example.com", "weekly")
    leaver_id = reader("leaves@example.com", "weekly").id
    issue_at("Fresh thinking", MONDAY_9 - timedelta(days=2))
    mail_to.sink.messages.clear()

    def reply(envelope):  # while the first digest arrives, the second reader unsubscribes
        if envelope.rcpt_tos == ["stays@example.com"]:
            with app.app_context():
                subscriptions.unsubscribe(leaver_id, via="one-click")
                db.session.remove()

    mail_to.sink.reply = reply
    run(MONDAY_9)
    assert [m["To"] for m in mail_to.sink.messages] == ["stays@example.com"]
    row = db.session.scalar(
        select(Delivery)
        .where(Delivery.subscriber_id == leaver_id)
        .execution_options(populate_existing=True)
    )
    assert row.status == "failed" and "unsubscribed" in row.last_error
