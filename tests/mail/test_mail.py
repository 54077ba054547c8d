"""Building and sending mail: SMTP to a real server, the local mailbox, header safety."""

from __future__ import annotations

import mailbox

import pytest

from service import mail
from service.config import SMTPSettings


@pytest.fixture
def app_config():
    return {}


def _write_templates(app, tmp_path):
    """A throwaway template set, so the test does not depend on feature templates."""
    from jinja2 import ChoiceLoader, DictLoader

    app.jinja_loader  # noqa: B018 (materialise the default loader)
    app.jinja_env.loader = ChoiceLoader(
        [
            DictLoader(
                {
                    "email/hello.subject.txt": "Hello {{ name }}",
                    "email/hello.txt": "Hi {{ name }}, welcome to {{ site_name }}.",
                    "email/hello.html": "<style>p{color:red}</style><p>Hi {{ name }}</p>",
                }
            ),
            app.jinja_env.loader,
        ]
    )


def test_message_has_text_html_and_inlined_css(app, tmp_path):
    _write_templates(app, tmp_path)
    msg = mail.build("hello", "reader@example.org", {"name": "Ann"})
    assert msg["Subject"] == "Hello Ann"
    assert msg["Message-ID"].endswith("@margins.test>")
    assert "Margins Test" in msg["From"]
    assert msg.get_body(("plain",)).get_content().strip() == "Hi Ann, welcome to Margins Test."
    html = msg.get_body(("html",)).get_content()
    assert 'style="color: red' in html or 'style="color:red' in html


def test_header_injection_is_refused(app, tmp_path):
    _write_templates(app, tmp_path)
    with pytest.raises(mail.HeaderInjectionError):
        mail.build("hello", "victim@example.org\r\nBcc: everyone@example.org", {"name": "x"})
    with pytest.raises(mail.HeaderInjectionError):
        mail.build("hello", "a@example.org", {"name": "x"}, headers={"X-Note": "a\nb"})


def test_sends_through_a_real_smtp_server(app, tmp_path, smtp):
    _write_templates(app, tmp_path)
    app.config["SMTP_URL"] = smtp.url
    msg = mail.build("hello", "reader@example.org", {"name": "Ann"})
    message_id = mail.send(msg, envelope_from="bounces@margins.test")
    assert len(smtp.sink.messages) == 1
    received = smtp.sink.messages[0]
    assert received["Message-ID"] == message_id
    assert smtp.sink.envelopes[0].mail_from == "bounces@margins.test"
    assert smtp.sink.envelopes[0].rcpt_tos == ["reader@example.org"]


def test_without_smtp_mail_lands_in_the_local_mailbox(app, tmp_path, admin_client):
    _write_templates(app, tmp_path)
    mail.send(mail.build("hello", "reader@example.org", {"name": "Ann"}))
    box = mailbox.Maildir(app.config["MAILBOX_DIR"])
    assert len(box) == 1
    listing = admin_client.get("/admin/mailbox").get_data(as_text=True)
    assert "Hello Ann" in listing and "reader@example.org" in listing
    key = next(iter(box.keys()))
    page = admin_client.get(f"/admin/mailbox/{key}").get_data(as_text=True)
    assert "Hi Ann, welcome to Margins Test." in page
    html = admin_client.get(f"/admin/mailbox/{key}/html")
    assert "sandbox" in html.headers["Content-Security-Policy"]
    assert "Hi Ann" in html.get_data(as_text=True)


def test_smtp_url_forms():
    s = SMTPSettings.from_url("smtp+starttls://user%40x:p%2Fw@mail.example.org")
    assert (s.host, s.port, s.username, s.password, s.mode) == (
        "mail.example.org",
        587,
        "user@x",
        "p/w",
        "starttls",
    )
    assert SMTPSettings.from_url("smtps://h").port == 465
    with pytest.raises(ValueError, match="scheme"):
        SMTPSettings.from_url("http://h")
