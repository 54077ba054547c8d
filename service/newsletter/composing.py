"""Composing newsletter messages: a composer per send kind, and the per-recipient links.

An issue is rendered once per send (templates, CSS inlining) with placeholder links; each
recipient's copy only substitutes their signed links, so a worker spends its time on SMTP.
Composers are registered by send kind (create_app registers the issue and digest composers).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from markupsafe import escape
from sqlalchemy import select

from service import mail
from service.core import tokens
from service.core.rendering import plain_text
from service.core.urls import absolute
from service.extensions import db
from service.mail.headers import bulk_headers, verp_address
from service.mail.reply_address import reply_to
from service.models import Issue, Send, Subscriber

PLACEHOLDERS = {"preferences": "MARGINSPREFTOKEN", "unsubscribe": "MARGINSUNSUBTOKEN"}


class Recipient(Protocol):
    subscriber_id: int
    name: str
    email: str


#: What a composer gives for one recipient: the message (None: nothing to send) and what to do
#: once it was sent (e.g. advance the subscriber's digest date), in the mark's transaction.
Composed = tuple[mail.RawMessage | Any | None, Callable[[], None] | None]
Composer = Callable[[Any], Composed]
_COMPOSERS: dict[str, Callable[[Send], Composer]] = {}


def register(kind: str, factory: Callable[[Send], Composer]) -> None:
    """Make `factory(send)` the composer of sends of `kind`."""
    _COMPOSERS[kind] = factory


def composer_for(send: Send) -> Composer:
    """The composer for a send's kind."""
    try:
        factory = _COMPOSERS[send.kind]
    except KeyError:
        raise ValueError(f"unknown send kind {send.kind!r}") from None
    return factory(send)


class LinkMaker:
    """Each subscriber's signed preferences/unsubscribe links, from URL patterns built once."""

    def __init__(self) -> None:
        self.pref = absolute("subscribe.preferences", token=PLACEHOLDERS["preferences"])
        self.unsub = absolute("subscribe.unsubscribe_page", token=PLACEHOLDERS["unsubscribe"])
        self.one_click = absolute("subscribe.one_click", token=PLACEHOLDERS["unsubscribe"])

    def __call__(self, subscriber_id: int) -> dict[str, str]:
        pref = tokens.make("preferences", subscriber_id)
        unsub = tokens.make("unsubscribe", subscriber_id)
        return {
            "preferences_url": self.pref.replace(PLACEHOLDERS["preferences"], pref),
            "unsubscribe_url": self.unsub.replace(PLACEHOLDERS["unsubscribe"], unsub),
            "one_click_url": self.one_click.replace(PLACEHOLDERS["unsubscribe"], unsub),
        }


def personalise(text: str, links: dict[str, str], html: bool = False) -> str:
    """Replace the placeholder links in rendered text or HTML with one subscriber's links."""
    pref, unsub = links["preferences_url"], links["unsubscribe_url"]
    if html:
        pref, unsub = str(escape(pref)), str(escape(unsub))
    return text.replace("MARGINSPREFURL", pref).replace("MARGINSUNSUBURL", unsub)


def issue_context(issue: Issue) -> dict:
    url = absolute("public.issue", slug=issue.slug)
    return {
        "issue": issue,
        "issue_url": url,
        "view_url": url,
        "body_text": issue.body_md or plain_text(issue.body_html),
        "preferences_url": "MARGINSPREFURL",
        "unsubscribe_url": "MARGINSUNSUBURL",
    }


class IssueComposer:
    """Compose one issue's email for each recipient from parts rendered once."""

    def __init__(self, issue_id: int):
        issue = db.session.get(Issue, issue_id)
        if issue is None:
            raise ValueError(f"there is no issue {issue_id}")
        context = issue_context(issue)
        self.url, self.issue_id = context["issue_url"], issue_id
        self.prototype = mail.Prototype(*mail.render_parts("issue", context))
        self.links = LinkMaker()
        db.session.commit()

    @classmethod
    def for_send(cls, send: Send) -> IssueComposer:
        if send.issue_id is None:
            raise ValueError(f"send {send.id} has no issue")
        return cls(send.issue_id)

    def __call__(self, row: Recipient) -> tuple[mail.RawMessage, None]:
        links = self.links(row.subscriber_id)
        proto = self.prototype
        msg = proto.message(
            row.name,
            row.email,
            bulk_headers(row.subscriber_id, links["one_click_url"], self.url)
            | reply_to(self.issue_id, row.subscriber_id),
            personalise(proto.text, links),
            personalise(proto.html, links, html=True) if proto.html else None,
        )
        return msg, None


class _TestRecipient:
    def __init__(self, subscriber_id: int, name: str, email: str):
        self.subscriber_id, self.name, self.email = subscriber_id, name, email


def send_test(issue_id: int, name: str, email: str) -> str:
    """Send one issue's email, exactly as subscribers get it, to a staff member; return its id.

    The links inside point to the subscription with that address when there is one.
    """
    subscriber_id = db.session.scalar(select(Subscriber.id).where(Subscriber.email == email)) or 0
    msg, _ = IssueComposer(issue_id)(_TestRecipient(subscriber_id, name, email))
    with mail.connection() as conn:
        conn.send_raw(msg, verp_address(subscriber_id))
    return msg.message_id
