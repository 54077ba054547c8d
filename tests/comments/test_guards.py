"""The request-time spam guards: honeypot, signed time trap, link count."""

from __future__ import annotations

from datetime import timedelta

from service.comments import guards
from service.core import settings
from service.extensions import db
from service.models.base import utcnow


def test_a_person_who_took_their_time_passes(app):
    stamp = guards.form_stamp(7, now=utcnow() - timedelta(seconds=30))
    assert guards.bot_reasons("", stamp, 7) == []


def test_filled_honeypot_is_bot_like(app):
    stamp = guards.form_stamp(7, now=utcnow() - timedelta(seconds=30))
    reasons = guards.bot_reasons("http://spam.example", stamp, 7)
    assert reasons == ["honeypot: the hidden field was filled in"]


def test_posting_faster_than_the_minimum_is_bot_like(app):
    shown = utcnow()
    stamp = guards.form_stamp(7, now=shown)
    reasons = guards.bot_reasons("", stamp, 7, now=shown + timedelta(seconds=1))
    assert len(reasons) == 1 and "time trap: posted 1.0 s" in reasons[0]


def test_minimum_time_is_a_setting(app):
    settings.put("comments.min_seconds", 0)
    db.session.commit()
    shown = utcnow()
    assert guards.bot_reasons("", guards.form_stamp(7, now=shown), 7, now=shown) == []


def test_missing_forged_or_foreign_stamps_are_bot_like(app):
    good = guards.form_stamp(7, now=utcnow() - timedelta(seconds=30))
    assert "missing" in guards.stamp_reason("", 7)
    assert "not valid" in guards.stamp_reason(good[:-3] + "abc", 7)
    assert "another page" in guards.stamp_reason(good, 8)


def test_links_are_counted_in_urls_and_bare_www(app):
    text = "see https://a.example and http://www.b.example and www.c.example, not mail@d.example"
    assert guards.count_links(text) == 3


def test_too_many_links_get_a_clear_message(app):
    settings.put("comments.max_links", 2)
    db.session.commit()
    assert guards.links_problem("https://a.example https://b.example") is None
    message = guards.links_problem("https://a.example https://b.example https://c.example")
    assert message == "Your comment contains 3 links; at most 2 are allowed."
