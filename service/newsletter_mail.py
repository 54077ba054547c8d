"""Newsletter messages: the bulk-mail headers in one place, and per-send composers.

An issue is rendered once per send (templates, CSS inlining) with placeholder links; each
recipient's copy only substitutes their signed links, so a worker spends its time on SMTP.
"""

from __future__ import annotations

from collections.abc import Callable

from markupsafe import escape

from . import mail, site, tokens
from .bounces import unsubscribe_address
from .extensions import db
from .models import Issue, Send
from .rendering import plain_text
from .urls import absolute

PLACEHOLDERS = {"preferences": "MARGINSPREFTOKEN", "unsubscribe": "MARGINSUNSUBTOKEN"}


def list_id() -> str:
    """List-Id: the site's name and a stable list identifier under its domain."""
    name = site.name().replace('"', "")
    return f'"{name}" <newsletter.{mail.site_domain()}>'


def newsletter_headers(subscriber_id: int, one_click_url: str,
                       archived_at: str | None = None) -> dict[str, str]:
    """Every bulk header: unsubscribe (RFC 2369 + RFC 8058), List-Id, Archived-At, bulk."""
    headers = {
        "List-Unsubscribe": f"<{one_click_url}>, "
                            f"<mailto:{unsubscribe_address(subscriber_id)}?subject=unsubscribe>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": list_id(),
        "Precedence": "bulk",
        "Auto-Submitted": "auto-generated",
    }
    if archived_at:
        headers["Archived-At"] = f"<{archived_at}>"
    return headers


class LinkMaker:
    """Each subscriber's signed preferences/unsubscribe links, from URL patterns built once."""

    def __init__(self):
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
    return {"issue": issue, "issue_url": url, "view_url": url,
            "body_text": issue.body_md or plain_text(issue.body_html),
            "preferences_url": "MARGINSPREFURL", "unsubscribe_url": "MARGINSUNSUBURL"}


class IssueComposer:
    """Compose one issue's email for each recipient from parts rendered once."""

    def __init__(self, issue_id: int):
        issue = db.session.get(Issue, issue_id)
        context = issue_context(issue)
        self.url = context["issue_url"]
        self.prototype = mail.Prototype(*mail.render_parts("issue", context))
        self.links = LinkMaker()
        db.session.commit()

    def __call__(self, row) -> tuple[mail.RawMessage, None]:
        links = self.links(row.subscriber_id)
        proto = self.prototype
        msg = proto.message(
            row.name, row.email,
            newsletter_headers(row.subscriber_id, links["one_click_url"], self.url),
            personalise(proto.text, links),
            personalise(proto.html, links, html=True) if proto.html else None,
        )
        return msg, None


def composer_for(send: Send) -> Callable:
    """The composer for a send's kind."""
    if send.kind == "issue":
        return IssueComposer(send.issue_id)
    if send.kind == "digest":
        from .digests import DigestComposer

        return DigestComposer(send)
    raise ValueError(f"unknown send kind {send.kind!r}")


def send_test(issue_id: int, name: str, email: str) -> str:
    """Send one issue's email, exactly as subscribers get it, to a staff member; return its id.

    The links inside point to the subscription with that address when there is one.
    """
    from collections import namedtuple

    from sqlalchemy import select

    from .bounces import verp_address
    from .models import Subscriber

    subscriber_id = db.session.scalar(select(Subscriber.id).where(Subscriber.email == email)) or 0
    row = namedtuple("Row", "subscriber_id name email")(subscriber_id, name, email)
    msg, _ = IssueComposer(issue_id)(row)
    with mail.connection() as conn:
        conn.send_raw(msg, verp_address(subscriber_id))
    return msg.message_id
