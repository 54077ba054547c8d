"""Reading incoming replies: the fixtures of real clients' output (tests/fixtures/inbound) give
exactly the reader's own text, and automatic mail is told apart by its headers."""

from __future__ import annotations

import importlib.util
import json
import re
from email.message import EmailMessage
from pathlib import Path

import pytest

from service import create_app
from service.mail import inbound, reply_address
from service.mail.inbound import parts, plain_text, sorting
from tests.conftest import SECRET, base_config

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "inbound"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))["messages"]
REPLIES = [e for e in EXPECTED if e["kind"] == "reply"]
WITH_TEXT_PART = [e for e in REPLIES if e["file"] != "html_only.eml"]


def _check_module():
    spec = importlib.util.spec_from_file_location("inbound_check", FIXTURES / "check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


normalise = _check_module().normalise


def raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def without_markdown(text: str) -> str:
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"(?m)^- ", "", text.replace("**", "").replace("*", ""))


@pytest.mark.parametrize("entry", EXPECTED, ids=[e["file"] for e in EXPECTED])
def test_each_fixture_gives_the_readers_own_text_and_its_kind(entry):
    incoming = inbound.read(raw(entry["file"]))

    assert incoming.kind == entry["kind"], incoming.why
    assert incoming.attachments_dropped == entry["attachments_dropped"]
    if entry["kind"] == "reply":
        assert normalise(incoming.text) == normalise(entry["reply_text"])
    else:
        assert incoming.text == "" and incoming.why


@pytest.mark.parametrize("entry", WITH_TEXT_PART, ids=[e["file"] for e in WITH_TEXT_PART])
def test_the_plain_text_fallback_finds_the_same_words(entry):
    """Without the HTML part (or when it yields nothing), mail-parser-reply on the text part
    still cuts quote, attribution and signature; only the HTML's formatting is lost."""
    msg = inbound.reading.parse(raw(entry["file"]))
    plain = parts.reading(msg, "plain").of("plain")
    assert plain
    text = plain_text.reply_markdown("\n".join(plain))
    assert normalise(without_markdown(text)) == normalise(without_markdown(entry["reply_text"]))


def test_html_replies_keep_the_markdown_subset():
    text = inbound.read(raw("html_only.eml")).text
    assert "I **loved** this issue" in text and "*marginalia as conversation*" in text
    assert "- The [Coleridge marginalia](https://www.example.com/coleridge) project" in text
    assert "- Your own archive: https://news.example.org/issues" in text  # bare, not <…>
    assert "mailtrack" not in text and "{" not in text  # no pixel, no <style> text


def test_gmail_writes_one_div_per_line_and_an_empty_div_per_paragraph():
    text = inbound.read(raw("outlook.eml")).text
    assert text.endswith("Best regards,\nPriya")  # two lines of one paragraph
    assert "\n\nAlso, “Café society”" in text


def test_charsets_and_encoded_words_are_decoded_right():
    outlook = inbound.read(raw("outlook.eml"))  # windows-1252 text, B-encoded subject
    assert "I’d gladly pay €5" in outlook.text
    assert outlook.subject == "RE: Issue #12: Café society and the art of the marginal note"
    polish = inbound.read(raw("outlook_original_message.eml"))  # windows-1250, QP
    assert "Dziękuję" in polish.text and "Boy-Żeleński" in polish.text
    french = inbound.read(raw("thunderbird.eml"))  # ISO-8859-1, 8bit, format=flowed
    assert "même the menus" in french.text
    assert "(she wrote in the margins" in french.text  # the flowed soft break is undone


def test_a_latin1_label_on_windows_1252_bytes_still_decodes():
    msg = EmailMessage()
    msg["Subject"] = "x"
    msg.set_content("I’d say “yes” – twice.".encode("cp1252"), "text", "plain")
    del msg["Content-Type"]
    msg["Content-Type"] = 'text/plain; charset="iso-8859-1"'
    assert parts.decode(msg) == "I’d say “yes” – twice."


def _strip(message: bytes, *names: str) -> bytes:
    head, _, body = message.partition(b"\r\n\r\n")
    lines, keep = head.split(b"\r\n"), []
    skipping = False
    for line in lines:
        if line[:1] in (b" ", b"\t") and skipping:
            continue
        skipping = any(line.lower().startswith(n.lower().encode() + b":") for n in names)
        if not skipping:
            keep.append(line)
    return b"\r\n".join(keep) + b"\r\n\r\n" + body


@pytest.mark.parametrize("name", ["vacation_no_headers.eml", "vacation_abwesenheitsnotiz.eml"])
def test_an_out_of_office_reply_with_its_headers_stripped_is_known_by_its_subject(name):
    bare = _strip(
        raw(name),
        "X-Auto-Response-Suppress",
        "X-MS-Exchange-Inbox-Rules-Loop",
        "X-MS-Exchange-Generated-Message-Source",
    )
    msg = inbound.reading.parse(bare)
    assert "X-Auto-Response-Suppress" not in msg
    assert sorting.automatic(msg) == ("auto", "an automatic-reply subject line")


def test_a_reply_about_an_automatic_reply_is_still_a_person():
    msg = inbound.reading.parse(raw("gmail_plain_and_html.eml"))
    msg.replace_header("Subject", "Re: Out of office hours, and other essays")
    assert sorting.automatic(msg) is None


@pytest.fixture
def mail_app(tmp_path):
    app = create_app(
        {
            **base_config(tmp_path, f"sqlite:///{tmp_path}/x.sqlite"),
            "REPLY_DOMAIN": "replies.example.org",
        }
    )
    with app.app_context():
        yield app


@pytest.mark.parametrize("entry", EXPECTED, ids=[e["file"] for e in EXPECTED])
def test_the_reply_address_verifies_exactly_when_the_fixture_says(mail_app, entry):
    assert mail_app.config["SECRET_KEY"] == SECRET
    incoming = inbound.read(raw(entry["file"]))
    target, shaped = reply_address.find(inbound.recipients(incoming.message))
    assert shaped
    assert (target is not None) == entry["token_valid"]
    if target is not None:
        issue, subscriber, _ = entry["token"].split("-")
        assert (target.issue_id, target.subscriber_id) == (int(issue), int(subscriber))


def test_a_reply_address_is_made_for_one_reader_and_one_issue(mail_app):
    address = reply_address.reply_address(12, 4821)
    assert address == "reply+12-4821-d7d2ba993279@replies.example.org"  # the fixtures' scheme
    assert reply_address.parse(
        address.upper().replace("REPLIES.EXAMPLE.ORG", "replies.example.org")
    )
    assert reply_address.parse(address.replace("12-4821", "13-4821")) is None  # another issue
    assert reply_address.parse(address.replace("replies.example.org", "example.org")) is None
    assert reply_address.reply_to(12, 4821) == {"Reply-To": address}
    mail_app.config["REPLY_DOMAIN"] = ""
    assert reply_address.reply_to(12, 4821) == {}  # replies by email are off
