"""The moderation rules: known commenters, links, words, bans."""

from __future__ import annotations

import pytest

from service.core import settings
from service.core.errors import FieldErrors
from service.extensions import db
from service.models import Subscriber
from service.moderation import rule_settings, rules
from tests.factories import make_comment, make_issue


@pytest.fixture
def issue(app):
    return make_issue("Rules")


def _set(**values) -> None:
    for key, value in values.items():
        settings.put(f"moderation.{key}", value)
    db.session.commit()


def test_a_first_comment_is_not_known(issue):
    comment = make_comment(issue, status="pending", author_token="tok-1")
    assert rules.evaluate(comment).known == ""


def test_the_same_browser_token_as_an_approved_comment_makes_a_known_commenter(issue):
    make_comment(issue, status="approved", author_token="tok-1")
    comment = make_comment(issue, status="pending", author_token="tok-1", body="Again.")
    assert "browser" in rules.evaluate(comment).known


def test_a_token_of_a_spam_comment_does_not_count(issue):
    make_comment(issue, status="spam", author_token="tok-1")
    comment = make_comment(issue, status="pending", author_token="tok-1", body="Again.")
    assert rules.evaluate(comment).known == ""


def test_name_and_email_alone_never_make_a_known_commenter(issue):
    make_comment(issue, status="approved", name="Rita Reader", email="rita@example.net")
    copycat = make_comment(
        issue,
        status="pending",
        name="Rita Reader",
        email="rita@example.net",
        body="Buy now.",
        author_token="other",
    )
    assert rules.evaluate(copycat).known == ""


def test_a_typed_subscriber_email_with_an_approved_comment_is_not_known(issue):
    make_comment(issue, status="approved", email="rita@example.net", author_token="rita-tok")
    db.session.add(Subscriber(email="rita@example.net", status="active"))
    db.session.commit()
    impostor = make_comment(
        issue,
        status="pending",
        email="Rita@Example.net",
        body="Buy now.",
        author_token="impostor-tok",
    )
    assert rules.evaluate(impostor).known == ""


def test_an_unconfirmed_subscriber_email_is_not_verified(issue):
    make_comment(issue, status="approved", email="rita@example.net")
    db.session.add(Subscriber(email="rita@example.net", status="pending"))
    db.session.commit()
    comment = make_comment(issue, status="pending", email="rita@example.net", body="More.")
    assert rules.evaluate(comment).known == ""


def test_two_links_including_bare_urls_hold(issue):
    one = make_comment(issue, status="pending", body="See [this](https://a.example/x).")
    two = make_comment(
        issue, status="pending", body="See [this](https://a.example/x) and www.b.example/y"
    )
    assert rules.evaluate(one).hold == []
    assert rules.evaluate(two).hold == ["2 links (holding at 2)"]


def test_moderation_words_hold_and_disallowed_words_spam_in_any_field(issue):
    _set(words=["casino"], disallowed_words=["viagra", "203.0.113."])
    by_name = make_comment(issue, status="pending", name="Casino Fan")
    by_site = make_comment(issue, status="pending", author_url="https://cheap-viagra.example")
    by_ip = make_comment(issue, status="pending", author_ip="203.0.113.9")
    assert rules.evaluate(by_name).hold == ["moderation word “casino” in name"]
    assert rules.evaluate(by_site).spam == ["disallowed word “viagra” in website"]
    assert rules.evaluate(by_ip).spam == ["disallowed word “203.0.113.” in IP"]


def test_banned_email_domain_and_ip_range_are_spam(issue):
    _set(
        banned_emails=["bad@example.org"],
        banned_domains=["spam.example"],
        banned_ips=["198.51.100.0/24", "not-an-ip", "2001:db8::/32"],
    )
    assert rules.evaluate(make_comment(issue, status="pending", email="BAD@example.org")).spam == [
        "banned email bad@example.org"
    ]
    assert rules.evaluate(
        make_comment(issue, status="pending", email="x@mail.spam.example")
    ).spam == ["banned domain spam.example"]
    assert rules.evaluate(
        make_comment(issue, status="pending", author_ip="198.51.100.77")
    ).spam == ["banned IP range 198.51.100.0/24"]
    assert rules.evaluate(make_comment(issue, status="pending", author_ip="2001:db8::1")).spam == [
        "banned IP range 2001:db8::/32"
    ]
    assert (
        rules.evaluate(make_comment(issue, status="pending", author_ip="198.51.101.1")).spam == []
    )


def test_hold_all_holds_even_known_commenters(issue):
    _set(hold_all=True)
    make_comment(issue, status="approved", author_token="tok")
    found = rules.evaluate(make_comment(issue, status="pending", author_token="tok", body="b"))
    assert found.known and "every comment is held for a moderator" in found.hold


def test_settings_page_values_are_validated(app):
    form = {
        "max_links": "3",
        "notify_interval_minutes": "5",
        "link_days": "3",
        "classifier_min_trained": "20",
        "spam_threshold": "0.98",
        "banned_ips": "10.0.0.0/8\n\n",
        "words": " casino \nloan",
        "require_known": "1",
    }
    rule_settings.configure(form, "alice@example.com")
    assert settings.get("moderation.words") == ["casino", "loan"]
    assert settings.get("moderation.banned_ips") == ["10.0.0.0/8"]
    assert settings.get("moderation.hold_all") is False
    with pytest.raises(FieldErrors, match="not an IP"):
        rule_settings.configure({**form, "banned_ips": "10.0.0.300"}, "alice@example.com")
    with pytest.raises(FieldErrors, match="threshold"):
        rule_settings.configure({**form, "spam_threshold": "0.2"}, "alice@example.com")
