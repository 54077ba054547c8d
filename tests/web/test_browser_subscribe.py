"""A reader in a real browser: subscribes, confirms from the emailed link, changes preferences."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from service.core import settings
from service.extensions import db
from service.models import Subscriber
from service.newsletter import confirmations


def reader() -> Subscriber:
    return db.session.scalar(
        select(Subscriber)
        .where(Subscriber.email == "bea@example.net")
        .execution_options(populate_existing=True)
    )


@pytest.mark.browser
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_reader_subscribes_confirms_from_the_email_and_picks_a_weekly_digest(
    app, smtp, live_server, page
):
    app.config.update(SMTP_URL=smtp.url, WTF_CSRF_ENABLED=True)
    settings.put("newsletter.min_form_seconds", 0)  # the robot types faster than the trap
    db.session.commit()

    page.goto(f"{live_server}/")
    page.fill("#subscribe-email-footer", "bea@example.net")
    page.fill(".site-footer input[name=name]", "Bea Browser")
    page.click(".site-footer button:has-text('Subscribe')")
    page.wait_for_selector("text=Check your inbox")
    assert reader().status == "pending"

    confirmations.sweep()  # what the worker does with the enqueued task
    [message] = smtp.sink.to("bea@example.net")
    text = message.get_body(preferencelist=("plain",)).get_content()
    path = re.search(r"http://margins\.test(/subscribe/confirm/\S+)", text).group(1)
    page.goto(live_server + path)
    page.wait_for_selector("text=Confirm your subscription")
    assert reader().status == "pending"  # opening the link alone changes nothing
    page.click("button:has-text('Confirm my subscription')")
    page.wait_for_selector("text=You are subscribed")
    assert reader().status == "active"

    page.click("text=Choose how often you hear from us")
    page.wait_for_selector("text=Your newsletter preferences")
    page.check("input[value=weekly]")
    page.uncheck("input[name=reply_notifications]")
    page.click("button:has-text('Save preferences')")
    page.wait_for_selector("text=Your preferences are saved")
    assert "bea@example.net" not in page.content()
    sub = reader()
    assert (sub.delivery, sub.reply_notifications, sub.name) == ("weekly", False, "Bea Browser")
