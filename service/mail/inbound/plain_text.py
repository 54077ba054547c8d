"""The reader's own words from a plain-text reply, with mail-parser-reply (MIT).

mail-parser-reply finds the attribution and header blocks that start the quoted history
("On … wrote:", "Am … schrieb …:", Outlook's From/Sent block and "-----Original Message-----")
in many languages. Its own signature cutting also eats sign-offs ("Best regards, Priya") and
"- " lists, so only the "-- " separator and device signatures are cut here.
"""

from __future__ import annotations

import re

from mailparser_reply import EmailReplyParser

from service.mail.inbound import text_rules

LANGUAGES = ["en", "de", "fr", "it", "nl", "pl", "sv", "da", "es", "cs"]
_PARSER = EmailReplyParser(languages=LANGUAGES)
#: Outlook writes a link in plain text as "label<https://…>".
_OUTLOOK_LINK = re.compile(r"(?P<label>[^\s<>\[\]()]+)<(?P<url>https?://[^>\s]+)>")


def _above_quote(text: str) -> str:
    """The text before the first quoted reply (the whole text when nothing is quoted)."""
    replies = _PARSER.read(text).replies
    first = replies[0].content if replies else text
    if first.strip():
        return first
    # bottom-posting: the reader wrote below the quote, so keep every unquoted line
    return "\n".join(
        line
        for line in text.split("\n")
        if not line.lstrip().startswith(">") and not text_rules.is_attribution(line)
    )


def _outlook_links(text: str) -> str:
    """Outlook's "label<https://…>" as a Markdown link on the word before it."""
    return _OUTLOOK_LINK.sub(r"[\g<label>](\g<url>)", text)


def reply_markdown(text: str) -> str:
    """The reader's own text of a plain-text reply ('' when nothing is left)."""
    text = text.replace("\r\n", "\n").replace("\ufeff", "")
    mine = _above_quote(text)
    lines = mine.split("\n")
    while lines and lines[-1].lstrip().startswith(">"):
        lines.pop()  # a trailing quote with no attribution line
    return text_rules.tidy(_outlook_links("\n".join(lines)))
