"""The text a person wrote, found among a message's MIME parts, decoded right.

Two readings of one message: preferring HTML in each multipart/alternative (to keep the
reader's bold, italics, links and lists) and preferring plain text (the fallback). Body parts
of multipart/mixed and multipart/related are taken in order; everything else (images, PDFs,
files, a forwarded message) is an attachment, which is counted and dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import EmailMessage, Message

#: Declared charsets that real clients use for text that is really Windows-1252 (WHATWG maps
#: these labels to windows-1252 too) or, for us-ascii, often UTF-8.
_WINDOWS_1252_LABELS = {"iso-8859-1", "latin-1", "latin1", "l1", "iso8859-1", "cp819"}
_ASCII_LABELS = {"us-ascii", "ascii", "ansi_x3.4-1968"}


@dataclass
class Segments:
    """The body parts of one reading, in order: ("html" | "plain", decoded text)."""

    parts: list[tuple[str, str]] = field(default_factory=list)

    def of(self, subtype: str) -> list[str]:
        return [text for kind, text in self.parts if kind == subtype]


def decode(part: Message) -> str:
    """A text part's content as str: its declared charset, with the usual mislabels forgiven
    (ISO-8859-1 sent as Windows-1252, 'us-ascii' sent as UTF-8, unknown charset names)."""
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return ""
    declared = (part.get_content_charset() or "us-ascii").lower()
    if declared in _ASCII_LABELS:
        candidates = ["ascii", "utf-8", "cp1252"]
    elif declared in _WINDOWS_1252_LABELS:
        candidates = ["cp1252"]
    else:
        candidates = [declared, "utf-8", "cp1252"]
    for charset in candidates:
        try:
            text = data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
        return unflow(text, part) if part.get_content_subtype() == "plain" else text
    return data.decode("latin-1")  # every byte is a character: nothing is lost


def unflow(text: str, part: Message) -> str:
    """Undo format=flowed (RFC 3676): a line ending in a space continues on the next line."""
    text = text.replace("\r\n", "\n")
    if str(part.get_param("format", "")).lower() != "flowed":
        return text
    delsp = str(part.get_param("delsp", "")).lower() == "yes"
    lines, pending = [], ""
    for line in text.split("\n"):
        line = line.removeprefix(" ")  # space-stuffed
        if line.endswith(" ") and line.rstrip(" ") != "--":
            pending += line[:-1] if delsp else line
        else:
            lines.append(pending + line)
            pending = ""
    if pending:
        lines.append(pending)
    return "\n".join(lines)


def is_body(part: Message) -> bool:
    """A text/plain or text/html leaf meant to be read, not an attached file."""
    if part.get_content_type() not in ("text/plain", "text/html"):
        return False
    return part.get_content_disposition() != "attachment"


def count_attachments(msg: Message) -> int:
    """How many leaf parts are not readable body text (files, images, forwarded mail)."""
    count = 0
    for part in msg.walk():
        if part.is_multipart():
            continue
        if part.get_content_type() in ("message/delivery-status", "text/rfc822-headers"):
            continue
        count += not is_body(part)
    return count


def reading(msg: EmailMessage | Message, prefer: str) -> Segments:
    """The body parts in order, choosing `prefer` ("html" or "plain") in each alternative."""
    found = Segments()
    _walk(msg, prefer, found)
    return found


def _walk(part: Message, prefer: str, found: Segments) -> None:
    if part.is_multipart():
        children = list(part.get_payload())
        if part.get_content_type() == "multipart/alternative":
            chosen = _alternative(children, prefer)
            children = [chosen] if chosen is not None else []
        for child in children:
            _walk(child, prefer, found)
    elif is_body(part):
        found.parts.append((part.get_content_subtype(), decode(part)))


def _contains(part: Message, subtype: str) -> bool:
    return any(p.get_content_type() == f"text/{subtype}" and is_body(p) for p in part.walk())


def _alternative(children: list[Message], prefer: str) -> Message | None:
    """The last (richest, RFC 2046) alternative holding `prefer`, else the last readable one."""
    for subtype in (prefer, "plain" if prefer == "html" else "html"):
        for child in reversed(children):
            if _contains(child, subtype):
                return child
    return None
