"""Build one message from templates: templates/email/<name>.subject.txt, <name>.txt and
(optional) <name>.html, rendered and assembled into a multipart text (+ HTML) message."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app, render_template
from jinja2 import TemplateNotFound

from service.core import site
from service.mail.headers import safe_header, sender, site_domain


def build(
    template: str,
    to: str,
    context: dict | None = None,
    headers: dict[str, str] | None = None,
    inline_css: bool = True,
) -> EmailMessage:
    """Render `template` for one recipient into a multipart text (+ HTML) message."""
    return assemble(*render_parts(template, context, inline_css), to, headers)


def render_parts(
    template: str, context: dict | None = None, inline_css: bool = True
) -> tuple[str, str, str | None]:
    """Render (subject, text, html) once, e.g. with placeholders filled per recipient later."""
    context = dict(context or {})
    context.setdefault("site_name", site.name())
    context.setdefault("site_url", current_app.config["SITE_URL"])
    subject = " ".join(render_template(f"email/{template}.subject.txt", **context).split())
    text = render_template(f"email/{template}.txt", **context)
    html: str | None
    try:
        html = render_template(f"email/{template}.html", **context)
    except TemplateNotFound:
        html = None
    if html is not None and inline_css:
        import css_inline  # only mail with an HTML part needs it (keeps start-up light)

        html = css_inline.inline(html)
    return subject, text, html


def assemble(
    subject: str,
    text: str,
    html: str | None,
    to: str,
    headers: dict[str, str] | None = None,
    from_: str | None = None,
) -> EmailMessage:
    """Assemble one multipart message from rendered parts (the same headers as build())."""
    msg = EmailMessage()
    msg["Subject"] = safe_header(subject)
    msg["From"] = safe_header(from_ or sender())
    msg["To"] = safe_header(to)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=site_domain())
    for name, value in (headers or {}).items():
        msg[name] = safe_header(value)
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg
