"""Telling a person's reply from an automatic message, by its headers first.

No reply-parsing library does this, so it comes before any of them: delivery reports (DSNs,
RFC 3464) are bounces; RFC 3834's Auto-Submitted, the de-facto Precedence and X-Autoreply
headers, Exchange's own markers and a null envelope sender are automatic answers; and
out-of-office replies that carry none of those (Exchange with its headers stripped on the way)
are known by their subject line, in the languages readers use.
"""

from __future__ import annotations

import re
from email.message import Message
from email.utils import parseaddr

#: Exchange and Outlook mark their automatic replies (OOF) and rule-generated mail with these.
_EXCHANGE = ("X-Auto-Response-Suppress", "X-MS-Exchange-Inbox-Rules-Loop")
_AUTO_FLAGS = ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Loop")
_SUBJECT = re.compile(
    r"^\s*(?:\[[^\]]*\]\s*)?(?:"
    r"automatic reply|auto(?:matic)?[ -]?(?:reply|response)|out of (?:the )?office|"
    r"abwesenheitsnotiz|automatische antwort|abwesend|"
    r"réponse automatique|absence du bureau|"
    r"respuesta automática|fuera de la oficina|risposta automatica|fuori sede|"
    r"automatisch antwoord|afwezig|autosvar|automatyczna odpowiedź|"
    r"resposta automática|automaattinen vastaus|автоматический ответ|自动回复"
    r")\b",
    re.IGNORECASE,
)
_DAEMONS = ("mailer-daemon", "postmaster", "mail-daemon", "mailer_daemon")


def _header(msg: Message, name: str) -> str:
    return str(msg.get(name, "") or "").strip().lower()


def bounce_reason(msg: Message) -> str | None:
    """Why `msg` is a delivery report, or None."""
    if msg.get_content_type() == "multipart/report":
        return f"a {msg.get_param('report-type') or 'multipart'} report"
    for part in msg.walk():
        if part.get_content_type() in ("message/delivery-status", "message/feedback-report"):
            return f"a {part.get_content_type()} part"
    sender = parseaddr(str(msg.get("From", "")))[1].lower()
    if sender.partition("@")[0] in _DAEMONS:
        return f"sent by {sender.partition('@')[0]}"
    return None


def auto_reason(msg: Message) -> str | None:
    """Why `msg` is an automatic answer (out of office, auto-acknowledgement…), or None."""
    auto_submitted = _header(msg, "Auto-Submitted")
    if auto_submitted and auto_submitted != "no":
        return f"Auto-Submitted: {auto_submitted}"
    precedence = _header(msg, "Precedence")
    if precedence in ("bulk", "list", "junk", "auto_reply"):
        return f"Precedence: {precedence}"
    for name in (*_AUTO_FLAGS, *_EXCHANGE):
        if name in msg:
            return f"a {name} header"
    if "Return-Path" in msg and _header(msg, "Return-Path") in ("<>", ""):
        return "a null envelope sender (Return-Path: <>)"
    if _SUBJECT.match(str(msg.get("Subject", "") or "")):
        return "an automatic-reply subject line"
    return None


def automatic(msg: Message) -> tuple[str, str] | None:
    """("bounce" | "auto", why) for a message no person wrote, else None."""
    if why := bounce_reason(msg):
        return "bounce", why
    if why := auto_reason(msg):
        return "auto", why
    return None
