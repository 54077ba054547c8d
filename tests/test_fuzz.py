"""Bad input, generated: every public form and the WXR importer answer calmly and store all or
nothing — never a 500, always a clear refusal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import func, select

from service.comments import guards
from service.core import settings
from service.extensions import db
from service.importers import wxr
from service.models import Comment, Issue, Subscriber
from service.models.base import utcnow
from service.newsletter import subscriptions
from tests.conftest import shared_file
from tests.factories import make_comment, make_issue

FUZZ = hsettings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Any text a browser could send (no lone surrogates: they cannot be encoded), plus the classics.
texts = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=80),
    st.sampled_from(
        [
            "",
            " ",
            "a@b.c",
            "reader@example.net",
            "x" * 300,
            "\x00",
            "a\r\nBcc: x",
            "<script>alert(1)</script>",
            "javascript:alert(1)",
            "http://",
            "ñ@ñ.ñ",
            "https://example.org/" + "a" * 250,
            "'; DROP TABLE comments; --",
            "\u202e\u200b",
            "%00",
            "[x](javascript:alert(1))",
        ]
    ),
)


def count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def no_server_error(response) -> str:
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


@pytest.fixture
def issue(app):
    settings.put("comments.flood_seconds", 0)  # every example is a fresh reader
    db.session.commit()
    found = make_issue("Fuzzed")
    make_comment(found, body="A parent to reply to.")
    return found


@FUZZ
@given(
    name=texts,
    email=texts,
    url=texts,
    body=texts,
    parent=texts,
    notify=st.booleans(),
    stamp=st.sampled_from(["good", "", "garbage"]),
    honeypot=st.sampled_from(["", "bot"]),
)
def test_comment_form_never_fails_and_stores_whole_comments(
    client, issue, name, email, url, body, parent, notify, stamp, honeypot
):
    before = count(Comment)
    good = guards.form_stamp(issue.id, now=utcnow() - timedelta(seconds=30))
    response = client.post(
        f"/issues/{issue.slug}/comments",
        data={
            "author": name,
            "email": email,
            "url": url,
            "comment": body,
            "comment_parent": parent,
            "notify_replies": "1" if notify else "",
            "homepage": honeypot,
            "stamp": good if stamp == "good" else stamp,
        },
    )
    page = no_server_error(response)
    after = count(Comment)
    if response.status_code in (303, 200):  # stored: pending, or spam for a bot-like post
        assert after == before + 1
        stored = db.session.scalar(select(Comment).order_by(Comment.id.desc()).limit(1))
        assert stored.author_name and stored.author_email and stored.body_html
    else:  # refused, with a reason on the page and nothing stored
        assert response.status_code in (400, 403, 409, 429)
        assert after == before
        assert "comment" in page.lower()


@FUZZ
@given(email=texts, name=texts, website=st.sampled_from(["", "http://bot.example"]))
def test_subscribe_form_never_fails_and_stores_at_most_one_subscriber(client, email, name, website):
    before = count(Subscriber)
    response = client.post(
        "/subscribe",
        data={
            "email": email,
            "name": name,
            "website": website,
            "stamp": subscriptions.form_stamp(utcnow().timestamp() - 60),
        },
    )
    page = no_server_error(response)
    after = count(Subscriber)
    if response.status_code == 400:
        assert after == before and 'class="flash flash-error"' in page
    else:
        assert response.status_code == 200 and after - before in (0, 1)


@FUZZ
@given(email=texts, action=st.sampled_from(["export", "delete", "", "drop", "\x00"]))
def test_commenter_data_request_never_fails(app, client, smtp, email, action):
    app.config["SMTP_URL"] = smtp.url
    response = client.post("/comments/your-data", data={"email": email, "action": action})
    page = no_server_error(response)
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert "Please enter the email address you commented with." in page


@hsettings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(email=texts, password=texts)
def test_login_form_refuses_bad_credentials_calmly(client, admin, email, password):
    response = client.post("/login", data={"email": email, "password": password})
    no_server_error(response)
    assert response.status_code == 401


@FUZZ
@given(
    token=st.text(
        st.characters(min_codepoint=33, max_codepoint=0x2FFF, blacklist_characters="/?#%\\"),
        min_size=1,
        max_size=120,
    ),
    path=st.sampled_from(
        [
            "/comments/replies/confirm/{}",
            "/comments/replies/stop/{}",
            "/comments/your-data/{}",
            "/subscribe/confirm/{}",
            "/subscribe/preferences/{}",
            "/unsubscribe/{}",
            "/unsubscribe/{}/one-click",
        ]
    ),
)
def test_emailed_links_with_forged_tokens_are_refused(client, token, path):
    response = client.post(path.format(token), data={"delivery": "none"})
    no_server_error(response)
    assert response.status_code in (400, 404)


def mutations(original: bytes):
    """The seed export cut short, with bytes flipped, with a slice removed, or random bytes."""
    size = len(original)
    return st.one_of(
        st.integers(0, size).map(lambda n: original[:n]),
        st.tuples(st.integers(0, size - 1), st.integers(0, 255)).map(
            lambda p: original[: p[0]] + bytes([p[1]]) + original[p[0] + 1 :]
        ),
        st.tuples(st.integers(0, size), st.integers(1, 400)).map(
            lambda p: original[: p[0]] + original[p[0] + p[1] :]
        ),
        st.binary(max_size=300),
        st.just(original.replace(b"<wp:post_id>", b"<wp:post_id>\x01")),
    )


def test_wxr_importer_refuses_mangled_files_whole(app, tmp_path):
    original = shared_file("fixtures/seed-blog.wxr.xml").read_bytes()
    path = tmp_path / "export.xml"

    @FUZZ
    @given(data=mutations(original))
    def check(data: bytes) -> None:
        path.write_bytes(data)
        before = (count(Issue), count(Comment))
        try:
            report = wxr.import_file(str(path))
        except wxr.WXRFileError as exc:
            message = str(exc)
            assert message and "\n" not in message
            assert (count(Issue), count(Comment)) == before  # nothing stored half-way
        else:
            assert (count(Issue), count(Comment)) == (
                before[0] + report.issues,
                before[1] + report.comments,
            )

    check()
